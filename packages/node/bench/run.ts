/**
 * `pnpm bench`: the latency the node adds on top of the backend it forwards to, and its throughput with
 * the built-in model, side by side in one run.
 *
 * Method.
 * - "direct": a minimal OpenAI-compatible server (node:http, in this process) serving peer-tiny, as a
 *   JSON `chat.completion` or as `chat.completion.chunk` server-sent events. The client calls it directly.
 *   Client and server share one process here, so this column crosses no process boundary at all; the node
 *   column crosses four (host → enclave process over IPC, enclave → backend and back over HTTP, enclave
 *   → host), which the architecture needs (keys and inference live in their own process) and which, on
 *   a busy machine, each wait for a core. Both columns run the same model work: the same server, the
 *   same tokens (the node's worker always asks its upstream for a stream; a non-streamed request is
 *   answered as JSON by the node, so the JSON row's direct call generates the same tokens unstreamed).
 * - "through the node": `startNode` (SQLite in a temporary directory) with one open and one verified worker
 *   (`startWorker`, host in this process, enclave process forked) whose backend is `openai-compatible`,
 *   pointed at that same server. The only difference between the columns is the node: orchestrator HTTP,
 *   API-key auth, the ledger hold and capture, the job record, the WebSocket to the worker host, the IPC
 *   to the enclave process, receipt signing in the enclave and its check in the orchestrator. (The worker
 *   always streams from its upstream; a non-streamed request is answered as JSON by the node.)
 * - Every request is the same: one short user message, `seed` fixed, `max_tokens` {@link MAX_TOKENS}, so
 *   every answer carries the same tokens. Requests are sequential (one at a time), after a warm-up; the
 *   cells are interleaved round by round so a burst of load from other processes hits all of them alike.
 *   JSON: time to the last byte of the body. Stream: time to the first content token (TTFT) and to the
 *   last byte (`[DONE]`). The added latency is (node p50 − direct p50), goal ≤ 1 ms.
 * - Throughput: `concurrency` clients each sending requests back to back for a fixed time, streamed,
 *   through the node to a worker on the built-in backend (peer-tiny inside the enclave process); requests/s
 *   and TTFT p50/p99.
 * - The client, the backend server, the node and the worker host share this process's event loop (only
 *   the enclave is a separate process), so the figures are the CPU cost of the whole path on this
 *   machine, the client's share included in both columns. `validationRate` is 0: no job is re-executed.
 * - On a machine shared with other work, every hop between processes (client → node → enclave process →
 *   upstream and back) can wait for a core, so wall-clock figures swing with the load average (printed).
 *   "CPU/req" (CPU time of this process plus the enclave process per request, from process.cpuUsage and
 *   /proc) is much less sensitive to that; "added CPU" is the node's cost per request on that measure.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pino from "pino";
import { type ChatMessage, loadPeerTiny } from "../src/model/index.js";
import { startNode } from "../src/start-node.js";
import { startWorker, type WorkerHandle } from "../src/worker/host.js";
import { startFloorRelay } from "./floor-relay.js";

/** Measured requests per cell and round. */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** How long each throughput cell runs. */
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 3000);
const CONCURRENCIES = [1, 4, 16];
const MAX_TOKENS = 16;
/** USER_HZ of /proc/<pid>/stat on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;
const SEED = 7;
const GOAL_ADDED_P50_MS = 1;
const UPSTREAM_MODEL = "peer-tiny-upstream";
const MESSAGES: ChatMessage[] = [{ role: "user", content: "How does the node route a job to a worker?" }];

// ---------------------------------------------------------------------------------------------------
// The backend called directly: peer-tiny behind a minimal OpenAI-compatible server

const peerTiny = await loadPeerTiny();

interface UpstreamBody {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  seed?: number;
  max_tokens?: number;
}

async function serveCompletion(body: UpstreamBody, response: ServerResponse): Promise<void> {
  const events = peerTiny.generate({
    messages: body.messages,
    seed: body.seed ?? 0,
    ...(body.max_tokens !== undefined ? { maxTokens: body.max_tokens } : {}),
  });
  const base = { id: "chatcmpl-upstream", created: Math.floor(Date.now() / 1000), model: body.model };
  if (body.stream !== true) {
    let content = "";
    for await (const event of events) {
      if (event.type === "text") content += event.text;
      else if (event.type === "finish") {
        const { promptTokens, completionTokens } = event.usage;
        const json = JSON.stringify({
          ...base,
          object: "chat.completion",
          choices: [
            {
              index: 0,
              message: { role: "assistant", content, refusal: null },
              logprobs: null,
              finish_reason: event.finishReason,
            },
          ],
          usage: {
            prompt_tokens: promptTokens,
            completion_tokens: completionTokens,
            total_tokens: promptTokens + completionTokens,
          },
        });
        response.writeHead(200, { "content-type": "application/json" });
        response.end(json);
      }
    }
    return;
  }
  const chunk = (delta: object, finishReason: string | null) =>
    `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  response.write(chunk({ role: "assistant", content: "" }, null));
  for await (const event of events) {
    if (event.type === "text") response.write(chunk({ content: event.text }, null));
    else if (event.type === "finish") {
      response.write(chunk({}, event.finishReason));
      if (body.stream_options?.include_usage === true) {
        const { promptTokens, completionTokens } = event.usage;
        response.write(
          `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } })}\n\n`,
        );
      }
    }
  }
  response.end("data: [DONE]\n\n");
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const parts: Buffer[] = [];
  request.on("data", (part: Buffer) => parts.push(part));
  request.on("end", () => {
    if (request.method !== "POST" || !request.url?.endsWith("/chat/completions")) {
      response.writeHead(404).end();
      return;
    }
    serveCompletion(JSON.parse(Buffer.concat(parts).toString("utf8")) as UpstreamBody, response).catch(
      (error: unknown) => {
        response.destroy(error as Error);
      },
    );
  });
}

const upstream: Server = createServer(handle);
await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;

// ---------------------------------------------------------------------------------------------------
// The node, with workers on that upstream and one on the built-in backend

const dataDir = mkdtempSync(join(tmpdir(), "peer-bench-"));
const node = await startNode({
  port: 0,
  dataDir,
  logger: pino({ level: "silent" }),
  validationRate: 0,
});

async function admin(path: string, body: unknown): Promise<Record<string, string>> {
  const response = await fetch(`${node.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${node.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, string>;
}

const { api_key: apiKey } = await admin("/admin/accounts", { name: "bench", credits: 1_000_000_000 });
const workers: WorkerHandle[] = [];
async function worker(
  name: string,
  tier: "open" | "verified",
  backend: Parameters<typeof startWorker>[0]["backend"],
  model: string,
): Promise<void> {
  const { token } = await admin("/admin/worker-tokens", { name });
  workers.push(
    await startWorker({
      orchestrator: node.url,
      token: token as string,
      tier,
      model,
      backend,
      enclave: "simulated",
      pricePer1k: 1,
      bond: tier === "open" ? 0 : 1000,
      maxConcurrency: 64,
      name,
    }),
  );
}
const upstreamBackend = {
  kind: "openai-compatible",
  upstream: upstreamUrl,
  upstreamModel: "peer-tiny",
} as const;
await worker("bench-open", "open", upstreamBackend, UPSTREAM_MODEL);
await worker("bench-verified", "verified", upstreamBackend, UPSTREAM_MODEL);
await worker("bench-builtin", "verified", { kind: "builtin" }, "peer-tiny");

// ---------------------------------------------------------------------------------------------------
// One request, timed

interface Timing {
  /** ms to the last byte. */
  total: number;
  /** ms to the first content token (streams only). */
  ttft?: number;
}

const CONTENT_TOKEN = /"content":"[^"]/;

async function timed(
  url: string,
  headers: Record<string, string>,
  body: string,
  stream: boolean,
): Promise<Timing> {
  const started = performance.now();
  const response = await fetch(url, { method: "POST", headers, body });
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  if (!stream) {
    const text = await response.text();
    const total = performance.now() - started;
    if (!text.includes('"finish_reason":"length"')) throw new Error(`unexpected answer: ${text}`);
    return { total };
  }
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let ttft: number | undefined;
  let tail = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    if (ttft === undefined && CONTENT_TOKEN.test(text)) ttft = performance.now() - started;
    tail = (tail + text).slice(-64);
  }
  const total = performance.now() - started;
  if (ttft === undefined || !tail.includes("[DONE]")) throw new Error(`stream ended early: …${tail}`);
  return { total, ttft };
}

function requestBody(model: string, stream: boolean, tier?: string): string {
  return JSON.stringify({
    model,
    messages: MESSAGES,
    seed: SEED,
    max_tokens: MAX_TOKENS,
    ...(stream ? { stream: true } : {}),
    ...(tier ? { peer_tier: tier } : {}),
  });
}

interface Cell {
  readonly name: string;
  readonly stream: boolean;
  readonly send: () => Promise<Timing>;
  readonly totals: number[];
  readonly ttfts: number[];
  /** The enclave process its requests go through, if any. */
  readonly enclavePid: number | undefined;
  /** CPU ms spent in this process and in the enclave process over the measured requests. */
  cpuMs: number;
}

const json = { "content-type": "application/json" };
const authorized = { ...json, authorization: `Bearer ${apiKey}` };
const nodeUrl = `${node.url}/v1/chat/completions`;
const directUrl = `${upstreamUrl}/chat/completions`;

function cell(name: string, stream: boolean, send: () => Promise<Timing>, enclavePid?: number): Cell {
  return { name, stream, send, totals: [], ttfts: [], enclavePid, cpuMs: 0 };
}

/** CPU ms used so far by a child process (Linux /proc; 0 elsewhere). */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}
const selfCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const direct = {
  json: cell("direct", false, () => timed(directUrl, json, requestBody("peer-tiny", false), false)),
  stream: cell("direct", true, () => timed(directUrl, json, requestBody("peer-tiny", true), true)),
};
const through = (tier: "open" | "verified", enclavePid: number | undefined) => ({
  json: cell(
    `node, ${tier}`,
    false,
    () => timed(nodeUrl, authorized, requestBody(UPSTREAM_MODEL, false, tier), false),
    enclavePid,
  ),
  stream: cell(
    `node, ${tier}`,
    true,
    () => timed(nodeUrl, authorized, requestBody(UPSTREAM_MODEL, true, tier), true),
    enclavePid,
  ),
});
const relay = await startFloorRelay(upstreamUrl);
const floor = {
  json: cell(
    "floor relay",
    false,
    () => timed(relay.url, json, requestBody("peer-tiny", false), false),
    relay.pid,
  ),
  stream: cell(
    "floor relay",
    true,
    () => timed(relay.url, json, requestBody("peer-tiny", true), true),
    relay.pid,
  ),
};
const open = through("open", workers[0]?.enclavePid);
const verified = through("verified", workers[1]?.enclavePid);
const cells = [
  direct.json,
  floor.json,
  open.json,
  verified.json,
  direct.stream,
  floor.stream,
  open.stream,
  verified.stream,
];

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

// ---------------------------------------------------------------------------------------------------
// Run

console.log("@peercycles/node benchmark: added latency of the node, throughput with the built-in model");
console.log(
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}; peer-tiny, max_tokens ${MAX_TOKENS}; ` +
    `sequential: ${WARMUP} warm-up + ${ROUNDS} rounds × ${REQUESTS} requests per cell, cells interleaved; ` +
    `throughput: ${THROUGHPUT_MS} ms per concurrency, streamed\n`,
);
const startLoad = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");

for (const c of cells) for (let i = 0; i < WARMUP; i++) await c.send();
for (let round = 0; round < ROUNDS; round++) {
  process.stderr.write(`  sequential: round ${round + 1}/${ROUNDS}\r`);
  for (const c of cells) {
    const cpuBefore = selfCpuMs() + processCpuMs(c.enclavePid);
    for (let i = 0; i < REQUESTS; i++) {
      const timing = await c.send();
      c.totals.push(timing.total);
      if (timing.ttft !== undefined) c.ttfts.push(timing.ttft);
    }
    c.cpuMs += selfCpuMs() + processCpuMs(c.enclavePid) - cpuBefore;
  }
}

function table(header: string[], lines: string[][], numeric: (i: number) => boolean): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const pad = (cells: string[]) =>
    `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  console.log(pad(header));
  console.log(
    `|${widths.map((w, i) => (numeric(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`,
  );
  for (const line of lines) console.log(pad(line));
}

const lines: string[][] = [];
const added: Array<{ name: string; ms: number }> = [];
for (const c of cells) {
  const base = c.stream ? direct.stream : direct.json;
  const p50 = percentile(c.totals, 50);
  const addedP50 = p50 - percentile(base.totals, 50);
  const isDirect = c === base;
  const cpu = c.cpuMs / c.totals.length;
  if (!isDirect && !c.name.startsWith("floor"))
    added.push({ name: `${c.name}, ${c.stream ? "stream" : "JSON"}`, ms: addedP50 });
  lines.push([
    c.stream ? "stream" : "JSON",
    c.name,
    fmt(p50),
    fmt(percentile(c.totals, 99)),
    c.stream ? fmt(percentile(c.ttfts, 50)) : "",
    c.stream ? fmt(percentile(c.ttfts, 99)) : "",
    isDirect ? "" : fmt(addedP50),
    isDirect ? "" : fmt(percentile(c.totals, 99) - percentile(base.totals, 99)),
    fmt(cpu),
    isDirect ? "" : fmt(cpu - base.cpuMs / base.totals.length),
  ]);
}
process.stderr.write(`${" ".repeat(40)}\r`);
console.log(
  "Sequential requests, ms (last byte; TTFT = first content token; CPU/req = CPU ms of this process and the enclave process per request):",
);
table(
  ["request", "path", "p50", "p99", "TTFT p50", "TTFT p99", "added p50", "added p99", "CPU/req", "added CPU"],
  lines,
  (i) => i >= 2,
);

// Throughput with the built-in backend
const builtinBody = requestBody("peer-tiny", true, "verified");
const throughputLines: string[][] = [];
for (let i = 0; i < 20; i++) await timed(nodeUrl, authorized, builtinBody, true);
for (const concurrency of CONCURRENCIES) {
  process.stderr.write(`  throughput: concurrency ${concurrency}\r`);
  const ttfts: number[] = [];
  const totals: number[] = [];
  const started = performance.now();
  const until = started + THROUGHPUT_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const timing = await timed(nodeUrl, authorized, builtinBody, true);
        ttfts.push(timing.ttft as number);
        totals.push(timing.total);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  throughputLines.push([
    String(concurrency),
    fmt(totals.length / seconds),
    fmt(percentile(ttfts, 50)),
    fmt(percentile(ttfts, 99)),
    fmt(percentile(totals, 50)),
    fmt(percentile(totals, 99)),
  ]);
}
process.stderr.write(`${" ".repeat(40)}\r`);
console.log(
  "\nThroughput through the node, built-in backend (peer-tiny in the enclave process), streamed, verified tier:",
);
table(
  ["concurrency", "requests/s", "TTFT p50 ms", "TTFT p99 ms", "last byte p50 ms", "p99 ms"],
  throughputLines,
  (i) => i >= 0,
);

const worst = added.reduce((a, b) => (b.ms > a.ms ? b : a));
const met = worst.ms <= GOAL_ADDED_P50_MS;
console.log(
  `\nadded p50 (node − direct), goal ≤ ${GOAL_ADDED_P50_MS} ms: ${met ? "met" : "NOT MET"} ` +
    `(worst ${fmt(worst.ms)} ms: ${worst.name}; ${added.map((a) => `${a.name} ${fmt(a.ms)}`).join(", ")})`,
);
const floorAdded = (stream: boolean) =>
  percentile((stream ? floor.stream : floor.json).totals, 50) -
  percentile((stream ? direct.stream : direct.json).totals, 50);
console.log(
  `floor relay (the same process hops, no node logic) adds ${fmt(floorAdded(false))} ms p50 (JSON), ` +
    `${fmt(floorAdded(true))} ms (stream); the node adds ${fmt(worst.ms - floorAdded(worst.name.endsWith("stream")))} ms ` +
    `over that floor at its worst (${worst.name})`,
);
console.log(
  `load average at start ${startLoad}, at end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} (other processes on the machine skew every column)`,
);

await relay.close();
for (const w of workers) await w.close({ drainTimeoutMs: 1000 });
await node.close({ graceMs: 1000 });
upstream.closeAllConnections();
await new Promise<void>((resolve) => upstream.close(() => resolve()));
rmSync(dataDir, { recursive: true, force: true });
