import type { NetworkEvent, NetworkSnapshot } from "@peercycles/protocol";

type Listener = (event: NetworkEvent) => void;

interface Bucket {
  t: number;
  tokens: number;
  busyMs: number;
  latencies: number[];
  jobs: number;
}

/** Most minutes of series kept for the charts. */
const SERIES_MINUTES = 60;

/**
 * The live feed behind `GET /v1/network/events` and the series of `GET /v1/network`: every event
 * the orchestrator emits fans out to subscribers; finished jobs fold into per-minute buckets.
 */
export class NetworkFeed {
  readonly #listeners = new Set<Listener>();
  readonly #buckets: Bucket[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  emit(event: NetworkEvent): void {
    if (event.type === "job.finished" && event.ok) this.#record(event.tokens, event.latencyMs);
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }

  #record(tokens: number, latencyMs: number): void {
    const t = Math.floor(this.#now() / 60_000) * 60_000;
    let bucket = this.#buckets.at(-1);
    if (!bucket || bucket.t !== t) {
      bucket = { t, tokens: 0, busyMs: 0, latencies: [], jobs: 0 };
      this.#buckets.push(bucket);
      if (this.#buckets.length > SERIES_MINUTES) this.#buckets.shift();
    }
    bucket.tokens += tokens;
    bucket.busyMs += latencyMs;
    bucket.latencies.push(latencyMs);
    bucket.jobs += 1;
  }

  /** Per minute: tokens per second of job time, p50 latency and job count. */
  series(): NetworkSnapshot["series"] {
    return this.#buckets.map((bucket) => {
      const sorted = [...bucket.latencies].sort((a, b) => a - b);
      return {
        t: bucket.t,
        tps: bucket.busyMs === 0 ? 0 : Math.round((bucket.tokens / (bucket.busyMs / 1000)) * 10) / 10,
        latencyMs: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
        jobs: bucket.jobs,
      };
    });
  }
}
