import type { Tier } from "./tiers.js";

/** A worker as `GET /v1/network` shows it. Every figure comes from the router or the ledger. */
export interface NetworkWorker {
  readonly id: string;
  readonly name: string;
  readonly role: "worker" | "validator";
  readonly tier: Tier;
  readonly model: string;
  readonly backend: "builtin" | "openai-compatible";
  readonly connected: boolean;
  readonly busy: number;
  readonly maxConcurrency: number;
  /** 0..1000, starts at 500. */
  readonly reputation: number;
  /** Tokens per second, exponentially weighted over finished jobs; 0 before the first. */
  readonly throughputTps: number;
  readonly pricePer1k: number;
  readonly bondCredits: number;
  readonly earningsCredits: number;
  readonly jobsDone: number;
  readonly slashed: number;
  /** Ed25519 key (base64url) that verifies this worker's receipts. */
  readonly signingKey: string;
  /** Confidential workers: what the orchestrator's own verification of the bundle found. */
  readonly attestation?: AttestationSummary;
}

/** The evidence summary of a verified attestation bundle. */
export interface AttestationSummary {
  readonly ok: boolean;
  readonly simulated: boolean;
  readonly tee: string;
  readonly tcbStatus: string;
  readonly measurements: Readonly<Record<string, string>>;
  readonly gpus: number;
  readonly keyId: number;
  readonly errors: readonly string[];
}

/** `GET /v1/network`: the live figures of the node. */
export interface NetworkSnapshot {
  readonly node: { readonly version: string; readonly startedAt: string; readonly validationRate: number };
  readonly workers: readonly NetworkWorker[];
  readonly jobs: {
    readonly total: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly inFlight: number;
    readonly reexecuted: number;
    readonly mismatches: number;
  };
  readonly ledger: {
    /** Credits in user accounts and holds. */
    readonly creditsInCirculation: number;
    readonly treasuryFees: number;
    readonly burned: number;
    readonly workerEarnings: number;
    readonly bonds: number;
    /** USDC base units the treasury wallet holds on chain, when a chain is attached. */
    readonly treasuryUsdcOnChain?: string;
  };
  /** Recent per-minute series for charts: tokens/s and p50 latency. */
  readonly series: ReadonlyArray<{
    readonly t: number;
    readonly tps: number;
    readonly latencyMs: number;
    readonly jobs: number;
  }>;
}

/** One event of `GET /v1/network/events` (SSE, `event:` is the `type`). */
export type NetworkEvent =
  | { type: "snapshot"; at: string; snapshot: NetworkSnapshot }
  | { type: "worker.joined"; at: string; worker: NetworkWorker }
  | { type: "worker.left"; at: string; workerId: string }
  | {
      type: "job.routed";
      at: string;
      jobId: string;
      tier: Tier;
      model: string;
      workerId: string;
      score: number;
      holdCredits: number;
      stream: boolean;
      /** Confidential: the size of the sealed request, the only thing the node sees of it. */
      sealedBytes?: number;
    }
  | {
      type: "job.finished";
      at: string;
      jobId: string;
      tier: Tier;
      workerId: string;
      ok: boolean;
      priceCredits: number;
      refundedCredits: number;
      latencyMs: number;
      ttftMs?: number;
      tokens: number;
      error?: string;
      receiptId?: string;
      sealedResponseBytes?: number;
    }
  | {
      type: "job.reexecuted";
      at: string;
      jobId: string;
      workerId: string;
      validatorId: string;
      match: boolean;
    }
  | {
      type: "worker.slashed";
      at: string;
      workerId: string;
      jobId: string;
      bondCredits: number;
      challengerReward: number;
      burned: number;
      refundedCredits: number;
      reputation: number;
    }
  | { type: "attestation.verified"; at: string; workerId: string; summary: AttestationSummary }
  | {
      type: "payment.settled";
      at: string;
      kind: "buy" | "request" | "payout";
      credits: number;
      transaction: string;
      payer?: string;
    }
  | { type: "ledger"; at: string; ledger: NetworkSnapshot["ledger"] };
