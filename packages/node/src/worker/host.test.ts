import { existsSync, readFileSync } from "node:fs";
import { decodeReceiptBody, verifyReceipt } from "@peercycles/attest/bundle";
import {
  CompletionAccumulator,
  fromBase64Url,
  outputCommitment,
  outputHash,
  sha256Hex,
  toHex,
  WORKER_PROTOCOL_VERSION,
} from "@peercycles/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPeerTiny, peerTinyWeightsPath } from "../model/peer-tiny.js";
import { WorkerError } from "./errors.js";
import { CHEAT_SUFFIX, committedOutput } from "./generation.js";
import { startWorker, type WorkerEvent, type WorkerHandle } from "./host.js";
import {
  type FakeConnection,
  type FakeOrchestrator,
  startFakeOrchestrator,
} from "./testing/fake-orchestrator.js";
import { reexecute } from "./validator.js";

const PEER_TINY_DIGEST = sha256Hex(readFileSync(peerTinyWeightsPath()));
const body = (content: string, extra: object = {}) =>
  JSON.stringify({ model: "peer-tiny", messages: [{ role: "user", content }], ...extra });

async function receiptOf(result: { receipt: { body: string; signature: string } }, signingKey: Uint8Array) {
  const signed = {
    body: fromBase64Url(result.receipt.body),
    signature: fromBase64Url(result.receipt.signature),
  };
  const verification = await verifyReceipt(signed, signingKey);
  expect(verification.errors).toEqual([]);
  return decodeReceiptBody(signed.body);
}

describe("worker host on the verified tier (real enclave process, in-test orchestrator)", () => {
  let orchestrator: FakeOrchestrator;
  let worker: WorkerHandle;
  let connection: FakeConnection;
  const events: WorkerEvent[] = [];
  // cheat on every third job, decided by an injected random source
  let draws = 0;

  beforeAll(async () => {
    orchestrator = await startFakeOrchestrator();
    worker = await startWorker({
      orchestrator: orchestrator.url,
      token: "pcw_test",
      tier: "verified",
      name: "verified-test",
      pricePer1k: 3,
      bond: 500,
      maxConcurrency: 8,
      cheatRate: 0.5,
      random: () => (draws++ % 3 === 2 ? 0.1 : 0.9),
      onEvent: (event) => events.push(event),
    });
    connection = await orchestrator.connection(0);
  });
  afterAll(async () => {
    await worker?.close();
    await orchestrator?.close();
  });

  it("says hello with its tier, model, digest, key and terms, and gets its worker id", () => {
    expect(connection.hello).toMatchObject({
      type: "hello",
      protocol: WORKER_PROTOCOL_VERSION,
      role: "worker",
      token: "pcw_test",
      name: "verified-test",
      tier: "verified",
      model: "peer-tiny",
      weights_digest: PEER_TINY_DIGEST,
      deterministic: true,
      backend: "builtin",
      price_per_1k: 3,
      bond_credits: 500,
      max_concurrency: 8,
    });
    expect(connection.hello.bundle).toBeUndefined();
    expect(fromBase64Url(connection.hello.signing_key)).toEqual(worker.signingKey);
    expect(worker.signingKey).toHaveLength(32);
    expect(worker.workerId).toBe("w-0");
    expect(worker.connected).toBe(true);
    expect(events[0]).toEqual({ type: "connected", workerId: "w-0" });
    expect(worker.enclavePid).not.toBe(process.pid);
  });

  it("answers a job with the output, usage and a receipt over the body and the output commitment", async () => {
    draws = 0; // honest
    const request = body("How does the orchestrator route a sealed request?");
    const outcome = await connection.job({ job_id: "j-plain", body: request, seed: 42, max_tokens: 16 });
    expect(outcome.error).toBeUndefined();
    expect(outcome.chunks).toEqual([]);
    const result = outcome.result!;
    expect(result.output?.content.length).toBeGreaterThan(0);
    const receipt = await receiptOf(result, worker.signingKey);
    expect(toHex(receipt.requestHash)).toBe(sha256Hex(request));
    const committed = committedOutput(result.output!);
    expect(toHex(receipt.responseHash)).toBe(sha256Hex(outputCommitment(committed)));
    expect(receipt).toMatchObject({ model: "peer-tiny", seed: 42, worker: "w-0" });
    expect(receipt.usage).toEqual({
      promptTokens: result.usage.prompt_tokens,
      completionTokens: result.usage.completion_tokens,
    });
    expect(Math.abs(receipt.time - Date.now() / 1000)).toBeLessThan(60);
    // the same backend, body, seed and cap elsewhere (the validator) gives the same hash
    const again = await reexecute(await loadPeerTiny(), { body: request, seed: 42, maxTokens: 16 });
    expect(again.outputHash).toBe(outputHash(committed));
  });

  it("streams chunks whose concatenation is the result, tool calls included", async () => {
    draws = 0;
    const text = await connection.job({
      job_id: "j-stream",
      body: body("Tell me about receipts"),
      stream: true,
    });
    expect(text.chunks.length).toBeGreaterThan(1);
    expect(text.chunks.map((c) => c.content ?? "").join("")).toBe(text.result?.output?.content);
    // The first chunk alone (time to first token), the rest gathered into fewer frames than chunks.
    const frames = connection.frames.filter(
      (f) =>
        (f.type === "chunk" && f.job_id === "j-stream") ||
        (f.type === "chunks" && f.chunks[0]?.job_id === "j-stream"),
    );
    expect(frames[0]).toMatchObject({ type: "chunk", job_id: "j-stream" });
    expect(frames.some((f) => f.type === "chunks")).toBe(true);
    expect(frames.length).toBeLessThan(text.chunks.length);

    const tools = body("What is the weather in Paris?", {
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          },
        },
      ],
      tool_choice: "required",
    });
    const call = await connection.job({ job_id: "j-tool", body: tools, stream: true });
    const toolChunk = call.chunks.find((c) => c.tool_call);
    expect(toolChunk?.tool_call).toMatchObject({ index: 0, name: "get_weather" });
    expect(JSON.parse(toolChunk!.tool_call!.arguments)).toEqual({ city: "Paris" });
    expect(call.result?.output).toMatchObject({
      finish_reason: "tool_calls",
      tool_calls: [toolChunk!.tool_call],
    });
    // a client accumulating the stream gets the committed output
    const accumulator = new CompletionAccumulator();
    for (const chunk of call.chunks) {
      accumulator.add({
        choices: [
          {
            delta: {
              ...(chunk.content ? { content: chunk.content } : {}),
              ...(chunk.tool_call
                ? {
                    tool_calls: [
                      {
                        index: chunk.tool_call.index,
                        function: { name: chunk.tool_call.name, arguments: chunk.tool_call.arguments },
                      },
                    ],
                  }
                : {}),
            },
          },
        ],
      });
    }
    accumulator.add({ choices: [{ finish_reason: call.result!.output!.finish_reason }] });
    const receipt = await receiptOf(call.result!, worker.signingKey);
    expect(toHex(receipt.responseHash)).toBe(outputHash(accumulator.output()));
  });

  it("cheats on the share the random source picks, signs the altered output, and re-execution disagrees", async () => {
    draws = 2; // the next draw cheats
    const request = body("Explain the ledger");
    const cheated = await connection.job({
      job_id: "j-cheat",
      body: request,
      stream: true,
      seed: 5,
      max_tokens: 12,
    });
    const output = cheated.result!.output!;
    expect(output.content.endsWith(CHEAT_SUFFIX)).toBe(true);
    // the stream carries the altered output too: answer and receipt agree
    expect(cheated.chunks.map((c) => c.content ?? "").join("")).toBe(output.content);
    const receipt = await receiptOf(cheated.result!, worker.signingKey);
    expect(toHex(receipt.responseHash)).toBe(outputHash(committedOutput(output)));
    const validator = await reexecute(await loadPeerTiny(), { body: request, seed: 5, maxTokens: 12 });
    expect(validator.outputHash).not.toBe(outputHash(committedOutput(output)));

    const honest = await connection.job({ job_id: "j-honest", body: request, seed: 5, max_tokens: 12 });
    expect(honest.result!.output!.content.endsWith(CHEAT_SUFFIX)).toBe(false);
    expect(validator.outputHash).toBe(outputHash(committedOutput(honest.result!.output!)));
  });

  it("answers bad jobs with job_error and keeps serving", async () => {
    const notJson = await connection.job({ job_id: "bad-json", body: "{not json" });
    expect(notJson.error).toMatchObject({ code: "request_invalid" });
    const noMessages = await connection.job({
      job_id: "bad-body",
      body: JSON.stringify({ model: "peer-tiny", messages: [] }),
    });
    expect(noMessages.error).toMatchObject({ code: "request_invalid" });
    expect(noMessages.error?.message).toContain("messages");
    const noBody = await connection.job({ job_id: "no-body" });
    expect(noBody.error).toMatchObject({ code: "request_invalid" });
    const otherModel = await connection.job({ job_id: "other-model", model: "gpt-9", body: body("hi") });
    expect(otherModel.error).toMatchObject({ code: "request_invalid" });
    const otherTier = await connection.job({ job_id: "other-tier", tier: "confidential", body: body("hi") });
    expect(otherTier.error).toMatchObject({ code: "request_invalid" });
    // a job frame that does not match the schema (no seed), and frames that are not even messages
    connection.send({
      type: "job",
      job_id: "bad-frame",
      tier: "verified",
      model: "peer-tiny",
      stream: false,
      max_tokens: 5,
    });
    expect((await connection.outcome("bad-frame")).error).toMatchObject({ code: "request_invalid" });
    connection.send("this is not JSON");
    connection.send({ type: "mystery" });
    connection.send({ type: "cancel", job_id: "never-started" });
    const fine = await connection.job({ job_id: "after-bad", body: body("still there?") });
    expect(fine.result?.output).toBeDefined();
    expect(orchestrator.errors).toEqual([]);
  });

  it("re-attest on a non-confidential worker answers an attestation error, not a bundle", async () => {
    connection.send({ type: "attest", request_id: "r1", nonce: "00112233445566778899" });
    const answer = await connection.waitFor((m) => m.type === "attestation" && m.request_id === "r1");
    expect(answer).toMatchObject({ type: "attestation", request_id: "r1" });
    expect((answer as { bundle?: string }).bundle).toBeUndefined();
    expect((answer as { error?: string }).error).toContain("verified");
  });
});

describe("worker host: start-up failures", () => {
  it("rejects bad options with worker_options_invalid naming the argument", async () => {
    const base = { orchestrator: "http://127.0.0.1:1", token: "pcw_x", tier: "open" } as const;
    const cases: Array<[object, string]> = [
      [{ token: "" }, "token"],
      [{ tier: "gold" }, "tier"],
      [{ tier: "confidential" }, "enclave"],
      [{ cheatRate: 2 }, "cheatRate"],
      [{ maxConcurrency: 0 }, "maxConcurrency"],
      [{ orchestrator: "ftp://x" }, "orchestrator"],
      [{ model: "llama" }, "model"],
      [{ backend: { kind: "openai-compatible", upstream: "" }, model: "m" }, "backend.upstream"],
      [{ backend: { kind: "openai-compatible", upstream: "http://127.0.0.1:1/v1" } }, "model"],
    ];
    for (const [patch, argument] of cases) {
      const error = await startWorker({ ...base, ...patch } as never).catch((e: unknown) => e);
      expect(WorkerError.isInstance(error), argument).toBe(true);
      expect(error).toMatchObject({ code: "worker_options_invalid", details: { argument } });
    }
  });

  it("fails with worker_rejected when the orchestrator rejects the hello, and stops its enclave", async () => {
    const orchestrator = await startFakeOrchestrator({
      reject: { code: "token_invalid", message: "unknown token" },
    });
    try {
      const error = await startWorker({
        orchestrator: orchestrator.url,
        token: "pcw_bad",
        tier: "open",
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "worker_rejected", details: { code: "token_invalid" } });
      expect((error as WorkerError).retryable).toBe(false);
    } finally {
      await orchestrator.close();
    }
  });

  it.skipIf(existsSync("/sys/kernel/config/tsm/report"))(
    "fails with worker_enclave_failed naming enclave_tsm_unavailable on a machine without configfs-tsm",
    async () => {
      const error = await startWorker({
        orchestrator: "http://127.0.0.1:9",
        token: "pcw_x",
        tier: "confidential",
        enclave: "tsm",
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "worker_enclave_failed",
        details: { code: "enclave_tsm_unavailable" },
      });
    },
  );

  it("fails with worker_connect_failed when nothing answers in time", async () => {
    const error = await startWorker({
      orchestrator: "http://127.0.0.1:9",
      token: "pcw_x",
      tier: "open",
      connectTimeoutMs: 1500,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "worker_connect_failed" });
    expect((error as WorkerError).retryable).toBe(true);
  });
});
