import { createPrivateKey, type KeyObject, sign as nodeSign } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  bindingKeyConfig,
  encodeReceiptBody,
  type Receipt,
  receiptSigningMessage,
  type SignedReceipt,
} from "@peercycles/attest/bundle";
import {
  type ChunkedResponseSealer,
  CipherSuite,
  createChunkedRequestDecapsulator,
  decapsulateRequest,
  type KeyConfig,
  type OhttpServerContext,
} from "@peercycles/seal";
import { EnclaveError } from "./errors.js";

/** The public half of the enclave's keys, as the binding and the key configuration carry it. */
export interface EnclavePublicKeys {
  /** X25519 public key requests are sealed to. */
  readonly hpkePublicKey: Uint8Array;
  /** Ed25519 public key that verifies receipts. */
  readonly signingPublicKey: Uint8Array;
  /** RFC 9458 key configuration for {@link hpkePublicKey}. */
  readonly keyConfig: KeyConfig;
}

/** An opened request: the plaintext for the model, its hash for the receipt, and a one-shot handle. */
export interface OpenedRequest {
  readonly request: Uint8Array;
  /** SHA-256 of the encapsulated request bytes as received. */
  readonly requestHash: Uint8Array;
  /** Pass to {@link EnclaveKeys.sealResponse}; valid once. */
  readonly handle: ResponseHandle;
}

/**
 * An opened chunked request (draft-ietf-ohai-chunked-ohttp): the whole plaintext, the hash of the
 * encapsulated bytes for the receipt, and the sealer of its chunked response.
 */
export interface OpenedChunkedRequest {
  /** The request plaintext (all chunks, in order, after each one's tag verified). */
  readonly request: Uint8Array;
  /** SHA-256 of the encapsulated request bytes as received. */
  readonly requestHash: Uint8Array;
  /**
   * Seals the response: each write (one SSE event, one token) becomes one sealed chunk; the readable
   * side yields the response nonce, the framed chunks, then the final chunk once the writable side
   * closes. A receipt's response hash is the SHA-256 of everything it yields, concatenated.
   */
  readonly responseSealer: ChunkedResponseSealer;
}

/** Opaque handle tying a response to the request it answers (its HPKE context stays inside). */
export interface ResponseHandle {
  readonly id: number;
}

/**
 * Enclave key custody. The private keys live in closures/#private fields of this object and are
 * never returned: the host side can ask for public keys, hand in sealed request bytes, hand in a
 * response to seal, and ask for a receipt signature. Nothing else.
 */
export interface EnclaveKeys {
  publicKeys(): EnclavePublicKeys;
  /** Opens an RFC 9458 encapsulated request sealed to this enclave's HPKE key. */
  openRequest(encapsulated: Uint8Array): Promise<OpenedRequest>;
  /** Seals the response to the request of `handle` (RFC 9458 response encapsulation). */
  sealResponse(
    handle: ResponseHandle,
    response: Uint8Array,
  ): Promise<{ encapsulated: Uint8Array; responseHash: Uint8Array }>;
  /**
   * Opens a complete chunked encapsulated request (`message/ohttp-chunked-req`, the whole body, final
   * chunk included) and returns the sealer of its chunked response, keyed from the same HPKE context.
   *
   * @throws EnclaveError `enclave_request_invalid` (not bytes); SealError / SealedStreamError from
   *   `@peercycles/seal` when the request does not open (`hpke_open_failed`, `sealed_stream_truncated`,
   *   `sealed_stream_chunk_open_failed`, an unknown key id …)
   */
  openChunkedRequest(encapsulated: Uint8Array): Promise<OpenedChunkedRequest>;
  /** Signs a receipt with the enclave's Ed25519 key (deterministic CBOR body, domain-separated). */
  signReceipt(receipt: Receipt): SignedReceipt;
}

/** Options of {@link createEnclaveKeys}. */
export interface CreateEnclaveKeysOptions {
  /**
   * 64 bytes of seed to derive both key pairs deterministically. For tests and reproducible demos
   * only: a real enclave generates fresh keys from its own randomness (the default).
   */
  readonly seed?: Uint8Array;
  /** Most requests awaiting a response at once (older handles are dropped). Default 1024. */
  readonly maxPending?: number;
}

const SUITE = { kem: 0x0020, kdf: 0x0001, aead: 0x0001 } as const;

/** PKCS #8 DER prefix of an Ed25519 private key (RFC 8410): the 32-byte secret follows. */
const ED25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/**
 * The signing secret as an OpenSSL key, imported once: signing a receipt is then one Ed25519 signature
 * (tens of µs), where `ed25519.sign` from `@noble/curves` re-derives the public key on every call
 * (two scalar multiplications in JavaScript, about a millisecond). Ed25519 is deterministic (RFC 8032):
 * the signatures are the same bytes either way.
 */
function importSigningKey(secret: Uint8Array): KeyObject {
  const der = new Uint8Array(ED25519_PKCS8_PREFIX.length + secret.length);
  der.set(ED25519_PKCS8_PREFIX);
  der.set(secret, ED25519_PKCS8_PREFIX.length);
  try {
    return createPrivateKey({ key: Buffer.from(der.buffer), format: "der", type: "pkcs8" });
  } finally {
    der.fill(0);
  }
}

class EnclaveKeyStore implements EnclaveKeys {
  readonly #hpke: { privateKey: Uint8Array; publicKey: Uint8Array };
  readonly #signingKey: KeyObject;
  readonly #public: EnclavePublicKeys;
  readonly #pending = new Map<number, OhttpServerContext>();
  readonly #maxPending: number;
  #nextHandle = 1;

  constructor(
    hpke: { privateKey: Uint8Array; publicKey: Uint8Array },
    signingSecret: Uint8Array,
    maxPending: number,
  ) {
    this.#hpke = hpke;
    this.#signingKey = importSigningKey(signingSecret);
    this.#maxPending = maxPending;
    const keyConfig = bindingKeyConfig({ hpkePublicKey: hpke.publicKey }) as KeyConfig;
    this.#public = Object.freeze({
      hpkePublicKey: new Uint8Array(hpke.publicKey),
      signingPublicKey: ed25519.getPublicKey(signingSecret),
      keyConfig,
    });
  }

  publicKeys(): EnclavePublicKeys {
    return this.#public;
  }

  async openRequest(encapsulated: Uint8Array): Promise<OpenedRequest> {
    if (!(encapsulated instanceof Uint8Array))
      throw new EnclaveError("enclave_request_invalid", "encapsulated request must be bytes");
    const { request, context } = await decapsulateRequest(
      { keyConfig: this.#public.keyConfig, privateKey: this.#hpke.privateKey },
      encapsulated,
    );
    if (this.#pending.size >= this.#maxPending)
      this.#pending.delete(this.#pending.keys().next().value as number);
    const id = this.#nextHandle++;
    this.#pending.set(id, context);
    return { request, requestHash: sha256(encapsulated), handle: Object.freeze({ id }) };
  }

  async sealResponse(
    handle: ResponseHandle,
    response: Uint8Array,
  ): Promise<{ encapsulated: Uint8Array; responseHash: Uint8Array }> {
    const context = this.#pending.get(handle?.id);
    if (!context)
      throw new EnclaveError("enclave_request_invalid", "unknown or already answered request handle");
    this.#pending.delete(handle.id);
    const encapsulated = await context.sealResponse(response);
    return { encapsulated, responseHash: sha256(encapsulated) };
  }

  async openChunkedRequest(encapsulated: Uint8Array): Promise<OpenedChunkedRequest> {
    if (!(encapsulated instanceof Uint8Array))
      throw new EnclaveError("enclave_request_invalid", "encapsulated request must be bytes");
    const requestHash = sha256(encapsulated);
    const decapsulator = createChunkedRequestDecapsulator({
      keyConfig: this.#public.keyConfig,
      privateKey: this.#hpke.privateKey,
    });
    const writer = decapsulator.writable.getWriter();
    const reader = decapsulator.readable.getReader();
    // Write and read concurrently: the transform stream applies backpressure once its queue fills.
    const written = (async () => {
      await writer.write(new Uint8Array(encapsulated));
      await writer.close();
    })();
    written.catch(() => undefined);
    const parts: Uint8Array[] = [];
    let length = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      length += value.length;
    }
    await written;
    const request = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      request.set(part, offset);
      offset += part.length;
    }
    const context = await decapsulator.context;
    return { request, requestHash, responseSealer: context.createResponseSealer() };
  }

  signReceipt(receipt: Receipt): SignedReceipt {
    const body = encodeReceiptBody(receipt);
    // A plain Uint8Array of its own 64 bytes (not a Buffer, not a view into a larger pool).
    const signature = new Uint8Array(nodeSign(null, receiptSigningMessage(body), this.#signingKey));
    return { body, signature };
  }

  /** Keys never serialise: JSON.stringify / util.inspect show only the public half. */
  toJSON(): unknown {
    return { hpkePublicKey: this.#public.hpkePublicKey, signingPublicKey: this.#public.signingPublicKey };
  }
}

/**
 * Generates the enclave's keys inside the enclave process: an X25519 HPKE key pair (via
 * `@peercycles/seal`) and an Ed25519 signing key (via `@noble/curves`).
 *
 * @example
 * ```ts
 * const keys = await createEnclaveKeys();
 * const { hpkePublicKey, signingPublicKey } = keys.publicKeys();
 * const { request, handle, requestHash } = await keys.openRequest(sealedBody);
 * const { encapsulated, responseHash } = await keys.sealResponse(handle, answer);
 * const receipt = keys.signReceipt({ requestHash, responseHash, model, seed, usage, worker, time });
 * // a streamed answer: a chunked request, a chunked response
 * const { request: body, responseSealer } = await keys.openChunkedRequest(chunkedBody);
 * ```
 */
export async function createEnclaveKeys(options: CreateEnclaveKeysOptions = {}): Promise<EnclaveKeys> {
  const suite = new CipherSuite(SUITE);
  let hpke: { privateKey: Uint8Array; publicKey: Uint8Array };
  let signingSecret: Uint8Array;
  if (options.seed !== undefined) {
    if (!(options.seed instanceof Uint8Array) || options.seed.length !== 64) {
      throw new EnclaveError("enclave_argument_invalid", "seed must be 64 bytes");
    }
    hpke = await suite.deriveKeyPair(options.seed.slice(0, 32));
    signingSecret = options.seed.slice(32, 64);
  } else {
    hpke = await suite.generateKeyPair();
    signingSecret = ed25519.utils.randomSecretKey();
  }
  return new EnclaveKeyStore(hpke, signingSecret, options.maxPending ?? 1024);
}
