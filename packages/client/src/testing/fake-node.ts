/**
 * A stand-in for the reference node, for the client's tests: the confidential wire format served
 * by a REAL simulated enclave (`@peercycles/enclave`: development-root evidence, HPKE keys, chunked
 * OHTTP, Ed25519 receipts), and plain verified/open answers with real receipts. Each attack the
 * client must refuse is a named {@link Tamper}. Test code only: never exported from the package.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  bindingKeyId,
  decodeBinding,
  encodeBundle,
  encodeReceiptBody,
  receiptSigningMessage,
} from "@peercycles/attest/bundle";
import {
  createAttestationBundle,
  createEnclaveKeys,
  type EnclaveKeys,
  EnclaveSimulator,
  simulatedWeightsDigest,
} from "@peercycles/enclave";
import {
  CompletionAccumulator,
  completionOutputOf,
  encodeSealedFrame,
  fromHex,
  outputCommitment,
  PEER_HEADERS,
  SEALED_FRAME,
  SEALED_REQUEST_MEDIA_TYPE,
  SEALED_RESPONSE_MEDIA_TYPE,
  SEALED_STREAM_MEDIA_TYPE,
  toBase64Url,
  toHex,
} from "@peercycles/protocol";
import { developmentPolicy } from "./policies.js";

interface WireReceiptWithKey {
  readonly body: string;
  readonly signature: string;
  readonly signing_key: string;
  readonly id: string;
  readonly keyId: number;
}

/** One way the node (or a worker behind it) misbehaves. */
export type Tamper =
  | "none"
  /** A byte of the CPU quote flipped. */
  | "bundle-bitflip"
  /** A valid bundle, for another model the policy allows. */
  | "bundle-other-model"
  /** A valid bundle, attested with an earlier client nonce (replayed). */
  | "bundle-stale-nonce"
  /** A bundle issued two hours ago (past the policy's maximum age). */
  | "bundle-old"
  /** The attestation answer announces another key id than the bundle's. */
  | "bundle-key-id-lie"
  /** The worker switched to new keys after attesting (answers sealed to / signed with the new keys). */
  | "swap-keys"
  /** The previous sealed answer (bytes and peer info) is sent again. */
  | "replay-response"
  /** The orchestrator answers a sealed request in plaintext JSON / SSE. */
  | "plaintext-answer"
  /** The answer names another worker than the attested one. */
  | "other-worker"
  /** The orchestrator strips peer_tier: the request is served by the open tier. */
  | "strip-tier"
  /** The receipt commits to other response bytes. */
  | "receipt-other-bytes"
  /** The receipt is signed by a key other than the attested one. */
  | "receipt-wrong-key"
  /** No peer-info header / peer frame / peer chunk. */
  | "drop-peer"
  /** The stream's sealed frames: last one dropped before the peer frame. */
  | "stream-truncate"
  /** The stream's sealed frames: two swapped. */
  | "stream-reorder"
  /** A sealed frame after the peer frame. */
  | "stream-frame-after-peer"
  /** A bit flipped in a sealed frame. */
  | "stream-bitflip"
  /** A verified answer whose text was changed after the receipt. */
  | "verified-output-changed";

export interface FakeNodeOptions {
  readonly model?: string;
  readonly cpu?: "tdx" | "sev-snp";
  readonly apiKey?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function apiError(status: number, code: string, message = code): Response {
  return json({ error: { message, type: "invalid_request_error", code, param: null } }, status);
}

/** The tiny deterministic "model": echoes the last user message back, word by word. */
function answerOf(request: { messages?: Array<{ role?: string; content?: unknown }> }): string[] {
  const last = [...(request.messages ?? [])].reverse().find((message) => message.role === "user");
  const text = typeof last?.content === "string" ? last.content : "nothing";
  return ["You", " said:", ...text.split(/\s+/).map((word) => ` ${word}`)];
}

function completionOf(model: string, words: readonly string[]) {
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 1_700_000_000,
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: words.join("") },
        finish_reason: "stop",
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 5, completion_tokens: words.length, total_tokens: 5 + words.length },
  };
}

function chunksOf(model: string, words: readonly string[]) {
  const base = { id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1_700_000_000, model };
  return [
    { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
    ...words.map((word) => ({
      ...base,
      choices: [{ index: 0, delta: { content: word }, finish_reason: null }],
    })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
  ];
}

function sse(values: readonly unknown[]): Uint8Array[] {
  return [
    ...values.map((value) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`)),
    encoder.encode("data: [DONE]\n\n"),
  ];
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return parts;
    parts.push(value);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The fake node. `handle` is a fetch handler (`Request` → `Response`); `fetch` calls it in process.
 * `tamper` may be changed between calls.
 */
export class FakeNode {
  tamper: Tamper = "none";
  readonly model: string;
  readonly apiKey: string;
  readonly worker = "worker-confidential-1";
  readonly verifiedWorker = "worker-verified-1";
  /** Counts, for tests: attestation requests served, chat requests seen, sealed bodies seen. */
  readonly seen = { attestations: 0, chats: 0, plaintextBodies: [] as string[], sealedBodies: 0 };
  #keys: EnclaveKeys;
  #simulator: EnclaveSimulator;
  readonly #cpu: "tdx" | "sev-snp";
  readonly #verifiedSecret = ed25519.utils.randomSecretKey();
  readonly #otherSecret = ed25519.utils.randomSecretKey();
  #swapped: EnclaveKeys | undefined;
  #lastNonce: Uint8Array | undefined;
  #lastAnswer: { body: Uint8Array; headers: Record<string, string> } | undefined;

  private constructor(keys: EnclaveKeys, simulator: EnclaveSimulator, options: FakeNodeOptions) {
    this.#keys = keys;
    this.#simulator = simulator;
    this.#cpu = options.cpu ?? "tdx";
    this.model = options.model ?? "peer-mixtral";
    this.apiKey = options.apiKey ?? "pc_test_key";
  }

  static async create(options: FakeNodeOptions = {}): Promise<FakeNode> {
    const keys = await createEnclaveKeys();
    const simulator = await EnclaveSimulator.create({ cpu: options.cpu ?? "tdx", gpus: 1 });
    return new FakeNode(keys, simulator, options);
  }

  /** Replaces the enclave's keys (a restarted enclave); the next attestation shows the new keys. */
  async rotateKeys(): Promise<void> {
    this.#keys = await createEnclaveKeys();
  }

  get keyId(): number {
    return this.#keys.publicKeys().keyConfig.keyId;
  }

  /** The keys the worker signs with and announces: its attested keys, or new ones under "swap-keys". */
  async #answerKeys(): Promise<EnclaveKeys> {
    if (this.tamper !== "swap-keys") return this.#keys;
    this.#swapped ??= await createEnclaveKeys();
    return this.#swapped;
  }

  /** An in-process fetch. */
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
    this.handle(new Request(input, init));

  readonly handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.headers.get("authorization") !== `Bearer ${this.apiKey}`) {
      return apiError(401, "invalid_api_key");
    }
    if (request.method === "GET" && url.pathname === "/v1/attestation") return this.#attestation(url);
    if (request.method === "POST" && url.pathname === "/v1/chat/completions") {
      this.seen.chats++;
      const type = (request.headers.get("content-type") ?? "").split(";")[0];
      const body = new Uint8Array(await request.arrayBuffer());
      if (type === SEALED_REQUEST_MEDIA_TYPE) return this.#sealed(request, body);
      this.seen.plaintextBodies.push(decoder.decode(body));
      return this.#plain(body);
    }
    return apiError(404, "not_found");
  };

  async #attestation(url: URL): Promise<Response> {
    this.seen.attestations++;
    const model = url.searchParams.get("model") ?? "";
    if (model !== this.model) return apiError(404, "model_not_found");
    let nonce = fromHex(url.searchParams.get("nonce") ?? "");
    if (this.tamper === "bundle-stale-nonce" && this.#lastNonce) nonce = this.#lastNonce;
    this.#lastNonce = nonce;
    const bundledModel =
      this.tamper === "bundle-other-model" ? (model === "peer-tiny" ? "peer-mixtral" : "peer-tiny") : model;
    // peer-tiny is a real model with real weights: the development policy lists its digest.
    const weightsDigest =
      bundledModel === "peer-tiny"
        ? fromHex(
            (developmentPolicy().models as Record<string, { weightsDigests: string[] }>)["peer-tiny"]!
              .weightsDigests[0]!,
          )
        : simulatedWeightsDigest(bundledModel);
    const bundle = await createAttestationBundle(this.#keys, this.#simulator, {
      model: bundledModel,
      weightsDigest,
      clientNonce: nonce,
      ...(this.tamper === "bundle-old" ? { issuedAt: new Date(Date.now() - 2 * 3600 * 1000) } : {}),
    });
    let served = bundle;
    if (this.tamper === "bundle-bitflip") {
      const evidence = new Uint8Array(bundle.cpu.evidence);
      evidence[200] = (evidence[200] as number) ^ 0x01;
      served = { ...bundle, cpu: { ...bundle.cpu, evidence } } as typeof bundle;
    }
    const bytes = encodeBundle(served);
    const keyId = bindingKeyId(decodeBinding(bundle.binding).hpkePublicKey);
    return json({
      worker: this.worker,
      key_id: this.tamper === "bundle-key-id-lie" ? (keyId + 1) % 256 : keyId,
      bundle: toBase64Url(bytes),
      simulated: true,
    });
  }

  async #receipt(
    requestHash: Uint8Array,
    responseHash: Uint8Array,
    usage: { promptTokens: number; completionTokens: number },
  ) {
    const keys = await this.#answerKeys();
    const receipt = {
      requestHash,
      responseHash:
        this.tamper === "receipt-other-bytes" ? sha256(encoder.encode("other bytes")) : responseHash,
      model: this.model,
      seed: 42,
      usage,
      worker: this.worker,
      time: Math.floor(Date.now() / 1000),
    };
    let signed = keys.signReceipt(receipt);
    if (this.tamper === "receipt-wrong-key") {
      const body = encodeReceiptBody(receipt);
      signed = { body, signature: ed25519.sign(receiptSigningMessage(body), this.#otherSecret) };
    }
    return {
      body: toBase64Url(signed.body),
      signature: toBase64Url(signed.signature),
      signing_key: toBase64Url(keys.publicKeys().signingPublicKey),
      id: toHex(sha256(signed.body)),
      keyId: keys.publicKeys().keyConfig.keyId,
    };
  }

  #peer({ keyId, ...receipt }: WireReceiptWithKey, words: number) {
    return {
      tier: "confidential",
      worker: this.tamper === "other-worker" ? "worker-elsewhere" : this.worker,
      job_id: `job-${this.seen.chats}`,
      model: this.model,
      seed: 42,
      price_credits: 1,
      usage: { prompt_tokens: 5, completion_tokens: words },
      receipt,
      key_id: keyId,
      simulated: true,
    };
  }

  async #sealed(request: Request, body: Uint8Array): Promise<Response> {
    this.seen.sealedBodies++;
    const headers = request.headers;
    if (
      headers.get(PEER_HEADERS.worker) !== this.worker ||
      headers.get(PEER_HEADERS.keyId) !== String(this.keyId) ||
      headers.get(PEER_HEADERS.model) !== this.model ||
      headers.get(PEER_HEADERS.tier) !== "confidential"
    ) {
      return apiError(400, "sealed_request_invalid");
    }
    const stream = headers.get(PEER_HEADERS.stream) === "1";
    if (this.tamper === "replay-response" && this.#lastAnswer) {
      return new Response(this.#lastAnswer.body as BodyInit, { headers: this.#lastAnswer.headers });
    }
    if (!stream) {
      const opened = await this.#keys.openRequest(body);
      const parsed = JSON.parse(decoder.decode(opened.request));
      const words = answerOf(parsed);
      const completion = completionOf(this.model, words);
      if (this.tamper === "plaintext-answer") return json(completion);
      const sealed = await this.#keys.sealResponse(opened.handle, encoder.encode(JSON.stringify(completion)));
      const receipt = await this.#receipt(opened.requestHash, sealed.responseHash, {
        promptTokens: 5,
        completionTokens: words.length,
      });
      const answerHeaders: Record<string, string> = {
        "content-type": SEALED_RESPONSE_MEDIA_TYPE,
        [PEER_HEADERS.worker]: this.worker,
        [PEER_HEADERS.tier]: "confidential",
        [PEER_HEADERS.keyId]: String(receipt.keyId),
      };
      if (this.tamper !== "drop-peer") {
        answerHeaders[PEER_HEADERS.info] = toBase64Url(
          encoder.encode(JSON.stringify(this.#peer(receipt, words.length))),
        );
      }
      this.#lastAnswer = { body: sealed.encapsulated, headers: answerHeaders };
      return new Response(sealed.encapsulated as BodyInit, { headers: answerHeaders });
    }

    const opened = await this.#keys.openChunkedRequest(body);
    const parsed = JSON.parse(decoder.decode(opened.request));
    const words = answerOf(parsed);
    const events = sse(chunksOf(this.model, words));
    if (this.tamper === "plaintext-answer") {
      return new Response(concat(events) as BodyInit, { headers: { "content-type": "text/event-stream" } });
    }
    const sealer = opened.responseSealer;
    const collected = readAll(sealer.readable);
    const writer = sealer.writable.getWriter();
    for (const event of events) await writer.write(event);
    await writer.close();
    const sealedParts = await collected;
    const responseHash = sha256(concat(sealedParts));
    const receipt = await this.#receipt(opened.requestHash, responseHash, {
      promptTokens: 5,
      completionTokens: words.length,
    });
    let frames = sealedParts.map((part) => encodeSealedFrame(SEALED_FRAME.sealed, part));
    if (this.tamper === "stream-truncate") frames = frames.slice(0, -1);
    if (this.tamper === "stream-reorder") frames = [frames[0]!, frames[2]!, frames[1]!, ...frames.slice(3)];
    if (this.tamper === "stream-bitflip") {
      const target = new Uint8Array(frames[2]!);
      target[target.length - 3] = (target[target.length - 3] as number) ^ 0x20;
      frames[2] = target;
    }
    if (this.tamper !== "drop-peer") {
      frames.push(
        encodeSealedFrame(
          SEALED_FRAME.peer,
          encoder.encode(JSON.stringify(this.#peer(receipt, words.length))),
        ),
      );
    }
    if (this.tamper === "stream-frame-after-peer") frames.push(frames[1]!);
    const answerHeaders = {
      "content-type": SEALED_STREAM_MEDIA_TYPE,
      [PEER_HEADERS.worker]: this.worker,
      [PEER_HEADERS.tier]: "confidential",
      [PEER_HEADERS.keyId]: String(receipt.keyId),
    };
    const bodyBytes = concat(frames);
    this.#lastAnswer = { body: bodyBytes, headers: answerHeaders };
    // Send frame by frame, as a worker streams them.
    let index = 0;
    const out = new ReadableStream<Uint8Array>({
      pull(controller) {
        const frame = frames[index++];
        if (frame) controller.enqueue(frame);
        else controller.close();
      },
    });
    return new Response(out, { headers: answerHeaders });
  }

  #plain(body: Uint8Array): Response {
    const parsed = JSON.parse(decoder.decode(body)) as {
      peer_tier?: string;
      stream?: boolean;
      messages?: Array<{ role?: string; content?: unknown }>;
    };
    let tier = parsed.peer_tier ?? "verified";
    if (this.tamper === "strip-tier") tier = "open";
    const words = answerOf(parsed);
    const signingKey = ed25519.getPublicKey(this.#verifiedSecret);
    const receiptFor = (responseHash: Uint8Array) => {
      const receiptBody = encodeReceiptBody({
        requestHash: sha256(body),
        responseHash,
        model: this.model,
        seed: 7,
        usage: { promptTokens: 5, completionTokens: words.length },
        worker: this.verifiedWorker,
        time: Math.floor(Date.now() / 1000),
      });
      const signature = ed25519.sign(
        receiptSigningMessage(receiptBody),
        this.tamper === "receipt-wrong-key" ? this.#otherSecret : this.#verifiedSecret,
      );
      return {
        body: toBase64Url(receiptBody),
        signature: toBase64Url(signature),
        signing_key: toBase64Url(signingKey),
        id: toHex(sha256(receiptBody)),
      };
    };
    const peerOf = (responseHash: Uint8Array) => ({
      tier,
      worker: tier === "open" ? "worker-open-1" : this.verifiedWorker,
      job_id: `job-${this.seen.chats}`,
      model: this.model,
      seed: 7,
      price_credits: 1,
      usage: { prompt_tokens: 5, completion_tokens: words.length },
      receipt: receiptFor(responseHash),
    });
    if (!parsed.stream) {
      const completion = completionOf(this.model, words);
      const hash = sha256(encoder.encode(outputCommitment(completionOutputOf(completion))));
      if (this.tamper === "verified-output-changed") completion.choices[0]!.message.content += " (edited)";
      return json(this.tamper === "drop-peer" ? completion : { ...completion, peer: peerOf(hash) }, 200, {
        [PEER_HEADERS.tier]: tier,
      });
    }
    const chunks = chunksOf(this.model, words);
    const accumulator = new CompletionAccumulator();
    for (const chunk of chunks) accumulator.add(chunk);
    const hash = sha256(encoder.encode(outputCommitment(accumulator.output())));
    if (this.tamper === "verified-output-changed") chunks[1]!.choices[0]!.delta = { content: "Edited" };
    const values: unknown[] = [...chunks];
    if (this.tamper !== "drop-peer") {
      values.push({
        id: "chatcmpl-fake",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: this.model,
        choices: [],
        peer: peerOf(hash),
      });
    }
    return new Response(concat(sse(values)) as BodyInit, {
      headers: { "content-type": "text/event-stream", [PEER_HEADERS.tier]: tier },
    });
  }
}
