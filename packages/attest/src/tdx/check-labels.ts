/** The TDX verifier's check ids and labels, in report order, and the policy rules about the TCB. */
/** The policy rules about the TCB and its collateral: moot when the TCB was not evaluated. */
export const TCB_RULES: ReadonlySet<string> = new Set([
  "tdx_policy_tcb_status_not_allowed",
  "tdx_policy_advisory_not_allowed",
  "tdx_policy_tcb_info_evaluation_data_number_too_low",
  "tdx_policy_qe_identity_evaluation_data_number_too_low",
]);

export const LABEL = {
  quote_structure: "Quote structure (header, body, signature data)",
  qe_vendor_id: "QE vendor is Intel",
  pck_chain: "PCK certificate chain to the Intel SGX Root CA",
  pck_extensions: "PCK certificate SGX extensions (FMSPC, PCE-ID, TCB)",
  qe_report_signature: "QE report signed by the PCK key",
  qe_report_data: "QE report data binds the attestation key (SHA-256(key || auth data))",
  quote_signature: "Quote signed by the attestation key",
  root_ca_crl: "Root CA CRL signed by the root and current",
  pck_crl: "PCK CRL signed by the PCK CA (chain to the root) and current",
  pck_not_revoked: "PCK certificate and PCK CA not revoked",
  tcb_info_signature: "TCB info signed by the Intel TCB signing chain",
  tcb_info_validity: "TCB info current (issueDate .. nextUpdate)",
  qe_identity_signature: "QE identity signed by the Intel TCB signing chain",
  qe_identity_validity: "QE identity current (issueDate .. nextUpdate)",
  platform_match: "TCB info is for this platform (FMSPC, PCE-ID)",
  tcb_status: "TCB status (platform, TDX module, QE identity)",
  policy: "Policy",
} as const;

export const COLLATERAL_CHECKS: ReadonlyArray<readonly [string, string]> = [
  ["root_ca_crl", LABEL.root_ca_crl],
  ["pck_crl", LABEL.pck_crl],
  ["tcb_info_signature", LABEL.tcb_info_signature],
  ["tcb_info_validity", LABEL.tcb_info_validity],
  ["qe_identity_signature", LABEL.qe_identity_signature],
  ["qe_identity_validity", LABEL.qe_identity_validity],
];
