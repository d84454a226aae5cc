/**
 * `@peercycles/attest/nvidia`: NVIDIA confidential-GPU evidence (H100/H200, Blackwell, NVSwitch):
 * SPDM parsing, device chain + FWID + signature verification, RIMs, OCSP, NRAS tokens, policy.
 *
 * @example
 * import { verifyNvidiaEvidence } from "@peercycles/attest/nvidia";
 * const result = await verifyNvidiaEvidence(evidence, { certChain, rims, nonce, now: new Date(), offline: true });
 */
export {
  clearDeviceChainCaches,
  type DeviceChainOptions,
  deviceIdentity,
  type NvidiaArchitecture,
  type NvidiaDeviceIdentity,
  type NvidiaDeviceKind,
  parseDeviceCertChain,
  verifyDeviceChain,
} from "./device-chain.js";
/** The error codes this subpath raises or reports (see docs/nvidia.md#error-codes). */
export type { NvidiaErrorCode } from "./error-codes.js";
export { type Fwid, type LeafFwid, leafFwid, OID_DICE_TCB_INFO, OID_NVIDIA_FWID } from "./fwid.js";
export { compareMeasurements, type MeasurementComparison, type MeasurementReport } from "./measurements.js";
export {
  type DecodedJwt,
  JwksCache,
  NRAS_ISSUER,
  NRAS_JWKS_URL,
  type NrasDeviceClaims,
  type NrasToken,
  type NrasVerificationResult,
  parseNrasToken,
  type VerifyNrasOptions,
  verifyNrasToken,
} from "./nras.js";
export {
  buildOcspRequest,
  checkOcspResponse,
  checkRevocation,
  NVIDIA_OCSP_URL,
  OcspCache,
  type OcspCertificateStatus,
  type OcspCheckOptions,
  type RevocationOptions,
} from "./ocsp.js";
export {
  formatVbiosVersion,
  type NvidiaFeatureMode,
  OPAQUE_FIELD_NAMES,
  type OpaqueData,
  type OpaqueField,
  opaqueFieldsAsHex,
  parseOpaqueData,
} from "./opaque-data.js";
export {
  type NvidiaPolicy,
  type NvidiaPolicyFacts,
  type ParsedNvidiaPolicy,
  parseNvidiaPolicy,
  validateNvidiaPolicy,
} from "./policy.js";
export { parseRim, type Rim, type RimMeasurement } from "./rim.js";
export {
  type FetchRimOptions,
  fetchRim,
  NVIDIA_RIM_SERVICE_URL,
  RimCache,
  rimIdsFor,
} from "./rim-fetcher.js";
export { type RimVerificationResult, type VerifyRimOptions, verifyRim } from "./rim-verify.js";
export {
  defaultDeviceRoots,
  defaultRimRoots,
  NVIDIA_DEVICE_IDENTITY_CA_PEM,
  NVIDIA_RIM_ROOT_CA_PEM,
} from "./roots.js";
export {
  parseSpdmMeasurements,
  SPDM_REQUEST_LENGTH,
  SPDM_SIGNATURE_LENGTH,
  type SpdmEvidence,
  type SpdmMeasurementBlock,
  type SpdmMeasurementRequest,
  type SpdmMeasurementResponse,
} from "./spdm.js";
export {
  type NvidiaRimSummary,
  type NvidiaVerificationResult,
  type NvidiaVerifierCache,
  type VerifyNvidiaOptions,
  verifyNvidiaEvidence,
} from "./verify.js";
export {
  type NvidiaEvidenceItem,
  type NvidiaSetVerificationResult,
  type VerifyNvidiaSetOptions,
  verifyNvidiaEvidenceSet,
} from "./verify-set.js";
