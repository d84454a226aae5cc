import { randomBytes, randomInt } from "node:crypto";
import {
  type BundlePolicy,
  bindingKeyConfig,
  decodeBundle,
  decodeReceiptBody,
  type Receipt,
  receiptSigningMessage,
  verifyBundle,
} from "@peercycles/attest/bundle";
import {
  type ChatCompletionRequest,
  fromBase64Url,
  type NetworkEvent,
  type NetworkSnapshot,
  type OrchestratorMessage,
  outputHash,
  type PeerInfo,
  type ProtocolError,
  parseWorkerMessage,
  priceCredits,
  type ResultMessage,
  sha256Bytes,
  sha256Hex,
  type Tier,
  toBase64Url,
  toHex,
  type WireCompletionOutput,
  type WorkerMessage,
} from "@peercycles/protocol";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import {
  BURN_ACCOUNT,
  type Ledger,
  LedgerError,
  TREASURY_FEES_ACCOUNT,
  workerBondAccount,
  workerEarningsAccount,
} from "../ledger/index.js";
import { type Account, finishJobRecord, insertJob, type Store } from "../storage/index.js";
import { AsyncQueue } from "./async-queue.js";
import { summarizeBundle } from "./attestation-summary.js";
import { NodeError } from "./errors.js";
import type { NodeMetrics } from "./metrics.js";
import type { NetworkFeed } from "./network-feed.js";
import { type JobSink, WorkerRegistry, type WorkerSession } from "./registry.js";
import { verifyEd25519 } from "./verify-ed25519.js";

/** Tunables of the orchestrator. Every default is documented in docs/node.md. */
export interface OrchestratorOptions {
  readonly store: Store;
  readonly ledger: Ledger;
  readonly logger: Logger;
  readonly metrics: NodeMetrics;
  readonly feed: NetworkFeed;
  /** Share of verified jobs re-executed by a validator, 0..1. Default 0.05. */
  readonly validationRate?: number;
  /** Treasury fee on each capture, basis points. Default 500 (5%). */
  readonly feeBps?: number;
  /** Challenger's share of a slashed bond (after the client's refund), basis points. Default 5000. */
  readonly slashRewardBps?: number;
  /** A job that has not finished after this long is cancelled and refunded. Default 120 s. */
  readonly jobTimeoutMs?: number;
  /** How long a request waits for a busy eligible worker to free up. Default 10 s. */
  readonly queueTimeoutMs?: number;
  /** Most completion tokens of a confidential job (its body is sealed, so this bounds the hold). Default 1024. */
  readonly confidentialMaxTokens?: number;
  /** Policy confidential workers' bundles must meet; without one, confidential workers are refused. */
  readonly attestationPolicy?: BundlePolicy;
  /** Clock. */
  readonly now?: () => number;
  /** Uniform [0, 1) source for the validation sample (tests inject one). */
  readonly random?: () => number;
}

/** What a plain (open or verified) request asks for, after parsing and authentication. */
export interface PlainJobRequest {
  readonly account: Account;
  /** The body exactly as received: its SHA-256 is the receipt's request hash. */
  readonly body: string;
  readonly request: ChatCompletionRequest;
  readonly tier: "open" | "verified";
  readonly maxTokens: number;
  readonly promptTokens: number;
  readonly signal: AbortSignal;
}

/** A confidential request: sealed bytes plus the clear routing headers. */
export interface SealedJobRequest {
  readonly account: Account;
  readonly sealed: Uint8Array;
  readonly workerId: string;
  readonly keyId: number;
  readonly model: string;
  readonly stream: boolean;
  readonly signal: AbortSignal;
}

/** What a running job yields to the HTTP side. */
export type JobEvent =
  | {
      readonly type: "chunk";
      readonly content?: string;
      readonly toolCall?: WireCompletionOutput["tool_calls"][number];
    }
  | { readonly type: "sealed"; readonly bytes: Uint8Array }
  | {
      readonly type: "done";
      readonly peer: PeerInfo;
      readonly output?: WireCompletionOutput;
      readonly sealed?: Uint8Array;
    };

/** A routed, held job. Iterate `events`; it fails with a {@link NodeError} after refunding. */
export interface RunningJob {
  readonly id: string;
  readonly workerId: string;
  readonly seed: number;
  readonly holdCredits: number;
  readonly created: number;
  readonly events: AsyncIterable<JobEvent>;
  /** The client went away: cancel on the worker and refund. */
  cancel(reason: string): void;
}

interface ActiveJob {
  readonly id: string;
  readonly tier: Tier;
  readonly accountId: string;
  readonly session: WorkerSession;
  readonly seed: number;
  readonly model: string;
  readonly holdCredits: number;
  readonly started: number;
  readonly queue: AsyncQueue<JobEvent>;
  readonly requestHash: Uint8Array;
  readonly body?: string;
  readonly maxTokens: number;
  readonly sealedParts: Uint8Array[];
  firstChunkAt?: number;
  settled: boolean;
  timer?: NodeJS.Timeout;
}

const RECEIPT_CLOCK_SKEW_S = 300;
const REPUTATION_GOOD_JOB = 1;
const REPUTATION_BAD_OUTPUT = -100;
const REPUTATION_VALIDATED = 5;
const REPUTATION_SLASHED = -400;

/**
 * The job ids a frame that failed to parse names, read leniently: its `job_id`, or each `job_id` in
 * its `chunks`. A frame that is not even JSON names none.
 */
function namedJobIds(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof value !== "object" || value === null) return [];
  const { job_id: jobId, chunks } = value as { job_id?: unknown; chunks?: unknown };
  const items: unknown[] = Array.isArray(chunks) ? chunks : [];
  const named = items.map((item) =>
    typeof item === "object" && item !== null ? (item as { job_id?: unknown }).job_id : undefined,
  );
  return [jobId, ...named].filter((id): id is string => typeof id === "string");
}

function newJobId(): string {
  return `job_${toHex(randomBytes(12))}`;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The orchestrator: the worker registry, routing, the job lifecycle (hold → dispatch → verify the
 * receipt → capture, or refund on any failure), re-execution by validators and slashing.
 */
export class Orchestrator {
  readonly registry = new WorkerRegistry();
  readonly #o: Required<Omit<OrchestratorOptions, "attestationPolicy">> & {
    attestationPolicy?: BundlePolicy;
  };
  readonly #jobs = new Map<string, ActiveJob>();
  readonly #background = new Set<Promise<void>>();
  readonly #stats = { total: 0, succeeded: 0, failed: 0, reexecuted: 0, mismatches: 0 };
  readonly startedAt = new Date();
  /** Set by the payments layer: the treasury wallet's USDC on chain, in base units, for the ledger figures. */
  treasuryUsdcOnChain: (() => Promise<bigint>) | undefined;
  #draining = false;

  constructor(options: OrchestratorOptions) {
    this.#o = {
      validationRate: 0.05,
      feeBps: 500,
      slashRewardBps: 5000,
      jobTimeoutMs: 120_000,
      queueTimeoutMs: 10_000,
      confidentialMaxTokens: 1024,
      now: Date.now,
      random: Math.random,
      ...options,
    };
    if (!(this.#o.validationRate >= 0 && this.#o.validationRate <= 1)) {
      throw new RangeError("validationRate must be within 0..1");
    }
  }

  get validationRate(): number {
    return this.#o.validationRate;
  }

  get inFlight(): number {
    return this.#jobs.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  #emit(event: NetworkEvent): void {
    this.#o.feed.emit(event);
  }

  #at(): string {
    return new Date(this.#o.now()).toISOString();
  }

  /** Refunds every job a previous run left held (a crash mid-job): no credits stay held. */
  async recover(): Promise<number> {
    const open = await this.#o.store.jobs.listOpenJobs();
    for (const job of open) {
      await this.#refundHold(job.id, "node restarted while the job ran");
      await this.#o.store.jobs
        .finishJob(job.id, {
          status: "failed",
          priceCredits: null,
          promptTokens: null,
          completionTokens: null,
          outputHash: null,
          receipt: null,
          error: "node restarted while the job ran; refunded",
          finishedAt: this.#o.now(),
        })
        .catch(() => undefined);
    }
    return open.length;
  }

  async #refundHold(jobId: string, reason: string): Promise<number> {
    const hold = await this.#o.ledger.holdOf(jobId);
    if (!hold || hold.settlement !== null) return 0;
    try {
      await this.#o.ledger.refund(jobId, { reason });
      this.#o.metrics.creditsRefunded.inc({ reason: "failed" }, hold.heldCredits);
      return hold.heldCredits;
    } catch (error) {
      if (LedgerError.isInstance(error) && error.code === "job_already_settled") return 0;
      throw error;
    }
  }

  // ----------------------------------------------------------------------------------------
  // Workers

  /** Serves one worker WebSocket: `hello` first, then job traffic. */
  handleConnection(socket: WebSocket): void {
    let session: WorkerSession | undefined;
    const helloTimer = setTimeout(() => socket.close(4001, "no hello within 10 s"), 10_000);
    const reject = (code: string, message: string) => {
      socket.send(JSON.stringify({ type: "rejected", code, message } satisfies OrchestratorMessage));
      socket.close(4003, code);
    };
    let helloSeen = false;
    socket.on("message", (data, isBinary) => {
      if (isBinary) {
        socket.close(1003, "text frames only");
        return;
      }
      const text = data.toString();
      let message: WorkerMessage;
      try {
        message = parseWorkerMessage(text);
      } catch (error) {
        if (session) this.#garbage(session, text, error);
        else reject("protocol_message_invalid", (error as Error).message);
        return;
      }
      if (message.type === "hello") {
        if (helloSeen) return reject("protocol_message_invalid", "hello sent twice");
        helloSeen = true;
        clearTimeout(helloTimer);
        this.#register(socket, message)
          .then((registered) => {
            session = registered;
          })
          .catch((error: unknown) => {
            const code = error instanceof NodeError ? error.code : "registration_failed";
            this.#o.logger.warn({ err: error }, "worker registration refused");
            reject(code, (error as Error).message);
          });
        return;
      }
      if (!session) return reject("protocol_message_invalid", "the first message must be hello");
      this.#dispatch(session, message);
    });
    socket.on("close", () => {
      clearTimeout(helloTimer);
      if (session) this.#drop(session);
    });
    socket.on("error", (error) => this.#o.logger.warn({ err: error }, "worker socket error"));
  }

  async #register(
    socket: WebSocket,
    hello: Extract<WorkerMessage, { type: "hello" }>,
  ): Promise<WorkerSession> {
    const { store, ledger } = this.#o;
    const token = await store.workers.findWorkerToken(hello.token);
    if (!token) throw new NodeError("invalid_api_key", "unknown worker token");
    const signingKey = (() => {
      try {
        return fromBase64Url(hello.signing_key);
      } catch {
        return new Uint8Array(0);
      }
    })();
    if (signingKey.length !== 32) throw new NodeError("invalid_request", "signing_key must be 32 bytes");
    const tier: Tier = hello.role === "validator" ? "verified" : hello.tier;
    const id = `w_${sha256Hex(`${sha256Hex(hello.token)}|${hello.role}|${tier}|${hello.model}|${hello.name ?? ""}`).slice(0, 16)}`;
    let bundle: Uint8Array | undefined;
    let attestation: WorkerSession["attestation"];
    if (hello.role === "worker" && tier === "confidential") {
      if (!hello.bundle || hello.key_id === undefined) {
        throw new NodeError(
          "attestation_unavailable",
          "a confidential worker must present a bundle and key_id",
        );
      }
      if (!this.#o.attestationPolicy) {
        throw new NodeError(
          "attestation_unavailable",
          "this node has no attestation policy for confidential workers",
        );
      }
      bundle = fromBase64Url(hello.bundle);
      const result = await verifyBundle(decodeBundle(bundle), {
        policy: this.#o.attestationPolicy,
        now: new Date(this.#o.now()),
        offline: true,
      });
      attestation = summarizeBundle(result, hello.key_id);
      if (!result.ok) {
        throw new NodeError(
          "attestation_unavailable",
          `attestation bundle refused: ${result.errors.map((e) => e.code).join(", ")}`,
        );
      }
      if (!equalBytes(result.decodedBinding.signingPublicKey, signingKey)) {
        throw new NodeError(
          "attestation_unavailable",
          "signing_key is not the bundle's attested signing key",
        );
      }
      if (bindingKeyConfig(result.decodedBinding).keyId !== hello.key_id) {
        throw new NodeError("attestation_unavailable", "key_id is not the bundle's HPKE key id");
      }
      if (result.decodedBinding.model !== hello.model) {
        throw new NodeError("attestation_unavailable", "the bundle attests another model");
      }
    }
    const stored = await store.workers.upsertWorker({
      id,
      name: hello.name ?? token.name,
      tier,
      model: hello.model,
      priceCredits: hello.price_per_1k,
      signingPublicKey: toHex(signingKey),
      attestation: attestation ? JSON.stringify(attestation) : null,
    });
    if (hello.role === "worker" && tier !== "open" && hello.bond_credits > 0) {
      try {
        await ledger.depositBond(id, hello.bond_credits, { reference: `bond:${id}` });
      } catch (error) {
        // The first bond is posted once per worker: a slashed worker does not get a fresh one by reconnecting.
        if (!(LedgerError.isInstance(error) && error.code === "idempotency_conflict")) throw error;
      }
    }
    const [bond, earnings] = await Promise.all([
      ledger.balance(workerBondAccount(id)),
      ledger.balance(workerEarningsAccount(id)),
    ]);
    const session: WorkerSession = {
      id,
      name: stored.name,
      role: hello.role,
      tier,
      model: hello.model,
      weightsDigest: hello.weights_digest,
      deterministic: hello.deterministic,
      backend: hello.backend,
      pricePer1k: hello.price_per_1k,
      maxConcurrency: hello.max_concurrency,
      signingKey,
      signingKeyText: hello.signing_key,
      ...(bundle ? { bundle, keyId: hello.key_id } : {}),
      ...(attestation ? { attestation } : {}),
      reputation: stored.reputation,
      throughputTps: stored.tokensPerSecond ?? 0,
      bondCredits: bond,
      earningsCredits: earnings,
      jobsDone: 0,
      slashed: 0,
      busy: 0,
      connected: true,
      jobs: new Map(),
      pending: new Map(),
      send: (message) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
      },
      close: (code, reason) => socket.close(code, reason),
    };
    if (socket.readyState !== socket.OPEN) throw new NodeError("worker_disconnected", "closed during hello");
    this.registry.add(session);
    session.send({ type: "welcome", worker_id: id, reputation: stored.reputation, bond_credits: bond });
    this.#o.metrics.workersConnected.inc({ tier, role: hello.role });
    this.#o.logger.info(
      { worker: id, name: session.name, role: hello.role, tier, model: hello.model },
      "worker connected",
    );
    this.#emit({ type: "worker.joined", at: this.#at(), worker: this.registry.describe(session) });
    if (attestation)
      this.#emit({ type: "attestation.verified", at: this.#at(), workerId: id, summary: attestation });
    return session;
  }

  #drop(session: WorkerSession): void {
    if (!session.connected) return;
    session.connected = false;
    this.registry.remove(session);
    this.#o.metrics.workersConnected.dec({ tier: session.tier, role: session.role });
    for (const sink of [...session.jobs.values()]) sink.onLost("worker disconnected");
    session.jobs.clear();
    for (const [key, resolve] of session.pending) {
      resolve({ type: "verdict", job_id: key, error: "worker disconnected" });
    }
    session.pending.clear();
    this.#o.logger.info({ worker: session.id }, "worker disconnected");
    this.#emit({ type: "worker.left", at: this.#at(), workerId: session.id });
  }

  /** A frame that does not parse: fail the jobs it names (a `chunks` frame may name several), or drop the connection. */
  #garbage(session: WorkerSession, text: string, error: unknown): void {
    const sinks = new Map<string, JobSink>();
    for (const jobId of namedJobIds(text)) {
      const sink = session.jobs.get(jobId);
      if (sink) sinks.set(jobId, sink);
    }
    if (sinks.size > 0) {
      for (const [jobId, sink] of sinks) {
        sink.onMessage({
          type: "job_error",
          job_id: jobId,
          code: "backend_failed",
          message: `malformed message: ${(error as ProtocolError).message}`,
        });
      }
      void this.#adjustReputation(session, REPUTATION_BAD_OUTPUT);
      return;
    }
    this.#o.logger.warn({ worker: session.id, err: error }, "malformed worker message; closing");
    session.close(1008, "malformed message");
  }

  #dispatch(session: WorkerSession, message: WorkerMessage): void {
    switch (message.type) {
      case "chunk":
      case "sealed_chunk":
      case "result":
      case "job_error":
        session.jobs.get(message.job_id)?.onMessage(message);
        return;
      case "chunks":
        for (const chunk of message.chunks) session.jobs.get(chunk.job_id)?.onMessage(chunk);
        return;
      case "attestation": {
        const waiter = session.pending.get(message.request_id);
        session.pending.delete(message.request_id);
        waiter?.(message);
        return;
      }
      case "verdict": {
        const waiter = session.pending.get(message.job_id);
        session.pending.delete(message.job_id);
        waiter?.(message);
        return;
      }
      default:
        return;
    }
  }

  async #adjustReputation(session: WorkerSession, delta: number): Promise<void> {
    try {
      session.reputation = await this.#o.store.workers.adjustReputation(session.id, delta);
    } catch (error) {
      this.#o.logger.warn({ err: error, worker: session.id }, "reputation update failed");
    }
  }

  // ----------------------------------------------------------------------------------------
  // Routing

  async #route(
    tier: Tier,
    model: string,
    signal: AbortSignal,
    only?: string,
  ): Promise<{ session: WorkerSession; score: number }> {
    if (this.#draining) throw new NodeError("shutting_down");
    const deadline = this.#o.now() + this.#o.queueTimeoutMs;
    for (;;) {
      const { route, eligible } = this.registry.pick(tier, model, only);
      if (route) return route;
      if (eligible === 0) {
        if (!this.registry.servesModel(model) && only === undefined) {
          throw new NodeError("model_not_found", `no worker serves the model ${JSON.stringify(model)}`, {
            param: "model",
          });
        }
        throw new NodeError(
          "no_worker_available",
          only !== undefined
            ? `worker ${only} is not connected as an eligible ${tier} worker for ${model}`
            : `no eligible ${tier} worker is connected for ${model}`,
        );
      }
      const left = deadline - this.#o.now();
      if (left <= 0 || signal.aborted) {
        throw new NodeError("no_worker_available", `every eligible ${tier} worker for ${model} stayed busy`);
      }
      await this.registry.waitForCapacity(Math.min(left, 1000), signal);
    }
  }

  // ----------------------------------------------------------------------------------------
  // Jobs

  /** Routes, holds the maximum price and dispatches an open or verified job. */
  async startPlainJob(request: PlainJobRequest): Promise<RunningJob> {
    const { session, score } = await this.#route(request.tier, request.request.model, request.signal);
    const holdCredits = priceCredits(
      { prompt_tokens: request.promptTokens, completion_tokens: request.maxTokens },
      session.pricePer1k,
    );
    const seed = request.request.seed ?? randomInt(0, 2 ** 32);
    const job = await this.#open({
      tier: request.tier,
      account: request.account,
      session,
      score,
      seed,
      model: request.request.model,
      holdCredits,
      maxTokens: request.maxTokens,
      stream: request.request.stream === true,
      requestHash: sha256Bytes(request.body),
      body: request.body,
    });
    session.send({
      type: "job",
      job_id: job.id,
      tier: request.tier,
      model: request.request.model,
      seed,
      stream: request.request.stream === true,
      max_tokens: request.maxTokens,
      body: request.body,
    });
    return this.#running(job, request.signal);
  }

  /** The hold of a sealed request to `workerId`: what a request without an account must pay. */
  quoteSealed(workerId: string, model: string, sealedBytes: number): number {
    const target = this.registry.get(workerId);
    if (target?.role !== "worker" || target.tier !== "confidential" || target.model !== model) {
      throw new NodeError("sealed_request_invalid", `no confidential worker ${workerId} serves ${model}`, {
        param: "peer-worker",
      });
    }
    return priceCredits(
      { prompt_tokens: sealedBytes, completion_tokens: this.#o.confidentialMaxTokens },
      target.pricePer1k,
    );
  }

  /** Relays a sealed confidential request to the worker it is addressed to. */
  async startSealedJob(request: SealedJobRequest): Promise<RunningJob> {
    const target = this.registry.get(request.workerId);
    if (target?.role !== "worker" || target.tier !== "confidential") {
      throw new NodeError(
        "sealed_request_invalid",
        `no confidential worker ${request.workerId} is connected`,
        {
          param: "peer-worker",
        },
      );
    }
    if (target.keyId !== request.keyId) {
      throw new NodeError(
        "sealed_request_invalid",
        `worker ${request.workerId} holds no key with id ${request.keyId}`,
        {
          param: "peer-key-id",
        },
      );
    }
    if (target.model !== request.model) {
      throw new NodeError(
        "sealed_request_invalid",
        `worker ${request.workerId} does not serve ${request.model}`,
        {
          param: "peer-model",
        },
      );
    }
    const { session, score } = await this.#route(
      "confidential",
      request.model,
      request.signal,
      request.workerId,
    );
    const maxTokens = this.#o.confidentialMaxTokens;
    // The prompt is sealed: its token count is at most its byte count.
    const holdCredits = priceCredits(
      { prompt_tokens: request.sealed.length, completion_tokens: maxTokens },
      session.pricePer1k,
    );
    const seed = randomInt(0, 2 ** 32);
    const job = await this.#open({
      tier: "confidential",
      account: request.account,
      session,
      score,
      seed,
      model: request.model,
      holdCredits,
      maxTokens,
      stream: request.stream,
      requestHash: sha256Bytes(request.sealed),
      sealedBytes: request.sealed.length,
    });
    session.send({
      type: "job",
      job_id: job.id,
      tier: "confidential",
      model: request.model,
      seed,
      stream: request.stream,
      max_tokens: maxTokens,
      sealed: toBase64Url(request.sealed),
    });
    return this.#running(job, request.signal);
  }

  async #open(input: {
    tier: Tier;
    account: Account;
    session: WorkerSession;
    score: number;
    seed: number;
    model: string;
    holdCredits: number;
    maxTokens: number;
    stream: boolean;
    requestHash: Uint8Array;
    body?: string;
    sealedBytes?: number;
  }): Promise<ActiveJob> {
    const id = newJobId();
    const { ledger } = this.#o;
    try {
      // The job's row commits with its hold, or neither does.
      await ledger.hold(id, input.account.id, input.holdCredits, {
        alongside: (trx) =>
          insertJob(trx, {
            id,
            accountId: input.account.id,
            tier: input.tier,
            model: input.model,
            workerId: input.session.id,
            maxCredits: input.holdCredits,
            seed: input.seed,
            stream: input.stream,
            requestHash: toHex(input.requestHash),
            createdAt: this.#o.now(),
          }),
      });
    } catch (error) {
      if (LedgerError.isInstance(error) && error.code === "insufficient_credits") {
        const available = (error.details as { available?: number } | undefined)?.available ?? 0;
        throw new NodeError(
          "insufficient_credits",
          `this request may cost up to ${input.holdCredits} credits; the balance is ${available}`,
          { details: { priceCredits: input.holdCredits, balance: available } },
        );
      }
      throw error;
    }
    const job: ActiveJob = {
      id,
      tier: input.tier,
      accountId: input.account.id,
      session: input.session,
      seed: input.seed,
      model: input.model,
      holdCredits: input.holdCredits,
      started: this.#o.now(),
      queue: new AsyncQueue<JobEvent>(),
      requestHash: input.requestHash,
      ...(input.body !== undefined ? { body: input.body } : {}),
      maxTokens: input.maxTokens,
      sealedParts: [],
      settled: false,
    };
    this.#jobs.set(id, job);
    this.#stats.total += 1;
    input.session.busy += 1;
    const sink: JobSink = {
      onMessage: (message) => this.#onJobMessage(job, message),
      onLost: (reason) =>
        void this.#fail(
          job,
          new NodeError("worker_disconnected", `the worker ${reason} before finishing the job`),
        ),
    };
    input.session.jobs.set(id, sink);
    job.timer = setTimeout(() => {
      input.session.send({ type: "cancel", job_id: id });
      void this.#fail(
        job,
        new NodeError("job_timeout", `the job did not finish within ${this.#o.jobTimeoutMs} ms`),
      );
    }, this.#o.jobTimeoutMs);
    this.#emit({
      type: "job.routed",
      at: this.#at(),
      jobId: id,
      tier: input.tier,
      model: input.model,
      workerId: input.session.id,
      score: input.score,
      holdCredits: input.holdCredits,
      stream: input.stream,
      ...(input.sealedBytes !== undefined ? { sealedBytes: input.sealedBytes } : {}),
    });
    return job;
  }

  #running(job: ActiveJob, signal: AbortSignal): RunningJob {
    const cancel = (reason: string) => {
      if (job.settled) return;
      job.session.send({ type: "cancel", job_id: job.id });
      void this.#fail(job, new NodeError("job_timeout", `cancelled: ${reason}`), "cancelled");
    };
    if (signal.aborted) cancel("the client went away");
    else signal.addEventListener("abort", () => cancel("the client went away"), { once: true });
    return {
      id: job.id,
      workerId: job.session.id,
      seed: job.seed,
      holdCredits: job.holdCredits,
      created: job.started,
      events: job.queue,
      cancel,
    };
  }

  #onJobMessage(
    job: ActiveJob,
    message: Extract<WorkerMessage, { type: "chunk" | "sealed_chunk" | "result" | "job_error" }>,
  ): void {
    if (job.settled) return;
    switch (message.type) {
      case "chunk":
        if (job.tier === "confidential") {
          void this.#fail(
            job,
            new NodeError("worker_output_invalid", "plaintext chunk on a confidential job"),
          );
          return;
        }
        job.firstChunkAt ??= this.#o.now();
        job.queue.push({
          type: "chunk",
          ...(message.content !== undefined ? { content: message.content } : {}),
          ...(message.tool_call ? { toolCall: message.tool_call } : {}),
        });
        return;
      case "sealed_chunk": {
        if (job.tier !== "confidential") {
          void this.#fail(job, new NodeError("worker_output_invalid", "sealed chunk on a plain job"));
          return;
        }
        job.firstChunkAt ??= this.#o.now();
        const bytes = fromBase64Url(message.data);
        job.sealedParts.push(bytes);
        job.queue.push({ type: "sealed", bytes });
        return;
      }
      case "job_error":
        void this.#fail(
          job,
          new NodeError(
            message.code === "request_invalid"
              ? "invalid_request"
              : message.code === "sealed_request_invalid"
                ? "sealed_request_invalid"
                : "worker_failed",
            `worker: ${message.message}`,
          ),
        );
        return;
      case "result":
        void this.#complete(job, message).catch((error: unknown) => {
          this.#o.logger.error({ err: error, job: job.id }, "settling a job failed");
          void this.#fail(
            job,
            error instanceof NodeError ? error : new NodeError("internal_error", "settling the job failed"),
          );
        });
        return;
    }
  }

  /** Checks the worker's receipt against what it delivered; returns the decoded receipt or a reason. */
  #checkReceipt(job: ActiveJob, message: ResultMessage): { receipt: Receipt; body: Uint8Array } | string {
    let body: Uint8Array;
    let signature: Uint8Array;
    let receipt: Receipt;
    try {
      body = fromBase64Url(message.receipt.body);
      signature = fromBase64Url(message.receipt.signature);
      receipt = decodeReceiptBody(body);
    } catch (error) {
      return `receipt does not decode: ${(error as Error).message}`;
    }
    let valid = false;
    try {
      valid = verifyEd25519(signature, receiptSigningMessage(body), job.session.signingKey);
    } catch {
      valid = false;
    }
    if (!valid) return "receipt signature does not verify with the worker's key";
    if (!equalBytes(receipt.requestHash, job.requestHash)) return "receipt commits to another request";
    if (receipt.model !== job.model) return "receipt names another model";
    if (receipt.worker !== job.session.id) return "receipt names another worker";
    if (BigInt(receipt.seed) !== BigInt(job.seed) && job.tier !== "confidential")
      return "receipt names another seed";
    if (
      receipt.usage.promptTokens !== message.usage.prompt_tokens ||
      receipt.usage.completionTokens !== message.usage.completion_tokens
    ) {
      return "usage differs from the signed usage";
    }
    if (message.usage.completion_tokens > job.maxTokens) return "more completion tokens than allowed";
    if (Math.abs(receipt.time - this.#o.now() / 1000) > RECEIPT_CLOCK_SKEW_S) return "receipt time is off";
    if (job.tier === "confidential") {
      const sealed = message.sealed !== undefined ? fromBase64Url(message.sealed) : concat(job.sealedParts);
      if (sealed.length === 0) return "no sealed answer";
      if (!equalBytes(receipt.responseHash, sha256Bytes(sealed)))
        return "receipt commits to other sealed bytes";
    } else {
      if (!message.output) return "result carries no output";
      const hash = outputHash({
        content: message.output.content,
        toolCalls: message.output.tool_calls,
        finishReason: message.output.finish_reason,
      });
      if (toHex(receipt.responseHash) !== hash) return "receipt commits to another output";
    }
    return { receipt, body };
  }

  async #complete(job: ActiveJob, message: ResultMessage): Promise<void> {
    const checked = this.#checkReceipt(job, message);
    if (typeof checked === "string") {
      await this.#adjustReputation(job.session, REPUTATION_BAD_OUTPUT);
      await this.#fail(
        job,
        new NodeError("worker_output_invalid", `the worker's result does not check: ${checked}`),
      );
      return;
    }
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    const { ledger, store, metrics } = this.#o;
    const price = Math.min(job.holdCredits, priceCredits(message.usage, job.session.pricePer1k));
    const finished = this.#o.now();
    const latencyMs = finished - job.started;
    const tokens = message.usage.prompt_tokens + message.usage.completion_tokens;
    const receiptId = sha256Hex(checked.body);
    const outputHashHex = toHex(checked.receipt.responseHash);
    const wire = {
      body: message.receipt.body,
      signature: message.receipt.signature,
      signing_key: job.session.signingKeyText,
      id: receiptId,
    };
    // The capture and the job's final state commit together: a captured job is never left running.
    await ledger.capture(job.id, {
      credits: price,
      workerId: job.session.id,
      feeBps: this.#o.feeBps,
      alongside: (trx) =>
        finishJobRecord(trx, job.id, {
          status: "succeeded",
          priceCredits: price,
          promptTokens: message.usage.prompt_tokens,
          completionTokens: message.usage.completion_tokens,
          outputHash: outputHashHex,
          receipt: JSON.stringify(wire),
          error: null,
          finishedAt: finished,
        }),
    });
    this.#release(job);
    this.#stats.succeeded += 1;
    const session = job.session;
    const sealed = message.sealed !== undefined ? fromBase64Url(message.sealed) : undefined;
    const peer: PeerInfo = {
      tier: job.tier,
      worker: session.id,
      job_id: job.id,
      model: job.model,
      // A confidential body is sealed: the enclave uses its seed when it names one, and signs it.
      seed: job.tier === "confidential" ? Number(checked.receipt.seed) : job.seed,
      price_credits: price,
      usage: message.usage,
      receipt: wire,
      ...(job.tier === "confidential"
        ? { key_id: session.keyId, simulated: session.attestation?.simulated ?? false }
        : {}),
    };
    job.queue.push({
      type: "done",
      peer,
      ...(message.output ? { output: message.output } : {}),
      ...(sealed ? { sealed } : {}),
    });
    job.queue.end();
    // The answer is out: what follows (figures, reputation, the feed, re-execution) does not delay it,
    // and drain() waits for it.
    this.#track(
      (async () => {
        session.jobsDone += 1;
        session.earningsCredits = await ledger.balance(workerEarningsAccount(session.id));
        const sampled = latencyMs > 0 && message.usage.completion_tokens > 0;
        try {
          // Reputation and throughput in one statement (one commit).
          const figures = await store.workers.recordJobDone(session.id, {
            reputationDelta: REPUTATION_GOOD_JOB,
            ...(sampled ? { tokensPerSecond: message.usage.completion_tokens / (latencyMs / 1000) } : {}),
          });
          session.reputation = figures.reputation;
          if (sampled && figures.tokensPerSecond !== null) session.throughputTps = figures.tokensPerSecond;
        } catch (error) {
          this.#o.logger.warn({ err: error, worker: session.id }, "reputation update failed");
        }
        metrics.jobs.inc({ tier: job.tier, outcome: "succeeded" });
        metrics.jobDuration.observe({ tier: job.tier }, latencyMs / 1000);
        if (job.firstChunkAt !== undefined)
          metrics.timeToFirstToken.observe({ tier: job.tier }, (job.firstChunkAt - job.started) / 1000);
        metrics.tokens.inc({ tier: job.tier, kind: "prompt" }, message.usage.prompt_tokens);
        metrics.tokens.inc({ tier: job.tier, kind: "completion" }, message.usage.completion_tokens);
        metrics.creditsCaptured.inc({ tier: job.tier }, price);
        if (job.holdCredits > price)
          metrics.creditsRefunded.inc({ reason: "unused_hold" }, job.holdCredits - price);
        this.#emit({
          type: "job.finished",
          at: this.#at(),
          jobId: job.id,
          tier: job.tier,
          workerId: session.id,
          ok: true,
          priceCredits: price,
          refundedCredits: job.holdCredits - price,
          latencyMs,
          ...(job.firstChunkAt !== undefined ? { ttftMs: job.firstChunkAt - job.started } : {}),
          tokens,
          receiptId,
          ...(job.tier === "confidential"
            ? { sealedResponseBytes: sealed?.length ?? job.sealedParts.reduce((n, p) => n + p.length, 0) }
            : {}),
        });
        if (job.tier === "verified" && job.body !== undefined && this.#o.random() < this.#o.validationRate) {
          await this.#validate(job, outputHashHex, price).catch((error: unknown) =>
            this.#o.logger.error({ err: error, job: job.id }, "re-execution failed"),
          );
        }
      })(),
    );
  }

  /** Runs work after an answer went out; drain() waits for it, and a failure is logged, never thrown. */
  #track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) =>
      this.#o.logger.error({ err: error }, "bookkeeping after a job failed"),
    );
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }

  async #fail(job: ActiveJob, error: NodeError, outcome: "failed" | "cancelled" = "failed"): Promise<void> {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    this.#release(job);
    let refunded = 0;
    try {
      refunded = await this.#refundHold(job.id, error.message);
      await this.#o.store.jobs.finishJob(job.id, {
        status: outcome === "cancelled" ? "cancelled" : error.code === "job_timeout" ? "timed_out" : "failed",
        priceCredits: null,
        promptTokens: null,
        completionTokens: null,
        outputHash: null,
        receipt: null,
        error: `${error.code}: ${error.message}`,
        finishedAt: this.#o.now(),
      });
    } catch (settleError) {
      this.#o.logger.error(
        { err: settleError, job: job.id },
        "refund failed; the job stays open for recovery",
      );
    }
    this.#stats.failed += 1;
    this.#o.metrics.jobs.inc({ tier: job.tier, outcome });
    this.#emit({
      type: "job.finished",
      at: this.#at(),
      jobId: job.id,
      tier: job.tier,
      workerId: job.session.id,
      ok: false,
      priceCredits: 0,
      refundedCredits: refunded,
      latencyMs: this.#o.now() - job.started,
      tokens: 0,
      error: error.code,
    });
    job.queue.fail(error);
  }

  #release(job: ActiveJob): void {
    if (!this.#jobs.delete(job.id)) return;
    job.session.jobs.delete(job.id);
    job.session.busy = Math.max(0, job.session.busy - 1);
    this.registry.notifyCapacity();
  }

  // ----------------------------------------------------------------------------------------
  // Verified tier: re-execution and slashing

  /**
   * Re-executes a verified job on a validator. Exact comparison only when worker and validator
   * both declare a deterministic backend over the same weights digest; otherwise the job is not
   * compared at all (an inconclusive verdict never slashes). See docs/verified-tier.md.
   */
  async #validate(job: ActiveJob, claimedHash: string, price: number): Promise<void> {
    const validator = this.registry.pickValidator(job.model, job.session.id);
    if (!validator) {
      this.#o.metrics.reexecutions.inc({ outcome: "no_validator" });
      return;
    }
    const worker = job.session;
    if (
      !worker.deterministic ||
      !validator.deterministic ||
      worker.weightsDigest === "" ||
      worker.weightsDigest !== validator.weightsDigest
    ) {
      this.#o.metrics.reexecutions.inc({ outcome: "not_comparable" });
      return;
    }
    validator.busy += 1;
    const verdict = await new Promise<WorkerMessage>((resolve) => {
      const timer = setTimeout(
        () => resolve({ type: "verdict", job_id: job.id, error: "timeout" }),
        this.#o.jobTimeoutMs,
      );
      validator.pending.set(job.id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      validator.send({
        type: "reexecute",
        job_id: job.id,
        model: job.model,
        seed: job.seed,
        max_tokens: job.maxTokens,
        body: job.body as string,
      });
    }).finally(() => {
      validator.busy = Math.max(0, validator.busy - 1);
    });
    if (verdict.type !== "verdict" || verdict.output_hash === undefined) {
      this.#o.metrics.reexecutions.inc({ outcome: "error" });
      return;
    }
    this.#stats.reexecuted += 1;
    const match = verdict.output_hash === claimedHash;
    this.#o.metrics.reexecutions.inc({ outcome: match ? "match" : "mismatch" });
    await this.#o.store.jobs.markValidation(job.id, {
      status: match ? "match" : "mismatch",
      validatorId: validator.id,
      detail: match ? null : `validator output ${verdict.output_hash}, receipt ${claimedHash}`,
    });
    this.#emit({
      type: "job.reexecuted",
      at: this.#at(),
      jobId: job.id,
      workerId: worker.id,
      validatorId: validator.id,
      match,
    });
    if (match) {
      await this.#adjustReputation(worker, REPUTATION_VALIDATED);
      return;
    }
    this.#stats.mismatches += 1;
    await this.#slash(worker, validator, job, price);
  }

  async #slash(
    worker: WorkerSession,
    validator: WorkerSession,
    job: ActiveJob,
    price: number,
  ): Promise<void> {
    const { ledger } = this.#o;
    const bond = await ledger.balance(workerBondAccount(worker.id));
    await this.#adjustReputation(worker, REPUTATION_SLASHED);
    if (bond <= 0) return;
    const transaction = await ledger.slash(worker.id, {
      jobId: job.id,
      challengerAccount: workerEarningsAccount(validator.id),
      rewardBps: this.#o.slashRewardBps,
      refund: { accountId: job.accountId, credits: price },
    });
    const posted = (account: string) =>
      transaction.postings.filter((p) => p.account === account).reduce((n, p) => n + p.amount, 0);
    worker.bondCredits = 0;
    worker.slashed += 1;
    validator.earningsCredits = await ledger.balance(workerEarningsAccount(validator.id));
    this.#o.metrics.slashes.inc();
    this.#o.logger.warn({ worker: worker.id, job: job.id, bond }, "worker slashed: re-execution mismatch");
    this.#emit({
      type: "worker.slashed",
      at: this.#at(),
      workerId: worker.id,
      jobId: job.id,
      bondCredits: bond,
      challengerReward: posted(workerEarningsAccount(validator.id)),
      burned: posted(BURN_ACCOUNT),
      refundedCredits: posted(`user:${job.accountId}`),
      reputation: worker.reputation,
    });
  }

  // ----------------------------------------------------------------------------------------
  // Attestation

  /** The bundle of a confidential worker for `model`; with a nonce, a fresh one bound to it. */
  async attestation(
    model: string,
    nonce: string | undefined,
    signal: AbortSignal,
  ): Promise<{ worker: WorkerSession; bundle: Uint8Array }> {
    const { session } = await this.#route("confidential", model, signal);
    if (nonce === undefined) return { worker: session, bundle: session.bundle as Uint8Array };
    const requestId = `att_${toHex(randomBytes(8))}`;
    const answer = await new Promise<WorkerMessage>((resolve) => {
      const timer = setTimeout(
        () => resolve({ type: "attestation", request_id: requestId, error: "timeout" }),
        15_000,
      );
      session.pending.set(requestId, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      session.send({ type: "attest", request_id: requestId, nonce });
    });
    if (answer.type !== "attestation" || answer.bundle === undefined) {
      throw new NodeError(
        "attestation_unavailable",
        `worker ${session.id} could not attest: ${(answer as { error?: string }).error ?? "no bundle"}`,
      );
    }
    return { worker: session, bundle: fromBase64Url(answer.bundle) };
  }

  // ----------------------------------------------------------------------------------------
  // Figures

  async ledgerFigures(): Promise<NetworkSnapshot["ledger"]> {
    const balances = await this.#o.ledger.accountBalances();
    let creditsInCirculation = 0;
    let workerEarnings = 0;
    let bonds = 0;
    let treasuryFees = 0;
    let burned = 0;
    for (const { account, kind, balance } of balances) {
      if (kind === "user" || kind === "hold") creditsInCirculation += balance;
      else if (kind === "worker_earnings") workerEarnings += balance;
      else if (kind === "worker_bond") bonds += balance;
      else if (account === TREASURY_FEES_ACCOUNT) treasuryFees += balance;
      else if (account === BURN_ACCOUNT) burned += balance;
    }
    const treasuryUsdcOnChain = await this.treasuryUsdcOnChain?.().catch(() => undefined);
    return {
      creditsInCirculation,
      treasuryFees,
      burned,
      workerEarnings,
      bonds,
      ...(treasuryUsdcOnChain !== undefined ? { treasuryUsdcOnChain: treasuryUsdcOnChain.toString() } : {}),
    };
  }

  async snapshot(version: string): Promise<NetworkSnapshot> {
    return {
      node: { version, startedAt: this.startedAt.toISOString(), validationRate: this.#o.validationRate },
      workers: this.registry.all().map((s) => this.registry.describe(s)),
      jobs: { ...this.#stats, inFlight: this.#jobs.size },
      ledger: await this.ledgerFigures(),
      series: this.#o.feed.series(),
    };
  }

  // ----------------------------------------------------------------------------------------
  // Shutdown

  /** Stops taking jobs, lets in-flight ones finish for up to `graceMs`, then cancels and refunds the rest. */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    const deadline = Date.now() + graceMs;
    while (this.#jobs.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const job of [...this.#jobs.values()]) {
      job.session.send({ type: "cancel", job_id: job.id });
      await this.#fail(
        job,
        new NodeError("shutting_down", "the node shut down before the job finished"),
        "cancelled",
      );
    }
    await Promise.allSettled([...this.#background]);
    for (const session of this.registry.all()) session.close(1001, "node shutting down");
  }
}
