/**
 * `@peercycles/attest/sev-snp`: parse, verify and validate AMD SEV-SNP attestation reports.
 *
 * @example
 * ```ts
 * import { verifySevSnpReport } from "@peercycles/attest/sev-snp";
 * const result = await verifySevSnpReport(reportBytes, { vcek: vcekDer, now: new Date(), policy: { measurements: [expected] } });
 * ```
 */
export { SevSnpCache } from "./cache.js";
export {
  type CertificateInput,
  type SevSnpKeyChainOptions,
  type SevSnpVerifiedKeyChain,
  verifySevSnpKeyChain,
} from "./chain.js";
/** The error codes this subpath raises or reports (see docs/sev-snp.md#error-codes). */
export type { SevSnpErrorCode } from "./error-codes.js";
export {
  AMD_KDS_BASE_URL,
  type KdsCache,
  KdsClient,
  type KdsClientOptions,
  kdsCertChainUrl,
  kdsCrlUrl,
  kdsVcekUrl,
  MemoryKdsCache,
} from "./kds-fetcher.js";
/** Offsets and sizes of the report fields (shared with the simulator). */
export { SEV_SNP_REPORT_LAYOUT } from "./layout.js";
export {
  type ParsedSevSnpPolicy,
  parseSevSnpPolicy,
  type SevSnpMinimumFirmware,
  type SevSnpMinimumTcb,
  type SevSnpPolicy,
  type SevSnpPolicySubject,
  validateSevSnpPolicy,
} from "./policy.js";
export {
  parseSevSnpReport,
  SEV_SNP_MAX_REPORT_VERSION,
  SEV_SNP_MIN_REPORT_VERSION,
  SEV_SNP_REPORT_SIZE,
  SEV_SNP_SIGNED_SPAN_END,
  type SevSnpFirmwareVersion,
  type SevSnpGuestPolicy,
  type SevSnpKeyInfo,
  type SevSnpPlatformInfo,
  type SevSnpReport,
  type SevSnpSigningKey,
} from "./report.js";
export {
  AMD_ARK_GENOA_PEM,
  AMD_ARK_MILAN_PEM,
  AMD_ARK_TURIN_PEM,
  AMD_ASK_GENOA_PEM,
  AMD_ASK_MILAN_PEM,
  AMD_ASK_TURIN_PEM,
  AMD_ASVK_GENOA_PEM,
  AMD_ASVK_MILAN_PEM,
  AMD_ASVK_TURIN_PEM,
  AMD_SEV_SNP_ROOTS,
  SEV_SNP_PRODUCTS,
  type SevSnpProduct,
  type SevSnpProductRoots,
} from "./roots.js";
export {
  decodeTcb,
  productFromCpuid,
  type SevSnpTcb,
  type SevSnpTcbComponent,
  type SevSnpTcbLayout,
  TCB_COMPONENTS,
  tcbLayoutOf,
} from "./tcb.js";
export { AMD_OID, readSevSnpKeyExtensions, type SevSnpKeyExtensions } from "./vcek-extensions.js";
export {
  reportSignatureRaw,
  type SevSnpTcbResult,
  type SevSnpVerificationResult,
  type SevSnpVerifyOptions,
  verifySevSnpReport,
} from "./verify.js";
