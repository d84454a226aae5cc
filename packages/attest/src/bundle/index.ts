/**
 * `@peercycles/attest/bundle`: the attestation bundle (CPU + GPU evidence bound to the enclave's
 * keys and model), its policy, its verification, and receipts.
 *
 * @example
 * ```ts
 * import { decodeBundle, parseBundlePolicy, verifyBundle } from "@peercycles/attest/bundle";
 * const result = await verifyBundle(decodeBundle(bytes), { policy: parseBundlePolicy(json), now: new Date() });
 * if (result.ok) sealTo(result.binding.hpkePublicKey);
 * ```
 */
export {
  BINDING_KEYS,
  type Binding,
  type BindingJson,
  bindingGpuNonce,
  bindingReportData,
  bindingToJson,
  decodeBinding,
  encodeBinding,
} from "./binding.js";
export {
  type AttestationBundle,
  type BundleJson,
  bundleToJson,
  type CpuEvidence,
  type CpuEvidenceKind,
  type DevelopmentRoots,
  decodeBundle,
  encodeBundle,
  type GpuEvidence,
} from "./bundle.js";
export { DEVELOPMENT_ROOT_MARKER, isDevelopmentCertificate } from "./development-roots.js";
/** The error codes this subpath raises or reports (see docs/bundle.md#error-codes). */
export type { BundleErrorCode } from "./error-codes.js";
export { BINDING_HPKE_SUITE, type BindingKeyConfig, bindingKeyConfig, bindingKeyId } from "./key-config.js";
export {
  type BundlePolicy,
  type BundlePolicyJson,
  DEFAULT_BUNDLE_POLICY,
  type ModelPolicy,
  parseBundlePolicy,
  type SevSnpMeasurementRule,
  type TdxMeasurementRule,
} from "./policy.js";
export {
  decodeReceiptBody,
  decodeSignedReceipt,
  encodeReceiptBody,
  encodeSignedReceipt,
  RECEIPT_SIGNING_CONTEXT,
  type Receipt,
  type ReceiptVerification,
  receiptSigningMessage,
  type SignedReceipt,
  verifyReceipt,
} from "./receipt.js";
export {
  assertBundleOk,
  type BundleVerificationResult,
  type VerifyBundleOptions,
  verifyBundle,
} from "./verify-bundle.js";
