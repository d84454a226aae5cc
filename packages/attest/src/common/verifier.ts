import type { NvidiaVerifierCache } from "../nvidia/verify.js";
import type { SevSnpCache } from "../sev-snp/cache.js";
import type { SevSnpProduct, SevSnpProductRoots } from "../sev-snp/roots.js";
import type { TdxCollateralCache } from "../tdx/collateral-fetcher.js";
import { AttestArgumentError } from "./errors.js";
import type { SignatureBackend } from "./signatures.js";
import { checkSignatureBackend } from "./signatures.js";
import type { Certificate } from "./x509.js";

/** Trust roots per kind of evidence; a kind left out uses the vendor roots pinned in the package. */
export interface VerifierRoots {
  /** Replaces the pinned Intel SGX Root CA (PEM text, DER, or parsed). */
  readonly tdx?: readonly (string | Uint8Array | Certificate)[];
  /** Replaces the pinned AMD roots for the product lines given. */
  readonly sevSnp?: Partial<Readonly<Record<SevSnpProduct, SevSnpProductRoots>>>;
  /** Replaces the pinned NVIDIA device identity root. */
  readonly nvidia?: readonly Certificate[];
  /** Replaces the pinned NVIDIA RIM signing root. */
  readonly nvidiaRim?: readonly Certificate[];
}

/** Caches for fetched collateral, per kind (in-memory per verifier when left out). */
export interface VerifierCaches {
  /** Intel PCS / PCCS collateral (TCB info, QE identity, CRLs) for fetches. */
  readonly tdx?: TdxCollateralCache;
  /** AMD KDS answers, verified chains and signature verdicts. */
  readonly sevSnp?: SevSnpCache;
  /** RIMs, OCSP answers and signature verdicts. */
  readonly nvidia?: NvidiaVerifierCache;
}

/** Options of {@link createVerifier}. */
export interface CreateVerifierOptions {
  readonly roots?: VerifierRoots;
  /** The `fetch` used for collateral (Intel PCS, AMD KDS, NVIDIA RIM service, OCSP, NRAS). */
  readonly fetch?: typeof globalThis.fetch;
  readonly cache?: VerifierCaches;
  /** Where signatures are checked: `node:crypto` (default in Node) or `webcrypto`. */
  readonly backend?: SignatureBackend;
}

/**
 * A verifier: the environment (roots, fetch, caches, signature backend) and the state that makes
 * repeated verifications fast (collateral already verified, per instance). The free functions
 * (`verifyTdxQuote`, `verifySevSnpReport`, `verifyNvidiaEvidence`, `verifyBundle`) take it as
 * `options.verifier`; without one, each call runs on fresh state, so a call's result never depends
 * on the calls before it. With one, the result is the same too: what a cache saved is reported in
 * separate fields (e.g. `collateralCached`), never as a different check.
 */
export interface Verifier {
  readonly roots: VerifierRoots;
  readonly fetch: typeof globalThis.fetch | undefined;
  readonly cache: VerifierCaches;
  readonly backend: SignatureBackend | undefined;
  /**
   * The per-instance state of one kind of verifier, created on first use. Kinds keep their own
   * key (a symbol), so this module needs none of them.
   */
  state<T>(key: symbol, create: () => T): T;
}

/**
 * Creates a verifier that owns its caches.
 * @throws AttestArgumentError `signature_backend_invalid`, `signature_backend_unavailable`
 * @example
 * ```ts
 * import { createVerifier } from "@peercycles/attest";
 * import { verifyTdxQuote } from "@peercycles/attest/tdx";
 * const verifier = createVerifier({ fetch });
 * const result = await verifyTdxQuote(quote, { now: new Date(), verifier });
 * ```
 */
export function createVerifier(options: CreateVerifierOptions = {}): Verifier {
  if (typeof options !== "object" || options === null)
    throw new AttestArgumentError("internal_error", "createVerifier takes an options object");
  if (options.backend !== undefined) checkSignatureBackend(options.backend);
  const states = new Map<symbol, unknown>();
  return Object.freeze({
    roots: Object.freeze({ ...options.roots }),
    fetch: options.fetch,
    cache: Object.freeze({ ...options.cache }),
    backend: options.backend,
    state<T>(key: symbol, create: () => T): T {
      if (!states.has(key)) states.set(key, create());
      return states.get(key) as T;
    },
  });
}

/**
 * A verification time as every verifier takes it: a `Date` that holds a time (not `new Date(NaN)`).
 * The verifiers never read the clock; each refuses anything else with its own argument code.
 */
export function isVerificationTime(now: unknown): now is Date {
  return now instanceof Date && !Number.isNaN(now.getTime());
}

/** The verifier a call runs on: the caller's, or a fresh one for this call only. */
export function verifierOf(verifier: Verifier | undefined): Verifier {
  return verifier ?? createVerifier();
}
