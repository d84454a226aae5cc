/**
 * `@peercycles/attest/tdx`: parse, verify and validate Intel TDX and SGX DCAP quotes.
 *
 * @example
 * ```ts
 * import { verifyTdxQuote } from "@peercycles/attest/tdx";
 * const result = await verifyTdxQuote(quote, { collateral, now: new Date(), policy: { mrTd: ["…"] } });
 * result.ok; // verified and the policy holds
 * ```
 */
export {
  extractJsonMember,
  type IsvTcbLevel,
  normalizeTdxCollateral,
  type PcsCollateralInput,
  type PlatformTcbLevel,
  parseQeIdentity,
  parseTcbInfo,
  type QeIdentity,
  type QuoteCollateralV3,
  type SignedCollateralBody,
  type TcbInfo,
  type TcbLevelStatus,
  type TdxCollateral,
  type TdxCollateralInput,
  type TdxModuleIdentity,
} from "./collateral.js";
export {
  type CachedCollateral,
  type CollateralKey,
  collateralCacheKey,
  collateralNextUpdate,
  type FetchCollateralOptions,
  fetchTdxCollateral,
  INTEL_PCS_BASE_URL,
  INTEL_ROOT_CA_CRL_URL,
  MemoryCollateralCache,
  type TdxCollateralCache,
} from "./collateral-fetcher.js";
/** The error codes this subpath raises or reports (see docs/tdx.md#error-codes). */
export type { TdxErrorCode } from "./error-codes.js";
/** Offsets and sizes of the quote header and the TD report body (shared with the simulator). */
export { type FieldLayout, TD_REPORT_BODY, TDX_QUOTE_HEADER } from "./layout.js";
export { type PckExtensions, parsePckExtensions, SGX_EXTENSIONS_OID } from "./pck-extensions.js";
export {
  DEFAULT_TDX_POLICY,
  type ParsedTdxPolicy,
  parseTdxPolicy,
  TD_ATTRIBUTES_RESERVED,
  TD_ATTRIBUTES_SEPT_VE_DISABLE,
  type TdxAcceptedTcbStatus,
  type TdxPolicy,
  type TdxPolicyFacts,
  tdxPolicyWaivers,
  validateTdxPolicy,
  XFAM_FIXED0,
  XFAM_FIXED1,
} from "./policy.js";
export {
  ATTESTATION_KEY_TYPE_ECDSA_P256,
  INTEL_QE_VENDOR_ID,
  parseQuote,
  parseSgxReportBody,
  parseTdxQuote,
  type SgxReportBody,
  type TdReportBody,
  type TdxQuote,
  type TdxQuoteHeader,
  type TdxQuoteSignatureData,
  TEE_TYPE_SGX,
  TEE_TYPE_TDX,
} from "./quote.js";
export { INTEL_SGX_ROOT_CA_PEM } from "./roots.js";
export {
  evaluateTcbStatus,
  type LevelMatch,
  matchQeIdentity,
  TCB_STATUSES,
  type TcbEvaluation,
  type TcbEvaluationInput,
  type TcbStatus,
} from "./tcb-status.js";
export {
  clearTdxCaches,
  TDX_UNCHECKABLE,
  type TdxUncheckable,
  type TdxVerificationResult,
  toVerificationTime,
  type VerifyTdxOptions,
  verifyQuoteSignatures,
  verifyTdxQuote,
} from "./verify.js";
