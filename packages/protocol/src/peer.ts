import * as z from "zod/mini";
import { canonicalJson, sha256Hex } from "./encoding.js";
import { TIERS } from "./tiers.js";

/**
 * A signed receipt on the wire. `body` is the deterministic-CBOR receipt of
 * `@peercycles/attest/bundle` (request hash, response hash, model, seed, usage, worker, time) and
 * `signature` its Ed25519 signature under the `peercycles/receipt/v1` context, both base64url.
 * `signing_key` is the key the worker registered (verified tier) or the enclave's attested key
 * (confidential tier; the client takes the key from the verified bundle, never from here).
 */
export const wireReceiptSchema = z.object({
  body: z.string(),
  signature: z.string(),
  signing_key: z.string(),
  /** Lowercase hex SHA-256 of the body: a stable receipt id. */
  id: z.string(),
});
export type WireReceipt = z.infer<typeof wireReceiptSchema>;

export const usageSchema = z.object({
  prompt_tokens: z.int().check(z.gte(0)),
  completion_tokens: z.int().check(z.gte(0)),
});
export type Usage = z.infer<typeof usageSchema>;

/**
 * What rides on every answer as `peer`: on a JSON completion a top-level member, on a stream a
 * final `chat.completion.chunk` with empty `choices` before `data: [DONE]`.
 */
export const peerInfoSchema = z.looseObject({
  tier: z.enum(TIERS),
  worker: z.string(),
  job_id: z.string(),
  model: z.string(),
  /** Sampling seed the worker used (the request's, or one the orchestrator chose). */
  seed: z.int().check(z.gte(0)),
  /** What the job cost, in credits (1 credit = $0.01). */
  price_credits: z.int().check(z.gte(0)),
  usage: usageSchema,
  receipt: wireReceiptSchema,
  /** Confidential tier: the HPKE key id the request was sealed to, and whether the TEE is simulated. */
  key_id: z.optional(z.int().check(z.gte(0), z.lte(255))),
  simulated: z.optional(z.boolean()),
  /** x402 settlement of a pay-per-request answer. */
  payment: z.optional(z.looseObject({ transaction: z.string(), network: z.string(), payer: z.string() })),
});
export type PeerInfo = z.infer<typeof peerInfoSchema>;

/** One tool call the model made, as committed to by a receipt (ids are not committed). */
export interface CommittedToolCall {
  readonly name: string;
  readonly arguments: string;
}

/** What a verified-tier receipt's `responseHash` commits to. */
export interface CompletionOutput {
  /** The assistant text; `""` when there is none. */
  readonly content: string;
  readonly toolCalls: readonly CommittedToolCall[];
  readonly finishReason: "stop" | "length" | "tool_calls";
}

/**
 * The canonical text a verified receipt's output hash covers: canonical JSON of
 * `{content, finish_reason, tool_calls: [{arguments, name}]}`. A client recomputes it from the JSON
 * answer or from the concatenated stream deltas; a validator from its own re-execution.
 */
export function outputCommitment(output: CompletionOutput): string {
  return canonicalJson({
    content: output.content,
    finish_reason: output.finishReason,
    tool_calls: output.toolCalls.map((call) => ({ name: call.name, arguments: call.arguments })),
  });
}

/** Lowercase hex SHA-256 of {@link outputCommitment}. */
export function outputHash(output: CompletionOutput): string {
  return sha256Hex(outputCommitment(output));
}

/** The output of a non-streamed OpenAI chat completion, for {@link outputHash}. */
export function completionOutputOf(completion: {
  choices: ReadonlyArray<{
    message?: {
      content?: string | null;
      tool_calls?: ReadonlyArray<{ function: { name: string; arguments: string } }> | null;
    };
    finish_reason?: string | null;
  }>;
}): CompletionOutput {
  const choice = completion.choices[0];
  return {
    content: choice?.message?.content ?? "",
    toolCalls: (choice?.message?.tool_calls ?? []).map((call) => ({
      name: call.function.name,
      arguments: call.function.arguments,
    })),
    finishReason: (choice?.finish_reason ?? "stop") as CompletionOutput["finishReason"],
  };
}

/**
 * Accumulates `chat.completion.chunk` deltas into a {@link CompletionOutput}, the way OpenAI's
 * own stream helpers do (tool call pieces joined by index).
 */
export class CompletionAccumulator {
  #content = "";
  readonly #tools: Array<{ name: string; arguments: string }> = [];
  #finish: CompletionOutput["finishReason"] = "stop";

  add(chunk: {
    choices?: ReadonlyArray<{
      delta?: {
        content?: string | null;
        tool_calls?: ReadonlyArray<{
          index: number;
          function?: { name?: string | null; arguments?: string | null };
        }> | null;
      };
      finish_reason?: string | null;
    }>;
  }): void {
    for (const choice of chunk.choices ?? []) {
      if (choice.delta?.content) this.#content += choice.delta.content;
      for (const call of choice.delta?.tool_calls ?? []) {
        let slot = this.#tools[call.index];
        if (!slot) {
          slot = { name: "", arguments: "" };
          this.#tools[call.index] = slot;
        }
        if (call.function?.name) slot.name += call.function.name;
        if (call.function?.arguments) slot.arguments += call.function.arguments;
      }
      if (choice.finish_reason) this.#finish = choice.finish_reason as CompletionOutput["finishReason"];
    }
  }

  output(): CompletionOutput {
    return { content: this.#content, toolCalls: this.#tools.filter(Boolean), finishReason: this.#finish };
  }
}
