import { AttestError, type AttestErrorOptions } from "@peercycles/attest";

/** The error table of `@peercycles/enclave`'s README. */
export const ENCLAVE_ERRORS_DOCS =
  "https://github.com/peercycles/peercycles/blob/main/packages/enclave/README.md#error-codes";

/** The codes an {@link EnclaveError} carries (see the README's error table). */
export type EnclaveErrorCode =
  | "enclave_tsm_unavailable"
  | "enclave_tsm_provider_unknown"
  | "enclave_tsm_generation_changed"
  | "enclave_tsm_io_failed"
  | "enclave_tsm_argument_invalid"
  | "enclave_auxblob_malformed"
  | "enclave_gpu_evidence_unavailable"
  | "enclave_gpu_evidence_malformed"
  | "enclave_gpu_nonce_mismatch"
  | "enclave_request_invalid"
  | "enclave_argument_invalid"
  | "enclave_simulator_invalid";

/**
 * Failures on the worker side (evidence capture, key custody) share the attest error base, so a
 * caller branches on one `code` family and `AttestError.isInstance` recognises them.
 *
 * Codes: `enclave_tsm_unavailable`, `enclave_tsm_provider_unknown`, `enclave_tsm_generation_changed`,
 * `enclave_tsm_io_failed`, `enclave_tsm_argument_invalid`, `enclave_auxblob_malformed`,
 * `enclave_gpu_evidence_unavailable`, `enclave_gpu_evidence_malformed`, `enclave_gpu_nonce_mismatch`,
 * `enclave_request_invalid`, `enclave_argument_invalid`, `enclave_simulator_invalid`.
 */
export class EnclaveError extends AttestError<EnclaveErrorCode> {
  constructor(
    code: EnclaveErrorCode,
    message: string,
    options: AttestErrorOptions & { retryable?: boolean } = {},
  ) {
    super(code, message, options);
    this.name = "EnclaveError";
  }

  /** The error table of this package's README, which lists every `enclave_` code. */
  override get docsUrl(): string {
    return ENCLAVE_ERRORS_DOCS;
  }
}
