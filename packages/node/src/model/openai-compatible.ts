import { throwIfAborted } from "./emit-text.js";
import { ModelError } from "./errors.js";
import { countPromptTokens, validateRequest } from "./request.js";
import { parseServerSentEvents } from "./sse.js";
import { countTokens } from "./tokenizer.js";
import type { GenerateEvent, GenerateRequest, InferenceBackend } from "./types.js";
import { nodeHttpTransport, type UpstreamResponse, type UpstreamTransport } from "./upstream-transport.js";

/** Options of {@link createOpenAICompatibleBackend}. */
export interface OpenAICompatibleBackendOptions {
  /** Base URL of the upstream API, up to and including `/v1`, e.g. `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  /** Model id this backend serves under (what clients ask for). */
  model: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given. */
  apiKey?: string;
  /**
   * The `fetch` to use. By default the backend posts with `node:http`/`node:https` on a keep-alive agent
   * (see {@link nodeHttpTransport}), which costs far less per request than the global `fetch`.
   */
  fetch?: typeof fetch;
  /** Model name the upstream knows the model by; `model` by default. */
  servedModel?: string;
}

type FinishReason = "stop" | "length" | "tool_calls";

interface PendingToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * A backend that forwards to an OpenAI-compatible `/chat/completions` upstream (vLLM, llama.cpp
 * server, Ollama, …) over `node:http` (or an injected `fetch`). It always asks for a stream (`stream: true`, usage included) and
 * parses the `chat.completion.chunk` server-sent events; an upstream that answers with plain JSON is
 * accepted too. `tools`, `tool_choice`, `response_format`, `seed`, `stop`, `temperature`, `top_p` and
 * `max_tokens` are passed through. Tool-call deltas are assembled and sent as `tool_call` events just
 * before `finish`. Usage is the upstream's when it reports one, else counted with the `peer-tiny`
 * tokenizer.
 *
 * It is not `deterministic` and its `weightsDigest` is `""`: the upstream's weights are not known here.
 *
 * Errors, all {@link ModelError}: `upstream_unavailable` (retryable: network failure, HTTP 408/429/502/
 * 503/504, connection dropped or stream ended before a finish), `model_request_invalid` (HTTP 400/422,
 * or a request that fails validation here), `upstream_error` (any other HTTP status, malformed SSE or
 * JSON, an error object in the stream), `generation_aborted` (the signal fired).
 *
 * @example
 * ```ts
 * const backend = createOpenAICompatibleBackend({ baseURL: "http://127.0.0.1:11434/v1", model: "llama3.2" });
 * for await (const event of backend.generate({ messages: [{ role: "user", content: "Hi" }], seed: 1 })) {
 *   if (event.type === "text") process.stdout.write(event.text);
 * }
 * ```
 */
export function createOpenAICompatibleBackend(options: OpenAICompatibleBackendOptions): InferenceBackend {
  let base: URL;
  try {
    base = new URL(options.baseURL);
  } catch (cause) {
    throw new ModelError("model_request_invalid", "baseURL: not a URL", {
      cause,
      details: { argument: "baseURL" },
    });
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new ModelError("model_request_invalid", "baseURL: must be http or https", {
      details: { argument: "baseURL" },
    });
  }
  if (typeof options.model !== "string" || options.model.length === 0) {
    throw new ModelError("model_request_invalid", "model: must be a non-empty string", {
      details: { argument: "model" },
    });
  }
  const endpoint = `${options.baseURL.replace(/\/+$/, "")}/chat/completions`;
  const transport: UpstreamTransport = options.fetch ?? nodeHttpTransport();
  const servedModel = options.servedModel ?? options.model;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream, application/json",
  };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return {
    model: options.model,
    weightsDigest: "",
    deterministic: false,
    generate: (request, generateOptions = {}) =>
      generate(request, generateOptions.signal, { endpoint, transport, servedModel, headers }),
  };
}

/** The JSON body sent upstream for a request. */
export function toChatCompletionBody(request: GenerateRequest, model: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model,
    messages: request.messages,
    stream: true,
    stream_options: { include_usage: true },
    seed: request.seed,
  };
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined) body.stop = request.stop;
  if (request.tools !== undefined) body.tools = request.tools;
  if (request.toolChoice !== undefined) body.tool_choice = request.toolChoice;
  if (request.responseFormat !== undefined) body.response_format = request.responseFormat;
  return body;
}

async function* generate(
  request: GenerateRequest,
  signal: AbortSignal | undefined,
  context: {
    endpoint: string;
    transport: UpstreamTransport;
    servedModel: string;
    headers: Record<string, string>;
  },
): AsyncGenerator<GenerateEvent> {
  validateRequest(request);
  throwIfAborted(signal);
  let response: UpstreamResponse;
  try {
    response = await context.transport(context.endpoint, {
      method: "POST",
      headers: context.headers,
      body: JSON.stringify(toChatCompletionBody(request, context.servedModel)),
      ...(signal ? { signal } : {}),
    });
  } catch (cause) {
    throwIfAborted(signal);
    throw new ModelError("upstream_unavailable", `upstream not reachable at ${context.endpoint}`, {
      cause,
      details: { endpoint: context.endpoint },
    });
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    throw httpError(response.status, text);
  }
  const state = new CompletionState(request);
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("text/event-stream")) {
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch (cause) {
      throwIfAborted(signal);
      throw new ModelError("upstream_error", "upstream answered with a body that is not JSON", { cause });
    }
    yield* state.completion(parsed);
    throwIfAborted(signal);
    yield* state.finish(true);
    return;
  }
  if (!response.body) throw new ModelError("upstream_error", "upstream stream has no body");
  let done = false;
  try {
    for await (const event of parseServerSentEvents(response.body)) {
      throwIfAborted(signal);
      if (event.data.trim() === "[DONE]") {
        done = true;
        break;
      }
      yield* state.chunk(event.data);
    }
  } catch (cause) {
    if (ModelError.isInstance(cause)) throw cause;
    throwIfAborted(signal);
    throw new ModelError("upstream_unavailable", "upstream connection dropped mid-stream", { cause });
  }
  throwIfAborted(signal);
  yield* state.finish(done);
}

class CompletionState {
  private finishReason: FinishReason | undefined;
  private usage: { promptTokens: number; completionTokens: number } | undefined;
  private completionText = "";
  private readonly toolCalls = new Map<number, PendingToolCall>();

  constructor(private readonly request: GenerateRequest) {}

  *chunk(data: string): Generator<GenerateEvent> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch (cause) {
      throw new ModelError("upstream_error", "malformed SSE: data is not JSON", {
        cause,
        details: { data: data.slice(0, 200) },
      });
    }
    if (!isRecord(parsed)) throw malformed("chunk is not an object", data);
    if (parsed.error !== undefined) throw upstreamErrorObject(parsed.error);
    this.readUsage(parsed.usage);
    if (!Array.isArray(parsed.choices)) {
      if (parsed.usage === undefined) throw malformed("chunk has no choices", data);
      return;
    }
    for (const choice of parsed.choices) {
      if (!isRecord(choice)) throw malformed("choice is not an object", data);
      if ((choice.index ?? 0) !== 0) continue;
      const delta = choice.delta;
      if (delta !== undefined && delta !== null) {
        if (!isRecord(delta)) throw malformed("delta is not an object", data);
        if (typeof delta.content === "string" && delta.content.length > 0) {
          this.completionText += delta.content;
          yield { type: "text", text: delta.content };
        }
        if (delta.tool_calls !== undefined && delta.tool_calls !== null)
          this.addToolCalls(delta.tool_calls, data);
      }
      this.readFinish(choice.finish_reason);
    }
  }

  *completion(parsed: unknown): Generator<GenerateEvent> {
    if (!isRecord(parsed)) throw malformed("completion is not an object", "");
    if (parsed.error !== undefined) throw upstreamErrorObject(parsed.error);
    this.readUsage(parsed.usage);
    const choice = Array.isArray(parsed.choices) ? parsed.choices[0] : undefined;
    if (!isRecord(choice) || !isRecord(choice.message))
      throw malformed("completion has no choices[0].message", "");
    const { content, tool_calls: toolCalls } = choice.message;
    if (typeof content === "string" && content.length > 0) {
      this.completionText = content;
      yield { type: "text", text: content };
    }
    if (Array.isArray(toolCalls)) {
      this.addToolCalls(
        toolCalls.map((call, index) =>
          isRecord(call) && call.index === undefined ? { ...call, index } : call,
        ),
        "",
      );
    }
    this.readFinish(choice.finish_reason);
  }

  *finish(done: boolean): Generator<GenerateEvent> {
    if (this.finishReason === undefined) {
      if (!done) {
        throw new ModelError("upstream_unavailable", "upstream stream ended before the completion finished");
      }
      this.finishReason = "stop";
    }
    const calls = [...this.toolCalls.entries()].sort((a, b) => a[0] - b[0]);
    for (const [index, call] of calls) {
      yield {
        type: "tool_call",
        index,
        id: call.id || `call_${index}`,
        name: call.name,
        arguments: call.arguments,
      };
    }
    const finishReason = calls.length > 0 && this.finishReason === "stop" ? "tool_calls" : this.finishReason;
    const usage = this.usage ?? {
      promptTokens: countPromptTokens(this.request.messages),
      completionTokens:
        countTokens(this.completionText) +
        calls.reduce((sum, [, call]) => sum + countTokens(call.name) + countTokens(call.arguments), 0),
    };
    yield { type: "finish", finishReason, usage };
  }

  private readUsage(usage: unknown): void {
    if (!isRecord(usage)) return;
    const { prompt_tokens: prompt, completion_tokens: completion } = usage;
    if (typeof prompt === "number" && typeof completion === "number") {
      this.usage = { promptTokens: prompt, completionTokens: completion };
    }
  }

  private readFinish(reason: unknown): void {
    if (reason === null || reason === undefined) return;
    if (typeof reason !== "string") throw malformed("finish_reason is not a string", "");
    this.finishReason =
      reason === "length"
        ? "length"
        : reason === "tool_calls" || reason === "function_call"
          ? "tool_calls"
          : "stop";
  }

  private addToolCalls(deltas: unknown, data: string): void {
    if (!Array.isArray(deltas)) throw malformed("tool_calls is not an array", data);
    for (const delta of deltas) {
      if (!isRecord(delta) || typeof delta.index !== "number")
        throw malformed("tool call has no index", data);
      const call = this.toolCalls.get(delta.index) ?? { id: "", name: "", arguments: "" };
      if (typeof delta.id === "string") call.id = delta.id;
      const fn = delta.function;
      if (isRecord(fn)) {
        if (typeof fn.name === "string") call.name += fn.name;
        if (typeof fn.arguments === "string") call.arguments += fn.arguments;
        else if (isRecord(fn.arguments)) call.arguments += JSON.stringify(fn.arguments);
      }
      this.toolCalls.set(delta.index, call);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function malformed(message: string, data: string): ModelError {
  return new ModelError("upstream_error", `malformed upstream response: ${message}`, {
    details: { data: data.slice(0, 200) },
  });
}

function upstreamErrorObject(error: unknown): ModelError {
  const message = isRecord(error) && typeof error.message === "string" ? error.message : String(error);
  return new ModelError("upstream_error", `upstream error: ${message}`, { details: { upstream: error } });
}

function httpError(status: number, text: string): ModelError {
  let message = text.slice(0, 500);
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) {
      const error = parsed.error;
      if (isRecord(error) && typeof error.message === "string") message = error.message;
      else if (typeof error === "string") message = error;
      else if (typeof parsed.message === "string") message = parsed.message;
    }
  } catch {
    // Not JSON: keep the text.
  }
  const code =
    status === 400 || status === 422
      ? "model_request_invalid"
      : [408, 429, 502, 503, 504].includes(status)
        ? "upstream_unavailable"
        : "upstream_error";
  return new ModelError(code, `upstream HTTP ${status}${message ? `: ${message}` : ""}`, {
    details: { status, upstreamMessage: message },
  });
}
