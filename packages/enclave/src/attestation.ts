import {
  type AttestationBundle,
  bindingGpuNonce,
  bindingReportData,
  encodeBinding,
} from "@peercycles/attest/bundle";
import type { EnclaveKeys } from "./enclave-keys.js";
import { EnclaveError } from "./errors.js";
import type { EvidenceProvider } from "./provider.js";

/** What {@link createAttestationBundle} binds besides the keys. */
export interface AttestOptions {
  /** Model id served by the enclave. */
  readonly model: string;
  /** Digest of the model weights (32, 48 or 64 bytes). */
  readonly weightsDigest: Uint8Array;
  /** Issue time. Default: the current time. */
  readonly issuedAt?: Date;
  /** Client nonce to include (8..64 bytes), for a fresh attestation on request. */
  readonly clientNonce?: Uint8Array;
  /** Event log to ship (e.g. the CCEL table). */
  readonly eventLog?: Uint8Array;
}

/**
 * Builds an attestation bundle: the binding from the enclave's public keys and the model, then
 * evidence from `provider` with `report_data` = SHA-512(binding) and GPU nonce = SHA-256(binding).
 *
 * @example
 * ```ts
 * const keys = await createEnclaveKeys();
 * const bundle = await createAttestationBundle(keys, new ConfigfsTsmProvider(), { model: "peer-mixtral", weightsDigest });
 * const bytes = encodeBundle(bundle);
 * ```
 */
export async function createAttestationBundle(
  keys: EnclaveKeys,
  provider: EvidenceProvider,
  options: AttestOptions,
): Promise<AttestationBundle> {
  const issuedAt = options.issuedAt ?? new Date();
  if (Number.isNaN(issuedAt.getTime()))
    throw new EnclaveError("enclave_argument_invalid", "issuedAt is not a valid date");
  const { hpkePublicKey, signingPublicKey } = keys.publicKeys();
  const binding = encodeBinding({
    hpkePublicKey,
    signingPublicKey,
    model: options.model,
    weightsDigest: options.weightsDigest,
    issuedAt: Math.floor(issuedAt.getTime() / 1000),
    ...(options.clientNonce ? { clientNonce: options.clientNonce } : {}),
  });
  const evidence = await provider.getEvidence(bindingReportData(binding), bindingGpuNonce(binding));
  return {
    version: 1,
    binding,
    cpu: evidence.cpu,
    gpus: evidence.gpus,
    ...(options.eventLog
      ? { eventLog: options.eventLog }
      : evidence.eventLog
        ? { eventLog: evidence.eventLog }
        : {}),
    ...(evidence.developmentRoots ? { developmentRoots: evidence.developmentRoots } : {}),
  };
}
