/**
 * The error codes of `@peercycles/attest/sev-snp` (SEV-SNP reports, AMD KDS, the SEV-SNP policy): the contract callers branch on.
 * Each member's comment is `family: meaning`; the error tables of the docs are generated from these
 * comments (`node scripts/error-index.mjs`, see docs/sev-snp.md#error-codes), and a test keeps them current.
 * Codes are never built at run time: every code is a literal of one of these unions.
 */
export type SevSnpErrorCode =
  /** parse: guest policy bit 17 clear or bits 63:26 set */
  | "snp_report_policy_invalid"
  /** parse: a must-be-zero range or key-info bit is set */
  | "snp_report_reserved_nonzero"
  /** parse: key info signing key 2–6 */
  | "snp_report_signing_key_reserved"
  /** parse: the input is not bytes (more than 1184 bytes is accepted: `trailingBytes`) */
  | "snp_report_size_invalid"
  /** parse: fewer than 1184 bytes */
  | "snp_report_truncated"
  /** parse: version outside 2..5 */
  | "snp_report_version_unsupported"
  /** argument: bad or missing options */
  | "snp_chip_id_invalid"
  /** argument: bad or missing options */
  | "snp_now_required"
  /** argument: bad or missing options */
  | "snp_product_invalid"
  /** argument: bad or missing options */
  | "snp_product_required"
  /** argument: bad or missing options */
  | "snp_roots_invalid"
  /** argument: bad or missing options */
  | "snp_vcek_not_found"
  /** argument: bad or missing options */
  | "snp_vcek_required"
  /** argument: bad or missing options */
  | "snp_vlek_required"
  /** invalid: a root supplied in the chain is not the pinned ARK */
  | "snp_ark_mismatch"
  /** invalid: the CRL lists a chain certificate */
  | "snp_certificate_revoked"
  /** invalid: a certificate is not in its role: the leaf must be an end entity named SEV-VCEK issued by the ASK "SEV-<Product>" or SEV-VLEK issued by the ASVK "SEV-VLEK-<Product>" of the product verified; keyUsage, when present, must allow signing (leaf) and certificate signing (ASK/ASVK) */
  | "snp_chain_role_invalid"
  /** invalid: the chain is not leaf → ASK/ASVK → ARK */
  | "snp_chain_shape_invalid"
  /** invalid: a CRL was given but the chain did not verify */
  | "snp_crl_unchecked"
  /** invalid: product line unknown / sources disagree */
  | "snp_product_mismatch"
  /** invalid: product line unknown / sources disagree */
  | "snp_product_unknown"
  /** invalid: key info says not signed (7) */
  | "snp_report_not_signed"
  /** invalid: signature algorithm is not 1 */
  | "snp_report_signature_algorithm_unsupported"
  /** invalid: the signature does not verify with the VCEK/VLEK */
  | "snp_report_signature_invalid"
  /** invalid: r or s is 0, ≥ n, or has bytes above 48 */
  | "snp_report_signature_out_of_range"
  /** invalid: report says VCEK/VLEK, certificate is the other (or neither) */
  | "snp_signing_key_mismatch"
  /** invalid: VCEK hwID differs from CHIP_ID */
  | "snp_vcek_chip_id_mismatch"
  /** invalid: a required AMD extension is missing or malformed */
  | "snp_vcek_extension_invalid"
  /** invalid: the certificate key is not ECDSA P-384 */
  | "snp_vcek_key_invalid"
  /** invalid: certificate SPLs differ from REPORTED_TCB */
  | "snp_vcek_tcb_mismatch"
  /** policy: policy `authorKeyDigests` (hex, 48 bytes each, none all zero): default unchecked */
  | "snp_policy_author_key_missing"
  /** policy: policy `authorKeyDigests` (hex, 48 bytes each, none all zero): default unchecked */
  | "snp_policy_author_key_not_allowed"
  /** policy: policy `minimumCommittedFirmware: { major, minor, build? }` (committed firmware, the rollback floor): default unchecked */
  | "snp_policy_committed_firmware_too_old"
  /** policy: policy `allowDebug`: default `false` */
  | "snp_policy_debug_forbidden"
  /** policy: policy `minimumFirmware: { major, minor, build? }` (current firmware: CURRENT_MAJOR.CURRENT_MINOR, CURRENT_BUILD): default unchecked */
  | "snp_policy_firmware_too_old"
  /** policy: policy `minimumGuestSvn`: default unchecked */
  | "snp_policy_guest_svn_too_low"
  /** policy: policy `hostData` (hex, 32 bytes): default unchecked */
  | "snp_policy_host_data_mismatch"
  /** policy: policy `idKeyDigests` (hex, 48 bytes each): default unchecked */
  | "snp_policy_id_key_not_allowed"
  /** policy: policy `minimumLaunchTcb` (same shape, LAUNCH_TCB): default unchecked */
  | "snp_policy_launch_tcb_too_low"
  /** policy: policy `measurements` (hex, 48 bytes each): default unchecked */
  | "snp_policy_measurement_not_allowed"
  /** policy: policy `allowMigrationAgent`: default `false` */
  | "snp_policy_migration_agent_forbidden"
  /** policy: policy `reportData` (hex, 64 bytes): default unchecked */
  | "snp_policy_report_data_mismatch"
  /** policy: policy `signingKeys` (`"vcek"`, `"vlek"`): default both */
  | "snp_policy_signing_key_not_allowed"
  /** policy: policy `requireSingleSocket`: default `false` */
  | "snp_policy_single_socket_required"
  /** policy: policy `allowSmt`: default `true` */
  | "snp_policy_smt_forbidden"
  /** policy: policy `minimumTcb: { bootloader?, tee?, snp?, microcode?, fmc? }` (REPORTED_TCB): default unchecked */
  | "snp_policy_tcb_too_low"
  /** policy: policy `rejectTrailingBytes`: default `false` (reported in `trailingBytes`) */
  | "snp_policy_trailing_bytes_rejected"
  /** policy: policy `vmpl: { allowed?: [0..3], max?: 0..3 }`: default unchecked */
  | "snp_policy_vmpl_not_allowed";
