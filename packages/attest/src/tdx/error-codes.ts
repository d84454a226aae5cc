/**
 * The error codes of `@peercycles/attest/tdx` (TDX and SGX quotes, Intel collateral, the TDX policy): the contract callers branch on.
 * Each member's comment is `family: meaning`; the error tables of the docs are generated from these
 * comments (`node scripts/error-index.mjs`, see docs/tdx.md#error-codes), and a test keeps them current.
 * Codes are never built at run time: every code is a literal of one of these unions.
 */
export type TdxErrorCode =
  /** parse: collateral of an unknown shape, bad JSON, bad hex/base64, bad TCB info / QE identity fields */
  | "collateral_malformed"
  /** parse: a QE identity whose `version` is not 2 */
  | "collateral_qe_identity_version_unsupported"
  /** parse: a TCB info whose `version` is not 2 or 3 */
  | "collateral_tcb_info_version_unsupported"
  /** parse: attestation key type not 2 (ECDSA P-256) */
  | "tdx_attestation_key_type_unsupported"
  /** parse: v5 body type not 1/2/3, or its size or TEE type disagree */
  | "tdx_body_type_unsupported"
  /** parse: the PCK chain's declared size disagrees with its container */
  | "tdx_cert_data_length_invalid"
  /** parse: outer certification data not type 6 (v4/v5), inner not type 5 */
  | "tdx_cert_data_type_unsupported"
  /** parse: the PCK chain is not PEM certificates only, or holds a stray certificate */
  | "tdx_pck_chain_malformed"
  /** parse: missing or malformed SGX extensions */
  | "tdx_pck_extensions_malformed"
  /** parse: a field does not fit in the input (the message names it) */
  | "tdx_quote_truncated"
  /** parse: version not 3, 4, 5 (or v3 with TEE type TDX) */
  | "tdx_quote_version_unsupported"
  /** parse: the signature-data length disagrees with its certification data */
  | "tdx_signature_data_length_invalid"
  /** parse: TEE type not 0x00 (SGX) or 0x81 (TDX) */
  | "tdx_tee_type_unsupported"
  /** argument: collateral passed in an unsupported shape (not an object of the expected members) */
  | "collateral_argument_invalid"
  /** argument: bad `now`, empty `roots`, missing options, unknown `allowUnchecked` name */
  | "tdx_now_invalid"
  /** argument: bad `now`, empty `roots`, missing options, unknown `allowUnchecked` name */
  | "tdx_options_invalid"
  /** argument: bad `now`, empty `roots`, missing options, unknown `allowUnchecked` name */
  | "tdx_roots_invalid"
  /** unavailable: collateral could not be obtained */
  | "collateral_unavailable"
  /** invalid: the PCK CRL is outside `thisUpdate .. nextUpdate` at `now` */
  | "collateral_pck_crl_expired"
  /** invalid: the PCK CRL is outside `thisUpdate .. nextUpdate` at `now` */
  | "collateral_pck_crl_not_yet_valid"
  /** invalid: collateral outside its validity at `now` */
  | "collateral_qe_identity_expired"
  /** invalid: collateral outside its validity at `now` */
  | "collateral_qe_identity_not_yet_valid"
  /** invalid: collateral signature does not verify */
  | "collateral_qe_identity_signature_invalid"
  /** invalid: the Root CA CRL is outside `thisUpdate .. nextUpdate` at `now` */
  | "collateral_root_ca_crl_expired"
  /** invalid: the Root CA CRL is outside `thisUpdate .. nextUpdate` at `now` */
  | "collateral_root_ca_crl_not_yet_valid"
  /** invalid: the TCB info / QE identity signer is not the TCB Signing certificate issued by the Root CA */
  | "collateral_signer_role_invalid"
  /** invalid: the TCB signing certificate is revoked */
  | "collateral_signing_certificate_revoked"
  /** invalid: the TCB info / QE identity issuer chain is not signer → Root CA */
  | "collateral_signing_chain_length_invalid"
  /** invalid: collateral outside its validity at `now` */
  | "collateral_tcb_info_expired"
  /** invalid: collateral outside its validity at `now` */
  | "collateral_tcb_info_not_yet_valid"
  /** invalid: collateral signature does not verify */
  | "collateral_tcb_info_signature_invalid"
  /** invalid: TCB info is for another platform */
  | "tdx_fmspc_mismatch"
  /** invalid: TDX module identity checks */
  | "tdx_module_attributes_mismatch"
  /** invalid: TDX module identity checks */
  | "tdx_module_identity_not_found"
  /** invalid: TDX module identity checks */
  | "tdx_module_mrsigner_mismatch"
  /** invalid: TDX module identity checks */
  | "tdx_module_tcb_level_not_found"
  /** invalid: TCB info is for another platform */
  | "tdx_pce_id_mismatch"
  /** invalid: the PCK CA is revoked by the Root CA CRL */
  | "tdx_pck_ca_revoked"
  /** invalid: the chain's first certificate is a CA */
  | "tdx_pck_certificate_invalid"
  /** invalid: the PCK chain is not PCK → PCK CA → Root CA */
  | "tdx_pck_chain_length_invalid"
  /** invalid: a PCK chain certificate is not in its role (PCK leaf, Platform/Processor CA, Root CA) */
  | "tdx_pck_chain_role_invalid"
  /** invalid: the PCK CRL issuer chain is not PCK CA → Root CA */
  | "tdx_pck_crl_issuer_chain_length_invalid"
  /** invalid: the PCK CRL is not the quote's PCK CA's */
  | "tdx_pck_crl_issuer_mismatch"
  /** invalid: the PCK CRL issuer is not a PCK CA issued by the Root CA */
  | "tdx_pck_crl_issuer_role_invalid"
  /** invalid: the PCK certificate is revoked */
  | "tdx_pck_revoked"
  /** invalid: QE identity checks */
  | "tdx_qe_attributes_mismatch"
  /** invalid: QE identity checks */
  | "tdx_qe_identity_id_mismatch"
  /** invalid: QE identity checks */
  | "tdx_qe_isvprodid_mismatch"
  /** invalid: QE identity checks */
  | "tdx_qe_miscselect_mismatch"
  /** invalid: QE identity checks */
  | "tdx_qe_mrsigner_mismatch"
  /** invalid: QE report does not bind the attestation key */
  | "tdx_qe_report_data_mismatch"
  /** invalid: QE report not signed by the PCK key */
  | "tdx_qe_report_signature_invalid"
  /** invalid: QE identity checks */
  | "tdx_qe_tcb_level_not_found"
  /** invalid: QE vendor id is not Intel's */
  | "tdx_qe_vendor_id_unknown"
  /** invalid: quote not signed by the attestation key */
  | "tdx_quote_signature_invalid"
  /** invalid: SGX TCB info for a TDX quote or the reverse */
  | "tdx_tcb_info_type_mismatch"
  /** invalid: no TCB level matches the platform */
  | "tdx_tcb_level_not_found"
  /** invalid: the converged TCB status is Revoked */
  | "tdx_tcb_revoked"
  /** invalid: only signatures were checked (`signaturesOnly`) and the TCB was not evaluated; accepted only when `allowUnchecked` lists `"tcb"` */
  | "tdx_tcb_unchecked"
  /** policy: policy `allowedAdvisoryIds`: advisories that may appear with any accepted status; default none; `["*"]` any */
  | "tdx_policy_advisory_not_allowed"
  /** policy: policy `allowDebug`: accept TD_ATTRIBUTES bit 0 / SGX ATTRIBUTES.DEBUG; default false */
  | "tdx_policy_debug_forbidden"
  /** policy: policy `fmspc`: 6-byte allow-list (verified PCK certificate) */
  | "tdx_policy_fmspc_not_allowed"
  /** policy: policy `allowedKinds`: `"tdx"`, `"sgx"`; default both */
  | "tdx_policy_kind_not_allowed"
  /** policy: policy `mrTd`, `rtmr0`…`rtmr3`, `mrSeam`, `mrConfigId`: 48-byte allow-lists */
  | "tdx_policy_mrconfigid_not_allowed"
  /** policy: policy `mrEnclave`, `mrSigner`: 32-byte allow-lists (SGX) */
  | "tdx_policy_mrenclave_not_allowed"
  /** policy: policy `mrSignerSeam`, `mrOwner`, `mrOwnerConfig`: 48-byte allow-lists (TDX) */
  | "tdx_policy_mrowner_not_allowed"
  /** policy: policy `mrSignerSeam`, `mrOwner`, `mrOwnerConfig`: 48-byte allow-lists (TDX) */
  | "tdx_policy_mrownerconfig_not_allowed"
  /** policy: policy `mrTd`, `rtmr0`…`rtmr3`, `mrSeam`, `mrConfigId`: 48-byte allow-lists */
  | "tdx_policy_mrseam_not_allowed"
  /** policy: policy `mrEnclave`, `mrSigner`: 32-byte allow-lists (SGX) */
  | "tdx_policy_mrsigner_not_allowed"
  /** policy: policy `mrSignerSeam`, `mrOwner`, `mrOwnerConfig`: 48-byte allow-lists (TDX) */
  | "tdx_policy_mrsignerseam_not_allowed"
  /** policy: policy `mrTd`, `rtmr0`…`rtmr3`, `mrSeam`, `mrConfigId`: 48-byte allow-lists */
  | "tdx_policy_mrtd_not_allowed"
  /** policy: policy `minimumTcbEvaluationDataNumber`: minimum `tcbEvaluationDataNumber` of the TCB info and of the QE identity (refuses collateral older than an Intel TCB recovery); a TCB rule */
  | "tdx_policy_qe_identity_evaluation_data_number_too_low"
  /** policy: policy `qeVendorId`: 16-byte allow-list (quote header) */
  | "tdx_policy_qe_vendor_id_not_allowed"
  /** policy: policy `reportData`: exact 64-byte report data */
  | "tdx_policy_report_data_mismatch"
  /** policy: policy `mrTd`, `rtmr0`…`rtmr3`, `mrSeam`, `mrConfigId`: 48-byte allow-lists */
  | "tdx_policy_rtmr0_not_allowed"
  /** policy: policy `rtmr1`: 48-byte allow-list */
  | "tdx_policy_rtmr1_not_allowed"
  /** policy: policy `rtmr2`: 48-byte allow-list */
  | "tdx_policy_rtmr2_not_allowed"
  /** policy: policy `mrTd`, `rtmr0`…`rtmr3`, `mrSeam`, `mrConfigId`: 48-byte allow-lists */
  | "tdx_policy_rtmr3_not_allowed"
  /** policy: policy `seamAttributes`: 8-byte allow-list (TDX) */
  | "tdx_policy_seam_attributes_not_allowed"
  /** policy: policy `requireSeptVeDisable`: a TD must set TD_ATTRIBUTES.SEPT_VE_DISABLE (bit 28); default true; `false` is the named opt-out */
  | "tdx_policy_sept_ve_disable_required"
  /** policy: policy `minimumTcbEvaluationDataNumber`: minimum `tcbEvaluationDataNumber` of the TCB info and of the QE identity (refuses collateral older than an Intel TCB recovery); a TCB rule */
  | "tdx_policy_tcb_info_evaluation_data_number_too_low"
  /** policy: policy `acceptedTcbStatuses`: statuses accepted, each by name or as `{ "status", "advisoryIds" }` (the advisories accepted with that status); default `["UpToDate"]`; a non-terminal status (`SWHardeningNeeded`, `ConfigurationNeeded`, `ConfigurationAndSWHardeningNeeded`) only when named */
  | "tdx_policy_tcb_status_not_allowed"
  /** policy: policy `tdAttributes`, `xfam`: 8-byte allow-lists */
  | "tdx_policy_td_attributes_not_allowed"
  /** policy: policy `allowReservedAttributeBits`: accept reserved TD_ATTRIBUTES bits and XFAM bits outside XFAM_FIXED0; default false */
  | "tdx_policy_td_attributes_reserved_bits"
  /** policy: policy `minimumTeeTcbSvn`: 16 bytes, each component ≥ */
  | "tdx_policy_tee_tcb_svn_too_low"
  /** policy: policy `rejectTrailingBytes`: refuse a quote with bytes after its structure; default false (reported in `trailingBytes`) */
  | "tdx_policy_trailing_bytes_rejected"
  /** policy: policy `allowReservedAttributeBits`: accept reserved TD_ATTRIBUTES bits and XFAM bits outside XFAM_FIXED0; default false */
  | "tdx_policy_xfam_bits_forbidden"
  /** policy: always, for a TD: XFAM sets FP (bit 0) and SSE (bit 1) (XFAM_FIXED1) */
  | "tdx_policy_xfam_fp_sse_required"
  /** policy: policy `tdAttributes`, `xfam`: 8-byte allow-lists */
  | "tdx_policy_xfam_not_allowed";
