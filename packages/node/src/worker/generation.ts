import {
  type CompletionOutput,
  chatCompletionRequestSchema,
  type Usage,
  type WireCompletionOutput,
} from "@peercycles/protocol";
import { ModelError } from "../model/errors.js";
import type { ChatMessage, GenerateRequest, InferenceBackend } from "../model/types.js";
import type { ToolCallDelta, WorkerJobErrorCode } from "./ipc-messages.js";

/** A job that failed with one of the protocol's `job_error` codes. */
export class JobFailure extends Error {
  readonly code: WorkerJobErrorCode;
  constructor(code: WorkerJobErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "JobFailure";
    this.code = code;
  }
}

/** The settings that come from the job rather than the body (the orchestrator's, or the receipt's). */
export interface GenerationSettings {
  readonly seed: number;
  readonly maxTokens: number;
}

/** A parsed chat completion body: what the backend runs, plus what the answer's shape depends on. */
export interface ParsedJobBody {
  readonly request: GenerateRequest;
  /** `stream_options.include_usage` of the body. */
  readonly includeUsage: boolean;
  /** The body's own seed and token cap, when it names them. */
  readonly bodySeed: number | undefined;
  readonly bodyMaxTokens: number | undefined;
}

/**
 * Parses a chat completion body (already JSON-decoded) into the backend request. Both the worker and
 * the validator go through here, so the same body, seed and `maxTokens` always give the same
 * `GenerateRequest`. `describe` says what the message may contain: for a confidential body it must
 * not echo plaintext, so only the offending member's path is named.
 *
 * @throws JobFailure `request_invalid`
 */
export function parseJobBody(
  body: unknown,
  settings: GenerationSettings,
  options: { readonly confidential?: boolean } = {},
): ParsedJobBody {
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join(".") || "body";
    throw new JobFailure(
      "request_invalid",
      options.confidential
        ? `the request is not a chat completion (at ${path})`
        : `${path}: ${issue?.message}`,
    );
  }
  const data = parsed.data;
  const request: GenerateRequest = {
    messages: data.messages as unknown as ChatMessage[],
    seed: settings.seed,
    maxTokens: settings.maxTokens,
    ...(data.temperature != null ? { temperature: data.temperature } : {}),
    ...(data.top_p != null ? { topP: data.top_p } : {}),
    ...(data.stop != null ? { stop: data.stop } : {}),
    ...(data.tools !== undefined ? { tools: data.tools as unknown as GenerateRequest["tools"] } : {}),
    ...(data.tool_choice !== undefined
      ? { toolChoice: data.tool_choice as unknown as GenerateRequest["toolChoice"] }
      : {}),
    ...(data.response_format !== undefined
      ? { responseFormat: data.response_format as unknown as GenerateRequest["responseFormat"] }
      : {}),
  };
  return {
    request,
    includeUsage: data.stream_options?.include_usage === true,
    bodySeed: data.seed ?? undefined,
    bodyMaxTokens: data.max_completion_tokens ?? data.max_tokens ?? undefined,
  };
}

/** What one generation produced. */
export interface Generation {
  readonly output: WireCompletionOutput;
  readonly usage: Usage;
}

/** Callbacks for a generation in progress (streaming). */
export interface GenerationListener {
  onText?(text: string): void | Promise<void>;
  onToolCall?(call: ToolCallDelta): void | Promise<void>;
}

/**
 * Runs the backend to the end, collecting the output and the usage, and reporting tokens as they
 * come. Backend failures become {@link JobFailure}s: `model_request_invalid` → `request_invalid`,
 * `generation_aborted` → `cancelled`, anything else → `backend_failed`. With `confidential`, backend
 * messages (which may quote the request) are not passed on.
 */
export async function runGeneration(
  backend: InferenceBackend,
  request: GenerateRequest,
  options: { signal?: AbortSignal; listener?: GenerationListener; confidential?: boolean } = {},
): Promise<Generation> {
  let content = "";
  const toolCalls: ToolCallDelta[] = [];
  let finish: { finishReason: WireCompletionOutput["finish_reason"]; usage: Usage } | undefined;
  try {
    for await (const event of backend.generate(request, options.signal ? { signal: options.signal } : {})) {
      if (event.type === "text") {
        content += event.text;
        await options.listener?.onText?.(event.text);
      } else if (event.type === "tool_call") {
        const call: ToolCallDelta = {
          index: event.index,
          id: event.id,
          name: event.name,
          arguments: event.arguments,
        };
        toolCalls.push(call);
        await options.listener?.onToolCall?.(call);
      } else {
        finish = {
          finishReason: event.finishReason,
          usage: {
            prompt_tokens: event.usage.promptTokens,
            completion_tokens: event.usage.completionTokens,
          },
        };
      }
    }
  } catch (error) {
    if (options.signal?.aborted) throw new JobFailure("cancelled", "the job was cancelled", { cause: error });
    if (error instanceof JobFailure) throw error;
    if (ModelError.isInstance(error)) {
      const code: WorkerJobErrorCode =
        error.code === "model_request_invalid"
          ? "request_invalid"
          : error.code === "generation_aborted"
            ? "cancelled"
            : "backend_failed";
      const argument = typeof error.details?.argument === "string" ? error.details.argument : undefined;
      const message = options.confidential
        ? `${error.code}${argument ? ` (${argument})` : ""}`
        : `${error.code}: ${error.message}`;
      throw new JobFailure(code, message, { cause: error });
    }
    throw new JobFailure(
      "backend_failed",
      options.confidential ? "the backend failed" : `the backend failed: ${(error as Error)?.message}`,
      { cause: error },
    );
  }
  if (!finish) throw new JobFailure("backend_failed", "the backend ended without a finish event");
  return {
    output: {
      content,
      tool_calls: [...toolCalls].sort((a, b) => a.index - b.index),
      finish_reason: finish.finishReason,
    },
    usage: finish.usage,
  };
}

/** The protocol's committed view of a wire output (what `outputHash` covers). */
export function committedOutput(output: WireCompletionOutput): CompletionOutput {
  return {
    content: output.content,
    toolCalls: output.tool_calls.map((call) => ({ name: call.name, arguments: call.arguments })),
    finishReason: output.finish_reason,
  };
}

/** The word a cheating worker adds to its answer (development only). */
export const CHEAT_SUFFIX = " indeed";

/**
 * What a cheating worker returns instead of `output`: the same answer with one word appended. The
 * receipt is then signed over the altered output, so the answer and its receipt agree and only a
 * re-execution catches it.
 */
export function cheatedOutput(output: WireCompletionOutput): { output: WireCompletionOutput; added: string } {
  const added = output.content.length > 0 ? CHEAT_SUFFIX : CHEAT_SUFFIX.trimStart();
  return { output: { ...output, content: output.content + added }, added };
}
