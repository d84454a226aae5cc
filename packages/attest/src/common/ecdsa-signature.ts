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
import * as asn1js from "#asn1js";
import { decodeDer } from "./asn1.js";
import { equalBytes } from "./bytes.js";
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
 * A universal-class element with this tag number. Read from the decoded identifier rather than by
 * `instanceof`, so it holds whichever copy of asn1js (ES module or CommonJS build) decoded it.
 */
function isUniversal(node: asn1js.AsnType, tagNumber: number, constructed: boolean): boolean {
  const id = (node as asn1js.BaseBlock).idBlock;
  return id.tagClass === 1 && id.tagNumber === tagNumber && id.isConstructed === constructed;
}

/** The canonical DER encoding of `SEQUENCE { r INTEGER, s INTEGER }`, by asn1js. */
function encodeSignature(r: bigint, s: bigint): Uint8Array {
  const sequence = new asn1js.Sequence({
    value: [asn1js.Integer.fromBigInt(r), asn1js.Integer.fromBigInt(s)],
  });
  return new Uint8Array(sequence.toBER());
}

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
 * to be one element); DER strictness is asn1js' own encoding of the decoded values compared byte for
 * byte with the input, so a BER-only form (long or indefinite lengths, padded or negative INTEGERs,
 * trailing bytes) never matches. Returns null for anything but a strict DER `SEQUENCE { INTEGER, INTEGER }` with r and
 * s in [1, n - 1], so the caller reports "signature invalid", not a crash.
 */
export function derSignatureToRaw(curve: EcCurve, der: Uint8Array): Uint8Array | null {
  const sequence = decodeDer(der);
  if (!sequence || !isUniversal(sequence, SEQUENCE, true)) return null;
  const items = (sequence as asn1js.Sequence).valueBlock.value;
  if (items.length !== 2 || !items.every((item) => isUniversal(item, INTEGER, false))) return null;
  const r = (items[0] as asn1js.Integer).toBigInt();
  const s = (items[1] as asn1js.Integer).toBigInt();
  const order = ORDER[curve];
  if (r < 1n || r >= order || s < 1n || s >= order) return null;
  // asn1js' toBER() on a decoded tree repeats the input's own length and INTEGER forms (BER long
  // lengths, indefinite lengths, padded INTEGERs survive it), so the canonical encoding is built
  // afresh from the decoded values.
  if (!equalBytes(encodeSignature(r, s), der)) return null;
  const size = SCALAR_SIZE[curve];
  const raw = new Uint8Array(2 * size);
  raw.set(toFixed(r, size), 0);
  raw.set(toFixed(s, size), size);
  return raw;
}
