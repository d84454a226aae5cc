import { SignatureVerdictCache } from "../common/x509.js";
import { type KdsCache, MemoryKdsCache } from "./kds-fetcher.js";

/** What a verified chain proved: its exact bytes chain to the pinned root, valid within a window. */
interface ChainVerdict {
  readonly notBefore: number;
  readonly notAfter: number;
}

/**
 * Caches for SEV-SNP verification. Every entry is a *verified* fact keyed by exact bytes: a chain
 * (leaf, intermediates, root) that verified, with the time window in which all its certificates
 * are valid; single signature verdicts; and KDS responses stored only after they verified. A warm
 * verification of a report with a known chain is then one ECDSA P-384 verify.
 *
 * @example
 * ```ts
 * const cache = new SevSnpCache();
 * await verifySevSnpReport(report, { vcek, now, cache });
 * ```
 */
export class SevSnpCache {
  /** KDS responses (VCEKs, chains, CRLs) by URL. */
  readonly kds: KdsCache;
  /** Issuer-signed-child verdicts, shared with the X.509 chain builder. */
  readonly signatures: SignatureVerdictCache;
  private readonly chains = new Map<string, ChainVerdict>();
  private readonly limit: number;

  constructor(options: { limit?: number; kds?: KdsCache } = {}) {
    this.limit = options.limit ?? 256;
    this.kds = options.kds ?? new MemoryKdsCache(this.limit);
    this.signatures = new SignatureVerdictCache(this.limit * 4);
  }

  /** Whether the chain with this key verified and `now` is inside its validity window. */
  hasChain(key: string, now: Date): boolean {
    const hit = this.chains.get(key);
    if (!hit) return false;
    const t = now.getTime();
    return t >= hit.notBefore && t <= hit.notAfter;
  }

  rememberChain(key: string, notBefore: Date, notAfter: Date): void {
    if (!this.chains.has(key) && this.chains.size >= this.limit)
      this.chains.delete(this.chains.keys().next().value as string);
    this.chains.set(key, { notBefore: notBefore.getTime(), notAfter: notAfter.getTime() });
  }

  clear(): void {
    this.chains.clear();
    this.signatures.clear();
  }
}
