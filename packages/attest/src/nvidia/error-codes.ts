/**
 * The error codes of `@peercycles/attest/nvidia` (SPDM evidence, RIMs, OCSP, NRAS, the NVIDIA policy): the contract callers branch on.
 * Each member's comment is `family: meaning`; the error tables of the docs are generated from these
 * comments (`node scripts/error-index.mjs`, see docs/nvidia.md#error-codes), and a test keeps them current.
 * Codes are never built at run time: every code is a literal of one of these unions.
 */
export type NvidiaErrorCode =
  /** parse: chain text is not PEM or base64 of PEM */
  | "nvidia_cert_chain_invalid"
  /** parse: detached EAT shape or JWT encoding wrong */
  | "nvidia_nras_token_malformed"
  /** parse: repeated TLV type or malformed field */
  | "nvidia_opaque_data_invalid"
  /** parse: an opaque TLV does not fit */
  | "nvidia_opaque_data_truncated"
  /** parse: RIM not well-formed SWID XML, DOCTYPE, bad measurement entries */
  | "nvidia_rim_malformed"
  /** parse: block not DMTF, index repeated/reserved, sizes disagree, record not filled exactly */
  | "nvidia_spdm_measurement_invalid"
  /** parse: request version/code/param1/param2 wrong */
  | "nvidia_spdm_request_invalid"
  /** parse: response version/code wrong, or no blocks */
  | "nvidia_spdm_response_invalid"
  /** parse: a field does not fit in the evidence */
  | "nvidia_spdm_truncated"
  /** argument: bad `now`, evidence type or nonce length */
  | "nvidia_argument_invalid"
  /** argument: bad `now`, evidence type or nonce length */
  | "nvidia_nonce_invalid"
  /** unavailable: JWKS could not be fetched */
  | "nvidia_nras_jwks_unavailable"
  /** unavailable: responder unreachable or HTTP error */
  | "nvidia_ocsp_unavailable"
  /** unavailable: RIM service unreachable / RIM not found */
  | "nvidia_rim_unavailable"
  /** invalid: OCSP says revoked (reason in the message, e.g. `certificateHold`) */
  | "nvidia_certificate_revoked"
  /** invalid: device chain: shared X.509 code `certificate_chain_incomplete` */
  | "nvidia_device_certificate_chain_incomplete"
  /** invalid: device chain: shared X.509 code `certificate_chain_untrusted` */
  | "nvidia_device_certificate_chain_untrusted"
  /** invalid: device chain: shared X.509 code `certificate_critical_extension_unknown` */
  | "nvidia_device_certificate_critical_extension_unknown"
  /** invalid: device chain: shared X.509 code `certificate_expired` */
  | "nvidia_device_certificate_expired"
  /** invalid: device chain: shared X.509 code `certificate_key_usage_invalid` */
  | "nvidia_device_certificate_key_usage_invalid"
  /** invalid: device chain: shared X.509 code `certificate_not_ca` */
  | "nvidia_device_certificate_not_ca"
  /** invalid: device chain: shared X.509 code `certificate_not_yet_valid` */
  | "nvidia_device_certificate_not_yet_valid"
  /** invalid: device chain: shared X.509 code `certificate_off_path` */
  | "nvidia_device_certificate_off_path"
  /** invalid: device chain: shared X.509 code `certificate_path_length_exceeded` */
  | "nvidia_device_certificate_path_length_exceeded"
  /** invalid: device chain: shared X.509 code `certificate_signature_invalid` */
  | "nvidia_device_certificate_signature_invalid"
  /** invalid: the verified device path is not 3 to 5 certificates deep */
  | "nvidia_device_chain_depth_invalid"
  /** invalid: the device leaf is a CA, or its keyUsage does not include digitalSignature (e.g. a chain that starts at the BROM) */
  | "nvidia_device_chain_role_invalid"
  /** invalid: chain lacks the device's signing certificate */
  | "nvidia_device_chain_too_short"
  /** invalid: leaf FWID extension absent / undecodable / different from opaque field 20 */
  | "nvidia_fwid_malformed"
  /** invalid: leaf FWID extension absent / undecodable / different from opaque field 20 */
  | "nvidia_fwid_mismatch"
  /** invalid: leaf FWID extension absent / undecodable / different from opaque field 20 */
  | "nvidia_fwid_missing"
  /** invalid: some active measurements match no alternative */
  | "nvidia_measurement_mismatch"
  /** invalid: requester nonce is not the expected nonce */
  | "nvidia_nonce_mismatch"
  /** invalid: token claims */
  | "nvidia_nras_attestation_failed"
  /** invalid: token claims */
  | "nvidia_nras_issuer_invalid"
  /** invalid: token claims */
  | "nvidia_nras_nonce_mismatch"
  /** invalid: a token signature fails / could not be checked (offline, no JWKS) */
  | "nvidia_nras_signature_invalid"
  /** invalid: a token signature fails / could not be checked (offline, no JWKS) */
  | "nvidia_nras_signature_unchecked"
  /** invalid: a device token does not match its digest */
  | "nvidia_nras_submods_mismatch"
  /** invalid: token claims */
  | "nvidia_nras_token_expired"
  /** invalid: token claims */
  | "nvidia_nras_token_not_yet_valid"
  /** invalid: OCSP response malformed, not signed by the issuer or its delegated responder, wrong CertID, stale, nonce mismatch */
  | "nvidia_ocsp_response_invalid"
  /** invalid: OCSP responder does not know the certificate */
  | "nvidia_ocsp_status_unknown"
  /** invalid: RIM signer chain: shared X.509 code `certificate_chain_incomplete` */
  | "nvidia_rim_certificate_chain_incomplete"
  /** invalid: RIM signer chain: shared X.509 code `certificate_chain_untrusted` */
  | "nvidia_rim_certificate_chain_untrusted"
  /** invalid: RIM signer chain: shared X.509 code `certificate_critical_extension_unknown` */
  | "nvidia_rim_certificate_critical_extension_unknown"
  /** invalid: RIM signer chain: shared X.509 code `certificate_expired` */
  | "nvidia_rim_certificate_expired"
  /** invalid: RIM signer chain: shared X.509 code `certificate_key_usage_invalid` */
  | "nvidia_rim_certificate_key_usage_invalid"
  /** invalid: RIM signer chain: shared X.509 code `certificate_not_ca` */
  | "nvidia_rim_certificate_not_ca"
  /** invalid: RIM signer chain: shared X.509 code `certificate_not_yet_valid` */
  | "nvidia_rim_certificate_not_yet_valid"
  /** invalid: RIM signer chain: shared X.509 code `certificate_off_path` */
  | "nvidia_rim_certificate_off_path"
  /** invalid: RIM signer chain: shared X.509 code `certificate_path_length_exceeded` */
  | "nvidia_rim_certificate_path_length_exceeded"
  /** invalid: RIM signer chain: shared X.509 code `certificate_signature_invalid` */
  | "nvidia_rim_certificate_signature_invalid"
  /** invalid: an index is active in two RIMs */
  | "nvidia_rim_index_conflict"
  /** invalid: fallback code for a failed RIM check without its own code */
  | "nvidia_rim_invalid"
  /** invalid: XML signature fails, or its structure is refused */
  | "nvidia_rim_signature_invalid"
  /** invalid: the first KeyInfo certificate of a RIM is a CA, or its keyUsage does not allow signing */
  | "nvidia_rim_signer_role_invalid"
  /** invalid: RIM is for another driver/VBIOS version */
  | "nvidia_rim_version_mismatch"
  /** invalid: set rules */
  | "nvidia_set_count_mismatch"
  /** invalid: set rules */
  | "nvidia_set_device_invalid"
  /** invalid: set rules */
  | "nvidia_set_duplicate_device"
  /** invalid: transcript signature does not verify with the leaf key */
  | "nvidia_spdm_signature_invalid"
  /** policy: `allowedArchitectures`: architecture not listed */
  | "nvidia_policy_architecture"
  /** policy: `requireCcMode`: opaque field 36 (CC mode) absent */
  | "nvidia_policy_cc_mode"
  /** policy: `allowedDriverVersions`: driver version not listed */
  | "nvidia_policy_driver_version"
  /** policy: `requireRimMatch`: an active measurement matches no RIM alternative */
  | "nvidia_policy_measurement_mismatch"
  /** policy: `allowedModes`: CC mode (spt, mpt, ppcie) not listed */
  | "nvidia_policy_mode"
  /** policy: `requireNonce` (default true): no expected nonce was supplied */
  | "nvidia_policy_nonce_unchecked"
  /** policy: `requireRevocationChecked`: OCSP was not consulted for every certificate */
  | "nvidia_policy_revocation_unchecked"
  /** policy: `requireRimMatch` (default true): the RIMs could not be compared */
  | "nvidia_policy_rim_required"
  /** policy: `allowedVbiosVersions`: VBIOS / switch BIOS version not listed */
  | "nvidia_policy_vbios_version";
