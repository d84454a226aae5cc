import * as asn1js from "#asn1js";
import { type AttestErrorCode, EvidenceParseError } from "./errors.js";

/**
 * A small view over asn1js' decoded tree for reading vendor-defined extensions (Intel's SGX PCK
 * extensions, AMD's VCEK TCB fields): the DER tag byte, the element's encoding and its content.
 * Decoding is asn1js'; this only names the parts.
 */
export interface DerNode {
  /** The identifier octet for low tag numbers (e.g. 0x30 SEQUENCE, 0x04 OCTET STRING, 0xa0 [0]). */
  readonly tag: number;
  /** The whole element's encoding. */
  readonly bytes: Uint8Array;
  /** The content octets. */
  readonly content: Uint8Array;
  readonly node: asn1js.AsnType;
}

function wrap(node: asn1js.AsnType): DerNode {
  const block = node as asn1js.BaseBlock;
  const id = block.idBlock;
  const tag = ((id.tagClass - 1) << 6) | (id.isConstructed ? 0x20 : 0) | Math.min(id.tagNumber, 31);
  const bytes = block.valueBeforeDecodeView;
  return { tag, bytes, content: bytes.subarray(bytes.length - block.lenBlock.length), node };
}

/**
 * asn1js' decoder, told not to guess: by default it also tries to decode the content of every
 * OCTET STRING and BIT STRING as nested ASN.1 (signatures, key bits, extension values), which
 * roughly doubles the work on a certificate. Callers decode an extension value when they need it.
 * The input is not copied: callers pass bytes they own and never change.
 */
const DECODE_OPTIONS = { parseEmbedded: false, copyInput: false } as const;

/** asn1js' decoding of exactly one element, or why the bytes are not one well-formed element. */
function decodeExactlyOne(bytes: Uint8Array): { node: asn1js.AsnType } | { error: string } {
  let decoded: ReturnType<typeof asn1js.fromBER>;
  try {
    decoded = asn1js.fromBER(bytes as BufferSource, DECODE_OPTIONS);
  } catch (error) {
    // asn1js 3.1 throws a RangeError on some malformed input (a BMPString of odd length).
    return { error: error instanceof Error ? error.message : String(error) };
  }
  if (decoded.offset === -1 || decoded.offset !== bytes.length || decoded.result.error)
    return { error: decoded.result.error };
  return { node: decoded.result };
}

/**
 * Whether an element's identifier and length octets are DER (X.690 §10.1, §8.1.2): low tag numbers
 * in one octet, definite length, short form below 128, long form in the fewest octets; and whether
 * the element spans exactly what its length octets say. Read from asn1js' decoded header blocks; no
 * bytes are re-read here. The span matters: asn1js 3.1 lets the last element inside a constructed one
 * run past the length its parent declares, so a SEQUENCE that claims one byte less than its
 * elements take still decodes, with the element's view covering all of them.
 */
export function isDerHeader(node: asn1js.AsnType): boolean {
  const { idBlock, lenBlock, valueBeforeDecodeView } = node as asn1js.BaseBlock;
  if (idBlock.tagNumber < 31 && idBlock.blockLength !== 1) return false;
  if (lenBlock.isIndefiniteForm) return false;
  if (valueBeforeDecodeView.length !== idBlock.blockLength + lenBlock.blockLength + lenBlock.length)
    return false;
  if (!lenBlock.longFormUsed) return lenBlock.blockLength === 1;
  let octets = 0;
  for (let n = lenBlock.length; n > 0; n = Math.floor(n / 256)) octets++;
  return lenBlock.length >= 128 && lenBlock.blockLength === 1 + octets;
}

/** Decodes exactly one element; `undefined` when the bytes are not one well-formed element. */
export function decodeDer(bytes: Uint8Array): asn1js.AsnType | undefined {
  const decoded = decodeExactlyOne(bytes);
  return "node" in decoded ? decoded.node : undefined;
}

/**
 * Decodes exactly one DER element.
 * @throws EvidenceParseError with `code` when the bytes are not one well-formed element
 */
export function derRead(bytes: Uint8Array, code: AttestErrorCode): DerNode {
  const decoded = decodeExactlyOne(bytes);
  if ("error" in decoded)
    throw new EvidenceParseError(code, `not valid DER${decoded.error ? `: ${decoded.error}` : ""}`);
  return wrap(decoded.node);
}

/** The elements of a constructed node. */
export function derChildren(node: DerNode, code: AttestErrorCode): DerNode[] {
  const value = (node.node as asn1js.Sequence).valueBlock?.value;
  if (!(node.node as asn1js.BaseBlock).idBlock.isConstructed || !Array.isArray(value)) {
    throw new EvidenceParseError(code, "not valid DER: expected a constructed element");
  }
  return value.map(wrap);
}

/** Dotted OID of an OBJECT IDENTIFIER node. */
export function derOid(node: DerNode, code: AttestErrorCode): string {
  if (!(node.node instanceof asn1js.ObjectIdentifier)) {
    throw new EvidenceParseError(code, "not valid DER: expected an OBJECT IDENTIFIER");
  }
  return node.node.valueBlock.toString();
}
