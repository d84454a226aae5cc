import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The node's Prometheus metrics, on a registry of its own (several nodes can share a process). */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<"route" | "status">;
  readonly jobs: Counter<"tier" | "outcome">;
  readonly jobDuration: Histogram<"tier">;
  readonly timeToFirstToken: Histogram<"tier">;
  readonly tokens: Counter<"tier" | "kind">;
  readonly creditsCaptured: Counter<"tier">;
  readonly creditsRefunded: Counter<"reason">;
  readonly workersConnected: Gauge<"tier" | "role">;
  readonly reexecutions: Counter<"outcome">;
  readonly slashes: Counter;
}

export function createNodeMetrics(): NodeMetrics {
  const registry = new Registry();
  const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    registry,
    httpRequests: new Counter({
      name: "peer_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["route", "status"],
      registers: [registry],
    }),
    jobs: new Counter({
      name: "peer_jobs_total",
      help: "Jobs by tier and outcome",
      labelNames: ["tier", "outcome"],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: "peer_job_duration_seconds",
      help: "Time from routing to the worker's result",
      labelNames: ["tier"],
      buckets: seconds,
      registers: [registry],
    }),
    timeToFirstToken: new Histogram({
      name: "peer_time_to_first_token_seconds",
      help: "Time from routing to the first streamed chunk",
      labelNames: ["tier"],
      buckets: seconds,
      registers: [registry],
    }),
    tokens: new Counter({
      name: "peer_tokens_total",
      help: "Tokens served, from receipts",
      labelNames: ["tier", "kind"],
      registers: [registry],
    }),
    creditsCaptured: new Counter({
      name: "peer_credits_captured_total",
      help: "Credits charged for finished jobs",
      labelNames: ["tier"],
      registers: [registry],
    }),
    creditsRefunded: new Counter({
      name: "peer_credits_refunded_total",
      help: "Credits returned to clients (failed jobs and unused holds)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    workersConnected: new Gauge({
      name: "peer_workers_connected",
      help: "Connected workers and validators",
      labelNames: ["tier", "role"],
      registers: [registry],
    }),
    reexecutions: new Counter({
      name: "peer_reexecutions_total",
      help: "Verified-tier re-executions by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    slashes: new Counter({ name: "peer_slashes_total", help: "Bonds slashed", registers: [registry] }),
  };
}
