import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  bindingKeyConfig,
  bindingKeyId,
  decodeBinding,
  decodeBundle,
  decodeReceiptBody,
  parseBundlePolicy,
  verifyBundle,
  verifyReceipt,
} from "@peercycles/attest/bundle";
import { repoRoot } from "@peercycles/internal-vectors";
import { fromBase64Url, sha256Hex, toHex } from "@peercycles/protocol";
import { createChunkedRequestEncapsulator, encapsulateRequest } from "@peercycles/seal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "./host.js";
import {
  type FakeConnection,
  type FakeOrchestrator,
  startFakeOrchestrator,
} from "./testing/fake-orchestrator.js";

const policy = parseBundlePolicy(
  JSON.parse(readFileSync(join(repoRoot, "docs/policies/development-simulated.json"), "utf8")),
);
const text = (value: string) => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

async function chunkedRequest(
  keyConfig: Parameters<typeof createChunkedRequestEncapsulator>[0],
  body: string,
) {
  const encapsulator = await createChunkedRequestEncapsulator(keyConfig);
  const writer = encapsulator.writable.getWriter();
  const written = (async () => {
    await writer.write(text(body));
    await writer.close();
  })();
  const bytes = Buffer.concat(await readAll(encapsulator.readable));
  await written;
  return { encapsulator, bytes: new Uint8Array(bytes) };
}

async function openStream(
  opener: TransformStream<Uint8Array, Uint8Array>,
  parts: Uint8Array[],
): Promise<string> {
  const writer = opener.writable.getWriter();
  const reading = readAll(opener.readable);
  for (const part of parts) await writer.write(part);
  await writer.close();
  return (await reading).map(decode).join("");
}

describe("worker host on the confidential tier (simulated enclave, sealed round trips)", () => {
  let orchestrator: FakeOrchestrator;
  let worker: WorkerHandle;
  let connection: FakeConnection;
  let binding: ReturnType<typeof decodeBinding>;

  beforeAll(async () => {
    orchestrator = await startFakeOrchestrator();
    worker = await startWorker({
      orchestrator: orchestrator.url,
      token: "pcw_conf",
      tier: "confidential",
      enclave: "simulated",
      bond: 500,
    });
    connection = await orchestrator.connection(0);
    binding = decodeBinding(decodeBundle(fromBase64Url(connection.hello.bundle!)).binding);
  });
  afterAll(async () => {
    await worker?.close();
    await orchestrator?.close();
  });

  it("says hello with an attestation bundle the development policy accepts, bound to its keys", async () => {
    expect(connection.hello).toMatchObject({ tier: "confidential", model: "peer-tiny", deterministic: true });
    const result = await verifyBundle(decodeBundle(fromBase64Url(connection.hello.bundle!)), {
      policy,
      now: new Date(),
      offline: true,
    });
    expect(result.errors).toEqual([]);
    expect(result).toMatchObject({ ok: true, simulated: true });
    expect(binding.model).toBe("peer-tiny");
    expect(toHex(binding.weightsDigest)).toBe(connection.hello.weights_digest);
    expect(binding.signingPublicKey).toEqual(fromBase64Url(connection.hello.signing_key));
    expect(connection.hello.key_id).toBe(bindingKeyId(binding.hpkePublicKey));
    expect(worker.keyId).toBe(connection.hello.key_id);
  });

  it("opens a sealed request, answers a sealed chat.completion and signs a receipt over the sealed bytes", async () => {
    const body = JSON.stringify({
      model: "peer-tiny",
      messages: [{ role: "user", content: "How does a sealed request reach the enclave?" }],
      seed: 11,
      max_tokens: 12,
    });
    const { encapsulatedRequest, context } = await encapsulateRequest(bindingKeyConfig(binding), text(body));
    const outcome = await connection.job({
      job_id: "c-json",
      tier: "confidential",
      sealed: Buffer.from(encapsulatedRequest).toString("base64url"),
      seed: 3,
      max_tokens: 64,
    });
    expect(outcome.error).toBeUndefined();
    const result = outcome.result!;
    expect(result.output).toBeUndefined();
    const sealed = fromBase64Url(result.sealed!);
    const completion = JSON.parse(decode(await context.openResponse(sealed)));
    expect(completion).toMatchObject({
      object: "chat.completion",
      model: "peer-tiny",
      choices: [{ index: 0, message: { role: "assistant" }, finish_reason: expect.any(String) }],
      usage: {
        prompt_tokens: result.usage.prompt_tokens,
        completion_tokens: result.usage.completion_tokens,
        total_tokens: result.usage.prompt_tokens + result.usage.completion_tokens,
      },
    });
    expect(completion.peer).toBeUndefined();
    expect(completion.choices[0].message.content.length).toBeGreaterThan(0);
    const signed = {
      body: fromBase64Url(result.receipt.body),
      signature: fromBase64Url(result.receipt.signature),
    };
    expect((await verifyReceipt(signed, binding.signingPublicKey)).errors).toEqual([]);
    const receipt = decodeReceiptBody(signed.body);
    expect(toHex(receipt.requestHash)).toBe(sha256Hex(encapsulatedRequest));
    expect(toHex(receipt.responseHash)).toBe(sha256Hex(sealed));
    // the body's seed and its (smaller) token cap win over the orchestrator's
    expect(receipt).toMatchObject({ model: "peer-tiny", seed: 11, worker: "w-0" });
    expect(result.usage.completion_tokens).toBeLessThanOrEqual(12);
    expect(receipt.usage).toEqual({
      promptTokens: result.usage.prompt_tokens,
      completionTokens: result.usage.completion_tokens,
    });
  });

  it("streams a chunked sealed answer as sealed_chunks; the receipt covers all sealed bytes", async () => {
    const body = JSON.stringify({
      model: "peer-tiny",
      messages: [{ role: "user", content: "Stream me something about attestation" }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 10,
    });
    const { encapsulator, bytes } = await chunkedRequest(bindingKeyConfig(binding), body);
    const outcome = await connection.job({
      job_id: "c-stream",
      tier: "confidential",
      stream: true,
      sealed: Buffer.from(bytes).toString("base64url"),
      seed: 9,
      max_tokens: 64,
    });
    expect(outcome.error).toBeUndefined();
    const result = outcome.result!;
    expect(result.output).toBeUndefined();
    expect(result.sealed).toBeUndefined();
    expect(outcome.chunks).toEqual([]);
    // response nonce, one sealed chunk per SSE event, the final chunk
    expect(outcome.sealedChunks.length).toBeGreaterThan(5);
    const parts = outcome.sealedChunks.map((chunk) => fromBase64Url(chunk.data));
    const sse = await openStream(encapsulator.createResponseOpener(), parts);
    const events = sse.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice("data: ".length)));
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject(result.usage);
    expect(chunks.some((chunk) => chunk.peer !== undefined)).toBe(false);
    const content = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("");
    expect(content.length).toBeGreaterThan(0);
    expect(chunks.at(-2).choices[0].finish_reason).toBeTruthy();

    const signed = {
      body: fromBase64Url(result.receipt.body),
      signature: fromBase64Url(result.receipt.signature),
    };
    expect((await verifyReceipt(signed, binding.signingPublicKey)).errors).toEqual([]);
    const receipt = decodeReceiptBody(signed.body);
    expect(toHex(receipt.requestHash)).toBe(sha256Hex(bytes));
    expect(toHex(receipt.responseHash)).toBe(sha256Hex(Buffer.concat(parts)));
    expect(receipt.seed).toBe(9);
    expect(receipt.usage.completionTokens).toBe(result.usage.completion_tokens);
  });

  it("re-attests with the client's nonce in the binding, with the same keys", async () => {
    const nonce = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    connection.send({ type: "attest", request_id: "att-1", nonce });
    const answer = (await connection.waitFor(
      (m) => m.type === "attestation" && m.request_id === "att-1",
    )) as {
      bundle?: string;
    };
    const bundle = decodeBundle(fromBase64Url(answer.bundle!));
    const fresh = decodeBinding(bundle.binding);
    expect(toHex(fresh.clientNonce!)).toBe(nonce);
    expect(fresh.hpkePublicKey).toEqual(binding.hpkePublicKey);
    expect(fresh.signingPublicKey).toEqual(binding.signingPublicKey);
    const result = await verifyBundle(bundle, { policy, now: new Date(), offline: true, clientNonce: nonce });
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it("answers sealed_request_invalid for bytes that do not open, and request_invalid for a bad plaintext", async () => {
    const garbage = await connection.job({
      job_id: "c-garbage",
      tier: "confidential",
      sealed: "AAECAwQFBgcICQ",
    });
    expect(garbage.error).toMatchObject({ code: "sealed_request_invalid" });
    const notB64 = await connection.job({ job_id: "c-b64", tier: "confidential", sealed: "" });
    expect(notB64.error).toMatchObject({ code: "sealed_request_invalid" });
    const none = await connection.job({ job_id: "c-none", tier: "confidential", body: "{}" });
    expect(none.error).toMatchObject({ code: "sealed_request_invalid" });
    // sealed to the right key but as one shot while the job says stream (not a chunked request)
    const { encapsulatedRequest } = await encapsulateRequest(bindingKeyConfig(binding), text("{}"));
    const wrongShape = await connection.job({
      job_id: "c-shape",
      tier: "confidential",
      stream: true,
      sealed: Buffer.from(encapsulatedRequest).toString("base64url"),
    });
    expect(wrongShape.error).toMatchObject({ code: "sealed_request_invalid" });
    // opens, but the plaintext is not a chat request: the message must not quote it
    const secret = "SECRET-PLAINTEXT-7f3a";
    const { encapsulatedRequest: bad } = await encapsulateRequest(
      bindingKeyConfig(binding),
      text(JSON.stringify({ model: "peer-tiny", messages: [{ role: secret, content: secret }] })),
    );
    const invalid = await connection.job({
      job_id: "c-invalid",
      tier: "confidential",
      sealed: Buffer.from(bad).toString("base64url"),
    });
    expect(invalid.error).toMatchObject({ code: "request_invalid" });
    expect(invalid.error?.message).not.toContain(secret);
    const { encapsulatedRequest: notJson } = await encapsulateRequest(
      bindingKeyConfig(binding),
      text(`{${secret}`),
    );
    const notJsonOutcome = await connection.job({
      job_id: "c-notjson",
      tier: "confidential",
      sealed: Buffer.from(notJson).toString("base64url"),
    });
    expect(notJsonOutcome.error).toMatchObject({ code: "request_invalid" });
    expect(notJsonOutcome.error?.message).not.toContain(secret);
    expect(orchestrator.errors).toEqual([]);
  });
});
