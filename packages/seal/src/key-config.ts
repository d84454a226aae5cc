import { aeadFor } from "./aead.js";
import { assertObject, concat } from "./bytes.js";
import { OhttpError, SealError } from "./errors.js";
import { AeadId } from "./identifiers.js";
import { hex4, kdfFor } from "./kdf.js";
import { kemFor } from "./kem.js";

/**
 * One (KDF, AEAD) pair offered by a key configuration.
 *
 * @example
 * ```ts
 * const pair: SymmetricAlgorithm = { kdfId: 0x0001, aeadId: 0x0001 };
 * ```
 */
export interface SymmetricAlgorithm {
  readonly kdfId: number;
  readonly aeadId: number;
}

/**
 * An Oblivious HTTP key configuration (RFC 9458 §3): what a gateway publishes so clients can seal to it.
 *
 * @example
 * ```ts
 * const keyConfig: KeyConfig = {
 *   keyId: 1,
 *   kemId: 0x0020,
 *   publicKey,
 *   symmetricAlgorithms: [{ kdfId: 0x0001, aeadId: 0x0001 }, { kdfId: 0x0001, aeadId: 0x0003 }],
 * };
 * ```
 */
export interface KeyConfig {
  /** 0..255, chosen by the gateway to tell its keys apart. */
  readonly keyId: number;
  readonly kemId: number;
  /** Npk bytes. */
  readonly publicKey: Uint8Array;
  /** At least one pair; clients use the first one they support unless told otherwise. */
  readonly symmetricAlgorithms: readonly SymmetricAlgorithm[];
}

function invalid(message: string, details?: Record<string, unknown>, cause?: unknown): OhttpError {
  return new OhttpError("ohttp_key_config_invalid", message, { details, cause });
}

function isUint(value: unknown, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max;
}

/**
 * Checks a key configuration object: field types and ranges, a supported KEM, a public key that is a
 * valid point of the right length, and at least one (KDF, AEAD) pair. Throws `ohttp_key_config_invalid`
 * (or `ohttp_key_config_unsupported` for an unknown KEM) naming the field.
 *
 * @example
 * ```ts
 * validateKeyConfig(keyConfig); // throws OhttpError if anything is wrong
 * ```
 */
export function validateKeyConfig(keyConfig: KeyConfig, name = "keyConfig"): void {
  assertObject(keyConfig, name);
  const { keyId, kemId, publicKey, symmetricAlgorithms } = keyConfig;
  if (!isUint(keyId, 0xff)) throw invalid(`${name}.keyId must be an integer in 0..255`, { field: "keyId" });
  if (!isUint(kemId, 0xffff))
    throw invalid(`${name}.kemId must be an integer in 0..65535`, { field: "kemId" });
  const kem = kemForConfig(kemId);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== kem.publicKeyLength) {
    throw invalid(`${name}.publicKey must be a Uint8Array of ${kem.publicKeyLength} bytes`, {
      field: "publicKey",
    });
  }
  if (!kem.isValidPublicKey(publicKey))
    throw invalid(`${name}.publicKey is not a valid public key`, { field: "publicKey" });
  if (
    !Array.isArray(symmetricAlgorithms) ||
    symmetricAlgorithms.length === 0 ||
    symmetricAlgorithms.length > 16383
  ) {
    throw invalid(`${name}.symmetricAlgorithms must be a non-empty array of at most 16383 pairs`, {
      field: "symmetricAlgorithms",
    });
  }
  symmetricAlgorithms.forEach((pair: unknown, i) => {
    const p = pair as Partial<SymmetricAlgorithm> | null;
    if (typeof p !== "object" || p === null || !isUint(p.kdfId, 0xffff) || !isUint(p.aeadId, 0xffff)) {
      throw invalid(`${name}.symmetricAlgorithms[${i}] must be { kdfId, aeadId } with 16-bit ids`, {
        field: "symmetricAlgorithms",
        index: i,
      });
    }
  });
}

function kemForConfig(kemId: number) {
  try {
    return kemFor(kemId);
  } catch (cause) {
    throw new OhttpError("ohttp_key_config_unsupported", `kem 0x${hex4(kemId)} is not supported`, {
      cause,
      details: { kemId },
    });
  }
}

/**
 * Whether this package can use a (KDF, AEAD) pair for Oblivious HTTP (export-only cannot carry a body).
 *
 * @example
 * ```ts
 * isSupportedSymmetricAlgorithm({ kdfId: 1, aeadId: 3 }); // true
 * ```
 */
export function isSupportedSymmetricAlgorithm(pair: SymmetricAlgorithm): boolean {
  if (pair.aeadId === AeadId.ExportOnly) return false;
  try {
    kdfFor(pair.kdfId);
    aeadFor(pair.aeadId);
    return true;
  } catch (error) {
    if (SealError.isInstance(error)) return false;
    throw error;
  }
}

/**
 * RFC 9458 §3.1 encoding of one key configuration.
 *
 * @example
 * ```ts
 * const bytes = encodeKeyConfig({ keyId: 1, kemId: 0x0020, publicKey, symmetricAlgorithms: [{ kdfId: 1, aeadId: 1 }] });
 * ```
 */
export function encodeKeyConfig(keyConfig: KeyConfig): Uint8Array {
  validateKeyConfig(keyConfig);
  const { keyId, kemId, publicKey, symmetricAlgorithms } = keyConfig;
  const head = new Uint8Array(3);
  head[0] = keyId;
  head[1] = kemId >>> 8;
  head[2] = kemId & 0xff;
  const algorithms = new Uint8Array(2 + 4 * symmetricAlgorithms.length);
  const view = new DataView(algorithms.buffer);
  view.setUint16(0, 4 * symmetricAlgorithms.length);
  symmetricAlgorithms.forEach((pair, i) => {
    view.setUint16(2 + 4 * i, pair.kdfId);
    view.setUint16(4 + 4 * i, pair.aeadId);
  });
  return concat(head, publicKey, algorithms);
}

/** Parses one configuration at `offset`; returns it and the offset just past it. */
function parseKeyConfig(
  bytes: Uint8Array,
  offset: number,
  end: number,
): { keyConfig: KeyConfig; next: number } {
  if (end - offset < 3) throw invalid("key configuration is shorter than its 3-byte header", { offset });
  const keyId = bytes[offset]!;
  const kemId = (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
  const kem = kemForConfig(kemId);
  let at = offset + 3;
  if (end - at < kem.publicKeyLength + 2) {
    throw invalid(`key configuration is too short for a ${kem.publicKeyLength}-byte public key`, { offset });
  }
  const publicKey = bytes.slice(at, at + kem.publicKeyLength);
  if (!kem.isValidPublicKey(publicKey))
    throw invalid("key configuration public key is not a valid public key");
  at += kem.publicKeyLength;
  const length = (bytes[at]! << 8) | bytes[at + 1]!;
  at += 2;
  if (length < 4 || length % 4 !== 0) {
    throw invalid(`symmetric algorithms length must be a non-zero multiple of 4, got ${length}`, { length });
  }
  if (end - at < length)
    throw invalid("symmetric algorithms run past the end of the key configuration", { length });
  const symmetricAlgorithms: SymmetricAlgorithm[] = [];
  for (let i = 0; i < length; i += 4) {
    symmetricAlgorithms.push(
      Object.freeze({
        kdfId: (bytes[at + i]! << 8) | bytes[at + i + 1]!,
        aeadId: (bytes[at + i + 2]! << 8) | bytes[at + i + 3]!,
      }),
    );
  }
  at += length;
  return {
    keyConfig: Object.freeze({
      keyId,
      kemId,
      publicKey,
      symmetricAlgorithms: Object.freeze(symmetricAlgorithms),
    }),
    next: at,
  };
}

/**
 * Parses one RFC 9458 §3.1 key configuration. The whole input must be consumed; the KEM must be one this
 * package supports (`ohttp_key_config_unsupported` otherwise). Any other defect is
 * `ohttp_key_config_invalid`; nothing else is ever thrown.
 *
 * @example
 * ```ts
 * const keyConfig = decodeKeyConfig(bytes);
 * keyConfig.symmetricAlgorithms[0]; // { kdfId: 1, aeadId: 1 }
 * ```
 */
export function decodeKeyConfig(bytes: Uint8Array): KeyConfig {
  if (!(bytes instanceof Uint8Array)) throw invalid("bytes must be a Uint8Array", { argument: "bytes" });
  const { keyConfig, next } = parseKeyConfig(bytes, 0, bytes.length);
  if (next !== bytes.length) {
    throw invalid(`${bytes.length - next} unexpected bytes after the key configuration`, {
      trailing: bytes.length - next,
    });
  }
  return keyConfig;
}

/**
 * Encodes the `application/ohttp-keys` form (RFC 9458 §3.2): each configuration preceded by its 2-byte
 * length.
 *
 * @example
 * ```ts
 * const body = encodeKeyConfigList([current, next]);
 * new Response(body, { headers: { "content-type": OHTTP_KEYS_MEDIA_TYPE } });
 * ```
 */
export function encodeKeyConfigList(keyConfigs: readonly KeyConfig[]): Uint8Array {
  if (!Array.isArray(keyConfigs)) throw invalid("keyConfigs must be an array", { argument: "keyConfigs" });
  const parts: Uint8Array[] = [];
  for (const keyConfig of keyConfigs) {
    const encoded = encodeKeyConfig(keyConfig);
    if (encoded.length > 0xffff) throw invalid("a key configuration is longer than 65535 bytes");
    parts.push(Uint8Array.of(encoded.length >>> 8, encoded.length & 0xff), encoded);
  }
  return concat(...parts);
}

/**
 * Decodes the `application/ohttp-keys` form. Configurations whose KEM this package does not implement
 * are skipped (their length prefix lets us step over them), as a client that cannot use a key simply
 * ignores it; a malformed framing or a malformed supported configuration is `ohttp_key_config_invalid`.
 *
 * @example
 * ```ts
 * const [keyConfig] = decodeKeyConfigList(new Uint8Array(await (await fetch(keysUrl)).arrayBuffer()));
 * ```
 */
export function decodeKeyConfigList(bytes: Uint8Array): KeyConfig[] {
  if (!(bytes instanceof Uint8Array)) throw invalid("bytes must be a Uint8Array", { argument: "bytes" });
  const out: KeyConfig[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 2)
      throw invalid("truncated length prefix in key configuration list", { offset: at });
    const length = (bytes[at]! << 8) | bytes[at + 1]!;
    at += 2;
    if (bytes.length - at < length)
      throw invalid("key configuration runs past the end of the list", { offset: at });
    try {
      const { keyConfig, next } = parseKeyConfig(bytes, at, at + length);
      if (next !== at + length) throw invalid("key configuration length prefix does not match its contents");
      out.push(keyConfig);
    } catch (error) {
      if (!(SealError.isInstance(error) && error.code === "ohttp_key_config_unsupported")) throw error;
    }
    at += length;
  }
  return out;
}
