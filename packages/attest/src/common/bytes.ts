import { type AttestErrorCode, EvidenceParseError } from "./errors.js";

/** Node's Buffer, where there is one (the parts used here; nothing else of Node is assumed). */
interface NodeBufferView {
  toString(encoding: "latin1" | "base64" | "hex"): string;
}
interface NodeBufferClass {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): NodeBufferView;
  from(text: string, encoding: "base64" | "hex"): Uint8Array;
}
const nodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;

const HEX_DIGITS = "0123456789abcdef";

/**
 * Lowercase hex of bytes: Node's encoder where there is one (one native call), a table walk
 * elsewhere. Not @noble/hashes' bytesToHex: importing its utils module costs every subpath ~2 ms at
 * start for a helper this small.
 */
export function toHex(bytes: Uint8Array): string {
  if (nodeBuffer) return nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    out += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  }
  return out;
}

const HEX_TEXT = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Bytes of hex text that is exactly pairs of hex digits (nothing else), or undefined. Validated by
 * one native regex test, then decoded by Node's decoder where there is one (copied out of Buffer's
 * shared pool), by parseInt per byte elsewhere: collateral carries kilobytes of hex CRLs, and a
 * per-character loop runs in the interpreter on a cold start.
 */
export function decodeHexPairs(text: string): Uint8Array | undefined {
  if (!HEX_TEXT.test(text)) return undefined;
  if (nodeBuffer) return new Uint8Array(nodeBuffer.from(text, "hex"));
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** {@link bytesKey} without Node's Buffer: native fromCharCode in chunks. */
export function charCodesOf(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192)
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  return out;
}

/**
 * The exact content of bytes as a string, for use as a Map key: one UTF-16 unit per byte (latin1),
 * so it is injective. Node's latin1 decoder builds it about fifteen times faster than fromCharCode
 * (0.4 against 5.3 µs for a 1.4 KB certificate), and a cold verification keys every certificate.
 */
export function bytesKey(bytes: Uint8Array): string {
  return nodeBuffer
    ? nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1")
    : charCodesOf(bytes);
}

/**
 * A copy of bytes as a plain Uint8Array. Not `bytes.slice()`: on a Node `Buffer` (what `fs` and
 * most Node APIs hand out) `slice()` returns a view of the same memory, so a "copy" kept in a cache
 * would change when the caller reuses its buffer.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Bytes of a hex string (whitespace and a `0x` prefix allowed). Throws `input_hex_invalid`. */
export function fromHex(text: string): Uint8Array {
  const bytes = decodeHexPairs(text.replace(/\s+/g, "").replace(/^0x/i, ""));
  if (!bytes) throw new EvidenceParseError("input_hex_invalid", "input is not valid hex");
  return bytes;
}

/** Bytes of standard or URL-safe base64 (whitespace and missing padding allowed). */
export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.replace(/=+$/, "").length % 4 === 1) {
    throw new EvidenceParseError("input_base64_invalid", "input is not valid base64");
  }
  // Validated above, so Node's decoder (which skips what is not base64) reads the same bytes as atob.
  if (nodeBuffer) return new Uint8Array(nodeBuffer.from(clean, "base64"));
  const padded = clean.padEnd(Math.ceil(clean.length / 4) * 4, "=");
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Standard base64 of bytes. */
export function toBase64(bytes: Uint8Array): string {
  return nodeBuffer
    ? nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")
    : btoa(charCodesOf(bytes));
}

/**
 * Evidence files come as raw bytes, hex text or base64 text. Text is recognised only when every byte
 * is printable ASCII or whitespace; hex wins over base64 when both would parse (hex is a subset).
 */
export function decodeEvidenceInput(data: Uint8Array): Uint8Array {
  if (data.length === 0) throw new EvidenceParseError("input_empty", "input is empty");
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number;
    const text = (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09;
    if (!text) return data;
  }
  const text = new TextDecoder().decode(data).trim();
  const compact = text.replace(/\s+/g, "").replace(/^0x/i, "");
  if (/^[0-9a-fA-F]+$/.test(compact) && compact.length % 2 === 0) return fromHex(compact);
  const pem = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (pem) {
    throw new EvidenceParseError(
      "input_format_unexpected",
      `input is PEM (${pem[1]}), not evidence: expected raw bytes, hex or base64`,
    );
  }
  if (text.startsWith("{") || text.startsWith("[")) {
    throw new EvidenceParseError(
      "input_format_unexpected",
      "input is JSON, not evidence: expected raw bytes, hex or base64 (is this a collateral or policy file?)",
    );
  }
  return fromBase64(text);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Bounds-checked little-endian reader over a byte span. Every read names the field, so a truncated
 * structure fails with the field that did not fit instead of reading garbage.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly errorCode: AttestErrorCode;
  private readonly structure: string;

  constructor(bytes: Uint8Array, structure: string, errorCode: AttestErrorCode) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.structure = structure;
    this.errorCode = errorCode;
  }

  get length(): number {
    return this.bytes.length;
  }

  need(offset: number, size: number, field: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw new EvidenceParseError(
        this.errorCode,
        `${this.structure} truncated: ${field} needs bytes [${offset}, ${offset + size}) but only ${this.bytes.length} are present`,
        { details: { field, offset, size, available: this.bytes.length } },
      );
    }
  }

  u8(offset: number, field: string): number {
    this.need(offset, 1, field);
    return this.view.getUint8(offset);
  }

  u16(offset: number, field: string): number {
    this.need(offset, 2, field);
    return this.view.getUint16(offset, true);
  }

  u32(offset: number, field: string): number {
    this.need(offset, 4, field);
    return this.view.getUint32(offset, true);
  }

  u64(offset: number, field: string): bigint {
    this.need(offset, 8, field);
    return this.view.getBigUint64(offset, true);
  }

  /** A copy-free view of `size` bytes at `offset`. */
  slice(offset: number, size: number, field: string): Uint8Array {
    this.need(offset, size, field);
    return this.bytes.subarray(offset, offset + size);
  }
}
