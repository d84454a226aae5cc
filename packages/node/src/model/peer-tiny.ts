import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { emitText, throwIfAborted } from "./emit-text.js";
import { ModelError } from "./errors.js";
import { type Candidates, type PeerTinyWeights, parsePeerTinyWeights } from "./peer-tiny-weights.js";
import { createPrng, type Prng } from "./prng.js";
import { promptFacts } from "./prompt-facts.js";
import {
  countPromptTokens,
  DEFAULT_MAX_TOKENS,
  messageText,
  stopSequences,
  validateRequest,
} from "./request.js";
import { synthesizeFromSchema } from "./schema-synthesis.js";
import { normalizeToken, tokenize } from "./tokenizer.js";
import { chooseTool, lastUserText, toolResultAnswer } from "./tool-choice.js";
import type { ChatMessage, GenerateEvent, GenerateRequest, InferenceBackend } from "./types.js";

/** Model id of the built-in model. */
export const PEER_TINY_MODEL_ID = "peer-tiny";

/** File name of the built-in weights, under the package's `models/` directory. */
export const PEER_TINY_WEIGHTS_FILE = "peer-tiny.bin";

/**
 * Path of the weights shipped with `@peercycles/node`: walks up from this module (in `src/model/` when
 * run from sources, in `dist/` when built) to the directory that holds `package.json`, then
 * `models/peer-tiny.bin`.
 *
 * @example
 * ```ts
 * const bytes = await readFile(peerTinyWeightsPath());
 * ```
 */
export function peerTinyWeightsPath(): string {
  const url: unknown = import.meta.url;
  // A CommonJS build has no import.meta.url; it has __dirname.
  let directory = typeof url === "string" ? dirname(fileURLToPath(url)) : __dirname;
  for (;;) {
    if (existsSync(join(directory, "package.json"))) return join(directory, "models", PEER_TINY_WEIGHTS_FILE);
    const parent = dirname(directory);
    if (parent === directory) {
      throw new ModelError("model_weights_missing", "no package.json above the peer-tiny module");
    }
    directory = parent;
  }
}

/**
 * Loads `peer-tiny`, the built-in model: a word-level trigram model (backoff to bigrams and unigrams)
 * trained by `scripts/train-peer-tiny.mjs` on the project's own documentation, 0.2 MB, no download.
 * Its `weightsDigest` is the SHA-256 of the weights file; it is deterministic.
 *
 * What it generates, in this order (the rules are in src/model/README.md):
 * 1. a tool call, when the tool rule picks a tool ({@link chooseTool});
 * 2. JSON for `response_format` `json_schema` (synthesised from the schema, see
 *    {@link synthesizeFromSchema}) or `json_object` (from a JSON Schema found in the messages, else
 *    `{"answer": <text>}`);
 * 3. an answer quoting the tool results when the last messages are `tool` messages;
 * 4. otherwise text sampled from the trigram model, continuing the last message's last two words.
 *
 * Sampling: temperature 0 is greedy; otherwise counts are raised to 1/temperature, cut to the
 * `topP` nucleus (most frequent first) and sampled with xoshiro128** seeded by `seed`.
 *
 * Throws `model_weights_missing` when the file is absent, `model_weights_invalid` when it does not parse.
 *
 * @example
 * ```ts
 * const model = await loadPeerTiny();
 * for await (const event of model.generate({ messages: [{ role: "user", content: "Hi" }], seed: 7 })) {
 *   if (event.type === "text") process.stdout.write(event.text);
 * }
 * ```
 */
export async function loadPeerTiny(options: { weightsPath?: string } = {}): Promise<InferenceBackend> {
  const path = options.weightsPath ?? peerTinyWeightsPath();
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new ModelError("model_weights_missing", `peer-tiny weights not readable at ${path}`, {
      cause,
      details: { path },
    });
  }
  return createPeerTinyBackend(bytes);
}

/**
 * The `peer-tiny` backend over weights already in memory (what {@link loadPeerTiny} uses).
 *
 * @example
 * ```ts
 * const model = createPeerTinyBackend(await readFile(peerTinyWeightsPath()));
 * ```
 */
export function createPeerTinyBackend(bytes: Uint8Array): InferenceBackend {
  const weights = parsePeerTinyWeights(bytes);
  const weightsDigest = bytesToHex(sha256(bytes));
  return {
    model: PEER_TINY_MODEL_ID,
    weightsDigest,
    deterministic: true,
    generate: (request, options = {}) => generate(weights, request, options.signal),
  };
}

async function* generate(
  weights: PeerTinyWeights,
  request: GenerateRequest,
  signal: AbortSignal | undefined,
): AsyncGenerator<GenerateEvent> {
  validateRequest(request);
  throwIfAborted(signal);
  const promptTokens = countPromptTokens(request.messages);
  const random = createPrng(request.seed);
  const stops = stopSequences(request);
  const userText = lastUserText(request.messages);
  const trailingToolText = trailingToolResults(request.messages);
  const facts = promptFacts(trailingToolText ? `${userText}\n${trailingToolText}` : userText);

  const tool = chooseTool(request, facts.stems);
  if (tool) {
    const value = synthesizeFromSchema(tool.function.parameters ?? { type: "object" }, facts, random);
    const args = JSON.stringify(value);
    const id = `call_${bytesToHex(sha256(utf8ToBytes(JSON.stringify([request.seed, tool.function.name, args, request.messages])))).slice(0, 24)}`;
    throwIfAborted(signal);
    yield { type: "tool_call", index: 0, id, name: tool.function.name, arguments: args };
    throwIfAborted(signal);
    yield {
      type: "finish",
      finishReason: "tool_calls",
      usage: { promptTokens, completionTokens: tokenize(tool.function.name).length + tokenize(args).length },
    };
    return;
  }

  const format = request.responseFormat;
  const sampler = new Sampler(weights, random, request.temperature ?? 1, request.topP ?? 1);
  const emit = (tokens: Iterable<string | null>, limit: number) =>
    emitText(tokens, { limit, stops, promptTokens, signal });
  if (format?.type === "json_schema" || format?.type === "json_object") {
    const schema =
      format.type === "json_schema" ? format.json_schema.schema : schemaInMessages(request.messages);
    let value: unknown;
    if (schema) value = synthesizeFromSchema(schema, facts, random);
    else {
      const lastText = messageText(
        request.messages[request.messages.length - 1] ?? { role: "user", content: "" },
      );
      value = { answer: [...sampler.continuation(lastText, 24)].join("") };
    }
    // Structured output is only cut by an explicit maxTokens: half a JSON document is useless.
    yield* emit([...tokenize(JSON.stringify(value)), null], request.maxTokens ?? Number.POSITIVE_INFINITY);
    return;
  }
  const limit = request.maxTokens ?? DEFAULT_MAX_TOKENS;
  const answer = toolResultAnswer(request.messages);
  if (answer !== undefined) {
    yield* emit([...tokenize(answer), null], limit);
    return;
  }
  const last = request.messages[request.messages.length - 1];
  yield* emit(sampler.continuation(last ? messageText(last) : "", limit), limit);
}

function trailingToolResults(messages: readonly ChatMessage[]): string {
  const texts: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === "tool"; i--) {
    texts.unshift(messageText(messages[i]!));
  }
  return texts.join("\n");
}

/**
 * The first JSON object in the messages (latest message first) that looks like a JSON Schema (has
 * `properties`, `type: "object"` or `$schema`): a `json_object` request whose prompt carries its schema.
 */
function schemaInMessages(messages: readonly ChatMessage[]): Record<string, unknown> | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const text = messageText(messages[i]!);
    for (let start = text.indexOf("{"); start !== -1; start = text.indexOf("{", start + 1)) {
      const end = matchingBrace(text, start);
      if (end === -1) continue;
      try {
        const parsed: unknown = JSON.parse(text.slice(start, end + 1));
        if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
          const schema = parsed as Record<string, unknown>;
          if ("properties" in schema || schema.type === "object" || "$schema" in schema) return schema;
        }
      } catch {
        // Not JSON: keep looking.
      }
    }
  }
  return undefined;
}

function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return i;
  }
  return -1;
}

/** Draws tokens from the trigram model. */
class Sampler {
  constructor(
    private readonly weights: PeerTinyWeights,
    private readonly random: Prng,
    private readonly temperature: number,
    private readonly topP: number,
  ) {}

  /**
   * Tokens continuing `prompt`: the context is the prompt's last two known tokens, trailing
   * punctuation left out (unknown tokens start a fresh paragraph). The first token is never the end
   * of text and loses its leading space; `null` marks the end of text.
   */
  *continuation(prompt: string, limit: number): Generator<string | null> {
    const { vocabulary, idOf } = this.weights;
    const ids = tokenize(prompt)
      .filter((token) => token.trim().length > 0)
      .map((token) => lookup(idOf, token));
    while (ids.length > 0) {
      const last = ids[ids.length - 1];
      if (last === undefined) ids.length = 0;
      else if (isPunctuation(vocabulary, last)) ids.pop();
      else break;
    }
    let twoBack = ids.length >= 2 ? (ids[ids.length - 2] ?? 0) : 0;
    let previous = ids.length >= 1 ? (ids[ids.length - 1] ?? 0) : 0;
    for (let step = 0; step < limit; step++) {
      const next = this.next(twoBack, previous, step === 0);
      if (next === 0) {
        yield null;
        return;
      }
      const text = vocabulary[next] ?? "";
      yield step === 0 ? text.trimStart() : text;
      twoBack = previous;
      previous = next;
    }
  }

  private next(twoBack: number, previous: number, first: boolean): number {
    const { trigrams, bigrams, unigrams, vocabulary } = this.weights;
    let pool: Candidates =
      trigrams.get(twoBack * vocabulary.length + previous) ?? bigrams.get(previous) ?? unigrams;
    if (first && pool.ids.every((id) => id === 0)) pool = unigrams;
    const allowed = (index: number): boolean => !(first && pool.ids[index] === 0);
    const n = pool.ids.length;
    if (this.temperature === 0) {
      for (let i = 0; i < n; i++) if (allowed(i)) return pool.ids[i]!;
    }
    const weights: number[] = [];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const count = pool.counts[i]!;
      const weight = !allowed(i) ? 0 : this.temperature === 1 ? count : count ** (1 / this.temperature);
      weights.push(weight);
      sum += weight;
    }
    let cutoff = n;
    if (this.topP < 1) {
      let mass = 0;
      for (let i = 0; i < n; i++) {
        mass += weights[i]!;
        if (mass >= this.topP * sum) {
          cutoff = i + 1;
          break;
        }
      }
      sum = 0;
      for (let i = 0; i < cutoff; i++) sum += weights[i]!;
    }
    let target = this.random.nextFloat() * sum;
    let fallback = -1;
    for (let i = 0; i < cutoff; i++) {
      const weight = weights[i]!;
      if (weight === 0) continue;
      fallback = i;
      if (target < weight) return pool.ids[i]!;
      target -= weight;
    }
    return fallback === -1 ? (unigrams.ids[0] ?? 0) : pool.ids[fallback]!;
  }
}

function lookup(idOf: ReadonlyMap<string, number>, token: string): number | undefined {
  const spaced = normalizeToken(token);
  const bare = spaced.trimStart();
  for (const candidate of [spaced, ` ${bare}`, bare, ` ${bare.toLowerCase()}`, bare.toLowerCase()]) {
    const id = idOf.get(candidate);
    if (id !== undefined && id !== 0) return id;
  }
  return undefined;
}

function isPunctuation(vocabulary: readonly string[], id: number): boolean {
  return !/[\p{L}\p{N}_]/u.test(vocabulary[id] ?? "");
}
