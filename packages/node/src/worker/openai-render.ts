import type { Usage, WireCompletionOutput } from "@peercycles/protocol";
import type { ToolCallDelta } from "./ipc-messages.js";

/**
 * The OpenAI shapes a confidential answer's plaintext takes inside the enclave: a `chat.completion`
 * object (non-streamed) or `chat.completion.chunk` server-sent events (streamed). No `peer` member
 * rides inside: the orchestrator adds it outside the sealed bytes.
 */

interface CompletionIdentity {
  readonly id: string;
  readonly model: string;
  /** Unix seconds. */
  readonly created: number;
}

function usageJson(usage: Usage) {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
  };
}

/** The `chat.completion` object of a finished generation. */
export function chatCompletionObject(
  identity: CompletionIdentity,
  output: WireCompletionOutput,
  usage: Usage,
): Record<string, unknown> {
  const toolCalls = output.tool_calls.map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  }));
  return {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: output.content === "" && toolCalls.length > 0 ? null : output.content,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        logprobs: null,
        finish_reason: output.finish_reason,
      },
    ],
    usage: usageJson(usage),
  };
}

function sseEvent(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** Builds the SSE events of a streamed completion, one event per call. */
export class ChatCompletionChunks {
  readonly #identity: CompletionIdentity;

  constructor(identity: CompletionIdentity) {
    this.#identity = identity;
  }

  #chunk(delta: Record<string, unknown>, finishReason: string | null): string {
    return sseEvent({
      id: this.#identity.id,
      object: "chat.completion.chunk",
      created: this.#identity.created,
      model: this.#identity.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  }

  /** The first event: the assistant role, no content yet. */
  start(): string {
    return this.#chunk({ role: "assistant", content: "" }, null);
  }

  text(text: string): string {
    return this.#chunk({ content: text }, null);
  }

  toolCall(call: ToolCallDelta): string {
    return this.#chunk(
      {
        tool_calls: [
          {
            index: call.index,
            id: call.id,
            type: "function",
            function: { name: call.name, arguments: call.arguments },
          },
        ],
      },
      null,
    );
  }

  finish(finishReason: WireCompletionOutput["finish_reason"]): string {
    return this.#chunk({}, finishReason);
  }

  /** `stream_options.include_usage`: a last chunk with empty `choices` and the usage. */
  usage(usage: Usage): string {
    return sseEvent({
      id: this.#identity.id,
      object: "chat.completion.chunk",
      created: this.#identity.created,
      model: this.#identity.model,
      choices: [],
      usage: usageJson(usage),
    });
  }

  done(): string {
    return "data: [DONE]\n\n";
  }
}
