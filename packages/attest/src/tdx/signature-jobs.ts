/**
 * Signature checks of one TDX verification, started as soon as their inputs are parsed and shared
 * between the steps that need them; and the process-wide memo of verified chain signatures (a pure
 * function of exact bytes, which decides no result).
 */
import { equalBytes } from "../common/bytes.js";
import { type SignatureBackend, type SignatureCheck, startEcdsaVerify } from "../common/signatures.js";
import { IdentityVerdictCache } from "../common/x509.js";

export const chainVerdicts = new IdentityVerdictCache();

/**
 * The P-256 signature checks of one verification, memoised by the signature's byte array: the
 * prefetch starts them all at once (WebCrypto runs them on the thread pool in parallel) and each
 * check later awaits the same promise instead of verifying again.
 */
export class SignatureJobs {
  /** Where this verification checks its signatures (default: the process's). */
  constructor(readonly backend?: SignatureBackend) {}
  private readonly jobs = new Map<
    Uint8Array,
    Array<{ key: Uint8Array; data: Uint8Array; check: SignatureCheck }>
  >();
  /** Handed-over checks not yet awaited by `started()`. */
  private pending: Promise<void>[] = [];
  start(key: Uint8Array, signature: Uint8Array, data: Uint8Array): SignatureCheck {
    // A verdict is reused only for the same key, signature and signed bytes.
    const list = this.jobs.get(signature) ?? [];
    const job = list.find((j) => equalBytes(j.key, key) && (j.data === data || equalBytes(j.data, data)));
    if (job) return job.check;
    const check = startEcdsaVerify("P-256", "SHA-256", key, signature, data, this.backend);
    list.push({ key, data, check });
    this.jobs.set(signature, list);
    this.pending.push(check.started);
    return check;
  }
  ecdsa(key: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
    return this.start(key, signature, data).valid;
  }
  /** Tracks a check started elsewhere (certificate and CRL signatures) for `started()`. */
  track(check: SignatureCheck): Promise<boolean> {
    this.pending.push(check.started);
    return check.valid;
  }
  /**
   * Resolves once every check started so far runs on WebCrypto's threads. The prefetch awaits it
   * between parsing steps: without a yield the checks would only be handed over after all parsing.
   */
  async started(): Promise<void> {
    const waiting = this.pending;
    this.pending = [];
    await Promise.all(waiting);
  }
}
