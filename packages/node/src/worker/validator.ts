import { ed25519 } from "@noble/curves/ed25519.js";
import {
  type OrchestratorMessage,
  outputHash,
  ProtocolError,
  toBase64Url,
  WORKER_PROTOCOL_VERSION,
  type WorkerHello,
} from "@peercycles/protocol";
import { type Logger, pino } from "pino";
import { createOpenAICompatibleBackend } from "../model/openai-compatible.js";
import { loadPeerTiny } from "../model/peer-tiny.js";
import type { InferenceBackend } from "../model/types.js";
import { OrchestratorConnection, type ReconnectOptions, workerEndpointUrl } from "./connection.js";
import { optionError } from "./errors.js";
import { committedOutput, JobFailure, parseJobBody, runGeneration } from "./generation.js";
import { backendConfig, type WorkerBackendOption } from "./host.js";

/**
 * The `error` of a verdict that must never count against the worker: the validator's backend does
 * not promise the same output for the same request and seed, so no output hash is given.
 */
export const INCONCLUSIVE_VERDICT_PREFIX = "inconclusive:";

/** Options of {@link startValidator}. */
export interface ValidatorOptions {
  /** Orchestrator base URL (`http(s)://…`). */
  readonly orchestrator: string;
  /** Worker token (`pcw_…`) of the validator's account. */
  readonly token: string;
  /** Model id re-executed. Default `peer-tiny`. */
  readonly model?: string;
  /** Default `{ kind: "builtin" }`. */
  readonly backend?: WorkerBackendOption;
  /** Most re-executions at once. Default 2. */
  readonly maxConcurrency?: number;
  readonly name?: string;
  readonly logger?: Logger;
  readonly random?: () => number;
  readonly reconnect?: ReconnectOptions;
  /** Default 30 000 ms. */
  readonly connectTimeoutMs?: number;
  readonly heartbeatMs?: number;
  /** A backend instead of the configured one (tests, embedding). */
  readonly inferenceBackend?: InferenceBackend;
  /** Called after each verdict is sent. */
  readonly onVerdict?: (verdict: { jobId: string; outputHash?: string; error?: string }) => void;
}

/** A running validator. */
export interface ValidatorHandle {
  readonly model: string;
  /** Id the orchestrator gave this validator (`welcome.worker_id`). */
  readonly workerId: string;
  readonly connected: boolean;
  /** Whether its verdicts carry output hashes (its backend is deterministic). */
  readonly deterministic: boolean;
  readonly done: Promise<void>;
  close(): Promise<void>;
}

async function backendOf(options: ValidatorOptions): Promise<{ model: string; backend: InferenceBackend }> {
  if (options.inferenceBackend) {
    return { model: options.model ?? options.inferenceBackend.model, backend: options.inferenceBackend };
  }
  const { model, backend } = backendConfig(options.backend, options.model);
  if (backend.kind === "builtin") {
    return {
      model,
      backend: await loadPeerTiny(backend.weightsPath ? { weightsPath: backend.weightsPath } : {}),
    };
  }
  return {
    model,
    backend: createOpenAICompatibleBackend({
      baseURL: backend.baseURL,
      model,
      ...(backend.servedModel ? { servedModel: backend.servedModel } : {}),
      ...(backend.apiKey ? { apiKey: backend.apiKey } : {}),
    }),
  };
}

/**
 * Re-executes one job: the same body, seed and token cap through the same request mapping the
 * worker uses, and the hash of the output commitment (what the worker's receipt signs). A backend
 * that is not deterministic gives an inconclusive verdict (no hash) rather than a guess.
 */
export async function reexecute(
  backend: InferenceBackend,
  job: { readonly body: string; readonly seed: number; readonly maxTokens: number },
  signal?: AbortSignal,
): Promise<{ outputHash?: string; error?: string }> {
  if (!backend.deterministic) {
    return {
      error: `${INCONCLUSIVE_VERDICT_PREFIX} the validator's backend is not deterministic; exact re-execution is not possible`,
    };
  }
  try {
    const { request } = parseJobBody(JSON.parse(job.body), { seed: job.seed, maxTokens: job.maxTokens });
    const { output } = await runGeneration(backend, request, signal ? { signal } : {});
    return { outputHash: outputHash(committedOutput(output)) };
  } catch (error) {
    if (error instanceof SyntaxError) return { error: "request_invalid: the body is not JSON" };
    if (error instanceof JobFailure) return { error: `${error.code}: ${error.message}` };
    throw error;
  }
}

/**
 * Starts a validator: connects with role `validator` and answers each `reexecute` with a `verdict`
 * carrying the hash of its own output (`outputHash` of `@peercycles/protocol`). The orchestrator
 * compares it with the worker's receipt; see README.md, "Re-execution and non-determinism", for
 * when a mismatch may slash.
 *
 * @throws WorkerError `worker_options_invalid`, `worker_rejected`, `worker_connect_failed`; ModelError
 *   when the weights cannot be loaded
 *
 * @example
 * ```ts
 * const validator = await startValidator({ orchestrator: "http://127.0.0.1:8787", token: "pcw_…" });
 * ```
 */
export async function startValidator(options: ValidatorOptions): Promise<ValidatorHandle> {
  if (typeof options?.token !== "string" || options.token.length === 0)
    throw optionError("token", "is required");
  const url = workerEndpointUrl(options.orchestrator);
  const maxConcurrency = options.maxConcurrency ?? 2;
  if (!(Number.isInteger(maxConcurrency) && maxConcurrency >= 1 && maxConcurrency <= 1024)) {
    throw optionError("maxConcurrency", "must be an integer in [1, 1024]");
  }
  const { model, backend } = await backendOf(options);
  const logger = options.logger ?? pino({ level: "silent" });
  // Verdicts are not signed (worker protocol 2); the key only fills hello's signing_key.
  const signingKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
  const running = new Map<string, AbortController>();
  let workerId = "";
  let closed = false;
  let resolveDone!: () => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => undefined);

  const hello = async (): Promise<WorkerHello> => ({
    type: "hello",
    protocol: WORKER_PROTOCOL_VERSION,
    token: options.token,
    role: "validator",
    ...(options.name !== undefined ? { name: options.name } : {}),
    tier: "verified",
    model,
    weights_digest: backend.weightsDigest,
    deterministic: backend.deterministic,
    backend: options.backend?.kind ?? (backend.weightsDigest ? "builtin" : "openai-compatible"),
    price_per_1k: 0,
    bond_credits: 0,
    signing_key: toBase64Url(signingKey),
    max_concurrency: maxConcurrency,
  });

  const verdict = (jobId: string, answer: { outputHash?: string; error?: string }) => {
    connection.send({
      type: "verdict",
      job_id: jobId,
      ...(answer.outputHash ? { output_hash: answer.outputHash } : {}),
      ...(answer.error ? { error: answer.error.slice(0, 2000) } : {}),
    });
    options.onVerdict?.({ jobId, ...answer });
  };

  const handle = (message: OrchestratorMessage) => {
    if (message.type === "reexecute") {
      const jobId = message.job_id;
      if (running.has(jobId)) return;
      if (message.model !== model) {
        return verdict(jobId, {
          error: `model_mismatch: this validator re-executes ${model}, not ${message.model}`,
        });
      }
      if (running.size >= maxConcurrency)
        return verdict(jobId, { error: "overloaded: too many re-executions" });
      const controller = new AbortController();
      running.set(jobId, controller);
      reexecute(
        backend,
        { body: message.body, seed: message.seed, maxTokens: message.max_tokens },
        controller.signal,
      )
        .then(
          (answer) => verdict(jobId, answer),
          (error: unknown) => verdict(jobId, { error: `backend_failed: ${(error as Error)?.message}` }),
        )
        .finally(() => running.delete(jobId));
      return;
    }
    if (message.type === "job") {
      connection.send({
        type: "job_error",
        job_id: message.job_id,
        code: "request_invalid",
        message: "this connection is a validator, not a worker",
      });
    }
  };

  const connection = new OrchestratorConnection(
    {
      url,
      logger,
      random: options.random ?? Math.random,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    },
    {
      hello,
      onWelcome(welcome) {
        workerId = welcome.worker_id;
        logger.info({ workerId, model }, "validator: connected");
      },
      onMessage(message) {
        if (message instanceof ProtocolError) {
          logger.warn({ detail: message.message }, "validator: invalid message from the orchestrator");
          return;
        }
        handle(message);
      },
      onDisconnect() {
        for (const controller of running.values()) controller.abort(new Error("disconnected"));
        running.clear();
      },
      onFatal(error) {
        if (closed) return;
        closed = true;
        void connection.close().then(() => rejectDone(error));
      },
    },
  );
  await connection.start();

  return {
    model,
    get workerId() {
      return workerId;
    },
    get connected() {
      return connection.connected;
    },
    deterministic: backend.deterministic,
    done,
    async close() {
      if (closed) return done.catch(() => undefined);
      closed = true;
      for (const controller of running.values()) controller.abort(new Error("closing"));
      await connection.close();
      resolveDone();
    },
  };
}
