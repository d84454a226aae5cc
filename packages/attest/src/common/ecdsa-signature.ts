/**
 * ECDSA signature encodings, without a curve implementation: the verification itself runs on the
 * platform's crypto (see signatures.ts), so all this module needs is the group order of each curve
 * and asn1js for the DER.
 *
 * - {@link derSignatureToRaw}: X.509, CRLs and OCSP carry `SEQUENCE { r INTEGER, s INTEGER }` in DER;
 *   both backends take the fixed-size r || s form.
 * - {@link isEcdsaScalarInRange}: r and s must lie in [1, n - 1].
 *
 * Kept free of `@noble/curves` on purpose: its NIST curves cost 30–40 ms to import and ~20 kB gzip in a
 * browser bundle, for two integers and a comparison.
 */
import type * as asn1js from "#asn1js";
import { decodeDer, isDerHeader } from "./asn1.js";
import type { EcCurve } from "./signatures.js";

/** Group order n of each curve (SEC 2 / FIPS 186-4). */
const ORDER: Readonly<Record<EcCurve, bigint>> = {
  "P-256": 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  "P-384":
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

/** Byte size of r and s in the fixed-size form. */
const SCALAR_SIZE: Readonly<Record<EcCurve, number>> = { "P-256": 32, "P-384": 48 };

function toBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** True when the big-endian unsigned integer `bytes` is in [1, n - 1] for `curve`. */
export function isEcdsaScalarInRange(curve: EcCurve, bytes: Uint8Array): boolean {
  const value = toBigInt(bytes);
  return value >= 1n && value < ORDER[curve];
}

const SEQUENCE = 16;
const INTEGER = 2;

/**
 * A universal-class element with this tag number whose identifier and length octets are DER. Read
 * from the decoded blocks rather than by `instanceof`, so it holds whichever copy of asn1js (ES module
 * or CommonJS build) decoded it.
 */
function isDerUniversal(node: asn1js.AsnType, tagNumber: number, constructed: boolean): boolean {
  const id = (node as asn1js.BaseBlock).idBlock;
  return (
    id.tagClass === 1 && id.tagNumber === tagNumber && id.isConstructed === constructed && isDerHeader(node)
  );
}

/**
 * The value of a DER INTEGER's content octets when it is a positive integer in the fewest octets
 * (X.690 §8.3.2: no leading 0x00 before a byte below 0x80, no sign bit set); otherwise undefined.
 */
function positiveMinimalInteger(content: Uint8Array): bigint | undefined {
  const first = content[0];
  if (first === undefined || first >= 0x80) return undefined;
  if (first === 0 && (content.length === 1 || (content[1] as number) < 0x80)) return undefined;
  return toBigInt(content);
}

/** A value below the group order, big-endian in `size` bytes (its minimal form right-aligned). */
function toFixed(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let rest = value;
  for (let at = size - 1; at >= 0 && rest > 0n; at--) {
    out[at] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/**
 * Converts a DER ECDSA signature (X.509, CRLs, OCSP) to the fixed-size r || s form both backends take.
 * Decoding is asn1js' (through asn1.ts, the package's one ASN.1 reader, which requires the whole input
 * to be one element). DER strictness is read from the decoded blocks: the SEQUENCE and both INTEGERs
 * have DER identifier and length octets (low tag form, definite length in the fewest octets), and each
 * INTEGER holds a positive value in the fewest octets, which is exactly the one DER encoding of
 * `SEQUENCE { r, s }`, so a BER-only form (long or indefinite lengths, padded or negative INTEGERs,
 * trailing bytes) never passes. Returns null for anything but a strict DER `SEQUENCE { INTEGER, INTEGER }`
 * with r and s in [1, n - 1], so the caller reports "signature invalid", not a crash.
 */
export function derSignatureToRaw(curve: EcCurve, der: Uint8Array): Uint8Array | null {
  const sequence = decodeDer(der);
  if (!sequence || !isDerUniversal(sequence, SEQUENCE, true)) return null;
  const items = (sequence as asn1js.Sequence).valueBlock.value;
  if (items.length !== 2 || !items.every((item) => isDerUniversal(item, INTEGER, false))) return null;
  const r = positiveMinimalInteger((items[0] as asn1js.Integer).valueBlock.valueHexView);
  const s = positiveMinimalInteger((items[1] as asn1js.Integer).valueBlock.valueHexView);
  const order = ORDER[curve];
  if (r === undefined || s === undefined || r < 1n || r >= order || s < 1n || s >= order) return null;
  const size = SCALAR_SIZE[curve];
  const raw = new Uint8Array(2 * size);
  raw.set(toFixed(r, size), 0);
  raw.set(toFixed(s, size), size);
  return raw;
}
