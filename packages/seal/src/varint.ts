import { SealArgumentError } from "./errors.js";

/**
 * QUIC variable-length integers (RFC 9000 §16), as chunked OHTTP uses for chunk lengths: the top two
 * bits of the first byte give the length (1, 2, 4 or 8 bytes), the rest is the big-endian value.
 */

/** Largest value a varint can carry that is also a safe JavaScript integer. */
export const MAX_VARINT = Number.MAX_SAFE_INTEGER;

/** Shortest encoding of `value`. */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VARINT) {
    throw new SealArgumentError("invalid_argument", `value must be an integer in 0..2^53-1, got ${value}`);
  }
  if (value < 0x40) return Uint8Array.of(value);
  if (value < 0x4000) return Uint8Array.of(0x40 | (value >>> 8), value & 0xff);
  if (value < 0x4000_0000) {
    return Uint8Array.of(0x80 | (value >>> 24), (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
  }
  const out = new Uint8Array(8);
  const high = Math.floor(value / 0x1_0000_0000);
  const low = value >>> 0;
  new DataView(out.buffer).setUint32(0, high);
  new DataView(out.buffer).setUint32(4, low);
  out[0]! |= 0xc0;
  return out;
}

/** Number of bytes of the varint whose first byte is `first`. */
export function varintLength(first: number): number {
  return 1 << (first >>> 6);
}

/**
 * Value of the varint in `bytes` (exactly `varintLength(bytes[0])` bytes). Values past 2^53 − 1 come
 * back as `Infinity`: no chunk can be that long, and callers reject anything over their limit.
 */
export function decodeVarint(bytes: Uint8Array): number {
  let value = bytes[0]! & 0x3f;
  for (let i = 1; i < bytes.length; i++) value = value * 256 + bytes[i]!;
  return value > MAX_VARINT ? Number.POSITIVE_INFINITY : value;
}
