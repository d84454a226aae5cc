/**
 * The error codes shared by every subpath (X.509, CRLs, input, CLI, malformed policies): the contract callers branch on.
 * Each member's comment is `family: meaning`; the error tables of the docs are generated from these
 * comments (`node scripts/error-index.mjs`, see docs/errors.md#shared-codes), and a test keeps them current.
 * Codes are never built at run time: every code is a literal of one of these unions.
 */
export type SharedErrorCode =
  /** parse: a certificate is not DER X.509 (or a PEM block is not base64) */
  | "certificate_malformed"
  /** parse: the certificate's outer envelope is not DER: wrong tag, indefinite or non-minimal length, trailing bytes, non-DER signatureAlgorithm or signature BIT STRING (none of it is signed) */
  | "certificate_not_der"
  /** parse: the outer signatureAlgorithm differs from the one in the signed TBS, parameters included (RFC 5280 §4.1.1.2) */
  | "certificate_signature_algorithm_mismatch"
  /** parse: a CRL is not DER */
  | "crl_malformed"
  /** parse: the CRL's outer envelope is not DER (tag, indefinite or non-minimal length, trailing bytes, non-DER signatureAlgorithm or BIT STRING) */
  | "crl_not_der"
  /** parse: the outer signatureAlgorithm differs from the one in the signed TBS (parameters included, RFC 5280 §5.1.1.2) */
  | "crl_signature_algorithm_mismatch"
  /** parse: text input is not valid base64 */
  | "input_base64_invalid"
  /** parse: an evidence file is empty */
  | "input_empty"
  /** parse: a file named on the command line cannot be read */
  | "input_file_unreadable"
  /** parse: evidence input is PEM or JSON (a certificate, collateral or policy file given where a quote or report is expected) */
  | "input_format_unexpected"
  /** parse: text input is not valid hex */
  | "input_hex_invalid"
  /** parse: a JSON file (policy, collateral) does not parse */
  | "input_json_invalid"
  /** argument: unknown option, missing value, or missing required option */
  | "cli_arguments_invalid"
  /** argument: `--now` is neither ISO 8601 nor Unix seconds */
  | "cli_now_invalid"
  /** argument: an EC public key has the wrong length or form */
  | "ec_public_key_invalid"
  /** argument: a policy does not match its schema: unknown key, wrong type or size (`details.path` is the JSON path) */
  | "policy_invalid"
  /** argument: `useSignatureBackend` was given something other than `"node:crypto"` or `"webcrypto"` */
  | "signature_backend_invalid"
  /** argument: `useSignatureBackend("node:crypto")` outside Node (no `process.getBuiltinModule`) */
  | "signature_backend_unavailable"
  /** argument: `globalThis.crypto.subtle` is missing (very old runtime) */
  | "webcrypto_unavailable"
  /** invalid: no issuer certificate for some certificate in the chain */
  | "certificate_chain_incomplete"
  /** invalid: the chain ends at a certificate that is not a pinned root */
  | "certificate_chain_untrusted"
  /** invalid: a certificate on the path carries a critical extension that is not processed (§6.1.4 (o)) */
  | "certificate_critical_extension_unknown"
  /** invalid: a certificate's notAfter is before `now` */
  | "certificate_expired"
  /** invalid: an issuing certificate states a keyUsage without keyCertSign (RFC 5280 §6.1.4 (n)) */
  | "certificate_key_usage_invalid"
  /** invalid: an issuing certificate is not a CA (basicConstraints) */
  | "certificate_not_ca"
  /** invalid: a certificate's notBefore is after `now` */
  | "certificate_not_yet_valid"
  /** invalid: a supplied certificate is neither on the verified path nor a pinned root byte for byte (a supplied root that differs from the pinned one is `certificate_chain_untrusted`) */
  | "certificate_off_path"
  /** invalid: a CA's basicConstraints pathLenConstraint is exceeded (§6.1.4 (l), (m)) */
  | "certificate_path_length_exceeded"
  /** invalid: a certificate's signature does not verify with its issuer's key */
  | "certificate_signature_invalid"
  /** invalid: the CRL's nextUpdate is before `now` */
  | "crl_expired"
  /** invalid: the CRL issuer's keyUsage does not include cRLSign */
  | "crl_issuer_key_usage_invalid"
  /** invalid: the CRL's issuer is not the expected CA */
  | "crl_issuer_mismatch"
  /** invalid: the CRL's thisUpdate is after `now` */
  | "crl_not_yet_valid"
  /** invalid: the CRL's signature does not verify */
  | "crl_signature_invalid"
  /** internal: a bug: an exception that is not an `AttestError` (please report it) */
  | "internal_error";
