// @ts-check
// The live node dashboard. Reads `GET /v1/network` (the figures) and `GET /v1/network/events` (SSE,
// the first event a snapshot), folds them into state.js, and draws. No framework, no build step.
import { renderTimeChart } from "./charts.js";
import { byId, emptyRow, h } from "./dom.js";
import {
  creditsInDollars,
  formatBytes,
  formatCredits,
  formatDecimal,
  formatInteger,
  formatMilliseconds,
  formatTime,
  formatUsdcBaseUnits,
  jobLabel,
  shortId,
} from "./format.js";
import {
  applyEvent,
  applySnapshot,
  createState,
  NETWORK_EVENT_TYPES,
  parseNetworkEvent,
  recentJobs,
  workersByTier,
} from "./state.js";
import { setupTryIt } from "./try-it.js";

/** @typedef {import("./state.js").NetworkEvent} NetworkEvent */
/** @typedef {import("./state.js").NetworkWorker} NetworkWorker */
/** @typedef {import("./state.js").JobView} JobView */
/** @typedef {import("./state.js").AttestationSummary} AttestationSummary */

const FEED_LIMIT = 80;
const ROWS_SHOWN = 60;
/** Events after which worker figures and totals changed on the node: fetch a fresh snapshot. */
const REFRESHING_EVENTS = new Set([
  "job.finished",
  "job.reexecuted",
  "worker.slashed",
  "worker.joined",
  "worker.left",
  "payment.settled",
  "attestation.verified",
]);

const state = createState();

// ---------------------------------------------------------------------------------------------
// Data in: SSE events and snapshots

/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer;
let refreshing = false;

async function refreshSnapshot() {
  if (refreshing) return;
  refreshing = true;
  try {
    const response = await fetch("/v1/network", { headers: { accept: "application/json" } });
    if (!response.ok) return;
    applySnapshot(state, await response.json());
    scheduleRender();
  } catch {
    // The event stream reports the connection; a missed refresh is retried on the next event.
  } finally {
    refreshing = false;
  }
}

function scheduleRefresh() {
  if (refreshTimer !== undefined) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = undefined;
    void refreshSnapshot();
  }, 300);
}

function connect() {
  const source = new EventSource("/v1/network/events");
  for (const type of NETWORK_EVENT_TYPES) {
    source.addEventListener(type, (message) => {
      const event = parseNetworkEvent(type, /** @type {MessageEvent<string>} */ (message).data);
      if (!event) return;
      applyEvent(state, event);
      addToFeed(event);
      if (REFRESHING_EVENTS.has(event.type)) scheduleRefresh();
      setConnection("live");
      scheduleRender();
    });
  }
  source.addEventListener("open", () => setConnection("live"));
  source.addEventListener("error", () => {
    setConnection(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
}

/** @param {"live" | "reconnecting" | "closed"} connection */
function setConnection(connection) {
  const status = byId("connection");
  if (status.dataset.state === connection) return;
  status.dataset.state = connection;
  status.textContent =
    connection === "live"
      ? "Live"
      : connection === "reconnecting"
        ? "Connection lost, reconnecting…"
        : "Disconnected; retrying in 5 s";
}

// ---------------------------------------------------------------------------------------------
// Drawing

let renderQueued = false;

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  const run = () => {
    renderQueued = false;
    render();
  };
  if (document.visibilityState === "visible") requestAnimationFrame(run);
  else setTimeout(run, 250);
}

function render() {
  renderNode();
  renderTotals();
  renderCharts();
  renderWorkers();
  renderJobs();
  renderProofs();
  renderSlashes();
  renderPayments();
}

function renderNode() {
  const node = state.node;
  if (!node) return;
  byId("node-info").textContent =
    `version ${node.version} · up since ${formatTime(node.startedAt)} · ` +
    `re-executes ${formatDecimal(node.validationRate * 100)}% of verified jobs`;
}

/**
 * @param {string} key
 * @param {string} label
 * @param {string} value
 * @param {string} [note]
 */
function figure(key, label, value, note) {
  return [
    h("dt", {}, label),
    h("dd", { "data-figure": key }, value, note ? h("span", { class: "note" }, ` ${note}`) : null),
  ];
}

function renderTotals() {
  const totals = state.totals;
  const ledger = state.ledger;
  if (totals) {
    byId("job-totals").replaceChildren(
      ...figure("jobs.total", "Total", formatInteger(totals.total)),
      ...figure("jobs.succeeded", "Succeeded", formatInteger(totals.succeeded)),
      ...figure("jobs.failed", "Failed", formatInteger(totals.failed)),
      ...figure("jobs.inFlight", "In flight", formatInteger(totals.inFlight)),
      ...figure("jobs.reexecuted", "Re-executed", formatInteger(totals.reexecuted)),
      ...figure("jobs.mismatches", "Mismatches", formatInteger(totals.mismatches)),
    );
  }
  if (ledger) {
    const rows = [
      ...figure(
        "ledger.creditsInCirculation",
        "Credits in circulation",
        formatCredits(ledger.creditsInCirculation),
        creditsInDollars(ledger.creditsInCirculation),
      ),
      ...figure(
        "ledger.treasuryFees",
        "Treasury fees",
        formatCredits(ledger.treasuryFees),
        creditsInDollars(ledger.treasuryFees),
      ),
      ...figure("ledger.burned", "Burned", formatCredits(ledger.burned), creditsInDollars(ledger.burned)),
      ...figure(
        "ledger.workerEarnings",
        "Worker earnings",
        formatCredits(ledger.workerEarnings),
        creditsInDollars(ledger.workerEarnings),
      ),
      ...figure("ledger.bonds", "Bonds posted", formatCredits(ledger.bonds), creditsInDollars(ledger.bonds)),
    ];
    if (ledger.treasuryUsdcOnChain !== undefined) {
      rows.push(
        ...figure(
          "ledger.treasuryUsdcOnChain",
          "Treasury wallet (on chain)",
          formatUsdcBaseUnits(ledger.treasuryUsdcOnChain),
        ),
      );
    }
    byId("ledger-totals").replaceChildren(...rows);
  }
}

/** @param {number} t the node's minute timestamp, in milliseconds or seconds since the epoch */
function epochMs(t) {
  return t < 1e12 ? t * 1000 : t;
}

function renderCharts() {
  const series = [...state.series].sort((a, b) => a.t - b.t);
  renderTimeChart(byId("throughput-chart"), {
    title: "Throughput",
    unit: "tokens/s",
    format: formatDecimal,
    line: series.map((point) => ({ x: epochMs(point.t), y: point.tps })),
    lineLabel: "per-minute series",
    dots: state.samples.map((sample) => ({ x: sample.t, y: sample.tps, className: `tier-${sample.tier}` })),
    dotsLabel: "jobs",
  });
  renderTimeChart(byId("latency-chart"), {
    title: "Latency",
    unit: "ms",
    format: formatInteger,
    line: series.map((point) => ({ x: epochMs(point.t), y: point.latencyMs })),
    lineLabel: "per-minute median",
    dots: state.samples.map((sample) => ({
      x: sample.t,
      y: sample.latencyMs,
      className: `tier-${sample.tier}`,
    })),
    dotsLabel: "jobs",
  });
  byId("series-rows").replaceChildren(
    ...(series.length === 0
      ? [emptyRow(4, "No per-minute figures yet")]
      : series
          .slice()
          .reverse()
          .map((point) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, formatTime(epochMs(point.t))),
              h("td", { class: "number" }, formatDecimal(point.tps)),
              h("td", { class: "number" }, formatMilliseconds(point.latencyMs)),
              h("td", { class: "number" }, formatInteger(point.jobs)),
            ),
          )),
  );
}

/** @param {string} tier */
function tierBadge(tier) {
  return h("span", { class: `badge tier-${tier}` }, tier);
}

/** @param {string} id */
function workerName(id) {
  return state.workers.get(id)?.name ?? id;
}

/** @param {string} id */
function workerCell(id) {
  return h("td", { title: id }, workerName(id));
}

/** @param {AttestationSummary | undefined} summary */
function attestationText(summary) {
  if (!summary) return "—";
  const verdict = summary.ok ? "verified" : "REJECTED";
  const gpus = `${summary.gpus} GPU${summary.gpus === 1 ? "" : "s"}`;
  return `${verdict} · ${summary.tee} · ${summary.tcbStatus} · ${gpus} · ${summary.simulated ? "simulated" : "real hardware"}`;
}

const WORKER_GROUPS = /** @type {const} */ ([
  ["open", "Open tier"],
  ["verified", "Verified tier (bonded)"],
  ["confidential", "Confidential tier (TEE)"],
  ["validators", "Validators"],
]);

function renderWorkers() {
  const groups = workersByTier(state);
  const tables = WORKER_GROUPS.map(([key, title]) => {
    const workers = groups[key];
    const attested = key === "confidential";
    const columns = attested ? 10 : 9;
    return h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { "data-workers": key },
        h("caption", {}, title),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Worker (model)"),
            h("th", { scope: "col" }, "Status"),
            h("th", { scope: "col", class: "number" }, "Reputation"),
            h("th", { scope: "col", class: "number" }, "Throughput"),
            h("th", { scope: "col", class: "number" }, "Price / 1k tokens"),
            h("th", { scope: "col", class: "number" }, "Bond"),
            h("th", { scope: "col", class: "number" }, "Earnings"),
            h("th", { scope: "col", class: "number" }, "Jobs"),
            h("th", { scope: "col", class: "number" }, "Slashed"),
            attested ? h("th", { scope: "col" }, "Attestation") : null,
          ),
        ),
        h(
          "tbody",
          {},
          workers.length === 0
            ? emptyRow(columns, "None connected")
            : workers.map((worker) =>
                h(
                  "tr",
                  { "data-worker": worker.id, class: worker.slashed > 0 ? "slashed" : null },
                  h(
                    "th",
                    { scope: "row", title: worker.id },
                    worker.name,
                    h("span", { class: "note block" }, `${worker.model} (${worker.backend})`),
                  ),
                  h(
                    "td",
                    {},
                    worker.connected ? `online · ${worker.busy}/${worker.maxConcurrency} busy` : "offline",
                  ),
                  h(
                    "td",
                    { class: "number" },
                    h("meter", {
                      min: 0,
                      max: 1000,
                      low: 300,
                      high: 700,
                      optimum: 1000,
                      value: worker.reputation,
                      "aria-hidden": "true",
                    }),
                    ` ${formatInteger(worker.reputation)}`,
                  ),
                  h("td", { class: "number" }, `${formatDecimal(worker.throughputTps)} tok/s`),
                  h("td", { class: "number" }, formatCredits(worker.pricePer1k)),
                  h("td", { class: "number" }, formatCredits(worker.bondCredits)),
                  h("td", { class: "number" }, formatCredits(worker.earningsCredits)),
                  h("td", { class: "number" }, formatInteger(worker.jobsDone)),
                  h(
                    "td",
                    { class: worker.slashed > 0 ? "number bad" : "number" },
                    formatInteger(worker.slashed),
                  ),
                  attested
                    ? h(
                        "td",
                        { class: worker.attestation && !worker.attestation.ok ? "wrap bad" : "wrap" },
                        attestationText(worker.attestation),
                      )
                    : null,
                ),
              ),
        ),
      ),
    );
  });
  byId("worker-tables").replaceChildren(...tables);

  const attested = [...state.workers.values()].filter((worker) => worker.attestation);
  byId("evidence").replaceChildren(
    ...(attested.length === 0
      ? [h("p", { class: "muted" }, "No attested worker yet.")]
      : attested.map((worker) =>
          evidenceCard(worker, /** @type {AttestationSummary} */ (worker.attestation)),
        )),
  );
}

/**
 * @param {NetworkWorker} worker
 * @param {AttestationSummary} summary
 */
function evidenceCard(worker, summary) {
  const headingId = `evidence-${worker.id}`;
  return h(
    "section",
    { class: "card evidence", "aria-labelledby": headingId, "data-evidence": worker.id },
    h("h4", { id: headingId }, worker.name),
    h(
      "dl",
      { class: "figures" },
      h("dt", {}, "Verdict"),
      h("dd", { class: summary.ok ? "ok" : "bad" }, summary.ok ? "verified" : "rejected"),
      h("dt", {}, "TEE"),
      h("dd", {}, summary.tee),
      h("dt", {}, "TCB status"),
      h("dd", {}, summary.tcbStatus),
      h("dt", {}, "Evidence"),
      h(
        "dd",
        { class: summary.simulated ? "warn" : null },
        summary.simulated ? "simulated (development roots)" : "real hardware",
      ),
      h("dt", {}, "GPUs"),
      h("dd", {}, formatInteger(summary.gpus)),
      h("dt", {}, "HPKE key id"),
      h("dd", {}, formatInteger(summary.keyId)),
    ),
    h(
      "dl",
      { class: "measurements" },
      Object.entries(summary.measurements).map(([name, value]) => [
        h("dt", {}, name),
        h("dd", {}, h("code", {}, value)),
      ]),
    ),
    summary.errors.length > 0
      ? h(
          "ul",
          { class: "bad" },
          summary.errors.map((error) => h("li", {}, error)),
        )
      : null,
  );
}

/** @param {JobView} job */
function jobStatus(job) {
  if (job.status === "running") return h("td", {}, "running");
  if (job.status === "ok") return h("td", { class: "ok" }, "answered");
  return h("td", { class: "bad", title: job.error ?? "" }, `failed${job.error ? `: ${job.error}` : ""}`);
}

/** @param {JobView} job */
function jobProof(job) {
  const parts = [];
  if (job.receiptId)
    parts.push(h("span", { title: `receipt ${job.receiptId}` }, `receipt ${job.receiptId.substring(0, 6)}`));
  if (job.reexecution) {
    parts.push(" · ");
    parts.push(
      h(
        "span",
        { class: job.reexecution.match ? "ok" : "bad", title: "re-executed by a validator" },
        job.reexecution.match ? "match" : "MISMATCH",
      ),
    );
  }
  if (job.slashed) parts.push(" · ", h("strong", { class: "bad" }, "slashed"));
  return h("td", { class: "wrap" }, parts.length > 0 ? parts : "—");
}

/** @param {JobView} job */
function sealedCell(job) {
  if (job.sealedBytes === undefined && job.sealedResponseBytes === undefined) return h("td", {}, "—");
  return h(
    "td",
    { "data-sealed": job.sealedBytes ?? "" },
    `${formatBytes(job.sealedBytes)} → ${formatBytes(job.sealedResponseBytes)}`,
  );
}

function renderJobs() {
  const jobs = recentJobs(state).slice(0, ROWS_SHOWN);
  byId("job-rows").replaceChildren(
    ...(jobs.length === 0
      ? [emptyRow(13, "No jobs yet: send one from “Try it”.")]
      : jobs.map((job) =>
          h(
            "tr",
            { "data-job": job.jobId, "data-tier": job.tier, "data-status": job.status },
            h("td", {}, formatTime(job.routedAt ?? job.finishedAt)),
            h("th", { scope: "row", title: job.jobId }, jobLabel(job.jobId)),
            h("td", {}, tierBadge(job.tier)),
            workerCell(job.workerId),
            h("td", { class: "number" }, job.score === undefined ? "—" : formatDecimal(job.score)),
            h("td", { class: "number" }, formatCredits(job.holdCredits)),
            sealedCell(job),
            jobStatus(job),
            h("td", { class: "number" }, formatCredits(job.priceCredits)),
            h("td", { class: "number" }, formatCredits(job.refundedCredits)),
            h(
              "td",
              { class: "number" },
              formatMilliseconds(job.latencyMs),
              job.ttftMs === undefined
                ? null
                : h("span", { class: "note" }, ` (${formatMilliseconds(job.ttftMs)})`),
            ),
            h("td", { class: "number" }, formatInteger(job.tokens)),
            jobProof(job),
          ),
        )),
  );
}

function renderProofs() {
  const proofs = state.proofs.slice(-ROWS_SHOWN).reverse();
  byId("proof-rows").replaceChildren(
    ...(proofs.length === 0
      ? [emptyRow(5, "No proofs yet")]
      : proofs.map((proof) => {
          if (proof.kind === "receipt") {
            return h(
              "tr",
              { "data-proof": "receipt" },
              h("td", {}, formatTime(proof.at)),
              h("th", { scope: "row" }, "Receipt"),
              h("td", { title: proof.jobId }, jobLabel(proof.jobId)),
              workerCell(proof.workerId),
              h("td", { title: proof.receiptId }, `${proof.tier} receipt ${shortId(proof.receiptId)}`),
            );
          }
          if (proof.kind === "reexecution") {
            return h(
              "tr",
              { "data-proof": "reexecution", "data-match": String(proof.match) },
              h("td", {}, formatTime(proof.at)),
              h("th", { scope: "row" }, "Re-execution"),
              h("td", { title: proof.jobId }, jobLabel(proof.jobId)),
              workerCell(proof.workerId),
              h(
                "td",
                { class: proof.match ? "ok" : "bad" },
                `${proof.match ? "match" : "MISMATCH"} (validator ${workerName(proof.validatorId)})`,
              ),
            );
          }
          return h(
            "tr",
            { "data-proof": "attestation" },
            h("td", {}, formatTime(proof.at)),
            h("th", { scope: "row" }, "Attestation"),
            h("td", {}, "—"),
            workerCell(proof.workerId),
            h("td", { class: proof.summary.ok ? "ok" : "bad" }, attestationText(proof.summary)),
          );
        })),
  );
}

function renderSlashes() {
  const slashes = state.slashes.slice().reverse();
  byId("slash-rows").replaceChildren(
    ...(slashes.length === 0
      ? [emptyRow(8, "No cheater caught yet")]
      : slashes.map((slash) =>
          h(
            "tr",
            { "data-slash": slash.workerId },
            h("td", {}, formatTime(slash.at)),
            h("th", { scope: "row", title: slash.workerId }, workerName(slash.workerId)),
            h("td", { title: slash.jobId }, jobLabel(slash.jobId)),
            h("td", { class: "number bad" }, formatCredits(slash.bondCredits)),
            h("td", { class: "number" }, formatCredits(slash.challengerReward)),
            h("td", { class: "number" }, formatCredits(slash.burned)),
            h("td", { class: "number" }, formatCredits(slash.refundedCredits)),
            h("td", { class: "number" }, formatInteger(slash.reputation)),
          ),
        )),
  );
}

function renderPayments() {
  const payments = state.payments.slice().reverse();
  byId("payment-rows").replaceChildren(
    ...(payments.length === 0
      ? [emptyRow(5, "No settlements yet")]
      : payments.map((payment) =>
          h(
            "tr",
            { "data-payment": payment.kind },
            h("td", {}, formatTime(payment.at)),
            h("th", { scope: "row" }, payment.kind),
            h("td", { class: "number" }, formatCredits(payment.credits)),
            h("td", { title: payment.transaction }, h("code", {}, shortId(payment.transaction, 8))),
            h(
              "td",
              { title: payment.payer ?? "" },
              payment.payer ? h("code", {}, shortId(payment.payer, 6)) : "—",
            ),
          ),
        )),
  );
}

// ---------------------------------------------------------------------------------------------
// The event feed (the page's live region)

/**
 * One sentence per event, or `undefined` for events too frequent to read out (ledger updates).
 * @param {NetworkEvent} event
 * @returns {string | undefined}
 */
function describeEvent(event) {
  switch (event.type) {
    case "snapshot":
      return `Connected: ${event.snapshot.workers.length} workers, ${formatInteger(event.snapshot.jobs.total)} jobs so far.`;
    case "worker.joined":
      return `${event.worker.name} joined (${event.worker.tier}, ${event.worker.model}).`;
    case "worker.left":
      return `${workerName(event.workerId)} left.`;
    case "job.routed":
      return (
        `Job ${jobLabel(event.jobId)} (${event.tier}) routed to ${workerName(event.workerId)}, ` +
        `score ${formatDecimal(event.score)}, holding ${formatCredits(event.holdCredits)}` +
        (event.sealedBytes === undefined ? "." : `; sealed prompt of ${formatBytes(event.sealedBytes)}.`)
      );
    case "job.finished":
      return event.ok
        ? `Job ${jobLabel(event.jobId)} answered: ${formatInteger(event.tokens)} tokens in ` +
            `${formatMilliseconds(event.latencyMs)}, price ${formatCredits(event.priceCredits)}, ` +
            `refund ${formatCredits(event.refundedCredits)}.`
        : `Job ${jobLabel(event.jobId)} failed (${event.error ?? "error"}); refunded ${formatCredits(event.refundedCredits)}.`;
    case "job.reexecuted":
      return `${workerName(event.validatorId)} re-executed job ${jobLabel(event.jobId)}: ${event.match ? "match" : "MISMATCH"}.`;
    case "worker.slashed":
      return (
        `${workerName(event.workerId)} slashed: bond ${formatCredits(event.bondCredits)}, ` +
        `challenger reward ${formatCredits(event.challengerReward)}, burned ${formatCredits(event.burned)}.`
      );
    case "attestation.verified":
      return `Attestation of ${workerName(event.workerId)}: ${attestationText(event.summary)}.`;
    case "payment.settled":
      return `Payment settled (${event.kind}): ${formatCredits(event.credits)}, transaction ${shortId(event.transaction, 6)}.`;
    default:
      return undefined;
  }
}

/** @param {NetworkEvent} event */
function addToFeed(event) {
  const text = describeEvent(event);
  if (!text) return;
  const list = byId("feed-list");
  const kind =
    event.type === "worker.slashed" || (event.type === "job.reexecuted" && !event.match) ? "bad" : "";
  list.prepend(
    h(
      "li",
      { class: kind || null, "data-event": event.type },
      h("time", { datetime: event.at }, formatTime(event.at)),
      " ",
      text,
    ),
  );
  while (list.children.length > FEED_LIMIT) list.lastElementChild?.remove();
}

// ---------------------------------------------------------------------------------------------

render();
connect();
void refreshSnapshot();
setInterval(() => {
  if (document.visibilityState === "visible") void refreshSnapshot();
}, 15_000);
setupTryIt({ onAnswer: scheduleRefresh, workerName });
