import { ModelError } from "./errors.js";
import { countTokens } from "./tokenizer.js";
import type { ChatMessage, GenerateRequest, ToolDefinition } from "./types.js";

/** `maxTokens` when a request gives none. */
export const DEFAULT_MAX_TOKENS = 64;

const ROLES = new Set(["system", "user", "assistant", "tool", "developer"]);
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function invalid(argument: string, message: string): ModelError {
  return new ModelError("model_request_invalid", `${argument}: ${message}`, { details: { argument } });
}

/** The text of a message: string content, or its text parts joined with newlines. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text).join("\n");
}

/**
 * Prompt tokens of a request: over all messages, the tokens of the content, plus those of the name
 * and arguments of every tool call an assistant message carries. Roles and tool definitions are free.
 */
export function countPromptTokens(messages: readonly ChatMessage[]): number {
  let total = 0;
  for (const message of messages) {
    total += countTokens(messageText(message));
    for (const call of message.tool_calls ?? []) {
      total += countTokens(call.function.name) + countTokens(call.function.arguments);
    }
  }
  return total;
}

/** The stop sequences of a request, as a list without empty strings. */
export function stopSequences(request: GenerateRequest): string[] {
  const { stop } = request;
  if (stop === undefined) return [];
  return (typeof stop === "string" ? [stop] : stop).filter((sequence) => sequence.length > 0);
}

/**
 * Checks a request at the boundary; every failure is a `model_request_invalid` {@link ModelError}
 * whose message and `details.argument` name the offending argument.
 */
export function validateRequest(request: GenerateRequest): void {
  if (typeof request !== "object" || request === null) throw invalid("request", "must be an object");
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    throw invalid("messages", "must be a non-empty array");
  }
  request.messages.forEach((message, index) => {
    if (typeof message !== "object" || message === null || !ROLES.has(message.role)) {
      throw invalid(`messages[${index}].role`, "must be system, user, assistant, tool or developer");
    }
    const { content } = message;
    const contentOk =
      content === null ||
      typeof content === "string" ||
      (Array.isArray(content) &&
        content.every((part) => part?.type === "text" && typeof part.text === "string"));
    if (!contentOk && !(content === undefined && message.tool_calls)) {
      throw invalid(`messages[${index}].content`, "must be a string, null or an array of text parts");
    }
  });
  if (!Number.isSafeInteger(request.seed)) throw invalid("seed", "must be a safe integer");
  if (request.maxTokens !== undefined && !(Number.isInteger(request.maxTokens) && request.maxTokens > 0)) {
    throw invalid("maxTokens", "must be a positive integer");
  }
  const { temperature, topP } = request;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0 && temperature <= 2)) {
    throw invalid("temperature", "must be a number in [0, 2]");
  }
  if (topP !== undefined && !(Number.isFinite(topP) && topP > 0 && topP <= 1)) {
    throw invalid("topP", "must be a number in (0, 1]");
  }
  const stop = request.stop;
  if (
    stop !== undefined &&
    typeof stop !== "string" &&
    !(Array.isArray(stop) && stop.length <= 4 && stop.every((sequence) => typeof sequence === "string"))
  ) {
    throw invalid("stop", "must be a string or an array of at most 4 strings");
  }
  validateTools(request.tools);
  const choice = request.toolChoice;
  if (choice !== undefined && choice !== "auto" && choice !== "none" && choice !== "required") {
    if (choice?.type !== "function" || typeof choice.function?.name !== "string") {
      throw invalid("toolChoice", 'must be "auto", "none", "required" or { type: "function", function }');
    }
    if (!request.tools?.some((tool) => tool.function.name === choice.function.name)) {
      throw invalid("toolChoice", `names the tool "${choice.function.name}" that is not in tools`);
    }
  }
  if ((choice === "required" || typeof choice === "object") && !request.tools?.length) {
    throw invalid("toolChoice", "forces a tool call but no tools are given");
  }
  const format = request.responseFormat;
  if (format !== undefined) {
    if (format?.type === "json_schema") {
      const spec = format.json_schema;
      if (typeof spec?.name !== "string" || spec.name.length === 0) {
        throw invalid("responseFormat.json_schema.name", "must be a non-empty string");
      }
      if (spec.schema !== undefined && (typeof spec.schema !== "object" || spec.schema === null)) {
        throw invalid("responseFormat.json_schema.schema", "must be an object");
      }
    } else if (format?.type !== "text" && format?.type !== "json_object") {
      throw invalid("responseFormat.type", "must be text, json_object or json_schema");
    }
  }
}

function validateTools(tools: readonly ToolDefinition[] | undefined): void {
  if (tools === undefined) return;
  if (!Array.isArray(tools)) throw invalid("tools", "must be an array");
  const seen = new Set<string>();
  tools.forEach((tool, index) => {
    const name = tool?.function?.name;
    if (tool?.type !== "function" || typeof name !== "string" || !TOOL_NAME.test(name)) {
      throw invalid(`tools[${index}].function.name`, "must match ^[A-Za-z0-9_-]{1,64}$");
    }
    if (seen.has(name)) throw invalid(`tools[${index}].function.name`, `duplicates "${name}"`);
    seen.add(name);
    const parameters = tool.function.parameters;
    if (parameters !== undefined && (typeof parameters !== "object" || parameters === null)) {
      throw invalid(`tools[${index}].function.parameters`, "must be a JSON Schema object");
    }
  });
}
