import {
  fromBase64Url,
  fromHex,
  MAX_CHUNKS_PER_FRAME,
  type OrchestratorMessage,
  ProtocolError,
  TIERS,
  type Tier,
  toBase64Url,
  WORKER_PROTOCOL_VERSION,
  type WorkerHello,
  type WorkerMessage,
} from "@peercycles/protocol";
import { type Logger, pino } from "pino";
import { createChunkBatcher } from "./chunk-batcher.js";
import { OrchestratorConnection, type ReconnectOptions, workerEndpointUrl } from "./connection.js";
import { type EnclaveEntry, type EnclaveProcess, forkEnclave } from "./enclave-client.js";
import { optionError, WorkerError } from "./errors.js";
import type { BackendConfig, EnclaveConfig, EnclaveToHost, WorkerJobErrorCode } from "./ipc-messages.js";

type ChunkMessage = Extract<WorkerMessage, { type: "chunk" | "sealed_chunk" }>;

/**
 * The inference backend: the built-in `peer-tiny`, or an OpenAI-compatible upstream (vLLM, llama.cpp
 * server, Ollama).
 */
export type WorkerBackendOption =
  | {
      readonly kind: "builtin";
      /** peer-tiny weights file; the packaged one by default. */
      readonly weightsPath?: string;
    }
  | {
      readonly kind: "openai-compatible";
      /** Upstream base URL up to `/v1`, e.g. `http://127.0.0.1:8000/v1`. */
      readonly upstream: string;
      /** Name the upstream knows the model by; default the worker's `model`. */
      readonly upstreamModel?: string;
      /** Sent as `Authorization: Bearer …`. */
      readonly upstreamKey?: string;
    };

/** What a worker reports as it runs (for logs, dashboards and tests). */
export type WorkerEvent =
  | { readonly type: "connected"; readonly workerId: string }
  | {
      readonly type: "disconnected";
      readonly code: number;
      readonly reason: string;
      readonly jobsLost: number;
    }
  | { readonly type: "job_started"; readonly jobId: string }
  | {
      readonly type: "job_finished";
      readonly jobId: string;
      readonly outcome: "result" | "job_error";
      readonly code?: WorkerJobErrorCode;
    };

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Orchestrator base URL (`http(s)://…`; `ws(s)://…` works too). */
  readonly orchestrator: string;
  /** Worker token (`pcw_…`). */
  readonly token: string;
  readonly tier: Tier;
  /** Model id served. Default `peer-tiny` (the builtin backend serves only that). */
  readonly model?: string;
  /** Default `{ kind: "builtin" }` (peer-tiny). */
  readonly backend?: WorkerBackendOption;
  /** TEE of a confidential worker: the development simulator, or Linux configfs-tsm. Required there. */
  readonly enclave?: "simulated" | "tsm";
  /** Hex weights digest to attest when the backend does not know its own (an upstream). */
  readonly weightsDigest?: string;
  /** `tsm`: a command that prints NVIDIA GPU evidence for `--nonce <hex>`; without it, CPU evidence only. */
  readonly gpuEvidenceCommand?: string;
  /** Credits per 1,000 tokens. Default 10. */
  readonly pricePer1k?: number;
  /** Credits to post as a bond (verified, confidential). Default 0. */
  readonly bond?: number;
  /** Most jobs at once; more are answered `overloaded`. Default 4. */
  readonly maxConcurrency?: number;
  /** Display name (at most 64 characters). */
  readonly name?: string;
  /**
   * DEVELOPMENT ONLY. Share (0..1) of plain-tier jobs whose output the worker alters (one word added)
   * before signing its receipt over the altered output: a cheater for validators to catch.
   */
  readonly cheatRate?: number;
  /** Random source in [0, 1) for `cheatRate` and reconnection jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Default: a silent logger. */
  readonly logger?: Logger;
  readonly reconnect?: ReconnectOptions;
  /** How long the first connection may take before `startWorker` fails. Default 30 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Heartbeat period (ping/pong), ms. Default 15 000. */
  readonly heartbeatMs?: number;
  /** Called for every {@link WorkerEvent}. */
  readonly onEvent?: (event: WorkerEvent) => void;
  /** The enclave entry to fork (tests); by default the one next to this module. */
  readonly enclaveEntry?: EnclaveEntry;
}

/** A running worker. */
export interface WorkerHandle {
  readonly tier: Tier;
  readonly model: string;
  /** Worker id of the current (or last) connection. */
  readonly workerId: string;
  /** Ed25519 key that verifies this worker's receipts (the enclave's). */
  readonly signingKey: Uint8Array;
  /** Confidential tier: the first attestation bundle (CBOR) and its HPKE key id. */
  readonly bundle: Uint8Array | undefined;
  readonly keyId: number | undefined;
  /** Process id of the enclave process. */
  readonly enclavePid: number | undefined;
  /** Whether the worker is connected and welcomed right now. */
  readonly connected: boolean;
  /** Jobs in flight. */
  readonly activeJobs: number;
  /**
   * Settles when the worker stops: resolves after {@link close}, rejects with a {@link WorkerError}
   * when it cannot go on (`worker_rejected` on a reconnection, `worker_enclave_exited`).
   */
  readonly done: Promise<void>;
  /**
   * Stops taking jobs (new ones are answered `overloaded`), lets those in flight finish for up to
   * `drainTimeoutMs` (default 30 000), cancels the rest, disconnects and stops the enclave process.
   */
  close(options?: { drainTimeoutMs?: number }): Promise<void>;
  /** Test hook: drop the socket as a network failure would (the worker reconnects). */
  dropConnection(): void;
}

interface HostJob {
  readonly jobId: string;
  readonly finished: Promise<void>;
  readonly finish: () => void;
}

/**
 * The enclave's backend configuration and the model id from the options.
 * @throws WorkerError `worker_options_invalid`
 */
export function backendConfig(
  option: WorkerBackendOption | undefined,
  modelOption: string | undefined,
): { model: string; backend: BackendConfig } {
  const chosen = option ?? { kind: "builtin" };
  if (chosen.kind === "builtin") {
    const model = modelOption ?? "peer-tiny";
    if (model !== "peer-tiny") throw optionError("model", 'the builtin backend serves "peer-tiny"');
    return {
      model,
      backend: { kind: "builtin", ...(chosen.weightsPath ? { weightsPath: chosen.weightsPath } : {}) },
    };
  }
  if (chosen.kind === "openai-compatible") {
    if (typeof chosen.upstream !== "string" || chosen.upstream.length === 0) {
      throw optionError("backend.upstream", "is required for the openai-compatible backend");
    }
    if (!modelOption) throw optionError("model", "is required for the openai-compatible backend");
    return {
      model: modelOption,
      backend: {
        kind: "openai-compatible",
        baseURL: chosen.upstream,
        ...(chosen.upstreamModel ? { servedModel: chosen.upstreamModel } : {}),
        ...(chosen.upstreamKey ? { apiKey: chosen.upstreamKey } : {}),
      },
    };
  }
  throw optionError("backend.kind", "must be builtin or openai-compatible");
}

function checkOptions(options: WorkerOptions): { model: string; backend: BackendConfig } {
  if (typeof options !== "object" || options === null) throw optionError("options", "must be an object");
  if (typeof options.token !== "string" || options.token.length === 0)
    throw optionError("token", "is required");
  if (!(TIERS as readonly unknown[]).includes(options.tier))
    throw optionError("tier", `must be one of ${TIERS.join(", ")}`);
  const { model, backend } = backendConfig(options.backend, options.model);
  if (options.tier === "confidential" && options.enclave !== "simulated" && options.enclave !== "tsm") {
    throw optionError("enclave", "the confidential tier needs enclave: simulated or tsm");
  }
  if (options.enclave !== undefined && options.enclave !== "simulated" && options.enclave !== "tsm") {
    throw optionError("enclave", "must be simulated or tsm");
  }
  const rate = options.cheatRate ?? 0;
  if (!(typeof rate === "number" && rate >= 0 && rate <= 1))
    throw optionError("cheatRate", "must be a number in [0, 1]");
  const integer = (value: unknown, name: string, min: number, max: number) => {
    if (
      value !== undefined &&
      !(Number.isInteger(value) && (value as number) >= min && (value as number) <= max)
    ) {
      throw optionError(name, `must be an integer in [${min}, ${max}]`);
    }
  };
  integer(options.pricePer1k, "pricePer1k", 0, 1_000_000);
  integer(options.bond, "bond", 0, Number.MAX_SAFE_INTEGER);
  integer(options.maxConcurrency, "maxConcurrency", 1, 1024);
  if (options.name !== undefined && (typeof options.name !== "string" || options.name.length > 64)) {
    throw optionError("name", "must be a string of at most 64 characters");
  }
  if (options.weightsDigest !== undefined) {
    try {
      fromHex(options.weightsDigest);
    } catch {
      throw optionError("weightsDigest", "must be hex");
    }
  }
  return { model, backend };
}

/**
 * Starts a worker: forks its enclave process (keys, inference, sealing, signing), connects to the
 * orchestrator's worker endpoint, says `hello`, and serves `job`, `cancel` and `attest` until
 * closed. Resolves once the orchestrator sent `welcome`; reconnects with backoff when the
 * connection drops (jobs in flight are lost: the orchestrator refunds them).
 *
 * The host process relays bytes: on the confidential tier it hands the sealed request to the
 * enclave and the sealed answer to the orchestrator, and never holds the plaintext.
 *
 * @throws WorkerError `worker_options_invalid`, `worker_enclave_failed`, `worker_rejected`,
 *   `worker_connect_failed`
 *
 * @example
 * ```ts
 * const worker = await startWorker({ orchestrator: "http://127.0.0.1:8787", token: "pcw_…", tier: "verified" });
 * console.log(worker.workerId);
 * process.on("SIGTERM", () => worker.close());
 * ```
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const { model, backend } = checkOptions(options);
  const url = workerEndpointUrl(options.orchestrator);
  const logger = options.logger ?? pino({ level: "silent" });
  const random = options.random ?? Math.random;
  const maxConcurrency = options.maxConcurrency ?? 4;
  const cheatRate = options.cheatRate ?? 0;
  const tier = options.tier;

  const config: EnclaveConfig = {
    tier,
    model,
    backend,
    ...(options.enclave ? { enclave: options.enclave } : {}),
    ...(options.weightsDigest ? { weightsDigest: options.weightsDigest.toLowerCase() } : {}),
    ...(options.gpuEvidenceCommand ? { gpuEvidenceCommand: options.gpuEvidenceCommand } : {}),
  };
  const enclave: EnclaveProcess = await forkEnclave(
    config,
    options.enclaveEntry ? { entry: options.enclaveEntry } : {},
  );
  const { ready } = enclave;

  const jobs = new Map<string, HostJob>();
  const attestations = new Map<
    string,
    { resolve: (message: Extract<EnclaveToHost, { type: "attestation" }>) => void }
  >();
  let nextRequest = 0;
  let workerId = "";
  let closing = false;
  let stopped = false;
  let firstHello = true;
  let resolveDone!: () => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => undefined);
  const emit = (event: WorkerEvent) => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      logger.warn({ err: error }, "worker: onEvent threw");
    }
  };

  function enclaveAttest(nonce: Uint8Array | undefined, timeoutMs = 60_000) {
    const requestId = `a${nextRequest++}`;
    return new Promise<Extract<EnclaveToHost, { type: "attestation" }>>((resolve) => {
      const timer = setTimeout(() => {
        attestations.delete(requestId);
        resolve({ type: "attestation", requestId, error: "the enclave did not attest in time" });
      }, timeoutMs);
      attestations.set(requestId, {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
      enclave.send({ type: "attest", requestId, ...(nonce ? { nonce } : {}) });
    });
  }

  async function hello(): Promise<WorkerHello> {
    let bundle = ready.bundle;
    if (tier === "confidential" && !firstHello) {
      // A fresh bundle on every reconnection: the first one ages past policies' maxAgeSeconds.
      const fresh = await enclaveAttest(undefined);
      if (!fresh.bundle) throw new Error(`cannot re-attest: ${fresh.error}`);
      bundle = fresh.bundle;
    }
    firstHello = false;
    return {
      type: "hello",
      protocol: WORKER_PROTOCOL_VERSION,
      token: options.token,
      role: "worker",
      ...(options.name !== undefined ? { name: options.name } : {}),
      tier,
      model,
      weights_digest: ready.weightsDigest,
      deterministic: ready.deterministic,
      backend: backend.kind,
      price_per_1k: options.pricePer1k ?? 10,
      bond_credits: options.bond ?? 0,
      signing_key: toBase64Url(ready.signingKey),
      max_concurrency: maxConcurrency,
      ...(bundle ? { bundle: toBase64Url(bundle), key_id: ready.keyId } : {}),
    };
  }

  const connection = new OrchestratorConnection(
    {
      url,
      logger,
      random,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    },
    {
      hello,
      onWelcome(welcome) {
        workerId = welcome.worker_id;
        logger.info({ workerId, tier, model }, "worker: connected");
        emit({ type: "connected", workerId });
      },
      onMessage(message, raw) {
        if (message instanceof ProtocolError) return badMessage(message, raw);
        handleMessage(message);
      },
      onDisconnect({ code, reason }) {
        const lost = [...jobs.keys()];
        for (const jobId of lost) {
          enclave.send({ type: "cancel", jobId });
          finishJob(jobId);
        }
        logger.warn({ code, reason, jobsLost: lost.length }, "worker: disconnected");
        emit({ type: "disconnected", code, reason, jobsLost: lost.length });
      },
      onFatal(error) {
        logger.error({ err: error }, "worker: cannot go on");
        void stop(error);
      },
    },
  );

  /**
   * Chunks go to the orchestrator batched per turn (chunk-batcher.ts): the enclave's IPC frame of
   * several chunks arrives in one turn and leaves as one `chunks` frame.
   */
  const chunks = createChunkBatcher<ChunkMessage>((batch) => {
    for (let start = 0; start < batch.length; start += MAX_CHUNKS_PER_FRAME) {
      const part = batch.slice(start, start + MAX_CHUNKS_PER_FRAME);
      connection.send(part.length === 1 ? (part[0] as ChunkMessage) : { type: "chunks", chunks: part });
    }
  });

  /** Sends a message that is not a chunk, after the chunks gathered before it. */
  function send(message: Exclude<WorkerMessage, ChunkMessage | { type: "chunks" }>): void {
    chunks.flush();
    connection.send(message);
  }

  function jobError(jobId: string, code: WorkerJobErrorCode, message: string) {
    send({ type: "job_error", job_id: jobId, code, message: message.slice(0, 2000) });
    emit({ type: "job_finished", jobId, outcome: "job_error", code });
  }

  function finishJob(jobId: string) {
    const job = jobs.get(jobId);
    if (!job) return false;
    jobs.delete(jobId);
    chunks.end(jobId);
    job.finish();
    return true;
  }

  function badMessage(error: ProtocolError, raw: string) {
    let jobId: unknown;
    let type: unknown;
    try {
      const value = JSON.parse(raw) as { job_id?: unknown; type?: unknown };
      jobId = value?.job_id;
      type = value?.type;
    } catch {
      // not JSON: nothing to answer
    }
    logger.warn({ detail: error.message }, "worker: invalid message from the orchestrator");
    if (
      type === "job" &&
      typeof jobId === "string" &&
      jobId.length > 0 &&
      jobId.length <= 64 &&
      !jobs.has(jobId)
    ) {
      jobError(jobId, "request_invalid", `invalid job message: ${error.message}`);
    }
  }

  function handleMessage(message: OrchestratorMessage) {
    switch (message.type) {
      case "job": {
        const jobId = message.job_id;
        if (jobs.has(jobId))
          return jobError(jobId, "request_invalid", "a job with this id is already running");
        if (closing) return jobError(jobId, "overloaded", "the worker is shutting down");
        if (jobs.size >= maxConcurrency) {
          return jobError(jobId, "overloaded", `the worker runs ${maxConcurrency} jobs at most`);
        }
        let sealed: Uint8Array | undefined;
        if (message.sealed !== undefined) {
          try {
            sealed = fromBase64Url(message.sealed);
          } catch {
            return jobError(jobId, "sealed_request_invalid", "sealed is not base64url");
          }
        }
        if (tier === "confidential" && !sealed) {
          return jobError(jobId, "sealed_request_invalid", "a confidential job carries sealed bytes");
        }
        if (tier !== "confidential" && message.body === undefined) {
          return jobError(jobId, "request_invalid", "a plain-tier job carries the request body");
        }
        let finish!: () => void;
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        jobs.set(jobId, { jobId, finished, finish });
        emit({ type: "job_started", jobId });
        const cheat = cheatRate > 0 && tier !== "confidential" && random() < cheatRate;
        enclave.send({
          type: "job",
          job: {
            jobId,
            tier: message.tier,
            model: message.model,
            seed: message.seed,
            stream: message.stream,
            maxTokens: message.max_tokens,
            workerId,
            cheat,
            ...(message.body !== undefined && tier !== "confidential" ? { body: message.body } : {}),
            ...(sealed ? { sealed } : {}),
          },
        });
        return;
      }
      case "cancel":
        if (jobs.has(message.job_id)) enclave.send({ type: "cancel", jobId: message.job_id });
        return;
      case "attest": {
        const requestId = message.request_id;
        void enclaveAttest(fromHex(message.nonce)).then((answer) => {
          send({
            type: "attestation",
            request_id: requestId,
            ...(answer.bundle
              ? { bundle: toBase64Url(answer.bundle) }
              : { error: answer.error ?? "attestation failed" }),
          });
        });
        return;
      }
      case "reexecute":
        send({
          type: "verdict",
          job_id: message.job_id,
          error: "this connection is a worker, not a validator",
        });
        return;
      default:
        // welcome / rejected after the welcome: nothing to do
        return;
    }
  }

  enclave.onMessage((message) => {
    switch (message.type) {
      case "attestation":
        attestations.get(message.requestId)?.resolve(message);
        attestations.delete(message.requestId);
        return;
      case "chunk":
        if (!jobs.has(message.jobId)) return;
        chunks.push(message.jobId, {
          type: "chunk",
          job_id: message.jobId,
          ...(message.content !== undefined ? { content: message.content } : {}),
          ...(message.toolCall ? { tool_call: message.toolCall } : {}),
        });
        return;
      case "sealed_chunk":
        if (!jobs.has(message.jobId)) return;
        chunks.push(message.jobId, {
          type: "sealed_chunk",
          job_id: message.jobId,
          data: toBase64Url(message.data),
        });
        return;
      case "result":
        if (!finishJob(message.jobId)) return;
        send({
          type: "result",
          job_id: message.jobId,
          ...(message.output ? { output: message.output } : {}),
          ...(message.sealed ? { sealed: toBase64Url(message.sealed) } : {}),
          usage: message.usage,
          receipt: {
            body: toBase64Url(message.receipt.body),
            signature: toBase64Url(message.receipt.signature),
          },
        });
        emit({ type: "job_finished", jobId: message.jobId, outcome: "result" });
        return;
      case "job_error":
        if (!finishJob(message.jobId)) return;
        jobError(message.jobId, message.code, message.message);
        return;
      default:
        return;
    }
  });

  enclave.onExit(({ code, signal }) => {
    const error = new WorkerError("worker_enclave_exited", `the enclave process exited (${code ?? signal})`, {
      details: { code, signal },
    });
    logger.error({ err: error }, "worker: enclave process exited");
    for (const jobId of [...jobs.keys()]) {
      finishJob(jobId);
      jobError(jobId, "backend_failed", "the worker's enclave process exited");
    }
    void stop(error);
  });

  async function stop(error?: unknown): Promise<void> {
    if (stopped) return;
    stopped = true;
    closing = true;
    chunks.flush();
    await connection.close();
    await enclave.shutdown();
    if (error) rejectDone(error);
    else resolveDone();
  }

  try {
    await connection.start();
  } catch (error) {
    stopped = true;
    await enclave.shutdown();
    throw error;
  }

  return {
    tier,
    model,
    get workerId() {
      return workerId;
    },
    signingKey: ready.signingKey,
    bundle: ready.bundle,
    keyId: ready.keyId,
    enclavePid: enclave.pid,
    get connected() {
      return connection.connected;
    },
    get activeJobs() {
      return jobs.size;
    },
    done,
    async close(closeOptions = {}) {
      if (stopped) return done.catch(() => undefined);
      closing = true;
      const drainTimeoutMs = closeOptions.drainTimeoutMs ?? 30_000;
      const inFlight = [...jobs.values()].map((job) => job.finished);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        Promise.all(inFlight).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), drainTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        const left = [...jobs.values()];
        for (const job of left) enclave.send({ type: "cancel", jobId: job.jobId });
        await Promise.race([
          Promise.all(left.map((job) => job.finished)),
          new Promise((resolve) => setTimeout(resolve, 2000)),
        ]);
      }
      await stop();
    },
    dropConnection() {
      connection.drop();
    },
  };
}
