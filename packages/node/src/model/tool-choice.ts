import { identifierWords, STOP_WORDS, stem } from "./prompt-facts.js";
import { messageText } from "./request.js";
import type { ChatMessage, GenerateRequest, ToolDefinition } from "./types.js";

/** The message the rules read words from: the last user message (its text), or `""`. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === "user") return messageText(message);
  }
  return "";
}

/**
 * How well a tool matches a user text: the number of distinct words of the tool's name and description
 * (split at `_`, `-` and camelCase, lowercased, plural `s` dropped, stop words left out) that the user
 * text contains.
 */
export function toolMatchScore(tool: ToolDefinition, userStems: ReadonlySet<string>): number {
  const words = [
    ...identifierWords(tool.function.name),
    ...identifierWords(tool.function.description ?? ""),
  ].filter((word) => !STOP_WORDS.has(word));
  return new Set(words.map(stem).filter((word) => userStems.has(word))).size;
}

/**
 * The documented tool-call rule of `peer-tiny` (see README "Tool calls and structured output"):
 *
 * 1. no tools, or `toolChoice: "none"` → no call;
 * 2. a named tool choice → that tool;
 * 3. `"required"` → the best-matching tool, the first one on a tie (even when nothing matches);
 * 4. `"auto"` (the default) → the best-matching tool, only when the last message is a user message and
 *    at least one word matches.
 *
 * @example
 * ```ts
 * chooseTool({ messages: [{ role: "user", content: "Weather in Paris?" }], seed: 1, tools }, stems);
 * ```
 */
export function chooseTool(
  request: GenerateRequest,
  userStems: ReadonlySet<string>,
): ToolDefinition | undefined {
  const tools = request.tools ?? [];
  const choice = request.toolChoice ?? "auto";
  if (tools.length === 0 || choice === "none") return undefined;
  if (typeof choice === "object") return tools.find((tool) => tool.function.name === choice.function.name);
  let best: ToolDefinition | undefined;
  let bestScore = -1;
  for (const tool of tools) {
    const score = toolMatchScore(tool, userStems);
    if (score > bestScore) {
      best = tool;
      bestScore = score;
    }
  }
  if (choice === "required") return best;
  const last = request.messages[request.messages.length - 1];
  return last?.role === "user" && bestScore > 0 ? best : undefined;
}

/**
 * The answer to trailing tool results: `According to <tool>, <result>.` for each `tool` message at the
 * end of the conversation, in order. A JSON object result reads as `key is value` pairs joined with
 * commas; any other result is quoted as text. The tool's name comes from the assistant tool call that
 * the message's `tool_call_id` answers (else the message `name`, else "the tool").
 */
export function toolResultAnswer(messages: readonly ChatMessage[]): string | undefined {
  let start = messages.length;
  while (start > 0 && messages[start - 1]?.role === "tool") start--;
  if (start === messages.length) return undefined;
  const names = new Map<string, string>();
  for (const message of messages) {
    for (const call of message.tool_calls ?? []) names.set(call.id, call.function.name);
  }
  const sentences: string[] = [];
  for (const message of messages.slice(start)) {
    const name = (message.tool_call_id && names.get(message.tool_call_id)) || message.name || "the tool";
    sentences.push(`According to ${name}, ${describeResult(messageText(message))}.`);
  }
  return sentences.join(" ");
}

function describeResult(text: string): string {
  const trimmed = text.trim().replace(/[.\s]+$/u, "");
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      const pairs = Object.entries(parsed).map(
        ([key, value]) => `${key} is ${typeof value === "string" ? value : JSON.stringify(value)}`,
      );
      return pairs.length > 0 ? pairs.join(", ") : "the result is empty";
    }
  } catch {
    // Not JSON: quote the text.
  }
  return trimmed.length > 0 ? `the result is ${trimmed}` : "the result is empty";
}
