/**
 * `@peercycles/attest`: parse, verify and validate confidential-computing evidence.
 *
 * Each evidence kind has its own subpath so an app loads only what it verifies:
 * `@peercycles/attest/tdx`, `@peercycles/attest/sev-snp`, `@peercycles/attest/nvidia`,
 * `@peercycles/attest/bundle`. This root entry holds what they share: errors, checks, byte helpers,
 * X.509 primitives and the choice of signature backend (node:crypto in Node, WebCrypto elsewhere).
 */

export { decodeEvidenceInput, fromBase64, fromHex, toBase64, toHex } from "./common/bytes.js";
export type { Check } from "./common/check.js";
export * from "./common/errors.js";
export { type SignatureBackend, signatureBackend, useSignatureBackend } from "./common/signatures.js";
export {
  type CreateVerifierOptions,
  createVerifier,
  type Verifier,
  type VerifierCaches,
  type VerifierRoots,
} from "./common/verifier.js";
export {
  type Certificate,
  type Crl,
  parseCertificate,
  parseCertificates,
  parseCrl,
  SignatureVerdictCache,
  verifyCertificateChain,
} from "./common/x509.js";
