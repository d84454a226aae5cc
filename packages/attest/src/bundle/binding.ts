import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { toHex } from "../common/bytes.js";
import { AttestArgumentError, EvidenceParseError } from "../common/errors.js";
import { canonicalUint, decodeDeterministicCbor, encodeCbor } from "./deterministic-cbor.js";

/**
 * The binding ties the enclave's keys and the model it serves to its hardware evidence:
 * `report_data` (64 bytes) of the CPU evidence is SHA-512 of the binding bytes, and the GPU
 * evidence is requested with nonce SHA-256 of the same bytes. One binding, one set of keys, one
 * model, one CPU quote and one GPU report.
 */
export interface Binding {
  /** X25519 HPKE public key (32 bytes) that requests are sealed to. */
  readonly hpkePublicKey: Uint8Array;
  /** Ed25519 public key (32 bytes) that signs receipts. */
  readonly signingPublicKey: Uint8Array;
  /** Model id served by this enclave, e.g. `peer-mixtral`. */
  readonly model: string;
  /** SHA-256 (32 bytes) or SHA-384/512 digest of the model weights. */
  readonly weightsDigest: Uint8Array;
  /** Time the binding was made, Unix seconds. */
  readonly issuedAt: number;
  /** Client-chosen nonce for freshness (8..64 bytes), when the client asked for one. */
  readonly clientNonce?: Uint8Array;
}

/** Map keys of the binding's CBOR encoding. Integer keys 1..6 keep the encoding deterministic. */
export const BINDING_KEYS = {
  hpkePublicKey: 1,
  signingPublicKey: 2,
  model: 3,
  weightsDigest: 4,
  issuedAt: 5,
  clientNonce: 6,
} as const;

const MAX_MODEL_ID = 256;

function checkBinding(binding: Binding, fail: (message: string) => never): void {
  const bytes = (value: unknown, name: string, sizes: readonly number[]) => {
    if (!(value instanceof Uint8Array)) fail(`${name} must be a byte string`);
    if (!sizes.includes(value.length))
      fail(`${name} must be ${sizes.join(" or ")} bytes, got ${value.length}`);
  };
  bytes(binding.hpkePublicKey, "hpkePublicKey", [32]);
  bytes(binding.signingPublicKey, "signingPublicKey", [32]);
  if (
    typeof binding.model !== "string" ||
    binding.model.length === 0 ||
    binding.model.length > MAX_MODEL_ID
  ) {
    fail(`model must be a non-empty text string of at most ${MAX_MODEL_ID} characters`);
  }
  bytes(binding.weightsDigest, "weightsDigest", [32, 48, 64]);
  if (!Number.isSafeInteger(binding.issuedAt) || binding.issuedAt < 0)
    fail("issuedAt must be a non-negative integer (Unix seconds)");
  if (binding.clientNonce !== undefined) {
    if (
      !(binding.clientNonce instanceof Uint8Array) ||
      binding.clientNonce.length < 8 ||
      binding.clientNonce.length > 64
    ) {
      fail("clientNonce must be 8 to 64 bytes");
    }
  }
}

/**
 * Deterministic CBOR (RFC 8949 §4.2) of a binding: a map with integer keys 1..6 in ascending order,
 * shortest-form integers, definite lengths. Key 6 (client nonce) is absent when there is none.
 *
 * @example
 * ```ts
 * const bytes = encodeBinding({ hpkePublicKey, signingPublicKey, model: "peer-mixtral",
 *   weightsDigest, issuedAt: Math.floor(Date.now() / 1000) });
 * const reportData = bindingReportData(bytes); // 64 bytes for the TDX quote / SNP report
 * ```
 * @throws AttestArgumentError `bundle_binding_invalid` for a field of the wrong shape
 */
export function encodeBinding(binding: Binding): Uint8Array {
  checkBinding(binding, (message) => {
    throw new AttestArgumentError("bundle_binding_invalid", `binding: ${message}`);
  });
  const map = new Map<number, Uint8Array | string | number | bigint>([
    [BINDING_KEYS.hpkePublicKey, binding.hpkePublicKey],
    [BINDING_KEYS.signingPublicKey, binding.signingPublicKey],
    [BINDING_KEYS.model, binding.model],
    [BINDING_KEYS.weightsDigest, binding.weightsDigest],
    [BINDING_KEYS.issuedAt, canonicalUint(binding.issuedAt)],
  ]);
  if (binding.clientNonce !== undefined) map.set(BINDING_KEYS.clientNonce, binding.clientNonce);
  return encodeCbor(map);
}

/**
 * Parses binding bytes. Strict: the encoding must be exactly the deterministic one, keys 1..5 must
 * be present, 6 optional, nothing else.
 * @throws EvidenceParseError `bundle_binding_malformed`, `bundle_binding_not_canonical`
 */
export function decodeBinding(bytes: Uint8Array): Binding {
  const value = decodeDeterministicCbor(
    bytes,
    "bundle_binding_malformed",
    "bundle_binding_not_canonical",
    "binding",
  );
  const fail = (message: string): never => {
    throw new EvidenceParseError("bundle_binding_malformed", `binding: ${message}`);
  };
  if (!(value instanceof Map)) fail("must be a CBOR map");
  const map = value as Map<unknown, unknown>;
  const allowed = new Set<unknown>(Object.values(BINDING_KEYS));
  for (const key of map.keys()) if (!allowed.has(key)) fail(`unknown key ${String(key)}`);
  const binding: Binding = {
    hpkePublicKey: map.get(BINDING_KEYS.hpkePublicKey) as Uint8Array,
    signingPublicKey: map.get(BINDING_KEYS.signingPublicKey) as Uint8Array,
    model: map.get(BINDING_KEYS.model) as string,
    weightsDigest: map.get(BINDING_KEYS.weightsDigest) as Uint8Array,
    issuedAt: map.get(BINDING_KEYS.issuedAt) as number,
    ...(map.has(BINDING_KEYS.clientNonce)
      ? { clientNonce: map.get(BINDING_KEYS.clientNonce) as Uint8Array }
      : {}),
  };
  checkBinding(binding, fail);
  return binding;
}

/** `report_data` for the CPU evidence: SHA-512 of the binding bytes (64 bytes). */
export function bindingReportData(bindingBytes: Uint8Array): Uint8Array {
  return sha512(bindingBytes);
}

/** Nonce for the GPU evidence request: SHA-256 of the binding bytes (32 bytes). */
export function bindingGpuNonce(bindingBytes: Uint8Array): Uint8Array {
  return sha256(bindingBytes);
}

/** JSON view of a binding (hex byte strings, ISO time). */
export interface BindingJson {
  readonly hpkePublicKey: string;
  readonly signingPublicKey: string;
  readonly model: string;
  readonly weightsDigest: string;
  readonly issuedAt: string;
  readonly clientNonce?: string;
  /** The exact binding bytes, hex. */
  readonly hex: string;
  readonly reportData: string;
  readonly gpuNonce: string;
}

/** The JSON view of binding bytes: decoded fields, the bytes and both derived values in hex. */
export function bindingToJson(bytes: Uint8Array, binding: Binding = decodeBinding(bytes)): BindingJson {
  return {
    hpkePublicKey: toHex(binding.hpkePublicKey),
    signingPublicKey: toHex(binding.signingPublicKey),
    model: binding.model,
    weightsDigest: toHex(binding.weightsDigest),
    issuedAt: new Date(binding.issuedAt * 1000).toISOString(),
    ...(binding.clientNonce ? { clientNonce: toHex(binding.clientNonce) } : {}),
    hex: toHex(bytes),
    reportData: toHex(bindingReportData(bytes)),
    gpuNonce: toHex(bindingGpuNonce(bytes)),
  };
}
