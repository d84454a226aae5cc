import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseChatCompletionRequest } from "./chat.js";
import { canonicalJson, fromBase64Url, fromHex, sha256Hex, toBase64Url, toHex } from "./encoding.js";
import { ProtocolError } from "./errors.js";
import { WORKER_PROTOCOL_VERSION } from "./headers.js";
import { CompletionAccumulator, completionOutputOf, outputCommitment, outputHash } from "./peer.js";
import { maxPriceCredits, priceCredits } from "./pricing.js";
import { encodeSealedFrame, SealedFrameReader } from "./sealed-stream-frames.js";
import {
  MAX_CHUNKS_PER_FRAME,
  parseOrchestratorMessage,
  parseWorkerMessage,
  workerMessageSchema,
} from "./worker-messages.js";

describe("encoding", () => {
  it("base64url round-trips and agrees with Node's encoder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64url"));
        expect(fromBase64Url(text)).toEqual(bytes);
        expect(fromBase64Url(Buffer.from(bytes).toString("base64"))).toEqual(bytes);
      }),
    );
  });

  it("refuses characters outside the alphabet and impossible lengths", () => {
    expect(() => fromBase64Url("ab$d")).toThrow(TypeError);
    expect(() => fromBase64Url("abcde")).toThrow(/impossible length/);
    expect(() => fromHex("abc")).toThrow(TypeError);
    expect(toHex(fromHex("00ff10"))).toBe("00ff10");
  });

  it("canonical JSON sorts keys, drops undefined members and refuses non-finite numbers", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], c: undefined, d: { z: 1, y: 2 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"d":{"y":2,"z":1}}',
    );
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("chat request", () => {
  const base = { model: "peer-tiny", messages: [{ role: "user", content: "hi" }] };

  it("accepts the OpenAI body, unknown members included, and defaults the tier and max tokens", () => {
    const parsed = parseChatCompletionRequest({ ...base, frequency_penalty: 0, parallel_tool_calls: true });
    expect(parsed).toMatchObject({ ok: true, tier: "verified", maxTokens: 256 });
    expect(
      parseChatCompletionRequest({ ...base, max_completion_tokens: 9, max_tokens: 7, peer_tier: "open" }),
    ).toMatchObject({
      ok: true,
      tier: "open",
      maxTokens: 9,
    });
  });

  it("names the offending member", () => {
    expect(parseChatCompletionRequest({ ...base, peer_tier: "gold" })).toMatchObject({
      ok: false,
      code: "tier_unknown",
      param: "peer_tier",
    });
    expect(parseChatCompletionRequest({ ...base, messages: [] })).toMatchObject({
      ok: false,
      code: "invalid_request",
      param: "messages",
    });
    expect(parseChatCompletionRequest({ ...base, temperature: 3 })).toMatchObject({
      ok: false,
      param: "temperature",
    });
    expect(parseChatCompletionRequest({ ...base, n: 2 })).toMatchObject({ ok: false, param: "n" });
    expect(parseChatCompletionRequest("text")).toMatchObject({ ok: false, code: "invalid_request" });
    expect(
      parseChatCompletionRequest({ ...base, tools: [{ type: "function", function: { name: "bad name" } }] }),
    ).toMatchObject({ ok: false, param: "tools.0.function.name" });
  });
});

describe("output commitments", () => {
  it("are the same from a JSON completion and from its stream", () => {
    const json = {
      choices: [
        {
          message: {
            content: null,
            tool_calls: [{ function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
          },
          finish_reason: "tool_calls",
        },
      ],
    };
    const stream = new CompletionAccumulator();
    stream.add({ choices: [{ delta: { content: "" } }] });
    stream.add({
      choices: [
        { delta: { tool_calls: [{ index: 0, function: { name: "get_weather", arguments: '{"ci' } }] } },
      ],
    });
    stream.add({
      choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] } }],
    });
    stream.add({ choices: [{ delta: {}, finish_reason: "tool_calls" }] });
    stream.add({ choices: [] });
    expect(outputHash(stream.output())).toBe(outputHash(completionOutputOf(json)));
    expect(outputCommitment(stream.output())).toBe(
      '{"content":"","finish_reason":"tool_calls","tool_calls":[{"arguments":"{\\"city\\":\\"Paris\\"}","name":"get_weather"}]}',
    );
  });

  it("differ when one character differs", () => {
    const a = { content: "Hello.", toolCalls: [], finishReason: "stop" as const };
    expect(outputHash(a)).not.toBe(outputHash({ ...a, content: "Hello!" }));
    expect(outputHash(a)).not.toBe(outputHash({ ...a, finishReason: "length" }));
  });
});

describe("pricing", () => {
  it("rounds up, charges at least 1 credit, and bounds a job by its maximum", () => {
    expect(priceCredits({ prompt_tokens: 10, completion_tokens: 10 }, 3)).toBe(1);
    expect(priceCredits({ prompt_tokens: 600, completion_tokens: 600 }, 3)).toBe(4);
    expect(priceCredits({ prompt_tokens: 0, completion_tokens: 0 }, 0)).toBe(1);
    fc.assert(
      fc.property(fc.nat(5000), fc.nat(5000), fc.nat(5000), fc.nat(100), (prompt, used, extra, price) => {
        expect(priceCredits({ prompt_tokens: prompt, completion_tokens: used }, price)).toBeLessThanOrEqual(
          maxPriceCredits(prompt, used + extra, price),
        );
      }),
    );
  });
});

describe("sealed stream frames", () => {
  it("reassemble across any split", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 6 }),
        fc.nat(20),
        (payloads, step) => {
          const bytes = Buffer.concat([
            ...payloads.map((p) => encodeSealedFrame(0, p)),
            encodeSealedFrame(1, new TextEncoder().encode("{}")),
          ]);
          const reader = new SealedFrameReader();
          const frames = [];
          const size = step + 1;
          for (let i = 0; i < bytes.length; i += size)
            frames.push(...reader.push(bytes.subarray(i, i + size)));
          reader.end();
          expect(frames.map((f) => f.kind)).toEqual([...payloads.map(() => 0), 1]);
          expect(frames.slice(0, -1).map((f) => [...f.payload])).toEqual(payloads.map((p) => [...p]));
        },
      ),
    );
  });

  it("refuse unknown kinds and a body cut inside a frame", () => {
    expect(() => new SealedFrameReader().push(Uint8Array.of(7, 0, 0, 0, 0))).toThrow(ProtocolError);
    const reader = new SealedFrameReader();
    reader.push(encodeSealedFrame(0, Uint8Array.of(1, 2, 3)).subarray(0, 6));
    expect(() => reader.end()).toThrow(/after the last whole frame/);
  });
});

describe("worker messages", () => {
  const hello = {
    type: "hello",
    protocol: WORKER_PROTOCOL_VERSION,
    token: "pcw_x",
    role: "worker",
    tier: "verified",
    model: "peer-tiny",
    weights_digest: "",
    deterministic: true,
    backend: "builtin",
    price_per_1k: 2,
    signing_key: "AAAA",
    max_concurrency: 2,
  };

  it("parse and default", () => {
    expect(parseWorkerMessage(JSON.stringify(hello))).toMatchObject({ type: "hello", bond_credits: 0 });
    expect(parseOrchestratorMessage('{"type":"cancel","job_id":"job_1"}')).toEqual({
      type: "cancel",
      job_id: "job_1",
    });
  });

  it("parse a text chunk on the fast path exactly as the schema does", () => {
    const cases: unknown[] = [
      { type: "chunk", job_id: "job_1", content: "Hello" },
      { type: "chunk", job_id: "job_1", content: "" },
      { type: "chunk", job_id: "job_1" },
      { type: "chunk", job_id: "j".repeat(64), content: "x" },
      { type: "chunk", job_id: "j".repeat(65), content: "x" },
      { type: "chunk", job_id: "", content: "x" },
      { type: "chunk", job_id: 7, content: "x" },
      { type: "chunk", job_id: "job_1", content: 7 },
      { type: "chunk", job_id: "job_1", content: null },
      { type: "chunk", job_id: "job_1", content: "x", extra: true },
      { type: "chunk", job_id: "job_1", tool_call: { index: 0, id: "c", name: "f", arguments: "{}" } },
      { type: "chunk", job_id: "job_1", tool_call: { index: -1, id: "c", name: "f", arguments: "{}" } },
      { type: "chunk", content: "x" },
      ["chunk"],
      "chunk",
    ];
    for (const value of cases) {
      const text = JSON.stringify(value);
      const expected = workerMessageSchema.safeParse(value);
      if (expected.success) expect(parseWorkerMessage(text), text).toEqual(expected.data);
      else expect(() => parseWorkerMessage(text), text).toThrow(ProtocolError);
    }
    expect(parseWorkerMessage('{"__proto__":{"x":1},"type":"chunk","job_id":"j","content":"a"}')).toEqual({
      type: "chunk",
      job_id: "j",
      content: "a",
    });
  });

  it("parse a chunks frame on the fast path exactly as the schema does", () => {
    const text = (content: string) => ({ type: "chunk", job_id: "job_1", content });
    const sealed = { type: "sealed_chunk", job_id: "job_2", data: "AAEC" };
    const toolCall = {
      type: "chunk",
      job_id: "job_1",
      tool_call: { index: 0, id: "c", name: "f", arguments: "{}" },
    };
    const cases: unknown[] = [
      { type: "chunks", chunks: [text("a"), text("b")] },
      { type: "chunks", chunks: [text("a")] },
      { type: "chunks", chunks: [text("a"), { type: "chunk", job_id: "job_9" }] },
      { type: "chunks", chunks: [text("a"), sealed] },
      { type: "chunks", chunks: [toolCall, text("b")] },
      { type: "chunks", chunks: [] },
      { type: "chunks", chunks: Array.from({ length: MAX_CHUNKS_PER_FRAME }, () => text("x")) },
      { type: "chunks", chunks: Array.from({ length: MAX_CHUNKS_PER_FRAME + 1 }, () => text("x")) },
      { type: "chunks", chunks: [text("a"), { type: "chunk", job_id: "job_1", content: 7 }] },
      { type: "chunks", chunks: [text("a"), { type: "result", job_id: "job_1" }] },
      { type: "chunks", chunks: [text("a"), { type: "chunks", chunks: [text("b")] }] },
      { type: "chunks", chunks: [text("a")], extra: 1 },
      { type: "chunks", chunks: { 0: text("a") } },
      { type: "chunks" },
    ];
    for (const value of cases) {
      const encoded = JSON.stringify(value);
      const expected = workerMessageSchema.safeParse(value);
      if (expected.success) expect(parseWorkerMessage(encoded), encoded.slice(0, 80)).toEqual(expected.data);
      else expect(() => parseWorkerMessage(encoded), encoded.slice(0, 80)).toThrow(ProtocolError);
    }
    expect(() =>
      parseWorkerMessage(JSON.stringify({ type: "chunks", chunks: [text("a"), { type: "chunk" }] })),
    ).toThrow(expect.objectContaining({ code: "protocol_message_invalid", path: "chunks.1.job_id" }));
  });

  it("refuse garbage with the path, and other protocol versions", () => {
    expect(() => parseWorkerMessage("{")).toThrow(/not JSON/);
    expect(() => parseWorkerMessage(JSON.stringify({ ...hello, tier: "gold" }))).toThrow(
      expect.objectContaining({ code: "protocol_message_invalid", path: "tier" }),
    );
    for (const protocol of [WORKER_PROTOCOL_VERSION - 1, WORKER_PROTOCOL_VERSION + 1]) {
      expect(() => parseWorkerMessage(JSON.stringify({ ...hello, protocol }))).toThrow(
        expect.objectContaining({ code: "protocol_version_unsupported" }),
      );
    }
    expect(() => parseWorkerMessage('{"type":"result","job_id":"j","output":42}')).toThrow(ProtocolError);
  });
});
