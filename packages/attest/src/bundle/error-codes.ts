/**
 * The error codes of `@peercycles/attest/bundle` (bundles, bindings, receipts, the bundle policy): the contract callers branch on.
 * Each member's comment is `family: meaning`; the error tables of the docs are generated from these
 * comments (`node scripts/error-index.mjs`, see docs/bundle.md#error-codes), and a test keeps them current.
 * Codes are never built at run time: every code is a literal of one of these unions.
 */
export type BundleErrorCode =
  /** parse: binding is not a map of keys 1..6 with the right types and sizes */
  | "bundle_binding_malformed"
  /** parse: binding not in deterministic CBOR */
  | "bundle_binding_not_canonical"
  /** parse: not a bundle: bad CBOR, unknown key, wrong type, trailing bytes */
  | "bundle_malformed"
  /** parse: version other than 1 */
  | "bundle_version_unsupported"
  /** parse: a receipt is not the CBOR map of its fields with the right types and sizes */
  | "receipt_malformed"
  /** parse: a receipt is not in deterministic CBOR */
  | "receipt_not_canonical"
  /** argument: a binding field has the wrong shape */
  | "bundle_binding_invalid"
  /** argument: missing option */
  | "bundle_now_required"
  /** argument: missing option */
  | "bundle_policy_required"
  /** argument: a receipt field has the wrong shape (encode) */
  | "receipt_invalid"
  /** invalid: the binding's nonce is not the expected one (replay) */
  | "bundle_client_nonce_mismatch"
  /** invalid: a nonce was expected, the binding has none */
  | "bundle_client_nonce_missing"
  /** invalid: the CPU verifier did not verify the evidence */
  | "bundle_cpu_evidence_invalid"
  /** invalid: a bundle that says TDX carries an SGX enclave quote */
  | "bundle_cpu_evidence_kind_mismatch"
  /** invalid: CPU TEE not in `cpu.kinds` */
  | "bundle_cpu_kind_not_allowed"
  /** invalid: the CPU verifier's policy is not met */
  | "bundle_cpu_policy_violation"
  /** invalid: a carried root without the development marker */
  | "bundle_development_root_unmarked"
  /** invalid: the same GPU twice (same leaf key or UEID, whatever the certificate encoding) */
  | "bundle_gpu_duplicate"
  /** invalid: the NVIDIA verifier did not verify a GPU */
  | "bundle_gpu_evidence_invalid"
  /** invalid: GPU nonce ≠ SHA-256(binding) */
  | "bundle_gpu_nonce_mismatch"
  /** invalid: the NVIDIA policy is not met */
  | "bundle_gpu_policy_violation"
  /** invalid: fewer GPUs than required */
  | "bundle_gpu_required"
  /** invalid: issued-at beyond the clock-skew tolerance */
  | "bundle_issued_in_future"
  /** invalid: launch measurements not listed for the model */
  | "bundle_measurement_not_allowed"
  /** invalid: model not in the policy */
  | "bundle_model_not_allowed"
  /** invalid: fallback code of a rejected bundle whose failing check has no code of its own */
  | "bundle_rejected"
  /** invalid: CPU report_data ≠ SHA-512(binding) */
  | "bundle_report_data_mismatch"
  /** invalid: development roots without `allowSimulated` */
  | "bundle_simulated_not_allowed"
  /** invalid: issued-at older than `maxAgeSeconds` */
  | "bundle_stale"
  /** invalid: weights digest not listed for the model */
  | "bundle_weights_digest_not_allowed"
  /** invalid: see Receipts */
  | "receipt_signature_invalid";
