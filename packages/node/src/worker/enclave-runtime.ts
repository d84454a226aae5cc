import { sha256 } from "@noble/hashes/sha2.js";
import { encodeBundle } from "@peercycles/attest/bundle";
import {
  ConfigfsTsmProvider,
  composeProvider,
  createAttestationBundle,
  createEnclaveKeys,
  type EnclaveKeys,
  type EvidenceProvider,
  NvidiaCommandProvider,
  simulatedWeightsDigest,
  simulateEnclave,
} from "@peercycles/enclave";
import { fromHex, outputCommitment, sha256Bytes, type Usage, utf8 } from "@peercycles/protocol";
import { ModelError } from "../model/errors.js";
import { createOpenAICompatibleBackend } from "../model/openai-compatible.js";
import { loadPeerTiny, PEER_TINY_MODEL_ID } from "../model/peer-tiny.js";
import type { InferenceBackend } from "../model/types.js";
import {
  cheatedOutput,
  committedOutput,
  type GenerationListener,
  JobFailure,
  parseJobBody,
  runGeneration,
} from "./generation.js";
import type { EnclaveConfig, EnclaveJob, EnclaveToHost, HostToEnclave } from "./ipc-messages.js";
import { ChatCompletionChunks, chatCompletionObject } from "./openai-render.js";

/**
 * The enclave side of the worker: key custody, opening sealed requests, inference, sealing answers
 * and signing receipts. `enclave-process.ts` runs it in its own process behind the IPC pipe; tests
 * may run it in-process with an injected backend.
 */
export interface EnclaveRuntime {
  /** What `ready` reported. */
  readonly ready: Extract<EnclaveToHost, { type: "ready" }>;
  /** Handles one host message; answers go through `send`. Never throws. */
  handle(message: HostToEnclave): void;
  /** Cancels every running job and waits for them to answer. */
  close(): Promise<void>;
}

/** Test seams of {@link createEnclaveRuntime}. */
export interface EnclaveRuntimeDependencies {
  /** A backend instead of the configured one. */
  readonly backend?: InferenceBackend;
  /** Clock for receipts and bundles. */
  readonly now?: () => Date;
}

/** Thrown by {@link createEnclaveRuntime} when the enclave cannot be set up. */
export class EnclaveSetupError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EnclaveSetupError";
    this.code = code;
  }
}

async function loadBackend(config: EnclaveConfig): Promise<InferenceBackend> {
  if (config.backend.kind === "builtin") {
    if (config.model !== PEER_TINY_MODEL_ID) {
      throw new EnclaveSetupError(
        "enclave_model_mismatch",
        `the builtin backend serves "${PEER_TINY_MODEL_ID}", not "${config.model}"`,
      );
    }
    return loadPeerTiny(config.backend.weightsPath ? { weightsPath: config.backend.weightsPath } : {});
  }
  return createOpenAICompatibleBackend({
    baseURL: config.backend.baseURL,
    model: config.model,
    ...(config.backend.servedModel ? { servedModel: config.backend.servedModel } : {}),
    ...(config.backend.apiKey ? { apiKey: config.backend.apiKey } : {}),
  });
}

function bindingDigest(config: EnclaveConfig, backend: InferenceBackend): Uint8Array {
  const hex = backend.weightsDigest || config.weightsDigest;
  if (hex) {
    if (!/^([0-9a-f]{2}){32}$|^([0-9a-f]{2}){48}$|^([0-9a-f]{2}){64}$/.test(hex)) {
      throw new EnclaveSetupError(
        "enclave_weights_digest_invalid",
        "weightsDigest must be 32, 48 or 64 bytes of hex",
      );
    }
    return fromHex(hex);
  }
  if (config.enclave === "simulated") return simulatedWeightsDigest(config.model);
  throw new EnclaveSetupError(
    "enclave_weights_digest_unknown",
    "the backend does not know its weights digest: give weightsDigest to attest it",
  );
}

interface Attester {
  attest(clientNonce: Uint8Array | undefined): Promise<Uint8Array>;
}

async function createAttester(
  config: EnclaveConfig,
  keys: EnclaveKeys,
  weightsDigest: Uint8Array,
  now: () => Date,
): Promise<Attester> {
  let provider: EvidenceProvider;
  if (config.enclave === "simulated") {
    const simulated = await simulateEnclave({
      model: config.model,
      keys,
      weightsDigest,
      cpu: config.simulatedCpu ?? "tdx",
      gpus: config.simulatedGpus ?? 1,
      now: now(),
    });
    provider = simulated.simulator;
  } else if (config.enclave === "tsm") {
    provider = composeProvider(
      new ConfigfsTsmProvider(config.tsmRoot ? { root: config.tsmRoot } : {}),
      config.gpuEvidenceCommand
        ? new NvidiaCommandProvider({ command: config.gpuEvidenceCommand })
        : undefined,
    );
  } else {
    throw new EnclaveSetupError(
      "enclave_kind_missing",
      "the confidential tier needs enclave: simulated or tsm",
    );
  }
  return {
    async attest(clientNonce) {
      const bundle = await createAttestationBundle(keys, provider, {
        model: config.model,
        weightsDigest,
        issuedAt: now(),
        ...(clientNonce ? { clientNonce } : {}),
      });
      return encodeBundle(bundle);
    },
  };
}

/**
 * Sets up the enclave: the backend, fresh keys (Ed25519 for receipts on every tier, X25519 for
 * sealing on the confidential tier) and, for the confidential tier, a first attestation bundle.
 *
 * @throws EnclaveSetupError, ModelError (weights), EnclaveError (evidence)
 */
export async function createEnclaveRuntime(
  config: EnclaveConfig,
  send: (message: EnclaveToHost) => void,
  dependencies: EnclaveRuntimeDependencies = {},
): Promise<EnclaveRuntime> {
  const now = dependencies.now ?? (() => new Date());
  const backend = dependencies.backend ?? (await loadBackend(config));
  const keys = await createEnclaveKeys();
  const confidential = config.tier === "confidential";
  let attester: Attester | undefined;
  let bundle: Uint8Array | undefined;
  if (confidential) {
    attester = await createAttester(config, keys, bindingDigest(config, backend), now);
    bundle = await attester.attest(undefined);
  }
  const ready: Extract<EnclaveToHost, { type: "ready" }> = {
    type: "ready",
    signingKey: keys.publicKeys().signingPublicKey,
    weightsDigest: backend.weightsDigest,
    deterministic: backend.deterministic,
    ...(bundle ? { bundle, keyId: keys.publicKeys().keyConfig.keyId } : {}),
  };
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  const unixNow = () => Math.floor(now().getTime() / 1000);

  function sign(
    job: EnclaveJob,
    requestHash: Uint8Array,
    responseHash: Uint8Array,
    seed: number,
    usage: Usage,
  ) {
    return keys.signReceipt({
      requestHash,
      responseHash,
      model: config.model,
      seed,
      usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
      worker: job.workerId,
      time: unixNow(),
    });
  }

  async function plainJob(job: EnclaveJob, signal: AbortSignal): Promise<EnclaveToHost> {
    if (typeof job.body !== "string")
      throw new JobFailure("request_invalid", "a plain-tier job needs a body");
    let json: unknown;
    try {
      json = JSON.parse(job.body);
    } catch {
      throw new JobFailure("request_invalid", "the body is not JSON");
    }
    const { request } = parseJobBody(json, { seed: job.seed, maxTokens: job.maxTokens });
    const listener: GenerationListener | undefined = job.stream
      ? {
          onText: (text) => send({ type: "chunk", jobId: job.jobId, content: text }),
          onToolCall: (call) => send({ type: "chunk", jobId: job.jobId, toolCall: call }),
        }
      : undefined;
    const generation = await runGeneration(backend, request, { signal, ...(listener ? { listener } : {}) });
    let output = generation.output;
    if (job.cheat) {
      const cheated = cheatedOutput(output);
      output = cheated.output;
      if (job.stream) send({ type: "chunk", jobId: job.jobId, content: cheated.added });
    }
    const receipt = sign(
      job,
      sha256Bytes(job.body),
      sha256Bytes(outputCommitment(committedOutput(output))),
      job.seed,
      generation.usage,
    );
    return { type: "result", jobId: job.jobId, output, usage: generation.usage, receipt };
  }

  /** The body of an opened confidential request, parsed; errors never quote the plaintext. */
  function openedBody(plaintext: Uint8Array, job: EnclaveJob) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
    } catch {
      throw new JobFailure("request_invalid", "the opened request is not JSON");
    }
    // The orchestrator cannot read the body: the body's seed wins, its token cap is bounded by the job's.
    const first = parseJobBody(json, { seed: job.seed, maxTokens: job.maxTokens }, { confidential: true });
    const seed = first.bodySeed ?? job.seed;
    const maxTokens = Math.min(first.bodyMaxTokens ?? job.maxTokens, job.maxTokens);
    return { ...first, request: { ...first.request, seed, maxTokens }, seed };
  }

  async function confidentialJob(job: EnclaveJob, signal: AbortSignal): Promise<EnclaveToHost> {
    if (!(job.sealed instanceof Uint8Array) || job.sealed.length === 0) {
      throw new JobFailure("sealed_request_invalid", "a confidential job needs sealed bytes");
    }
    const identity = { id: `chatcmpl-${job.jobId}`, model: config.model, created: unixNow() };
    if (!job.stream) {
      let opened: Awaited<ReturnType<EnclaveKeys["openRequest"]>>;
      try {
        opened = await keys.openRequest(job.sealed);
      } catch (cause) {
        throw new JobFailure("sealed_request_invalid", `the sealed request does not open: ${codeOf(cause)}`, {
          cause,
        });
      }
      const body = openedBody(opened.request, job);
      const generation = await runGeneration(backend, body.request, { signal, confidential: true });
      const answer = utf8(
        JSON.stringify(chatCompletionObject(identity, generation.output, generation.usage)),
      );
      const { encapsulated, responseHash } = await keys.sealResponse(opened.handle, answer);
      const receipt = sign(job, opened.requestHash, responseHash, body.seed, generation.usage);
      return { type: "result", jobId: job.jobId, sealed: encapsulated, usage: generation.usage, receipt };
    }
    let opened: Awaited<ReturnType<EnclaveKeys["openChunkedRequest"]>>;
    try {
      opened = await keys.openChunkedRequest(job.sealed);
    } catch (cause) {
      throw new JobFailure("sealed_request_invalid", `the sealed request does not open: ${codeOf(cause)}`, {
        cause,
      });
    }
    const body = openedBody(opened.request, job);
    const hash = sha256.create();
    const reader = opened.responseSealer.readable.getReader();
    const pumped = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        hash.update(value);
        send({ type: "sealed_chunk", jobId: job.jobId, data: value });
      }
    })();
    pumped.catch(() => undefined);
    const writer = opened.responseSealer.writable.getWriter();
    const chunks = new ChatCompletionChunks(identity);
    const write = (event: string) => writer.write(utf8(event));
    try {
      await write(chunks.start());
      const generation = await runGeneration(backend, body.request, {
        signal,
        confidential: true,
        listener: {
          onText: (text) => write(chunks.text(text)),
          onToolCall: (call) => write(chunks.toolCall(call)),
        },
      });
      await write(chunks.finish(generation.output.finish_reason));
      if (body.includeUsage) await write(chunks.usage(generation.usage));
      await write(chunks.done());
      await writer.close();
      await pumped;
      const receipt = sign(job, opened.requestHash, hash.digest(), body.seed, generation.usage);
      return { type: "result", jobId: job.jobId, usage: generation.usage, receipt };
    } catch (error) {
      await writer.abort(error).catch(() => undefined);
      throw error;
    }
  }

  async function run(job: EnclaveJob, signal: AbortSignal): Promise<EnclaveToHost> {
    if (job.tier !== config.tier) {
      throw new JobFailure("request_invalid", `this worker serves the ${config.tier} tier, not ${job.tier}`);
    }
    if (job.model !== config.model) {
      throw new JobFailure("request_invalid", `this worker serves ${config.model}, not ${job.model}`);
    }
    return confidential ? confidentialJob(job, signal) : plainJob(job, signal);
  }

  function startJob(job: EnclaveJob): void {
    if (running.has(job.jobId)) {
      send({ type: "job_error", jobId: job.jobId, code: "request_invalid", message: "duplicate job id" });
      return;
    }
    const controller = new AbortController();
    const done = run(job, controller.signal)
      .then(
        (result) => {
          send(controller.signal.aborted ? cancelled(job.jobId) : result);
        },
        (error: unknown) => {
          if (controller.signal.aborted) return send(cancelled(job.jobId));
          const failure =
            error instanceof JobFailure
              ? error
              : new JobFailure(
                  "backend_failed",
                  confidential
                    ? `the job failed: ${codeOf(error)}`
                    : `the job failed: ${(error as Error)?.message}`,
                );
          send({
            type: "job_error",
            jobId: job.jobId,
            code: failure.code,
            message: failure.message.slice(0, 2000),
          });
        },
      )
      .finally(() => running.delete(job.jobId));
    running.set(job.jobId, { controller, done });
  }

  async function attest(requestId: string, nonce: Uint8Array | undefined): Promise<void> {
    if (!attester) {
      send({ type: "attestation", requestId, error: `the ${config.tier} tier has no attestation` });
      return;
    }
    try {
      send({ type: "attestation", requestId, bundle: await attester.attest(nonce) });
    } catch (error) {
      send({
        type: "attestation",
        requestId,
        error: `${codeOf(error)}: ${(error as Error)?.message}`.slice(0, 2000),
      });
    }
  }

  return {
    ready,
    handle(message) {
      switch (message.type) {
        case "job":
          startJob(message.job);
          return;
        case "cancel":
          running.get(message.jobId)?.controller.abort(new Error("cancelled by the orchestrator"));
          return;
        case "attest":
          void attest(message.requestId, message.nonce);
          return;
        default:
          return;
      }
    },
    async close() {
      for (const { controller } of running.values()) controller.abort(new Error("the enclave is closing"));
      await Promise.all([...running.values()].map((entry) => entry.done));
    },
  };
}

function cancelled(jobId: string): EnclaveToHost {
  return { type: "job_error", jobId, code: "cancelled", message: "the job was cancelled" };
}

/** The stable code of an error, never its message (which may quote a confidential request). */
function codeOf(error: unknown): string {
  if (ModelError.isInstance(error)) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}
