import type { Tier, Usage, WireCompletionOutput, WORKER_JOB_ERROR_CODES } from "@peercycles/protocol";

/**
 * The pipe between the worker's host process and its enclave process (Node IPC over
 * `child_process.fork`, `serialization: "advanced"`, so byte strings travel as `Uint8Array`).
 *
 * The host sends `init` once, then `job`, `cancel`, `attest` and finally `shutdown`. The enclave
 * answers `init` with `ready` or `init_failed`, each `job` with `chunk`s or `sealed_chunk`s and then
 * exactly one `result` or `job_error`, each `attest` with one `attestation`. For a confidential job
 * the host hands in sealed bytes and gets sealed bytes back: the plaintext never crosses the pipe.
 */

/** Which inference backend the enclave process runs. */
export type BackendConfig =
  | {
      readonly kind: "builtin";
      /** Weights file of peer-tiny; the packaged one by default. */
      readonly weightsPath?: string;
    }
  | {
      readonly kind: "openai-compatible";
      /** Upstream base URL, up to `/v1`. */
      readonly baseURL: string;
      /** Name the upstream knows the model by (default: the worker's model id). */
      readonly servedModel?: string;
      readonly apiKey?: string;
    };

/** What the enclave process is set up with. */
export interface EnclaveConfig {
  readonly tier: Tier;
  /** Model id the worker serves (what requests name). */
  readonly model: string;
  readonly backend: BackendConfig;
  /** TEE for the confidential tier: the development simulator or Linux configfs-tsm. */
  readonly enclave?: "simulated" | "tsm";
  /**
   * Hex weights digest to bind in the attestation when the backend does not know its own (an
   * upstream). Default: the backend's digest; for an upstream on the simulated enclave, the
   * simulator's `simulatedWeightsDigest(model)`.
   */
  readonly weightsDigest?: string;
  /** configfs-tsm report root (tests); default `/sys/kernel/config/tsm/report`. */
  readonly tsmRoot?: string;
  /** Command printing NVIDIA GPU evidence for a nonce (see `NvidiaCommandProvider`); none: CPU only. */
  readonly gpuEvidenceCommand?: string;
  /** Simulated enclave: CPU TEE kind and GPU count (default tdx, 1 GPU). */
  readonly simulatedCpu?: "tdx" | "sev-snp";
  readonly simulatedGpus?: number;
}

/** One job as the enclave gets it. */
export interface EnclaveJob {
  readonly jobId: string;
  readonly tier: Tier;
  readonly model: string;
  readonly seed: number;
  readonly stream: boolean;
  readonly maxTokens: number;
  /** Worker id from `welcome`: receipts name it. */
  readonly workerId: string;
  /** Development only: alter the output and sign the altered output (plain tiers). */
  readonly cheat: boolean;
  /** Plain tiers: the request body as the client sent it. */
  readonly body?: string;
  /** Confidential: the sealed request bytes. */
  readonly sealed?: Uint8Array;
}

export type HostToEnclave =
  | { readonly type: "init"; readonly config: EnclaveConfig }
  | { readonly type: "job"; readonly job: EnclaveJob }
  | { readonly type: "cancel"; readonly jobId: string }
  /** `nonce` absent: a fresh bundle without a client nonce (sent in `hello` on each connect). */
  | { readonly type: "attest"; readonly requestId: string; readonly nonce?: Uint8Array }
  | { readonly type: "shutdown" };

export type WorkerJobErrorCode = (typeof WORKER_JOB_ERROR_CODES)[number];

/** A tool call delta, as the protocol's `chunk.tool_call`. */
export interface ToolCallDelta {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export type EnclaveToHost =
  | {
      readonly type: "ready";
      /** Ed25519 public key that verifies this enclave's receipts. */
      readonly signingKey: Uint8Array;
      readonly weightsDigest: string;
      readonly deterministic: boolean;
      /** Confidential: the attestation bundle (CBOR) and the HPKE key id. */
      readonly bundle?: Uint8Array;
      readonly keyId?: number;
    }
  | { readonly type: "init_failed"; readonly code: string; readonly message: string }
  | {
      readonly type: "chunk";
      readonly jobId: string;
      readonly content?: string;
      readonly toolCall?: ToolCallDelta;
    }
  | { readonly type: "sealed_chunk"; readonly jobId: string; readonly data: Uint8Array }
  | {
      readonly type: "result";
      readonly jobId: string;
      readonly output?: WireCompletionOutput;
      readonly sealed?: Uint8Array;
      readonly usage: Usage;
      readonly receipt: { readonly body: Uint8Array; readonly signature: Uint8Array };
    }
  | {
      readonly type: "job_error";
      readonly jobId: string;
      readonly code: WorkerJobErrorCode;
      readonly message: string;
    }
  | {
      readonly type: "attestation";
      readonly requestId: string;
      readonly bundle?: Uint8Array;
      readonly error?: string;
    };

/**
 * What actually crosses the pipe from the enclave: a message, or the chunks one turn of the enclave's
 * event loop produced, in order, as one IPC message (a model's tokens often come in bursts; one message
 * per token costs a serialisation, a write and a wake-up each). The host unpacks it before anything else
 * sees it.
 */
export type EnclaveToHostFrame =
  | EnclaveToHost
  | {
      readonly type: "chunks";
      readonly messages: readonly Extract<EnclaveToHost, { type: "chunk" | "sealed_chunk" }>[];
    };
