import * as z from "zod/mini";
import { ProtocolError } from "./errors.js";
import { WORKER_PROTOCOL_VERSION } from "./headers.js";
import { describeIssue } from "./issues.js";
import { usageSchema, wireReceiptSchema } from "./peer.js";
import { TIERS } from "./tiers.js";

/**
 * The worker WebSocket protocol: JSON text frames, one message each, byte strings as base64url.
 * A worker (or validator) connects to `WORKER_ENDPOINT_PATH`, sends `hello`, and receives
 * `welcome` or `rejected`. Then the orchestrator sends `job`, `cancel`, `attest` and (to
 * validators) `reexecute`; the worker answers with `chunk`/`sealed_chunk`, then exactly one
 * `result` or `job_error` per job, `attestation` per `attest`, and `verdict` per `reexecute`.
 * Several chunks ready at once (of one job or several) may travel as one `chunks` frame, in order:
 * a stream is one frame per token otherwise, and each frame is a write, a wake-up and a parse.
 */

const jobId = z.string().check(z.minLength(1), z.maxLength(64));
const b64 = z.string().check(z.regex(/^[A-Za-z0-9_-]*$/, "base64url"));

export const helloSchema = z.object({
  type: z.literal("hello"),
  protocol: z.int(),
  token: z.string().check(z.minLength(1)),
  role: z.enum(["worker", "validator"]),
  name: z.optional(z.string().check(z.maxLength(64))),
  tier: z.enum(TIERS),
  model: z.string().check(z.minLength(1)),
  /** Hex SHA-256 of the weights; `""` for an upstream whose weights are unknown. */
  weights_digest: z.string(),
  /** Same request and seed give the same output (a validator compares exactly only then). */
  deterministic: z.boolean(),
  backend: z.enum(["builtin", "openai-compatible"]),
  /** Price in credits per 1,000 tokens (prompt + completion), at least 1 credit per job. */
  price_per_1k: z.int().check(z.gte(0), z.lte(1_000_000)),
  /** Bond, in credits, the worker asks to post from its account (verified and confidential tiers). */
  bond_credits: z._default(z.int().check(z.gte(0)), 0),
  /** Ed25519 public key that verifies the worker's receipts (for confidential: the enclave's). */
  signing_key: b64,
  max_concurrency: z.int().check(z.gte(1), z.lte(1024)),
  /** Confidential tier: the attestation bundle (CBOR) and the RFC 9458 key id of its HPKE key. */
  bundle: z.optional(b64),
  key_id: z.optional(z.int().check(z.gte(0), z.lte(255))),
});

export const toolCallDeltaSchema = z.object({
  index: z.int().check(z.gte(0)),
  id: z.string(),
  name: z.string(),
  arguments: z.string(),
});

export const chunkSchema = z.object({
  type: z.literal("chunk"),
  job_id: jobId,
  content: z.optional(z.string()),
  tool_call: z.optional(toolCallDeltaSchema),
});

export const sealedChunkSchema = z.object({ type: z.literal("sealed_chunk"), job_id: jobId, data: b64 });

/** The most chunks one `chunks` frame carries. */
export const MAX_CHUNKS_PER_FRAME = 1024;

/** Chunks sent together, in the order the worker produced them (protocol 2). */
export const chunksSchema = z.object({
  type: z.literal("chunks"),
  chunks: z
    .array(z.discriminatedUnion("type", [chunkSchema, sealedChunkSchema]))
    .check(z.minLength(1), z.maxLength(MAX_CHUNKS_PER_FRAME)),
});

export const completionOutputSchema = z.object({
  content: z.string(),
  tool_calls: z.array(toolCallDeltaSchema),
  finish_reason: z.enum(["stop", "length", "tool_calls"]),
});

export const resultSchema = z.object({
  type: z.literal("result"),
  job_id: jobId,
  /** Plain tiers: the whole output (also streamed as chunks when the job streams). */
  output: z.optional(completionOutputSchema),
  /** Confidential, not streamed: the sealed answer (its stream arrives as `sealed_chunk`s). */
  sealed: z.optional(b64),
  usage: usageSchema,
  receipt: z.omit(wireReceiptSchema, { signing_key: true, id: true }),
});

export const WORKER_JOB_ERROR_CODES = [
  "request_invalid",
  "sealed_request_invalid",
  "backend_failed",
  "cancelled",
  "overloaded",
] as const;

export const jobErrorSchema = z.object({
  type: z.literal("job_error"),
  job_id: jobId,
  code: z.enum(WORKER_JOB_ERROR_CODES),
  message: z.string().check(z.maxLength(2000)),
});

export const attestationSchema = z.object({
  type: z.literal("attestation"),
  request_id: z.string(),
  bundle: z.optional(b64),
  error: z.optional(z.string()),
});

export const verdictSchema = z.object({
  type: z.literal("verdict"),
  job_id: jobId,
  /** Hex SHA-256 of the validator's own output commitment, or absent when it could not re-execute. */
  output_hash: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  error: z.optional(z.string()),
});

export const workerMessageSchema = z.discriminatedUnion("type", [
  helloSchema,
  chunkSchema,
  sealedChunkSchema,
  chunksSchema,
  resultSchema,
  jobErrorSchema,
  attestationSchema,
  verdictSchema,
]);

export const welcomeSchema = z.object({
  type: z.literal("welcome"),
  worker_id: z.string(),
  reputation: z.int(),
  bond_credits: z.int(),
});

export const rejectedSchema = z.object({
  type: z.literal("rejected"),
  code: z.string(),
  message: z.string(),
});

export const jobSchema = z.object({
  type: z.literal("job"),
  job_id: jobId,
  tier: z.enum(TIERS),
  model: z.string(),
  seed: z.int().check(z.gte(0)),
  stream: z.boolean(),
  max_tokens: z.int().check(z.gte(1)),
  /** Plain tiers: the request body exactly as the client sent it (its SHA-256 is the request hash). */
  body: z.optional(z.string()),
  /** Confidential: the sealed request bytes exactly as received. */
  sealed: z.optional(b64),
});

export const cancelSchema = z.object({ type: z.literal("cancel"), job_id: jobId });

export const attestSchema = z.object({
  type: z.literal("attest"),
  request_id: z.string(),
  nonce: z.string().check(z.regex(/^([0-9a-f]{2}){1,64}$/)),
});

export const reexecuteSchema = z.object({
  type: z.literal("reexecute"),
  job_id: jobId,
  model: z.string(),
  seed: z.int().check(z.gte(0)),
  max_tokens: z.int().check(z.gte(1)),
  body: z.string(),
});

export const orchestratorMessageSchema = z.discriminatedUnion("type", [
  welcomeSchema,
  rejectedSchema,
  jobSchema,
  cancelSchema,
  attestSchema,
  reexecuteSchema,
]);

export type WorkerHello = z.input<typeof helloSchema>;
export type WorkerMessage = z.infer<typeof workerMessageSchema>;
export type OrchestratorMessage = z.infer<typeof orchestratorMessageSchema>;
export type JobMessage = z.infer<typeof jobSchema>;
export type ResultMessage = z.infer<typeof resultSchema>;
export type WireCompletionOutput = z.infer<typeof completionOutputSchema>;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError("protocol_message_invalid", `${what}: not JSON`);
  }
}

const TEXT_CHUNK_KEYS = new Set(["type", "job_id", "content"]);

/**
 * The most frequent frame, a text `chunk` with nothing else (a stream sends one per token), checked
 * without the schema: exactly what `chunkSchema` accepts and returns for such an object. Anything else
 * (a tool call, another key, a wrong type) returns `undefined` and goes through the schema.
 */
function plainTextChunk(value: unknown): Extract<WorkerMessage, { type: "chunk" }> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (record.type !== "chunk") return undefined;
  for (const key in record) if (!TEXT_CHUNK_KEYS.has(key)) return undefined;
  const jobId = record.job_id;
  if (typeof jobId !== "string" || jobId.length < 1 || jobId.length > 64) return undefined;
  const content = record.content;
  if (content === undefined) return { type: "chunk", job_id: jobId };
  if (typeof content !== "string") return undefined;
  return { type: "chunk", job_id: jobId, content };
}

function parseWith<T>(schema: z.ZodMiniType<T>, text: string, what: string): T {
  return validate(schema, parseJson(text, what), what);
}

function validate<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join(".") ?? "";
    throw new ProtocolError(
      "protocol_message_invalid",
      `${what}: ${path || "message"}: ${issue ? describeIssue(issue) : "invalid"}`,
      path,
    );
  }
  if ((result.data as { type?: string }).type === "hello") {
    const version = (result.data as { protocol: number }).protocol;
    if (version !== WORKER_PROTOCOL_VERSION) {
      throw new ProtocolError(
        "protocol_version_unsupported",
        `worker protocol ${version} is not supported (this orchestrator speaks ${WORKER_PROTOCOL_VERSION})`,
        "protocol",
      );
    }
  }
  return result.data;
}

/** A `chunks` frame of plain text chunks only, checked the way {@link plainTextChunk} checks one. */
function plainTextChunks(value: unknown): Extract<WorkerMessage, { type: "chunks" }> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (record.type !== "chunks") return undefined;
  for (const key in record) if (key !== "type" && key !== "chunks") return undefined;
  const items = record.chunks;
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_CHUNKS_PER_FRAME) return undefined;
  const chunks: Array<Extract<WorkerMessage, { type: "chunk" }>> = [];
  for (const item of items) {
    const chunk = plainTextChunk(item);
    if (chunk === undefined) return undefined;
    chunks.push(chunk);
  }
  return { type: "chunks", chunks };
}

/** Parses a frame a worker sent. @throws ProtocolError */
export function parseWorkerMessage(text: string): WorkerMessage {
  const value = parseJson(text, "worker message");
  return (
    plainTextChunk(value) ?? plainTextChunks(value) ?? validate(workerMessageSchema, value, "worker message")
  );
}

/** Parses a frame the orchestrator sent. @throws ProtocolError */
export function parseOrchestratorMessage(text: string): OrchestratorMessage {
  return parseWith(orchestratorMessageSchema, text, "orchestrator message");
}
