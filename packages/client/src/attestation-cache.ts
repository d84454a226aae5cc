import type { BundleVerificationResult } from "@peercycles/attest/bundle";
import type { KeyConfig } from "@peercycles/seal";
import type { AttestationSummary } from "./verification.js";

/** A verified attestation: what a confidential request is sealed to and its receipt checked with. */
export interface AttestedWorker {
  /** Worker id the orchestrator routes the sealed request to. */
  readonly worker: string;
  readonly model: string;
  /** RFC 9458 key configuration of the enclave's attested HPKE key. */
  readonly keyConfig: KeyConfig;
  /** The enclave's attested Ed25519 receipt key (never the one an answer names). */
  readonly signingKey: Uint8Array;
  readonly simulated: boolean;
  readonly summary: AttestationSummary;
  readonly verification: BundleVerificationResult;
  /** Epoch milliseconds after which the bundle is attested again. */
  readonly expiresAt: number;
}

/**
 * Verified bundles by attestation URL and model. An entry is used until its `expiresAt` (the TTL,
 * the policy's maximum age and the collateral's end, whichever is first) and dropped at once when
 * the worker's key changes. Share one cache between `peerFetch` instances to share attestations.
 *
 * @example
 * ```ts
 * const cache = new AttestationCache();
 * const fetchA = peerFetch({ policy, cache });
 * const fetchB = peerFetch({ policy, cache, tier: "confidential" });
 * ```
 */
export class AttestationCache {
  readonly #entries = new Map<string, AttestedWorker>();
  readonly #pending = new Map<string, Promise<AttestedWorker>>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 256;
  }

  /** The entry for `key` if it is still valid at `now` (epoch ms); an expired one is dropped. */
  get(key: string, now: number): AttestedWorker | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, entry: AttestedWorker): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, entry);
  }

  /** Drops `key`, but only if it still holds `entry` (when given): a newer attestation stays. */
  delete(key: string, entry?: AttestedWorker): void {
    if (entry === undefined || this.#entries.get(key) === entry) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Runs `attest` once for concurrent callers of the same key; caches its result. */
  async getOrAttest(
    key: string,
    now: number,
    attest: () => Promise<AttestedWorker>,
  ): Promise<AttestedWorker> {
    const cached = this.get(key, now);
    if (cached) return cached;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = attest().then(
        (entry) => {
          this.#pending.delete(key);
          this.set(key, entry);
          return entry;
        },
        (error: unknown) => {
          this.#pending.delete(key);
          throw error;
        },
      );
      this.#pending.set(key, pending);
    }
    return pending;
  }
}
