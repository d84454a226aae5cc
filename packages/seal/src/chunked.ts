import type { AeadKey } from "./aead.js";
import { ByteQueue } from "./byte-queue.js";
import { assertObject, concat, copyBytes, EMPTY, utf8, xorCounter } from "./bytes.js";
import type { CipherSuite } from "./cipher-suite.js";
import type { Context, RecipientContext, SenderContext } from "./context.js";
import { MAX_SEQUENCE, setSequenceNumberForTesting } from "./context.js";
import { OhttpError, SealArgumentError, SealError, SealedStreamError } from "./errors.js";
import type { KeyConfig } from "./key-config.js";
import {
  checkGatewayKeys,
  chooseSuite,
  type EncapsulateOptions,
  type GatewayKeys,
  parseRequestHeader,
  type RequestHeader,
  requestInfo,
  responseKeys,
  responseNonceFor,
  responseNonceLength,
} from "./ohttp.js";
import { encodeVarint, varintLength } from "./varint.js";

/**
 * Media type of a chunked encapsulated request (draft-ietf-ohai-chunked-ohttp).
 *
 * @example
 * ```ts
 * fetch(url, { method: "POST", body, duplex: "half", headers: { "content-type": OHTTP_CHUNKED_REQUEST_MEDIA_TYPE } });
 * ```
 */
export const OHTTP_CHUNKED_REQUEST_MEDIA_TYPE = "message/ohttp-chunked-req";
/**
 * Media type of a chunked encapsulated response (draft-ietf-ohai-chunked-ohttp).
 *
 * @example
 * ```ts
 * new Response(body, { headers: { "content-type": OHTTP_CHUNKED_RESPONSE_MEDIA_TYPE } });
 * ```
 */
export const OHTTP_CHUNKED_RESPONSE_MEDIA_TYPE = "message/ohttp-chunked-res";
/**
 * HPKE info label of a chunked request.
 *
 * @example
 * ```ts
 * // info = "message/bhttp chunked request" || 0x00 || request header
 * ```
 */
export const OHTTP_CHUNKED_REQUEST_LABEL = "message/bhttp chunked request";
/**
 * Exporter label of a chunked response.
 *
 * @example
 * ```ts
 * const secret = await context.export(new TextEncoder().encode(OHTTP_CHUNKED_RESPONSE_LABEL), 16);
 * ```
 */
export const OHTTP_CHUNKED_RESPONSE_LABEL = "message/bhttp chunked response";

/**
 * Default cap on one sealed chunk, tag included: a peer cannot make us buffer more than this.
 *
 * @example
 * ```ts
 * createChunkedRequestDecapsulator(gatewayKey, { maxChunkLength: DEFAULT_MAX_CHUNK_LENGTH / 16 });
 * ```
 */
export const DEFAULT_MAX_CHUNK_LENGTH = 16 * 1024 * 1024;

const FINAL_AAD = utf8("final");
const FINAL_INDICATOR = Uint8Array.of(0);

/**
 * Options of the stream openers.
 *
 * @example
 * ```ts
 * createChunkedRequestDecapsulator(gatewayKey, { maxChunkLength: 1 << 20 });
 * ```
 */
export interface ChunkOpenerOptions {
  /** Largest sealed chunk (ciphertext plus tag) accepted, in bytes. Default 16 MiB. */
  readonly maxChunkLength?: number;
}

function maxChunkLengthOf(options: ChunkOpenerOptions): number {
  const value = options.maxChunkLength ?? DEFAULT_MAX_CHUNK_LENGTH;
  if (!Number.isInteger(value) || value < 17) {
    throw new SealArgumentError("invalid_argument", "maxChunkLength must be an integer of at least 17", {
      details: { argument: "maxChunkLength" },
    });
  }
  return value;
}

function counterExhausted(cause: unknown): SealedStreamError {
  return new SealedStreamError("sealed_stream_counter_overflow", "chunk counter exhausted", { cause });
}

/** A chunk that failed to open; the HPKE sequence limit surfaces as the stream's counter error. */
function chunkOpenFailed(cause: unknown): SealedStreamError {
  if (SealError.isInstance(cause) && cause.code === "hpke_sequence_overflow") return counterExhausted(cause);
  return new SealedStreamError(
    "sealed_stream_chunk_open_failed",
    "chunk authentication failed: tampered, reordered, replayed or cut",
    { cause },
  );
}

/** The HPKE sequence limit surfaces as the stream's own counter error; anything else passes unchanged. */
function overflowAsStreamError(error: unknown): unknown {
  return SealError.isInstance(error) && error.code === "hpke_sequence_overflow"
    ? counterExhausted(error)
    : error;
}

function asBytes(chunk: unknown): Uint8Array {
  if (!(chunk instanceof Uint8Array)) {
    throw new SealArgumentError("invalid_argument", "stream chunks must be Uint8Array", {
      details: { argument: "chunk" },
    });
  }
  return chunk;
}

/** `varint(length) || sealed` for a non-final chunk, `0x00 || sealed` for the final one. */
function frame(sealed: Uint8Array, final: boolean): Uint8Array {
  return concat(final ? FINAL_INDICATOR : encodeVarint(sealed.length), sealed);
}

/**
 * The parsing half shared by both openers: reads frames off a byte queue, opens each as soon as it is
 * complete, and emits plaintext only after its tag verified.
 */
class FrameReader {
  readonly #queue: ByteQueue;
  readonly #maxChunkLength: number;
  readonly #open: (sealed: Uint8Array, final: boolean) => Promise<Uint8Array>;
  #final = false;

  constructor(
    queue: ByteQueue,
    maxChunkLength: number,
    open: (sealed: Uint8Array, final: boolean) => Promise<Uint8Array>,
  ) {
    this.#queue = queue;
    this.#maxChunkLength = maxChunkLength;
    this.#open = open;
  }

  async drain(controller: TransformStreamDefaultController<Uint8Array>): Promise<void> {
    const queue = this.#queue;
    while (!this.#final && queue.length > 0) {
      const prefix = varintLength(queue.byteAt(0));
      if (queue.length < prefix) return;
      let length = queue.byteAt(0) & 0x3f;
      for (let i = 1; i < prefix; i++) length = length * 256 + queue.byteAt(i);
      if (length === 0) {
        queue.take(prefix);
        this.#final = true;
        break;
      }
      if (length > this.#maxChunkLength) throw tooLarge(length, this.#maxChunkLength);
      if (queue.length < prefix + length) return;
      queue.take(prefix);
      controller.enqueue(await this.#open(queue.take(length), false));
    }
    if (this.#final && queue.length > this.#maxChunkLength)
      throw tooLarge(queue.length, this.#maxChunkLength);
  }

  async finish(controller: TransformStreamDefaultController<Uint8Array>): Promise<void> {
    if (!this.#final) {
      throw new SealedStreamError("sealed_stream_truncated", "stream ended before its final chunk", {
        details: { buffered: this.#queue.length },
      });
    }
    controller.enqueue(await this.#open(this.#queue.takeAll(), true));
  }
}

function tooLarge(length: number, max: number): SealedStreamError {
  return new SealedStreamError(
    "sealed_stream_chunk_too_large",
    `chunk of ${length} bytes exceeds maxChunkLength ${max}`,
    {
      details: { length, maxChunkLength: max },
    },
  );
}

/** Plaintext writes larger than this are split, so every sealed chunk fits the default opener limit. */
const MAX_PLAINTEXT_PER_CHUNK = DEFAULT_MAX_CHUNK_LENGTH - 16;

async function sealEach(
  plaintext: Uint8Array,
  seal: (part: Uint8Array) => Promise<Uint8Array>,
  controller: TransformStreamDefaultController<Uint8Array>,
): Promise<void> {
  // Empty writes carry nothing; skipping them keeps the wire free of zero-content chunks.
  for (let at = 0; at < plaintext.length; at += MAX_PLAINTEXT_PER_CHUNK) {
    const part = plaintext.subarray(at, Math.min(plaintext.length, at + MAX_PLAINTEXT_PER_CHUNK));
    controller.enqueue(frame(await seal(part), false));
  }
}

// ---------------------------------------------------------------------------------------------------
// Response chunks: AEAD under keys exported from the request context, nonce = aead_nonce XOR counter.

let setCounter: (cipher: ResponseChunkCipher, value: number) => void;

/** Per-response AEAD state: one key, one base nonce, a counter that never repeats. */
class ResponseChunkCipher {
  readonly #key: AeadKey;
  readonly #nonce: Uint8Array;
  #counter = 0;

  static {
    setCounter = (cipher, value) => {
      cipher.#counter = value;
    };
  }

  constructor(key: AeadKey, nonce: Uint8Array) {
    this.#key = key;
    this.#nonce = nonce;
  }

  #next(): Uint8Array {
    if (this.#counter >= MAX_SEQUENCE) {
      throw new SealedStreamError("sealed_stream_counter_overflow", "chunk counter exhausted", {
        details: { counter: this.#counter },
      });
    }
    return xorCounter(this.#nonce, this.#counter);
  }

  async seal(plaintext: Uint8Array, final: boolean): Promise<Uint8Array> {
    const nonce = this.#next();
    this.#counter++;
    return this.#key.seal(nonce, final ? FINAL_AAD : EMPTY, plaintext);
  }

  async open(sealed: Uint8Array, final: boolean): Promise<Uint8Array> {
    const nonce = this.#next();
    let plaintext: Uint8Array;
    try {
      plaintext = await this.#key.open(nonce, final ? FINAL_AAD : EMPTY, sealed);
    } catch (cause) {
      throw chunkOpenFailed(cause);
    }
    this.#counter++;
    return plaintext;
  }
}

/** Where response keys come from: the suite, the request's HPKE context and its `enc`. Internal. */
interface ResponseKeySource {
  readonly suite: CipherSuite;
  readonly context: Context;
  readonly enc: Uint8Array;
}

async function responseCipher(
  source: ResponseKeySource,
  responseNonce: Uint8Array,
): Promise<ResponseChunkCipher> {
  const { key, nonce } = await responseKeys(
    source.suite,
    source.context,
    source.enc,
    responseNonce,
    OHTTP_CHUNKED_RESPONSE_LABEL,
  );
  return new ResponseChunkCipher(source.suite.aead.createKey(key), nonce);
}

/** Streams hold their cipher privately; tests reach the counter through this map. */
const RESPONSE_CIPHERS = new WeakMap<object, () => Promise<ResponseChunkCipher> | undefined>();
const REQUEST_CONTEXTS = new WeakMap<object, Context>();

/**
 * Test hook: move a stream's chunk counter (the response counter, or the HPKE sequence number of a
 * chunked request). Not exported from the package entry point.
 */
export async function setChunkCounterForTesting(stream: object, value: number): Promise<void> {
  const context = REQUEST_CONTEXTS.get(stream);
  if (context) return setSequenceNumberForTesting(context, value);
  const cipher = await RESPONSE_CIPHERS.get(stream)?.();
  if (cipher) setCounter(cipher, value);
}

/**
 * Seals a response as a chunked stream: writes are plaintext chunks (one SSE event, one token: each
 * becomes its own sealed chunk, sent at once); the output is `response_nonce`, then framed chunks, then
 * the final chunk when the writable side closes.
 *
 * @example
 * ```ts
 * const sealer = context.createResponseSealer();
 * tokens.pipeThrough(new TextEncoderStream()).pipeThrough(sealer); // body of a message/ohttp-chunked-res
 * ```
 */
export class ChunkedResponseSealer extends TransformStream<Uint8Array, Uint8Array> {
  /** @internal */
  constructor(source: ResponseKeySource, options: { responseNonce?: Uint8Array } = {}) {
    assertObject(options, "options");
    const responseNonce = responseNonceFor(source.suite, options.responseNonce);
    const cipher = responseCipher(source, responseNonce);
    cipher.catch(() => undefined);
    super({
      start: async (controller) => {
        await cipher;
        controller.enqueue(copyBytes(responseNonce));
      },
      transform: async (chunk, controller) => {
        const c = await cipher;
        try {
          await sealEach(asBytes(chunk), (part) => c.seal(part, false), controller);
        } catch (error) {
          throw overflowAsStreamError(error);
        }
      },
      flush: async (controller) => {
        controller.enqueue(frame(await (await cipher).seal(EMPTY, true), true));
      },
    });
    RESPONSE_CIPHERS.set(this, () => cipher);
  }
}

/**
 * Opens a chunked response: input is the response body as it arrives (any split), output is each
 * chunk's plaintext once its tag verified. Truncation, reordering, replay, bit flips and trailing data
 * error the stream with a {@link SealedStreamError}.
 *
 * @example
 * ```ts
 * const plaintext = response.body!.pipeThrough(request.createResponseOpener());
 * for await (const chunk of plaintext) render(chunk);
 * ```
 */
export class ChunkedResponseOpener extends TransformStream<Uint8Array, Uint8Array> {
  /** @internal */
  constructor(source: ResponseKeySource, options: ChunkOpenerOptions = {}) {
    assertObject(options, "options");
    const maxChunkLength = maxChunkLengthOf(options);
    const queue = new ByteQueue();
    const nonceLength = responseNonceLength(source.suite);
    let cipher: Promise<ResponseChunkCipher> | undefined;
    let reader: FrameReader | undefined;
    const ensureReader = async (): Promise<FrameReader | undefined> => {
      if (reader) return reader;
      if (queue.length < nonceLength) return undefined;
      cipher = responseCipher(source, queue.take(nonceLength));
      const c = await cipher;
      reader = new FrameReader(queue, maxChunkLength, (sealed, final) => c.open(sealed, final));
      return reader;
    };
    super({
      transform: async (chunk, controller) => {
        queue.push(asBytes(chunk));
        await (await ensureReader())?.drain(controller);
      },
      flush: async (controller) => {
        const r = await ensureReader();
        if (!r)
          throw new SealedStreamError("sealed_stream_truncated", "stream ended inside the response nonce");
        await r.finish(controller);
      },
    });
    RESPONSE_CIPHERS.set(this, () => cipher);
  }
}

// ---------------------------------------------------------------------------------------------------
// Request chunks: HPKE context Seal/Open, so the HPKE sequence number is the chunk counter.

/**
 * Client side of a chunked request. Writes are plaintext chunks; the output is the
 * `message/ohttp-chunked-req` body: header, `enc`, framed chunks, final chunk on close.
 *
 * @example
 * ```ts
 * const request = await createChunkedRequestEncapsulator(keyConfig);
 * const res = await fetch(url, { method: "POST", body: plaintextBody.pipeThrough(request), duplex: "half",
 *   headers: { "content-type": OHTTP_CHUNKED_REQUEST_MEDIA_TYPE } });
 * for await (const chunk of res.body!.pipeThrough(request.createResponseOpener())) handle(chunk);
 * ```
 */
export class ChunkedRequestEncapsulator extends TransformStream<Uint8Array, Uint8Array> {
  readonly #source: ResponseKeySource;

  /** @internal */
  constructor(suite: CipherSuite, header: Uint8Array, enc: Uint8Array, context: SenderContext) {
    super({
      start: (controller) => {
        controller.enqueue(concat(header, enc));
      },
      transform: async (chunk, controller) => {
        try {
          await sealEach(asBytes(chunk), (part) => context.seal(part), controller);
        } catch (error) {
          throw overflowAsStreamError(error);
        }
      },
      flush: async (controller) => {
        try {
          controller.enqueue(frame(await context.seal(EMPTY, FINAL_AAD), true));
        } catch (error) {
          throw overflowAsStreamError(error);
        }
      },
    });
    this.#source = { suite, context, enc };
    REQUEST_CONTEXTS.set(this, context);
  }

  /**
   * The opener for this request's chunked response.
   *
   * @example
   * ```ts
   * const plaintext = res.body!.pipeThrough(request.createResponseOpener());
   * ```
   */
  createResponseOpener(options: ChunkOpenerOptions = {}): ChunkedResponseOpener {
    return new ChunkedResponseOpener(this.#source, options);
  }
}

/**
 * Starts a chunked request to a gateway (draft-ietf-ohai-chunked-ohttp): sets up HPKE with the
 * `message/bhttp chunked request` label and returns the sealing stream.
 *
 * @example
 * ```ts
 * const request = await createChunkedRequestEncapsulator(keyConfig, { aeadId: 0x0003, kdfId: 0x0001 });
 * const writer = request.writable.getWriter();
 * await writer.write(new TextEncoder().encode("{\"prompt\":"));
 * ```
 */
export async function createChunkedRequestEncapsulator(
  keyConfig: KeyConfig,
  options: EncapsulateOptions = {},
): Promise<ChunkedRequestEncapsulator> {
  assertObject(options, "options");
  const { header, suite } = chooseSuite(keyConfig, options);
  const { enc, context } = await suite.setupSender({
    recipientPublicKey: keyConfig.publicKey,
    info: requestInfo(OHTTP_CHUNKED_REQUEST_LABEL, header),
    ephemeralKeyPair: options.ephemeralKeyPair,
  });
  return new ChunkedRequestEncapsulator(suite, header, enc, context);
}

/**
 * The gateway's state once a chunked request's header was read: makes the response sealer.
 *
 * @example
 * ```ts
 * const context = await decapsulator.context;
 * const body = modelTokens.pipeThrough(context.createResponseSealer());
 * ```
 */
export class ChunkedServerContext {
  readonly #source: ResponseKeySource;

  /** @internal */
  constructor(suite: CipherSuite, context: RecipientContext, enc: Uint8Array) {
    this.#source = { suite, context, enc };
  }

  /**
   * A stream that seals the response, chunk by chunk. `responseNonce` is for test vectors only.
   *
   * @example
   * ```ts
   * return new Response(tokens.pipeThrough(context.createResponseSealer()), {
   *   headers: { "content-type": OHTTP_CHUNKED_RESPONSE_MEDIA_TYPE },
   * });
   * ```
   */
  createResponseSealer(options: { responseNonce?: Uint8Array } = {}): ChunkedResponseSealer {
    return new ChunkedResponseSealer(this.#source, options);
  }
}

/**
 * Gateway side of a chunked request: input is the request body as it arrives, output is each chunk's
 * plaintext after its tag verified. `context` resolves once the header and `enc` were read (and rejects
 * with the same error as the stream if they are bad).
 *
 * @example
 * ```ts
 * const decapsulator = createChunkedRequestDecapsulator({ keyConfig, privateKey });
 * const plaintext = request.body!.pipeThrough(decapsulator);
 * const context = await decapsulator.context;
 * ```
 */
export class ChunkedRequestDecapsulator extends TransformStream<Uint8Array, Uint8Array> {
  /** Resolves after the header; rejects (with a SealError) if the header or `enc` is invalid. */
  readonly context: Promise<ChunkedServerContext>;

  /** @internal */
  constructor(gatewayKey: GatewayKeys, options: ChunkOpenerOptions = {}) {
    const gatewayKeys = checkGatewayKeys(gatewayKey);
    assertObject(options, "options");
    const maxChunkLength = maxChunkLengthOf(options);
    const queue = new ByteQueue();
    let resolveContext!: (context: ChunkedServerContext) => void;
    let rejectContext!: (error: unknown) => void;
    const contextPromise = new Promise<ChunkedServerContext>((resolve, reject) => {
      resolveContext = resolve;
      rejectContext = reject;
    });
    // Callers that only read the plaintext never await `context`; the stream reports the error anyway.
    contextPromise.catch(() => undefined);
    let parsed: RequestHeader | undefined;
    let reader: FrameReader | undefined;

    const ensureReader = async (): Promise<FrameReader | undefined> => {
      if (reader) return reader;
      if (!parsed) {
        if (queue.length < 7) return undefined;
        const header = queue.take(7);
        parsed = parseRequestHeader(gatewayKeys, header, (code, message) => new OhttpError(code, message));
      }
      const { suite, header, gatewayKey: selected } = parsed;
      const { keyConfig, privateKey } = selected;
      if (queue.length < suite.kem.encLength) return undefined;
      const enc = queue.take(suite.kem.encLength);
      const context = await suite.setupRecipient({
        recipientKeyPair: { privateKey, publicKey: keyConfig.publicKey },
        enc,
        info: requestInfo(OHTTP_CHUNKED_REQUEST_LABEL, header),
      });
      reader = new FrameReader(queue, maxChunkLength, async (sealed, final) => {
        try {
          return await context.open(sealed, final ? FINAL_AAD : EMPTY);
        } catch (cause) {
          throw chunkOpenFailed(cause);
        }
      });
      resolveContext(new ChunkedServerContext(suite, context, enc));
      return reader;
    };
    const guard = async (run: () => Promise<void>): Promise<void> => {
      try {
        await run();
      } catch (error) {
        rejectContext(error);
        throw error;
      }
    };
    super({
      transform: (chunk, controller) =>
        guard(async () => {
          queue.push(asBytes(chunk));
          await (await ensureReader())?.drain(controller);
        }),
      flush: (controller) =>
        guard(async () => {
          const r = await ensureReader();
          if (!r)
            throw new SealedStreamError("sealed_stream_truncated", "stream ended inside the request header");
          await r.finish(controller);
        }),
    });
    this.context = contextPromise;
  }
}

/**
 * Starts reading a chunked request at the gateway, with one gateway key or several (key rotation).
 *
 * @example
 * ```ts
 * const decapsulator = createChunkedRequestDecapsulator({ keyConfig, privateKey }, { maxChunkLength: 1 << 20 });
 * ```
 */
export function createChunkedRequestDecapsulator(
  gatewayKey: GatewayKeys,
  options: ChunkOpenerOptions = {},
): ChunkedRequestDecapsulator {
  return new ChunkedRequestDecapsulator(gatewayKey, options);
}
