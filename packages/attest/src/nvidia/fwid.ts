import * as asn1js from "#asn1js";
import { EvidenceInvalidError } from "../common/errors.js";
import { type Certificate, findExtension, OID } from "../common/x509.js";

/** NVIDIA's FWID extension on Hopper and NVSwitch leaves (TCG DICE, last FWID of the value). */
export const OID_NVIDIA_FWID = "2.23.133.5.4.1";
/** TCG DICE TcbInfo on Blackwell leaves; FWIDs sit in the `[6] fwids` list, the first one is the firmware's. */
export const OID_DICE_TCB_INFO = "2.23.133.5.4.1.1";

/** One FWID: hash algorithm OID and digest. */
export interface Fwid {
  readonly hashAlgorithm: string;
  readonly digest: Uint8Array;
}

/** FWID found in the leaf certificate, with the extension it came from. */
export interface LeafFwid {
  readonly oid: string;
  /** The FWID NVIDIA's verifiers compare with opaque field 20. */
  readonly digest: Uint8Array;
  readonly all: readonly Fwid[];
}

const HASH_OIDS = new Set<string>([OID.sha256, OID.sha384, OID.sha512]);

/** Every `SEQUENCE { OBJECT IDENTIFIER <hash>, OCTET STRING }` inside an ASN.1 tree, in document order. */
function collectFwids(node: asn1js.AsnType, out: Fwid[]): void {
  const children = (node as { valueBlock?: { value?: unknown } }).valueBlock?.value;
  if (!Array.isArray(children)) return;
  if (
    children.length === 2 &&
    children[0] instanceof asn1js.ObjectIdentifier &&
    HASH_OIDS.has(children[0].valueBlock.toString()) &&
    children[1] instanceof asn1js.OctetString
  ) {
    out.push({
      hashAlgorithm: children[0].valueBlock.toString(),
      digest: new Uint8Array(children[1].valueBlock.valueHexView),
    });
    return;
  }
  for (const child of children) collectFwids(child as asn1js.AsnType, out);
}

function decode(value: Uint8Array, oid: string): Fwid[] {
  const asn = asn1js.fromBER(value as BufferSource);
  if (asn.offset === -1 || asn.offset !== value.length) {
    throw new EvidenceInvalidError("nvidia_fwid_malformed", `FWID extension ${oid} is not valid DER`);
  }
  const out: Fwid[] = [];
  // Blackwell's TcbInfo carries `[6] IMPLICIT SEQUENCE OF FWID`: asn1js sees a constructed context
  // tag whose children are the FWID sequences, so the same walk finds them.
  collectFwids(asn.result, out);
  return out;
}

/**
 * Extracts the FWID of a device leaf certificate. Hopper and NVSwitch leaves carry it in
 * 2.23.133.5.4.1 (the last FWID, as TRUSTEE and nvtrust read it); Blackwell leaves in the TCG DICE
 * TcbInfo 2.23.133.5.4.1.1 (the first FWID of its list; the second is all zeros).
 * @throws EvidenceInvalidError `nvidia_fwid_missing`, `nvidia_fwid_malformed`
 * @example
 * const fwid = leafFwid(leaf); // { oid: "2.23.133.5.4.1", digest: Uint8Array(48) [...] }
 */
export function leafFwid(leaf: Certificate): LeafFwid {
  const cached = fwidCache.get(leaf);
  if (cached) return cached;
  const found = extractFwid(leaf);
  fwidCache.set(leaf, found);
  return found;
}

/** Parsed certificates are immutable and memoised by the X.509 layer, so their FWID is too. */
const fwidCache = new WeakMap<Certificate, LeafFwid>();

function extractFwid(leaf: Certificate): LeafFwid {
  const hopper = findExtension(leaf, OID_NVIDIA_FWID);
  if (hopper) {
    const all = decode(hopper.value, OID_NVIDIA_FWID);
    const last = all[all.length - 1];
    if (!last)
      throw new EvidenceInvalidError(
        "nvidia_fwid_malformed",
        `FWID extension ${OID_NVIDIA_FWID} holds no FWID`,
      );
    return { oid: OID_NVIDIA_FWID, digest: last.digest, all };
  }
  const tcbInfo = findExtension(leaf, OID_DICE_TCB_INFO);
  if (tcbInfo) {
    const all = decode(tcbInfo.value, OID_DICE_TCB_INFO);
    const first = all[0];
    if (!first)
      throw new EvidenceInvalidError(
        "nvidia_fwid_malformed",
        `TcbInfo extension ${OID_DICE_TCB_INFO} holds no FWID`,
      );
    return { oid: OID_DICE_TCB_INFO, digest: first.digest, all };
  }
  throw new EvidenceInvalidError(
    "nvidia_fwid_missing",
    `FWID extension (${OID_NVIDIA_FWID} or ${OID_DICE_TCB_INFO}) not found in "${leaf.subject}"`,
  );
}
