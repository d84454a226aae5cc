import { sha256 } from "@noble/hashes/sha2.js";
import type { Binding } from "./binding.js";

/**
 * The HPKE suite an enclave's binding key is used with: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-128-GCM (RFC 9180 ids 0x0020, 0x0001, 0x0001), as an RFC 9458 key configuration.
 */
export const BINDING_HPKE_SUITE = { kemId: 0x0020, kdfId: 0x0001, aeadId: 0x0001 } as const;

/** Structurally an `@peercycles/seal` `KeyConfig` (attest does not depend on seal). */
export interface BindingKeyConfig {
  readonly keyId: number;
  readonly kemId: number;
  readonly publicKey: Uint8Array;
  readonly symmetricAlgorithms: readonly { readonly kdfId: number; readonly aeadId: number }[];
}

/** Key id of a binding key: the first byte of SHA-256(public key), so a rotated key gets a new id. */
export function bindingKeyId(hpkePublicKey: Uint8Array): number {
  return sha256(hpkePublicKey)[0] as number;
}

/**
 * The RFC 9458 key configuration for sealing requests to the enclave named by a *verified* binding.
 *
 * @example
 * ```ts
 * import { encapsulateRequest } from "@peercycles/seal";
 * const { encapsulatedRequest, context } = await encapsulateRequest(bindingKeyConfig(result.binding), body);
 * ```
 */
export function bindingKeyConfig(binding: Pick<Binding, "hpkePublicKey">): BindingKeyConfig {
  return {
    keyId: bindingKeyId(binding.hpkePublicKey),
    kemId: BINDING_HPKE_SUITE.kemId,
    publicKey: binding.hpkePublicKey,
    symmetricAlgorithms: [{ kdfId: BINDING_HPKE_SUITE.kdfId, aeadId: BINDING_HPKE_SUITE.aeadId }],
  };
}
