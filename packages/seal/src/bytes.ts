import { SealArgumentError } from "./errors.js";

/** An empty byte string, shared because it is never written to. */
export const EMPTY: Uint8Array = new Uint8Array(0);

const encoder = new TextEncoder();

/** UTF-8 bytes of a label. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Throws a named `invalid_argument` error unless `value` is a Uint8Array (of `length`, when given). */
export function assertBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new SealArgumentError("invalid_argument", `${name} must be a Uint8Array, got ${describe(value)}`, {
      details: { argument: name },
    });
  }
  if (length !== undefined && value.length !== length) {
    throw new SealArgumentError("invalid_argument", `${name} must be ${length} bytes, got ${value.length}`, {
      details: { argument: name, expected: length, actual: value.length },
    });
  }
}

/**
 * `value` if it is bytes, `EMPTY` if it is undefined or null (JSON-shaped callers often write null for
 * a missing field); anything else is a named error.
 */
export function optionalBytes(value: unknown, name: string): Uint8Array {
  if (value === undefined || value === null) return EMPTY;
  assertBytes(value, name);
  return value;
}

/** Throws a named error unless `value` is a plain object. */
export function assertObject<T>(value: T, name: string): asserts value is T & object {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) {
    throw new SealArgumentError("invalid_argument", `${name} must be an object, got ${describe(value)}`, {
      details: { argument: name },
    });
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}

/** Concatenation of byte strings into one fresh buffer. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** RFC 9180 I2OSP for values that fit in a JavaScript safe integer. */
export function i2osp(value: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0 && rest > 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

/** Constant-time comparison: the loop never exits early, so timing does not reveal the first difference. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** `true` when every byte is zero, examined in constant time. */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i]!;
  return acc === 0;
}

/**
 * A copy of bytes as a plain Uint8Array. Not `bytes.slice()`: on a Node `Buffer` (what `fs` and
 * most Node APIs hand out) `slice()` returns a view of the same memory, so a "copy" kept in a cache
 * would change when the caller reuses its buffer.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * `nonce XOR I2OSP(counter, nonce.length)`. The counter is a safe integer, so only the low seven bytes
 * can change; the split into high and low words avoids 32-bit truncation in `^`.
 */
export function xorCounter(nonce: Uint8Array, counter: number): Uint8Array {
  const out = copyBytes(nonce);
  let low = counter % 0x1_0000_0000;
  let high = Math.floor(counter / 0x1_0000_0000);
  const n = out.length;
  for (let i = 0; i < 4; i++) {
    out[n - 1 - i]! ^= low & 0xff;
    low >>>= 8;
  }
  for (let i = 4; i < 8 && i < n; i++) {
    out[n - 1 - i]! ^= high & 0xff;
    high >>>= 8;
  }
  return out;
}

/** Lower-case hex of bytes (for messages and tests; never used on secrets in messages). */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, "0");
  return out;
}

/** Bytes of a lower-case or upper-case hex string. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new SealArgumentError("invalid_argument", "hex must be an even-length hexadecimal string");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The same bytes typed as WebCrypto's `BufferSource`. Views over a SharedArrayBuffer are copied, because
 * WebCrypto refuses them; any other view is passed through without a copy.
 */
export function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.buffer instanceof ArrayBuffer) return bytes as Uint8Array<ArrayBuffer>;
  return new Uint8Array(bytes) as Uint8Array<ArrayBuffer>;
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Unpadded base64url, as JWK wants; written out because `btoa` works on strings, not bytes. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]!;
  }
  return out;
}

/** Bytes of unpadded base64url. Only used on JWKs that WebCrypto itself produced. */
export function fromBase64Url(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    acc = (acc << 6) | B64URL.indexOf(text[i]!);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}
