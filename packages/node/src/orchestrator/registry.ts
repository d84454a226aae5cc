import type {
  AttestationSummary,
  NetworkWorker,
  OrchestratorMessage,
  Tier,
  WorkerMessage,
} from "@peercycles/protocol";

/** What a job's HTTP side receives from its worker. */
export interface JobSink {
  onMessage(
    message: Extract<WorkerMessage, { type: "chunk" | "sealed_chunk" | "result" | "job_error" }>,
  ): void;
  /** The worker disconnected or was removed. */
  onLost(reason: string): void;
}

/** A connected worker or validator, as the orchestrator tracks it. */
export interface WorkerSession {
  readonly id: string;
  readonly name: string;
  readonly role: "worker" | "validator";
  readonly tier: Tier;
  readonly model: string;
  readonly weightsDigest: string;
  readonly deterministic: boolean;
  readonly backend: "builtin" | "openai-compatible";
  readonly pricePer1k: number;
  readonly maxConcurrency: number;
  /** Ed25519 key that verifies this worker's receipts (for confidential: the attested enclave key). */
  readonly signingKey: Uint8Array;
  readonly signingKeyText: string;
  /** Confidential: the bundle as the worker registered it, its key id and our verdict on it. */
  readonly bundle?: Uint8Array;
  readonly keyId?: number;
  readonly attestation?: AttestationSummary;
  reputation: number;
  throughputTps: number;
  bondCredits: number;
  earningsCredits: number;
  jobsDone: number;
  slashed: number;
  busy: number;
  connected: boolean;
  readonly jobs: Map<string, JobSink>;
  readonly pending: Map<string, (message: WorkerMessage) => void>;
  send(message: OrchestratorMessage): void;
  close(code: number, reason: string): void;
}

/** A routing decision: the chosen worker and its score. */
export interface Route {
  readonly session: WorkerSession;
  readonly score: number;
}

/**
 * The routing score of an eligible worker, in [0, 1]:
 *
 *   score = 0.5 × reputation / 1000 + 0.3 × throughput / best throughput + 0.2 × cheapest price / price
 *
 * among the eligible workers of the request's tier and model. A worker not yet measured counts as
 * the best throughput (so a newcomer gets work); price 0 counts as the cheapest. The highest score
 * wins; ties go to the worker with fewer jobs in flight, then to the lower id, so routing is
 * deterministic and never random among unequal workers. Documented in docs/routing.md.
 */
export function routingScores(candidates: readonly WorkerSession[]): Map<WorkerSession, number> {
  const bestTps = Math.max(0, ...candidates.map((w) => w.throughputTps));
  const cheapest = Math.min(...candidates.map((w) => w.pricePer1k));
  const scores = new Map<WorkerSession, number>();
  for (const worker of candidates) {
    const reputation = worker.reputation / 1000;
    const throughput = bestTps === 0 || worker.throughputTps === 0 ? 1 : worker.throughputTps / bestTps;
    const price = worker.pricePer1k === 0 ? 1 : cheapest / worker.pricePer1k;
    scores.set(worker, Math.round((0.5 * reputation + 0.3 * throughput + 0.2 * price) * 10_000) / 10_000);
  }
  return scores;
}

/** Whether `worker` may take a job of `tier` for `model` (capacity aside). */
export function isEligible(worker: WorkerSession, tier: Tier, model: string): boolean {
  if (!worker.connected || worker.role !== "worker" || worker.tier !== tier || worker.model !== model)
    return false;
  if (tier !== "open" && worker.bondCredits <= 0) return false;
  if (tier === "confidential" && worker.attestation?.ok !== true) return false;
  return true;
}

/** The connected workers and validators. */
export class WorkerRegistry {
  readonly #sessions = new Map<string, WorkerSession>();
  readonly #released = new Set<() => void>();

  add(session: WorkerSession): void {
    this.#sessions.get(session.id)?.close(4000, "replaced by a new connection");
    this.#sessions.set(session.id, session);
    this.notifyCapacity();
  }

  remove(session: WorkerSession): void {
    if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
  }

  get(id: string): WorkerSession | undefined {
    return this.#sessions.get(id);
  }

  all(): WorkerSession[] {
    return [...this.#sessions.values()];
  }

  /** Whether any connected worker serves `model` (any tier). */
  servesModel(model: string): boolean {
    for (const session of this.#sessions.values())
      if (session.role === "worker" && session.model === model) return true;
    return false;
  }

  models(): string[] {
    return [
      ...new Set(
        this.all()
          .filter((s) => s.role === "worker")
          .map((s) => s.model),
      ),
    ].sort();
  }

  /** The best eligible worker with a free slot, or undefined; `eligible` tells whether any exist at all. */
  pick(tier: Tier, model: string, only?: string): { route?: Route; eligible: number } {
    const eligible = this.all().filter(
      (w) => isEligible(w, tier, model) && (only === undefined || w.id === only),
    );
    const scores = routingScores(eligible);
    const free = eligible.filter((w) => w.busy < w.maxConcurrency);
    free.sort(
      (a, b) =>
        (scores.get(b) as number) - (scores.get(a) as number) || a.busy - b.busy || (a.id < b.id ? -1 : 1),
    );
    const best = free[0];
    return {
      route: best ? { session: best, score: scores.get(best) as number } : undefined,
      eligible: eligible.length,
    };
  }

  /** A validator for `model`, preferring the least busy one; never `exclude`. */
  pickValidator(model: string, exclude: string): WorkerSession | undefined {
    return this.all()
      .filter((s) => s.connected && s.role === "validator" && s.model === model && s.id !== exclude)
      .sort((a, b) => a.busy - b.busy || (a.id < b.id ? -1 : 1))[0];
  }

  /** Resolves when some worker's capacity may have freed (a job ended or a worker joined), or after `ms`. */
  waitForCapacity(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#released.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#released.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  notifyCapacity(): void {
    for (const waiter of [...this.#released]) waiter();
  }

  describe(session: WorkerSession): NetworkWorker {
    return {
      id: session.id,
      name: session.name,
      role: session.role,
      tier: session.tier,
      model: session.model,
      backend: session.backend,
      connected: session.connected,
      busy: session.busy,
      maxConcurrency: session.maxConcurrency,
      reputation: session.reputation,
      throughputTps: Math.round(session.throughputTps * 10) / 10,
      pricePer1k: session.pricePer1k,
      bondCredits: session.bondCredits,
      earningsCredits: session.earningsCredits,
      jobsDone: session.jobsDone,
      slashed: session.slashed,
      signingKey: session.signingKeyText,
      ...(session.attestation ? { attestation: session.attestation } : {}),
    };
  }
}
