import { ModelError } from "./errors.js";
import type { GenerateEvent } from "./types.js";

/** Throws `generation_aborted` when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new ModelError("generation_aborted", "generation aborted", { cause: signal.reason });
  }
}

/**
 * Streams token texts as `text` events, then one `finish`, applying the token budget and the stop
 * sequences the way OpenAI does: each token counts as one completion token; when a stop sequence
 * appears, the text before it is sent and generation ends with `"stop"` (the stop sequence itself is
 * never sent); text that may be the start of a stop sequence is held back until it is known not to be.
 * `tokens` yielding `null` means end of text (`"stop"`); reaching `limit` tokens gives `"length"`.
 */
export async function* emitText(
  tokens: Iterable<string | null>,
  options: { limit: number; stops: readonly string[]; promptTokens: number; signal: AbortSignal | undefined },
): AsyncGenerator<GenerateEvent> {
  const { limit, stops, promptTokens, signal } = options;
  let held = "";
  let used = 0;
  let finishReason: "stop" | "length" = "length";
  const finish = (): GenerateEvent => ({
    type: "finish",
    finishReason,
    usage: { promptTokens, completionTokens: used },
  });
  throwIfAborted(signal);
  if (used >= limit) {
    yield finish();
    return;
  }
  for (const token of tokens) {
    if (token === null) {
      finishReason = "stop";
      break;
    }
    used += 1;
    held += token;
    let cut = -1;
    for (const stop of stops) {
      const at = held.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      throwIfAborted(signal);
      if (cut > 0) yield { type: "text", text: held.slice(0, cut) };
      held = "";
      finishReason = "stop";
      break;
    }
    const keep = heldBack(held, stops);
    if (keep < held.length) {
      throwIfAborted(signal);
      yield { type: "text", text: held.slice(0, held.length - keep) };
      held = held.slice(held.length - keep);
    }
    if (used >= limit) break;
  }
  throwIfAborted(signal);
  if (held.length > 0) yield { type: "text", text: held };
  throwIfAborted(signal);
  yield finish();
}

/** Length of the longest suffix of `text` that is a proper prefix of a stop sequence. */
function heldBack(text: string, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(stop.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}
