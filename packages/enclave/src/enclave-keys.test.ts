import { createHash } from "node:crypto";
import { inspect } from "node:util";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  bindingKeyConfig,
  decodeSignedReceipt,
  encodeReceiptBody,
  encodeSignedReceipt,
  receiptSigningMessage,
  verifyReceipt,
} from "@peercycles/attest/bundle";
import { createChunkedRequestEncapsulator, encapsulateRequest } from "@peercycles/seal";
import { describe, expect, it } from "vitest";
import { createEnclaveKeys } from "./enclave-keys.js";

const text = (s: string) => new TextEncoder().encode(s);

describe("enclave key custody", () => {
  it("opens a request sealed to its public key and seals the response back", async () => {
    const keys = await createEnclaveKeys();
    const { encapsulatedRequest, context } = await encapsulateRequest(
      bindingKeyConfig(keys.publicKeys()),
      text("hello enclave"),
    );
    const opened = await keys.openRequest(encapsulatedRequest);
    expect(new TextDecoder().decode(opened.request)).toBe("hello enclave");
    const { encapsulated } = await keys.sealResponse(opened.handle, text("hello client"));
    expect(new TextDecoder().decode(await context.openResponse(encapsulated))).toBe("hello client");
    await expect(keys.sealResponse(opened.handle, text("again"))).rejects.toMatchObject({
      code: "enclave_request_invalid",
    });
  });

  it("rejects a tampered request", async () => {
    const keys = await createEnclaveKeys();
    const { encapsulatedRequest } = await encapsulateRequest(
      bindingKeyConfig(keys.publicKeys()),
      text("hello"),
    );
    const tampered = encapsulatedRequest.slice();
    tampered[tampered.length - 1]! ^= 0x01;
    await expect(keys.openRequest(tampered)).rejects.toMatchObject({ code: "hpke_open_failed" });
  });

  it("rejects a request sealed to another enclave", async () => {
    const keys = await createEnclaveKeys();
    const other = await createEnclaveKeys();
    const { encapsulatedRequest } = await encapsulateRequest(
      bindingKeyConfig(other.publicKeys()),
      text("hello"),
    );
    await expect(keys.openRequest(encapsulatedRequest)).rejects.toHaveProperty("code");
  });

  it("signs receipts with the RFC 8032 signature of the seed's signing key (OpenSSL and noble agree)", async () => {
    const seed = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) & 0xff);
    const keys = await createEnclaveKeys({ seed });
    const secret = seed.slice(32, 64);
    expect(keys.publicKeys().signingPublicKey).toEqual(ed25519.getPublicKey(secret));
    const receipt = {
      requestHash: new Uint8Array(32).fill(3),
      responseHash: new Uint8Array(32).fill(4),
      model: "peer-tiny",
      seed: 7n,
      usage: { promptTokens: 1, completionTokens: 2 },
      worker: "w_1",
      time: 1_764_000_000,
    };
    const signed = keys.signReceipt(receipt);
    expect(signed.body).toEqual(encodeReceiptBody(receipt));
    expect(signed.signature).toBeInstanceOf(Uint8Array);
    expect(signed.signature).toEqual(ed25519.sign(receiptSigningMessage(signed.body), secret));
  });

  it("signs receipts that verify, and a tampered receipt does not", async () => {
    const keys = await createEnclaveKeys();
    const receipt = {
      requestHash: new Uint8Array(32).fill(1),
      responseHash: new Uint8Array(32).fill(2),
      model: "peer-mixtral",
      seed: 2n ** 40n,
      usage: { promptTokens: 12, completionTokens: 34 },
      worker: "worker-1",
      time: 1_764_000_000,
    };
    const signed = decodeSignedReceipt(encodeSignedReceipt(keys.signReceipt(receipt)));
    const ok = await verifyReceipt(signed, keys.publicKeys().signingPublicKey);
    expect(ok.ok).toBe(true);
    expect(ok.receipt?.usage.completionTokens).toBe(34);
    expect(ok.receipt?.seed).toBe(2n ** 40n);

    const body = signed.body.slice();
    body[body.length - 1]! ^= 0x01; // time changes by one second
    expect(
      (await verifyReceipt({ body, signature: signed.signature }, keys.publicKeys().signingPublicKey))
        .errors[0]?.code,
    ).toBe("receipt_signature_invalid");
    const otherKeys = await createEnclaveKeys();
    expect((await verifyReceipt(signed, otherKeys.publicKeys().signingPublicKey)).ok).toBe(false);
    const signature = signed.signature.slice();
    signature[0]! ^= 0x80;
    expect(
      (await verifyReceipt({ body: signed.body, signature }, keys.publicKeys().signingPublicKey)).ok,
    ).toBe(false);
  });

  it("never exposes private keys as properties", async () => {
    const keys = await createEnclaveKeys({ seed: new Uint8Array(64).fill(7) });
    const visible = JSON.stringify(keys) + inspect(keys, { showHidden: true, depth: 5 });
    const secret = Buffer.from(new Uint8Array(32).fill(7)).toString("hex");
    expect(visible.includes(secret)).toBe(false);
    expect(Object.keys(keys)).toEqual([]);
    expect(Object.getOwnPropertyNames(keys)).toEqual([]);
    // the same seed gives the same public keys (reproducible demos)
    const again = await createEnclaveKeys({ seed: new Uint8Array(64).fill(7) });
    expect(again.publicKeys().signingPublicKey).toEqual(keys.publicKeys().signingPublicKey);
  });
});

async function chunkedRequest(
  keyConfig: Parameters<typeof createChunkedRequestEncapsulator>[0],
  body: string,
) {
  const encapsulator = await createChunkedRequestEncapsulator(keyConfig);
  const writer = encapsulator.writable.getWriter();
  const reader = encapsulator.readable.getReader();
  const done = (async () => {
    await writer.write(text(body));
    await writer.close();
  })();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    parts.push(value);
  }
  await done;
  return { encapsulator, bytes: Buffer.concat(parts) };
}

async function pump(sealer: TransformStream<Uint8Array, Uint8Array>, chunks: readonly string[]) {
  const writer = sealer.writable.getWriter();
  const written = (async () => {
    for (const chunk of chunks) await writer.write(text(chunk));
    await writer.close();
  })();
  const out: Uint8Array[] = [];
  const reader = sealer.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out.push(value);
  }
  await written;
  return out;
}

describe("enclave key custody: chunked requests and streamed responses", () => {
  it("opens a chunked request and seals a chunked response the client opens chunk by chunk", async () => {
    const keys = await createEnclaveKeys();
    const { encapsulator, bytes } = await chunkedRequest(bindingKeyConfig(keys.publicKeys()), '{"q":"hi"}');
    const opened = await keys.openChunkedRequest(new Uint8Array(bytes));
    expect(new TextDecoder().decode(opened.request)).toBe('{"q":"hi"}');
    expect(Buffer.from(opened.requestHash).toString("hex")).toBe(
      createHash("sha256").update(bytes).digest("hex"),
    );
    const sealed = await pump(opened.responseSealer, ["data: one\n\n", "data: two\n\n", "data: [DONE]\n\n"]);
    // response nonce, three framed chunks, the final chunk
    expect(sealed).toHaveLength(5);
    const opener = encapsulator.createResponseOpener();
    const openWriter = opener.writable.getWriter();
    const openReader = opener.readable.getReader();
    const received: string[] = [];
    const reading = (async () => {
      for (;;) {
        const { done, value } = await openReader.read();
        if (done) break;
        received.push(new TextDecoder().decode(value));
      }
    })();
    for (const part of sealed) await openWriter.write(part);
    await openWriter.close();
    await reading;
    expect(received.join("")).toBe("data: one\n\ndata: two\n\ndata: [DONE]\n\n");
  });

  it("refuses a tampered, truncated or foreign chunked request, and non-bytes", async () => {
    const keys = await createEnclaveKeys();
    const { bytes } = await chunkedRequest(bindingKeyConfig(keys.publicKeys()), "secret prompt");
    const tampered = new Uint8Array(bytes);
    tampered[tampered.length - 3]! ^= 0x01;
    await expect(keys.openChunkedRequest(tampered)).rejects.toMatchObject({
      code: "sealed_stream_chunk_open_failed",
    });
    // cut before the final chunk: the final indicator byte and its sealed tag are gone
    await expect(
      keys.openChunkedRequest(new Uint8Array(bytes.subarray(0, bytes.length - 17))),
    ).rejects.toHaveProperty("code");
    const other = await createEnclaveKeys();
    const { bytes: foreign } = await chunkedRequest(bindingKeyConfig(other.publicKeys()), "x");
    await expect(keys.openChunkedRequest(new Uint8Array(foreign))).rejects.toHaveProperty("code");
    await expect(keys.openChunkedRequest("nope" as unknown as Uint8Array)).rejects.toMatchObject({
      code: "enclave_request_invalid",
    });
    // a plain (non-chunked) encapsulated request is not a chunked one
    const { encapsulatedRequest } = await encapsulateRequest(bindingKeyConfig(keys.publicKeys()), text("x"));
    await expect(keys.openChunkedRequest(encapsulatedRequest)).rejects.toHaveProperty("code");
  });
});
