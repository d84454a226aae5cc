import { describe, expect, it } from "vitest";
import { concat, toHex, utf8 } from "./bytes.js";
import {
  type ChunkedServerContext,
  createChunkedRequestDecapsulator,
  createChunkedRequestEncapsulator,
  OHTTP_CHUNKED_REQUEST_LABEL,
  OHTTP_CHUNKED_REQUEST_MEDIA_TYPE,
  OHTTP_CHUNKED_RESPONSE_LABEL,
  OHTTP_CHUNKED_RESPONSE_MEDIA_TYPE,
  setChunkCounterForTesting,
} from "./chunked.js";
import { CipherSuite } from "./cipher-suite.js";
import { setSequenceNumberForTesting } from "./context.js";
import { SealError } from "./errors.js";
import { decodeKeyConfig, type KeyConfig } from "./key-config.js";
import { loadOhttpVectors } from "./testing/ohttp-vectors.js";
import { byteByByte, collect, join, readableOf, run, runSettled, splitAt } from "./testing/streams.js";
import { hex } from "./testing/vectors.js";
import { encodeVarint } from "./varint.js";

const { chunked_ohttp_draft_example: example } = loadOhttpVectors();
const gatewayKey = () => ({
  keyConfig: decodeKeyConfig(hex(example.key_config)),
  privateKey: hex(example.gateway_x25519_secret_key),
});
const ephemeralKeyPair = { privateKey: hex(example.client_ephemeral_secret_key) };
const requestChunks = () => {
  const body = hex(example.request_bhttp);
  return [body.subarray(0, 12), body.subarray(12)];
};
const responseChunks = () => {
  const body = hex(example.response_bhttp);
  return [body.subarray(0, 1), body.subarray(1)];
};

function codeOf(error: unknown): string | undefined {
  expect(SealError.isInstance(error), `expected a SealError, got ${String(error)}`).toBe(true);
  return (error as SealError).code;
}

describe("chunked OHTTP constants", () => {
  it("match draft-ietf-ohai-chunked-ohttp", () => {
    expect(OHTTP_CHUNKED_REQUEST_MEDIA_TYPE).toBe("message/ohttp-chunked-req");
    expect(OHTTP_CHUNKED_RESPONSE_MEDIA_TYPE).toBe("message/ohttp-chunked-res");
    expect(OHTTP_CHUNKED_REQUEST_LABEL).toBe(example.request_label);
    expect(OHTTP_CHUNKED_RESPONSE_LABEL).toBe(example.response_label);
  });
});

describe("draft-ietf-ohai-chunked-ohttp-08 example, byte for byte", () => {
  it("reproduces the chunked request", async () => {
    const encapsulator = await createChunkedRequestEncapsulator(gatewayKey().keyConfig, { ephemeralKeyPair });
    const out = await run(encapsulator, requestChunks());
    const parts = example.encapsulated_request_parts!;
    expect(out.map(toHex)).toEqual([parts.header + parts.enc, ...parts.chunks_with_varint_len_prefix]);
    expect(toHex(join(out))).toBe(example.encapsulated_request);
  });

  it("decapsulates the request whatever the read boundaries", async () => {
    const bytes = hex(example.encapsulated_request);
    for (const parts of [[bytes], byteByByte(bytes), splitAt(bytes, [3, 7, 38, 40, 70, 71, 75])]) {
      const decapsulator = createChunkedRequestDecapsulator(gatewayKey());
      const out = await run(decapsulator, parts);
      expect(toHex(join(out))).toBe(example.request_bhttp);
      expect(out.map((c) => c.length).filter((n) => n > 0)).toEqual([12, 13]);
    }
  });

  it("reproduces the chunked response with the given nonce, and opens it", async () => {
    const decapsulator = createChunkedRequestDecapsulator(gatewayKey());
    await run(decapsulator, [hex(example.encapsulated_request)]);
    const context = await decapsulator.context;
    const sealer = context.createResponseSealer({ responseNonce: hex(example.response_nonce) });
    const out = await run(sealer, responseChunks());
    const parts = example.encapsulated_response_parts!;
    expect(out.map(toHex)).toEqual([parts.response_nonce, ...parts.chunks_with_varint_len_prefix]);
    expect(toHex(join(out))).toBe(example.encapsulated_response);

    const encapsulator = await createChunkedRequestEncapsulator(gatewayKey().keyConfig, { ephemeralKeyPair });
    await run(encapsulator, requestChunks());
    const response = hex(example.encapsulated_response);
    for (const split of [[response], byteByByte(response)]) {
      const opened = await run(encapsulator.createResponseOpener(), split);
      expect(toHex(join(opened))).toBe(example.response_bhttp);
    }
  });
});

async function pair(aeadId = 1) {
  const suite = new CipherSuite({ kem: 0x20, kdf: 1, aead: aeadId });
  const { privateKey, publicKey } = await suite.generateKeyPair();
  const keyConfig: KeyConfig = {
    keyId: 9,
    kemId: 0x20,
    publicKey,
    symmetricAlgorithms: [{ kdfId: 1, aeadId }],
  };
  return { keyConfig, privateKey };
}

/** Seals `tokens` as a full request and response; returns both wire forms and the contexts. */
async function exchange(tokens: string[]) {
  const gateway = await pair();
  const encapsulator = await createChunkedRequestEncapsulator(gateway.keyConfig);
  const request = join(await run(encapsulator, tokens.map(utf8)));
  const decapsulator = createChunkedRequestDecapsulator(gateway);
  await run(decapsulator, [request]);
  const context: ChunkedServerContext = await decapsulator.context;
  const responseParts = await run(context.createResponseSealer(), tokens.map(utf8));
  return { gateway, encapsulator, request, context, response: join(responseParts), responseParts };
}

/** Offsets of each frame in a chunked response body: [nonce, chunk1, ..., final]. */
function frames(body: Uint8Array, headerLength: number): Uint8Array[] {
  const out = [body.subarray(0, headerLength)];
  let at = headerLength;
  while (at < body.length) {
    const first = body[at]!;
    const prefix = 1 << (first >>> 6);
    let length = first & 0x3f;
    for (let i = 1; i < prefix; i++) length = length * 256 + body[at + i]!;
    if (length === 0) {
      out.push(body.subarray(at));
      break;
    }
    out.push(body.subarray(at, at + prefix + length));
    at += prefix + length;
  }
  return out;
}

describe("sealed streams: token by token", () => {
  const tokens = ['data: {"delta":"Hel"}\n\n', 'data: {"delta":"lo"}\n\n', "data: [DONE]\n\n"];

  it("round-trips request and response, one chunk per write", async () => {
    const { gateway, request, encapsulator, responseParts } = await exchange(tokens);
    const decapsulator = createChunkedRequestDecapsulator(gateway);
    const plain = await run(decapsulator, byteByByte(request));
    expect(plain.map((c) => new TextDecoder().decode(c))).toEqual([...tokens, ""]);
    expect(responseParts).toHaveLength(tokens.length + 2); // nonce, one frame per token, final
    const opened = await run(encapsulator.createResponseOpener(), byteByByte(join(responseParts)));
    expect(new TextDecoder().decode(join(opened))).toBe(tokens.join(""));
  });

  it("handles many frames in one read and frames split across reads", async () => {
    const { encapsulator, response } = await exchange(tokens);
    for (let cut = 1; cut < response.length; cut += 7) {
      const opened = await run(
        encapsulator.createResponseOpener(),
        splitAt(response, [cut, Math.min(response.length, cut + 3)]),
      );
      expect(new TextDecoder().decode(join(opened))).toBe(tokens.join(""));
    }
  });

  it("uses multi-byte varints for large chunks and skips empty writes", async () => {
    const gateway = await pair(3);
    const big = new Uint8Array(20_000).fill(7);
    const encapsulator = await createChunkedRequestEncapsulator(gateway.keyConfig);
    const out = await run(encapsulator, [new Uint8Array(0), big]);
    expect(out).toHaveLength(3); // header+enc, one big chunk, final
    expect(toHex(out[1]!.subarray(0, 4))).toBe(toHex(encodeVarint(20_016)));
    const plain = await run(createChunkedRequestDecapsulator(gateway), splitAt(join(out), [40, 41, 5000]));
    expect(join(plain)).toEqual(big);
  });
});

describe("sealed streams: attacks are detected, nothing unauthenticated is emitted", () => {
  const tokens = ["one ", "two ", "three ", "four"];

  const exchangeCache = exchange(tokens);
  async function openResponse(body: Uint8Array, split = false) {
    const { encapsulator } = await exchangeCache;
    return runSettled(encapsulator.createResponseOpener(), split ? byteByByte(body) : [body]);
  }

  it("truncation: the final chunk is dropped", async () => {
    const { response } = await exchangeCache;
    const f = frames(response, 16);
    const { output, error } = await openResponse(join(f.slice(0, -1)));
    expect(codeOf(error)).toBe("sealed_stream_truncated");
    expect(new TextDecoder().decode(join(output))).toBe(tokens.join(""));
  });

  it("truncation: cut inside a chunk, inside the nonce, and on empty input", async () => {
    const { response } = await exchangeCache;
    for (const cut of [0, 5, 16, 17, 20, 30]) {
      const { error } = await openResponse(response.subarray(0, cut), true);
      expect(codeOf(error)).toBe("sealed_stream_truncated");
    }
  });

  it("truncation: the final chunk's tag is cut short", async () => {
    const { response } = await exchangeCache;
    const { error } = await openResponse(response.subarray(0, response.length - 1));
    expect(codeOf(error)).toBe("sealed_stream_chunk_open_failed");
  });

  it("reordering two chunks", async () => {
    const { response } = await exchangeCache;
    const [nonce, a, b, ...rest] = frames(response, 16);
    const { output, error } = await openResponse(concat(nonce!, b!, a!, ...rest));
    expect(codeOf(error)).toBe("sealed_stream_chunk_open_failed");
    expect(output).toHaveLength(0);
  });

  it("replaying a chunk", async () => {
    const { response } = await exchangeCache;
    const [nonce, a, ...rest] = frames(response, 16);
    const { output, error } = await openResponse(concat(nonce!, a!, a!, ...rest));
    expect(codeOf(error)).toBe("sealed_stream_chunk_open_failed");
    expect(new TextDecoder().decode(join(output))).toBe("one ");
  });

  it("a bit flip anywhere fails the stream at or before the flipped chunk", async () => {
    const { response } = await exchangeCache;
    for (let i = 0; i < response.length; i++) {
      const copy = response.slice();
      copy[i]! ^= 1 << (i % 8);
      const { output, error } = await openResponse(copy);
      expect(SealError.isInstance(error), `flip at ${i}`).toBe(true);
      // Whatever came out before the failure is a prefix of the real plaintext.
      expect(tokens.join("").startsWith(new TextDecoder().decode(join(output)))).toBe(true);
    }
  });

  it("data after the final chunk", async () => {
    const { response } = await exchangeCache;
    const { error } = await openResponse(concat(response, Uint8Array.of(0)));
    expect(codeOf(error)).toBe("sealed_stream_chunk_open_failed");
    const { error: twice } = await openResponse(concat(response, frames(response, 16).at(-1)!));
    expect(codeOf(twice)).toBe("sealed_stream_chunk_open_failed");
  });

  it("a non-final chunk relabelled as final", async () => {
    const { response } = await exchangeCache;
    const [nonce, a] = frames(response, 16);
    const { error } = await openResponse(concat(nonce!, Uint8Array.of(0), a!.subarray(1)));
    expect(codeOf(error)).toBe("sealed_stream_chunk_open_failed");
  });

  it("an oversized length prefix is refused before buffering", async () => {
    const gateway = await pair();
    const encapsulator = await createChunkedRequestEncapsulator(gateway.keyConfig);
    const head = (await collect(readableOf([]).pipeThrough(encapsulator)))[0]!;
    const { error } = await runSettled(createChunkedRequestDecapsulator(gateway, { maxChunkLength: 1024 }), [
      concat(head, encodeVarint(1025)),
    ]);
    expect(codeOf(error)).toBe("sealed_stream_chunk_too_large");
  });

  it("request side: truncation, reordering, replay and flips", async () => {
    const { gateway, request } = await exchangeCache;
    const f = frames(request, 7 + 32);
    const cases: [Uint8Array, string][] = [
      [join(f.slice(0, -1)), "sealed_stream_truncated"],
      [request.subarray(0, 20), "sealed_stream_truncated"],
      [concat(f[0]!, f[2]!, f[1]!, ...f.slice(3)), "sealed_stream_chunk_open_failed"],
      [concat(f[0]!, f[1]!, f[1]!, ...f.slice(2)), "sealed_stream_chunk_open_failed"],
      [concat(request, Uint8Array.of(1)), "sealed_stream_chunk_open_failed"],
    ];
    for (const [bytes, code] of cases) {
      const decapsulator = createChunkedRequestDecapsulator(gateway);
      const { error } = await runSettled(decapsulator, byteByByte(bytes));
      expect(codeOf(error)).toBe(code);
    }
    const wrongKeyId = request.slice();
    wrongKeyId[0] = 77;
    const decapsulator = createChunkedRequestDecapsulator(gateway);
    const { error } = await runSettled(decapsulator, [wrongKeyId]);
    expect(codeOf(error)).toBe("ohttp_key_id_mismatch");
    await expect(decapsulator.context).rejects.toMatchObject({ code: "ohttp_key_id_mismatch" });
  });

  it("a decapsulator with several gateway keys picks the request's", async () => {
    const [a, b] = await Promise.all([pair(), pair()]);
    const second = { ...b, keyConfig: { ...b.keyConfig, keyId: 10 } };
    const encapsulator = await createChunkedRequestEncapsulator(second.keyConfig);
    const wire = join(await run(encapsulator, [utf8("rotated")]));
    const plain = await run(createChunkedRequestDecapsulator([a, second]), byteByByte(wire));
    expect(new TextDecoder().decode(join(plain))).toBe("rotated");
  });

  it("rejects non-byte chunks with a named argument error", async () => {
    const gateway = await pair();
    const encapsulator = await createChunkedRequestEncapsulator(gateway.keyConfig);
    const { error } = await runSettled(encapsulator, ["text" as unknown as Uint8Array]);
    expect(codeOf(error)).toBe("invalid_argument");
  });
});

describe("sealed streams: counter exhaustion", () => {
  it("request chunks stop at the HPKE sequence limit", async () => {
    const gateway = await pair();
    const encapsulator = await createChunkedRequestEncapsulator(gateway.keyConfig);
    await setChunkCounterForTesting(encapsulator, Number.MAX_SAFE_INTEGER - 1);
    const { output, error } = await runSettled(encapsulator, [utf8("last"), utf8("one too many")]);
    expect(output).toHaveLength(2); // header and the chunk sealed with the last sequence number
    expect(codeOf(error)).toBe("sealed_stream_counter_overflow");
  });

  it("a context refuses to seal past its sequence limit", async () => {
    const gateway = await pair();
    const suite = new CipherSuite({ kem: 0x20, kdf: 1, aead: 1 });
    const { context } = await suite.setupSender({ recipientPublicKey: gateway.keyConfig.publicKey });
    setSequenceNumberForTesting(context, Number.MAX_SAFE_INTEGER);
    await expect(context.seal(utf8("x"))).rejects.toMatchObject({ code: "hpke_sequence_overflow" });
  });

  it("response chunks stop at the counter limit", async () => {
    const { context } = await exchange(["a"]);
    const sealer = context.createResponseSealer();
    await setChunkCounterForTesting(sealer, Number.MAX_SAFE_INTEGER - 1);
    const { output, error } = await runSettled(sealer, [utf8("last"), utf8("one too many")]);
    expect(output).toHaveLength(2); // nonce and the chunk sealed with the last counter value
    expect(codeOf(error)).toBe("sealed_stream_counter_overflow");
  });
});
