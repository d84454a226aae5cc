/** One chat message, in the OpenAI Chat Completions shape. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool" | "developer";
  content: string | null | Array<{ type: "text"; text: string }>;
  name?: string;
  tool_calls?: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

/** A function the model may call; `parameters` is a JSON Schema for its arguments object. */
export interface ToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** OpenAI `tool_choice`: let the model decide, forbid calls, force some call, or force one tool. */
export type ToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

/** OpenAI `response_format`. */
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
      type: "json_schema";
      json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean };
    };

/** What a backend is asked to generate. */
export interface GenerateRequest {
  messages: readonly ChatMessage[];
  /** Most completion tokens; 64 when absent (see the README for structured output). */
  maxTokens?: number;
  /** Seed of the sampler: same request and seed, same output (on deterministic backends). */
  seed: number;
  /** 0 is greedy; default 1. */
  temperature?: number;
  /** Nucleus sampling mass in (0, 1]; default 1. */
  topP?: number;
  stop?: string | string[];
  tools?: readonly ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
}

/** What a backend streams back: token texts, tool calls, then exactly one `finish`. */
export type GenerateEvent =
  | { type: "text"; text: string }
  | { type: "tool_call"; index: number; id: string; name: string; arguments: string }
  | {
      type: "finish";
      finishReason: "stop" | "length" | "tool_calls";
      usage: { promptTokens: number; completionTokens: number };
    };

/** An inference backend of the worker: the built-in `peer-tiny` or an OpenAI-compatible upstream. */
export interface InferenceBackend {
  /** Model id, e.g. `"peer-tiny"`. */
  readonly model: string;
  /** Lowercase hex SHA-256 of the weights file; `""` when unknown (an upstream). */
  readonly weightsDigest: string;
  /** Whether the same request and seed always give the same event sequence. */
  readonly deterministic: boolean;
  generate(request: GenerateRequest, options?: { signal?: AbortSignal }): AsyncIterable<GenerateEvent>;
}
