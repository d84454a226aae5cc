import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { beforeAll, describe, expect, it } from "vitest";
import { ModelError } from "./errors.js";
import { createPeerTinyBackend, loadPeerTiny, PEER_TINY_MODEL_ID, peerTinyWeightsPath } from "./peer-tiny.js";
import { parsePeerTinyWeights } from "./peer-tiny-weights.js";
import { createPrng } from "./prng.js";
import { countTokens, tokenize } from "./tokenizer.js";
import type { GenerateEvent, GenerateRequest, InferenceBackend } from "./types.js";

let model: InferenceBackend;
beforeAll(async () => {
  model = await loadPeerTiny();
});

async function collect(request: GenerateRequest, signal?: AbortSignal): Promise<GenerateEvent[]> {
  const events: GenerateEvent[] = [];
  for await (const event of model.generate(request, signal ? { signal } : {})) events.push(event);
  return events;
}

function textOf(events: readonly GenerateEvent[]): string {
  return events.map((event) => (event.type === "text" ? event.text : "")).join("");
}

function finishOf(events: readonly GenerateEvent[]): Extract<GenerateEvent, { type: "finish" }> {
  const last = events.at(-1);
  if (last?.type !== "finish") throw new Error("no finish event");
  return last;
}

async function caught(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (error) {
    if (ModelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a ModelError");
}

const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content }],
  seed: 7,
  ...extra,
});

describe("peer-tiny weights", () => {
  it("ships a compact weights file whose SHA-256 is the weights digest", () => {
    const bytes = readFileSync(peerTinyWeightsPath());
    expect(bytes.length).toBeLessThan(2 * 1024 * 1024);
    expect(model.model).toBe(PEER_TINY_MODEL_ID);
    expect(model.deterministic).toBe(true);
    expect(model.weightsDigest).toBe(bytesToHex(sha256(bytes)));
    expect(model.weightsDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("parses into a trigram model over the documentation vocabulary", () => {
    const weights = parsePeerTinyWeights(readFileSync(peerTinyWeightsPath()));
    expect(weights.vocabulary[0]).toBe("");
    expect(weights.idOf.has(" attestation")).toBe(true);
    expect(weights.trigrams.size).toBeGreaterThan(1000);
    expect(weights.trainingTokens).toBeGreaterThan(10_000);
  });

  it("rejects a missing file as model_weights_missing", async () => {
    const error = await caught(loadPeerTiny({ weightsPath: join(tmpdir(), "no-such-dir", "peer-tiny.bin") }));
    expect(error.code).toBe("model_weights_missing");
    expect(error.retryable).toBe(false);
  });

  it.each([
    ["bad magic", (bytes: Uint8Array) => bytes.fill(0, 0, 1)],
    ["a wrong version", (bytes: Uint8Array) => bytes.fill(9, 4, 5)],
    ["non-zero reserved bytes", (bytes: Uint8Array) => bytes.fill(1, 30, 31)],
    ["a truncated file", (bytes: Uint8Array) => bytes.subarray(0, bytes.length - 3)],
    ["a truncated header", (bytes: Uint8Array) => bytes.subarray(0, 20)],
    ["trailing bytes", (bytes: Uint8Array) => Uint8Array.from([...bytes, 0])],
  ])("rejects weights with %s as model_weights_invalid", async (_name, corrupt) => {
    const bytes = corrupt(new Uint8Array(readFileSync(peerTinyWeightsPath()))) ?? new Uint8Array();
    expect(() => createPeerTinyBackend(bytes)).toThrowError(
      expect.objectContaining({ code: "model_weights_invalid" }),
    );
    const path = join(await mkdtemp(join(tmpdir(), "peer-tiny-")), "bad.bin");
    await writeFile(path, bytes);
    expect((await caught(loadPeerTiny({ weightsPath: path }))).code).toBe("model_weights_invalid");
  });
});

describe("peer-tiny generation", () => {
  it("is deterministic: the same request and seed give the same events", async () => {
    for (const seed of [0, 1, 42, -5, 2 ** 40 + 3]) {
      const request = ask("What does the validator check in an attestation bundle?", { seed, maxTokens: 40 });
      expect(await collect(request)).toEqual(await collect(request));
    }
  });

  it("differs between seeds", async () => {
    const outputs = new Set<string>();
    for (let seed = 0; seed < 8; seed++) {
      outputs.add(textOf(await collect(ask("The enclave", { seed, maxTokens: 32 }))));
    }
    expect(outputs.size).toBeGreaterThan(4);
  });

  it("is greedy at temperature 0: the seed does not matter", async () => {
    const one = await collect(ask("How is the response sealed?", { temperature: 0, seed: 1 }));
    const two = await collect(ask("How is the response sealed?", { temperature: 0, seed: 2 }));
    expect(one).toEqual(two);
    expect(textOf(one).length).toBeGreaterThan(0);
  });

  it("honours temperature and topP deterministically", async () => {
    const request = ask("The worker", { temperature: 0.7, topP: 0.9, maxTokens: 24 });
    const events = await collect(request);
    expect(events).toEqual(await collect(request));
    expect(textOf(events).length).toBeGreaterThan(0);
  });

  it("streams one text event per token and counts usage with the tokenizer", async () => {
    const events = await collect(ask("Tell me about the sealed stream.", { maxTokens: 20, temperature: 0 }));
    const finish = finishOf(events);
    const texts = events.filter((event) => event.type === "text");
    expect(texts.length).toBe(finish.usage.completionTokens);
    expect(finish.usage.promptTokens).toBe(countTokens("Tell me about the sealed stream."));
    expect(textOf(events)).not.toMatch(/^\s/);
  });

  it("counts prompt tokens over every message", async () => {
    const request: GenerateRequest = {
      seed: 1,
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: [{ type: "text", text: "Hello there" }] },
        { role: "assistant", content: "Hi!" },
        { role: "user", content: "And the quote?" },
      ],
    };
    const finish = finishOf(await collect(request));
    expect(finish.usage.promptTokens).toBe(4 + 2 + 2 + 4);
  });

  it("stops at maxTokens with finishReason length", async () => {
    for (const maxTokens of [1, 5, 64]) {
      const events = await collect(ask("How does the enclave seal?", { temperature: 0, maxTokens }));
      const finish = finishOf(events);
      expect(finish.finishReason).toBe("length");
      expect(finish.usage.completionTokens).toBe(maxTokens);
    }
    // Default: 64 tokens.
    const byDefault = finishOf(await collect(ask("How does the enclave seal?", { temperature: 0 })));
    expect(byDefault.usage.completionTokens).toBe(64);
  });

  it("ends with finishReason stop at the end of a paragraph", async () => {
    let sawStop = false;
    for (let seed = 0; seed < 20 && !sawStop; seed++) {
      const finish = finishOf(await collect(ask("Peer", { seed, maxTokens: 200 })));
      sawStop = finish.finishReason === "stop" && finish.usage.completionTokens < 200;
    }
    expect(sawStop).toBe(true);
  });

  it("cuts the output before a stop sequence, even one split across tokens", async () => {
    const request = ask("The enclave", { temperature: 0, maxTokens: 64 });
    const full = textOf(await collect(request));
    const tokens = tokenize(full);
    // A stop sequence that straddles two tokens: the end of token 3 and the start of token 4.
    const prefix = tokens.slice(0, 3).join("");
    const stop = `${prefix.slice(-2)}${(tokens[3] ?? "").slice(0, 2)}`;
    const expected = full.slice(0, full.indexOf(stop));
    for (const stops of [stop, [stop, "zzzz-not-there"]]) {
      const events = await collect({ ...request, stop: stops });
      expect(textOf(events)).toBe(expected);
      expect(finishOf(events).finishReason).toBe("stop");
    }
    // A stop sequence that never appears changes nothing.
    const untouched = await collect({ ...request, stop: "\u0000never" });
    expect(textOf(untouched)).toBe(full);
  });

  it("throws generation_aborted when the signal fires, before or during the stream", async () => {
    const before = new AbortController();
    before.abort();
    expect((await caught(collect(ask("The enclave"), before.signal))).code).toBe("generation_aborted");

    const during = new AbortController();
    const seen: GenerateEvent[] = [];
    const error = await caught(
      (async () => {
        for await (const event of model.generate(ask("The enclave", { maxTokens: 50 }), {
          signal: during.signal,
        })) {
          seen.push(event);
          if (seen.length === 3) during.abort(new Error("client went away"));
        }
      })(),
    );
    expect(error.code).toBe("generation_aborted");
    expect(seen.length).toBe(3);
  });

  it.each<[string, Partial<GenerateRequest>]>([
    ["seed", { seed: 1.5 }],
    ["maxTokens", { maxTokens: 0 }],
    ["temperature", { temperature: -1 }],
    ["topP", { topP: 0 }],
    ["stop", { stop: ["a", "b", "c", "d", "e"] }],
    ["messages", { messages: [] }],
    ["toolChoice", { toolChoice: "required" }],
    [
      "responseFormat.json_schema.name",
      { responseFormat: { type: "json_schema", json_schema: { name: "" } } },
    ],
  ])("rejects an invalid %s as model_request_invalid", async (argument, patch) => {
    const error = await caught(collect({ ...ask("hi"), ...patch }));
    expect(error.code).toBe("model_request_invalid");
    expect(error.details?.argument).toBe(argument);
  });
});

describe("xoshiro128**", () => {
  it("is a fixed stream per seed", () => {
    const a = createPrng(123);
    const b = createPrng(123);
    const c = createPrng(124);
    const first = Array.from({ length: 4 }, () => a.nextUint32());
    expect(Array.from({ length: 4 }, () => b.nextUint32())).toEqual(first);
    expect(Array.from({ length: 4 }, () => c.nextUint32())).not.toEqual(first);
    for (let i = 0; i < 1000; i++) {
      const value = a.nextFloat();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});
