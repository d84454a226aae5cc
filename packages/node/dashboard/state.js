// @ts-check
// The dashboard's state: what the node said, folded event by event. Pure (no DOM, no clock, no
// network), so the same module runs in the page and in the node's unit tests. Nothing here computes a
// figure the node did not send: totals, balances and worker figures come from the latest snapshot or
// `ledger` event; jobs, proofs, slashes and payments are the events themselves.

/** @typedef {import("@peercycles/protocol").NetworkEvent} NetworkEvent */
/** @typedef {import("@peercycles/protocol").NetworkSnapshot} NetworkSnapshot */
/** @typedef {import("@peercycles/protocol").NetworkWorker} NetworkWorker */
/** @typedef {import("@peercycles/protocol").AttestationSummary} AttestationSummary */
/** @typedef {import("@peercycles/protocol").Tier} Tier */

/**
 * A job as the page knows it: routed, then finished, maybe re-executed and slashed.
 * @typedef {{
 *   jobId: string,
 *   tier: Tier,
 *   model?: string,
 *   workerId: string,
 *   routedAt?: string,
 *   score?: number,
 *   holdCredits?: number,
 *   stream?: boolean,
 *   sealedBytes?: number,
 *   status: "running" | "ok" | "failed",
 *   finishedAt?: string,
 *   priceCredits?: number,
 *   refundedCredits?: number,
 *   latencyMs?: number,
 *   ttftMs?: number,
 *   tokens?: number,
 *   error?: string,
 *   receiptId?: string,
 *   sealedResponseBytes?: number,
 *   reexecution?: { validatorId: string, match: boolean, at: string },
 *   slashed?: boolean,
 * }} JobView
 */

/**
 * A proof the node checked: a receipt that came back with a job, a re-execution, an attestation.
 * @typedef {(
 *   | { kind: "receipt", at: string, jobId: string, workerId: string, tier: Tier, receiptId: string }
 *   | { kind: "reexecution", at: string, jobId: string, workerId: string, validatorId: string, match: boolean }
 *   | { kind: "attestation", at: string, workerId: string, summary: AttestationSummary }
 * )} Proof
 */

/** @typedef {Extract<NetworkEvent, { type: "worker.slashed" }>} SlashEvent */
/** @typedef {Extract<NetworkEvent, { type: "payment.settled" }>} PaymentEvent */

/** One finished job as a point of the live charts. @typedef {{ t: number, latencyMs: number, tps: number, tier: Tier }} JobSample */

/**
 * @typedef {{
 *   node: NetworkSnapshot["node"] | undefined,
 *   workers: Map<string, NetworkWorker>,
 *   totals: NetworkSnapshot["jobs"] | undefined,
 *   ledger: NetworkSnapshot["ledger"] | undefined,
 *   series: NetworkSnapshot["series"],
 *   jobs: Map<string, JobView>,
 *   proofs: Proof[],
 *   slashes: SlashEvent[],
 *   payments: PaymentEvent[],
 *   samples: JobSample[],
 *   events: number,
 *   lastEventAt: string | undefined,
 * }} DashboardState
 */

/** How many jobs, proofs, slashes, payments and chart samples the page keeps. */
export const LIMITS = Object.freeze({ jobs: 200, proofs: 200, slashes: 100, payments: 100, samples: 600 });

/** @returns {DashboardState} */
export function createState() {
  return {
    node: undefined,
    workers: new Map(),
    totals: undefined,
    ledger: undefined,
    series: [],
    jobs: new Map(),
    proofs: [],
    slashes: [],
    payments: [],
    samples: [],
    events: 0,
    lastEventAt: undefined,
  };
}

/**
 * Replaces the figures a snapshot carries (node, workers, job totals, ledger, series); keeps the
 * history of jobs and proofs the page saw.
 * @param {DashboardState} state
 * @param {NetworkSnapshot} snapshot
 */
export function applySnapshot(state, snapshot) {
  state.node = snapshot.node;
  state.workers = new Map(snapshot.workers.map((worker) => [worker.id, worker]));
  state.totals = snapshot.jobs;
  state.ledger = snapshot.ledger;
  state.series = snapshot.series;
}

/**
 * Folds one event into the state.
 * @param {DashboardState} state
 * @param {NetworkEvent} event
 */
export function applyEvent(state, event) {
  state.events += 1;
  state.lastEventAt = event.at;
  switch (event.type) {
    case "snapshot":
      applySnapshot(state, event.snapshot);
      break;
    case "worker.joined":
      state.workers.set(event.worker.id, event.worker);
      break;
    case "worker.left": {
      const worker = state.workers.get(event.workerId);
      if (worker) state.workers.set(worker.id, { ...worker, connected: false, busy: 0 });
      break;
    }
    case "attestation.verified": {
      const worker = state.workers.get(event.workerId);
      if (worker) state.workers.set(worker.id, { ...worker, attestation: event.summary });
      pushCapped(
        state.proofs,
        { kind: "attestation", at: event.at, workerId: event.workerId, summary: event.summary },
        LIMITS.proofs,
      );
      break;
    }
    case "job.routed": {
      const known = state.jobs.get(event.jobId);
      /** @type {JobView} */
      const job = {
        ...known,
        jobId: event.jobId,
        tier: event.tier,
        model: event.model,
        workerId: event.workerId,
        routedAt: event.at,
        score: event.score,
        holdCredits: event.holdCredits,
        stream: event.stream,
        status: known?.status ?? "running",
      };
      if (event.sealedBytes !== undefined) job.sealedBytes = event.sealedBytes;
      putJob(state, job);
      break;
    }
    case "job.finished": {
      const known = state.jobs.get(event.jobId);
      /** @type {JobView} */
      const job = {
        ...known,
        jobId: event.jobId,
        tier: event.tier,
        workerId: event.workerId,
        status: event.ok ? "ok" : "failed",
        finishedAt: event.at,
        priceCredits: event.priceCredits,
        refundedCredits: event.refundedCredits,
        latencyMs: event.latencyMs,
        tokens: event.tokens,
      };
      if (event.ttftMs !== undefined) job.ttftMs = event.ttftMs;
      if (event.error !== undefined) job.error = event.error;
      if (event.receiptId !== undefined) job.receiptId = event.receiptId;
      if (event.sealedResponseBytes !== undefined) job.sealedResponseBytes = event.sealedResponseBytes;
      putJob(state, job);
      if (event.ok && event.latencyMs > 0) {
        pushCapped(
          state.samples,
          {
            t: Date.parse(event.at),
            latencyMs: event.latencyMs,
            tps: event.tokens / (event.latencyMs / 1000),
            tier: event.tier,
          },
          LIMITS.samples,
        );
      }
      if (event.receiptId !== undefined) {
        pushCapped(
          state.proofs,
          {
            kind: "receipt",
            at: event.at,
            jobId: event.jobId,
            workerId: event.workerId,
            tier: event.tier,
            receiptId: event.receiptId,
          },
          LIMITS.proofs,
        );
      }
      break;
    }
    case "job.reexecuted": {
      const job = state.jobs.get(event.jobId);
      if (job) job.reexecution = { validatorId: event.validatorId, match: event.match, at: event.at };
      pushCapped(
        state.proofs,
        {
          kind: "reexecution",
          at: event.at,
          jobId: event.jobId,
          workerId: event.workerId,
          validatorId: event.validatorId,
          match: event.match,
        },
        LIMITS.proofs,
      );
      break;
    }
    case "worker.slashed": {
      const job = state.jobs.get(event.jobId);
      if (job) job.slashed = true;
      const worker = state.workers.get(event.workerId);
      if (worker) state.workers.set(worker.id, { ...worker, reputation: event.reputation });
      pushCapped(state.slashes, event, LIMITS.slashes);
      break;
    }
    case "payment.settled":
      pushCapped(state.payments, event, LIMITS.payments);
      break;
    case "ledger":
      state.ledger = event.ledger;
      break;
    default:
      // An event type this page does not know yet (a newer node): counted, otherwise ignored.
      break;
  }
}

/**
 * Workers grouped by tier, each group in a stable order (connected first, then by reputation, then
 * name); validators in their own group.
 * @param {DashboardState} state
 * @returns {{ open: NetworkWorker[], verified: NetworkWorker[], confidential: NetworkWorker[], validators: NetworkWorker[] }}
 */
export function workersByTier(state) {
  /** @type {{ open: NetworkWorker[], verified: NetworkWorker[], confidential: NetworkWorker[], validators: NetworkWorker[] }} */
  const groups = { open: [], verified: [], confidential: [], validators: [] };
  for (const worker of state.workers.values()) {
    if (worker.role === "validator") groups.validators.push(worker);
    else groups[worker.tier]?.push(worker);
  }
  for (const list of Object.values(groups)) {
    list.sort(
      (a, b) =>
        Number(b.connected) - Number(a.connected) ||
        b.reputation - a.reputation ||
        a.name.localeCompare(b.name),
    );
  }
  return groups;
}

/**
 * Jobs, most recent first.
 * @param {DashboardState} state
 * @returns {JobView[]}
 */
export function recentJobs(state) {
  return [...state.jobs.values()].reverse();
}

/**
 * Parses one SSE event of `GET /v1/network/events` (`event:` names the type, `data:` is the JSON).
 * Returns `undefined` for data that is not a JSON object of that type.
 * @param {string} type
 * @param {string} data
 * @returns {NetworkEvent | undefined}
 */
export function parseNetworkEvent(type, data) {
  let value;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  if (value.type === undefined) value.type = type;
  if (value.type !== type || typeof value.at !== "string") return undefined;
  return /** @type {NetworkEvent} */ (value);
}

/** The SSE event types of `GET /v1/network/events` the page listens for. */
export const NETWORK_EVENT_TYPES = Object.freeze([
  "snapshot",
  "worker.joined",
  "worker.left",
  "job.routed",
  "job.finished",
  "job.reexecuted",
  "worker.slashed",
  "attestation.verified",
  "payment.settled",
  "ledger",
]);

/**
 * @param {DashboardState} state
 * @param {JobView} job
 */
function putJob(state, job) {
  // A known job keeps its place (the order jobs were routed in); a new one goes last.
  state.jobs.set(job.jobId, job);
  while (state.jobs.size > LIMITS.jobs) {
    const oldest = state.jobs.keys().next();
    if (oldest.done) break;
    state.jobs.delete(oldest.value);
  }
}

/**
 * @template T
 * @param {T[]} list
 * @param {T} item
 * @param {number} limit
 */
function pushCapped(list, item, limit) {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}
