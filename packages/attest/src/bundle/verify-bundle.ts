import type { Check } from "../common/check.js";
import { PolicyViolationError, type VerificationIssue } from "../common/errors.js";
import { lazyModule } from "../common/lazy-module.js";
import type { Verifier } from "../common/verifier.js";
import type { NvidiaVerificationResult } from "../nvidia/index.js";
import type { SevSnpVerificationResult } from "../sev-snp/index.js";
import type { TdxCollateralInput, TdxVerificationResult } from "../tdx/index.js";
import type { Binding, BindingJson } from "./binding.js";
import type { AttestationBundle } from "./bundle.js";
import type { BundlePolicy } from "./policy.js";

/**
 * The verification itself (bundle-verification.ts) is loaded on the first call: it needs asn1js and
 * the signature backends, which an app that only decodes bundles, parses policies or checks receipts
 * never uses, so importing this subpath loads none of them.
 */
const loadVerification = lazyModule(() => import("./bundle-verification.js"));

/** Options of {@link verifyBundle}. */
export interface VerifyBundleOptions {
  /** The policy: a parsed {@link BundlePolicy} or its JSON value (parsed strictly). Required. */
  readonly policy: BundlePolicy | unknown;
  /** Verification time. Required; the clock is never read. */
  readonly now: Date;
  /** Collateral for evidence that does not carry its own (the bundle's wins when both exist). */
  readonly collateral?: {
    /** DCAP collateral for a TDX quote (dcap-qvl QuoteCollateralV3 or the PCS container). */
    readonly tdx?: TdxCollateralInput;
    /** AMD KDS CRL (DER) for an SNP chain. */
    readonly sevSnpCrl?: Uint8Array;
  };
  /** Injected fetch for Intel PCS, AMD KDS, NVIDIA OCSP/RIM services. */
  readonly fetch?: typeof globalThis.fetch;
  /** Never touch the network. */
  readonly offline?: boolean;
  /** Expected client nonce for this request (overrides `policy.clientNonce`). */
  readonly clientNonce?: Uint8Array | string;
  /**
   * The verifier whose state and environment each kind's verifier uses (see `createVerifier`).
   * Without one the call runs on fresh state.
   */
  readonly verifier?: Verifier;
}

/** The result of {@link verifyBundle}: one verdict, every check, and each verifier's own result. */
export interface BundleVerificationResult {
  /** Verified and every policy rule (bundle, CPU, GPU) holds. */
  readonly ok: boolean;
  /** Genuine: CPU and GPU evidence verified, and both are bound to the binding. */
  readonly verified: boolean;
  readonly kind: "bundle";
  /** The evidence rests on the simulator's development roots. */
  readonly simulated: boolean;
  /** The CPU verifier's result (TDX or SEV-SNP). */
  readonly cpu: TdxVerificationResult | SevSnpVerificationResult;
  /** The NVIDIA verifier's result for each GPU, in bundle order. */
  readonly gpus: readonly NvidiaVerificationResult[];
  /** The decoded binding, its bytes and derived values in hex. */
  readonly binding: BindingJson;
  /** The decoded binding (byte fields as bytes), for sealing to the verified key. */
  readonly decodedBinding: Binding;
  /** Bundle-level checks, in order (each verifier's own checks are in `cpu.checks`, `gpus[i].checks`). */
  readonly checks: readonly Check[];
  /** Every error: bundle-level codes and each verifier's codes. */
  readonly errors: readonly VerificationIssue[];
  /** Policy violations only (bundle policy and the verifiers' policies). */
  readonly policyViolations: readonly VerificationIssue[];
}

/**
 * Verifies an attestation bundle end to end: the CPU evidence (TDX quote or SEV-SNP report) with
 * `verifyTdxQuote` / `verifySevSnpReport`, every GPU's SPDM evidence with `verifyNvidiaEvidence`,
 * that both are bound to the binding (report_data = SHA-512(binding), GPU nonce = SHA-256(binding)),
 * then the policy: simulation, CPU kind, required GPUs, freshness, client nonce, model, weights and
 * launch measurements. Every check is listed; every violation is reported.
 *
 * Throws only for unusable input (a bundle or evidence that does not parse, a malformed policy,
 * collateral that cannot be obtained). Evidence that is not genuine, or not acceptable, gives a
 * result with `verified` / `ok` false.
 *
 * @example
 * ```ts
 * const result = await verifyBundle(decodeBundle(bytes), { policy: policyJson, now: new Date() });
 * if (!result.ok) throw new Error(result.errors.map((e) => e.code).join(", "));
 * const keyConfig = bindingKeyConfig(result.decodedBinding);
 * ```
 */
export async function verifyBundle(
  bundle: AttestationBundle,
  options: VerifyBundleOptions,
): Promise<BundleVerificationResult> {
  return (await loadVerification()).runBundleVerification(bundle, options);
}

/** Throws a {@link PolicyViolationError} (or the first error) unless the result is ok. */
export function assertBundleOk(result: BundleVerificationResult): void {
  if (result.ok) return;
  const first = result.errors[0];
  throw new PolicyViolationError(
    first?.code ?? "bundle_rejected",
    first?.message ?? "the bundle was rejected",
    { details: { errors: result.errors } },
  );
}
