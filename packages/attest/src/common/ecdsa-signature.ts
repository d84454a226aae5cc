/**
 * ECDSA signature encodings, without a curve implementation: the verification itself runs on the
 * platform's crypto (see signatures.ts), so all this module needs is the group order of each curve.
 *
 * - {@link derSignatureToRaw}: X.509, CRLs and OCSP carry `SEQUENCE { r INTEGER, s INTEGER }` in DER;
 *   both backends take the fixed-size r || s form.
 * - {@link isEcdsaScalarInRange}: r and s must lie in [1, n - 1].
 *
 * Kept free of `@noble/curves` on purpose: its NIST curves cost 30–40 ms to import and ~20 kB gzip in a
 * browser bundle, for two integers and a comparison.
 */
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

/** Reads one DER length at `at`; minimal encodings only. Returns [length, offset after it] or null. */
function readLength(der: Uint8Array, at: number): [number, number] | null {
  const first = der[at];
  if (first === undefined) return null;
  if (first < 0x80) return [first, at + 1];
  const count = first & 0x7f;
  // An ECDSA signature is at most ~140 bytes: one length byte after 0x81 is all DER allows here.
  if (count !== 1) return null;
  const value = der[at + 1];
  if (value === undefined || value < 0x80) return null;
  return [value, at + 2];
}

/** Reads one DER INTEGER holding a positive value; returns [magnitude, offset after it] or null. */
function readPositiveInteger(der: Uint8Array, at: number): [Uint8Array, number] | null {
  if (der[at] !== 0x02) return null;
  const length = readLength(der, at + 1);
  if (!length) return null;
  const [size, start] = length;
  const end = start + size;
  if (size === 0 || end > der.length) return null;
  const first = der[start]!;
  if (first & 0x80) return null; // negative
  if (first === 0 && size > 1 && !(der[start + 1]! & 0x80)) return null; // non-minimal
  return [der.subarray(first === 0 && size > 1 ? start + 1 : start, end), end];
}

/**
 * Converts a DER ECDSA signature (X.509, CRLs, OCSP) to the fixed-size r || s form both backends take.
 * Returns null for anything but a strict DER `SEQUENCE { INTEGER, INTEGER }` with r and s in
 * [1, n - 1] and nothing after it, so the caller reports "signature invalid", not a crash.
 */
export function derSignatureToRaw(curve: EcCurve, der: Uint8Array): Uint8Array | null {
  if (der[0] !== 0x30) return null;
  const outer = readLength(der, 1);
  if (!outer || outer[0] + outer[1] !== der.length) return null;
  const r = readPositiveInteger(der, outer[1]);
  if (!r) return null;
  const s = readPositiveInteger(der, r[1]);
  if (!s || s[1] !== der.length) return null;
  const size = SCALAR_SIZE[curve];
  if (r[0].length > size || s[0].length > size) return null;
  if (!isEcdsaScalarInRange(curve, r[0]) || !isEcdsaScalarInRange(curve, s[0])) return null;
  const raw = new Uint8Array(2 * size);
  raw.set(r[0], size - r[0].length);
  raw.set(s[0], 2 * size - s[0].length);
  return raw;
}
