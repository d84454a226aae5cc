// cbor-x's pure JavaScript build: its root entry in Node also loads the optional native cbor-extract
// (node-gyp-build, detect-libc, child_process), about 15 ms at import for string decoding these small
// structures do not need. The Node build (dist/node) bundles it, as it does asn1js, so its notice
// travels with it:
/*! cbor-x | MIT License | Copyright (c) 2020 Kris Zyp */
import { Encoder } from "cbor-x/encode";
import { copyBytes, equalBytes } from "../common/bytes.js";
import { EvidenceParseError } from "../common/errors.js";
import type { BundleErrorCode } from "./error-codes.js";

/**
 * Deterministic CBOR (RFC 8949 §4.2.1) for the small structures that are hashed or signed: the
 * binding and the receipt. cbor-x writes definite lengths and shortest-form integers below 2^32, but
 * it does not sort map keys and it writes numbers ≥ 2^32 as floats and every bigint in 8 bytes. So:
 * maps are `Map`s with small unsigned integer keys inserted in ascending order (for keys 0..23 the
 * bytewise order of the encodings is the numeric order), and {@link canonicalUint} picks the number
 * or bigint form that cbor-x writes in the shortest encoding.
 *
 * Decoding is strict the cheap and complete way: decode, re-encode, and require the same bytes. That
 * rejects non-shortest integers, indefinite lengths, duplicate or unsorted keys and trailing data.
 */
const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  tagUint8Array: false,
  variableMapSize: true,
  pack: false,
});

/** A CBOR value of the deterministic subset used here. */
export type CborValue =
  | number
  | bigint
  | string
  | Uint8Array
  | boolean
  | null
  | CborValue[]
  | Map<number | string, CborValue>;

/** The cbor-x value for an unsigned integer that encodes in shortest form. */
export function canonicalUint(value: number | bigint): number | bigint {
  const big = BigInt(value);
  if (big < 0n || big > 0xffffffffffffffffn) throw new RangeError(`unsigned integer out of range: ${value}`);
  return big <= 0xffffffffn ? Number(big) : big;
}

/** Encodes with cbor-x in the deterministic subset. Returns a plain Uint8Array. */
export function encodeCbor(value: CborValue): Uint8Array {
  const out = encoder.encode(value);
  return new Uint8Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
}

/** Decodes one CBOR item; any malformed input becomes `EvidenceParseError(code)`. */
export function decodeCbor(bytes: Uint8Array, code: BundleErrorCode, what: string): unknown {
  try {
    // cbor-x caches a DataView on the buffer it reads; decode a copy so the caller's bytes stay untouched.
    return normalise(encoder.decode(copyBytes(bytes)));
  } catch (cause) {
    throw new EvidenceParseError(code, `${what} is not valid CBOR: ${(cause as Error).message}`, { cause });
  }
}

/** Decodes and requires the input to be in deterministic encoding (re-encoding gives the same bytes). */
export function decodeDeterministicCbor(
  bytes: Uint8Array,
  code: BundleErrorCode,
  canonicalCode: BundleErrorCode,
  what: string,
): unknown {
  const value = decodeCbor(bytes, code, what);
  let again: Uint8Array;
  try {
    again = encodeCbor(value as CborValue);
  } catch (cause) {
    throw new EvidenceParseError(canonicalCode, `${what} holds values outside the deterministic subset`, {
      cause,
    });
  }
  if (!equalBytes(again, bytes) || !keysSorted(value)) {
    throw new EvidenceParseError(
      canonicalCode,
      `${what} is not in deterministic CBOR encoding (RFC 8949 §4.2: shortest integers, definite lengths, sorted unique keys)`,
    );
  }
  return value;
}

/** RFC 8949 §4.2.1: map keys in bytewise lexicographic order of their encodings, no duplicates. */
function keysSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysSorted);
  if (!(value instanceof Map)) return true;
  let previous: Uint8Array | undefined;
  for (const [key, item] of value) {
    const encoded = encodeCbor(key as CborValue);
    if (previous && compareBytes(previous, encoded) >= 0) return false;
    previous = encoded;
    if (!keysSorted(item)) return false;
  }
  return true;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/** cbor-x returns Node Buffers for byte strings; hand out plain Uint8Arrays and canonical integers. */
function normalise(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) out.set(k, normalise(v));
    return out;
  }
  if (typeof value === "bigint" && value <= 0xffffffffn && value >= 0n) return Number(value);
  return value;
}
