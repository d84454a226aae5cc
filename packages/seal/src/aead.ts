import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { bufferSource } from "./bytes.js";
import { HpkeError } from "./errors.js";
import { AeadId } from "./identifiers.js";
import { hex4 } from "./kdf.js";
import { capabilities, subtle } from "./webcrypto.js";

/**
 * A key bound to one AEAD, ready for many seal/open calls. WebCrypto keys are imported once, on first
 * use, and reused for every later message under the same context.
 *
 * @example
 * ```ts
 * const key = aeadFor(0x0001).createKey(rawKey);
 * const ct = await key.seal(nonce, aad, plaintext);
 * const pt = await key.open(nonce, aad, ct); // throws HpkeError "hpke_open_failed" on a bad tag
 * ```
 */
export interface AeadKey {
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** Throws `HpkeError` with code `hpke_open_failed` when the tag does not verify. */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
}

/**
 * An RFC 9180 AEAD: sizes and a key factory. Export-only has sizes of zero and no key factory.
 *
 * @example
 * ```ts
 * const aead = aeadFor(AeadId.Chacha20Poly1305);
 * aead.keyLength; // 32
 * ```
 */
export interface Aead {
  readonly id: AeadId;
  /** Nk. */
  readonly keyLength: number;
  /** Nn. */
  readonly nonceLength: number;
  /** Nt. */
  readonly tagLength: number;
  /** Binds a raw key of Nk bytes; throws `hpke_export_only` for the export-only AEAD. */
  createKey(key: Uint8Array): AeadKey;
}

function openFailed(cause?: unknown): HpkeError {
  return new HpkeError(
    "hpke_open_failed",
    "authentication failed: wrong key, nonce, aad or tampered ciphertext",
    {
      cause,
    },
  );
}

/**
 * Messages up to this size go through @noble/ciphers' synchronous `gcm`; larger ones through
 * WebCrypto when it exists. For a token-sized chunk a WebCrypto call (a round trip to Node's thread
 * pool) costs more than noble's whole computation; from a few hundred bytes on, noble builds a larger
 * GHASH table for every message and the native path wins. Measured on Node 20 (2-core EPYC): 20 B
 * noble 47 µs vs WebCrypto 108 µs; a 1 KiB single-shot seal ran 2,040/s through WebCrypto against
 * 1,550/s through noble. Both paths give identical bytes (tested).
 */
export const SYNC_AES_GCM_LIMIT = 256;

/**
 * The limit for a key's first WebCrypto message, which also pays the key import (another thread-pool
 * round trip). One-shot keys (an OHTTP response, a single-shot open) only ever see that first message.
 * Measured on Node 20 (2-core EPYC, medians of interleaved rounds), opening with a fresh key: 1 KiB
 * noble 57 µs vs import + decrypt 64 µs; 2 KiB 122 µs vs 60 µs. A context that has imported its key
 * (after one large message) goes back to {@link SYNC_AES_GCM_LIMIT}.
 */
export const SYNC_AES_GCM_FIRST_LIMIT = 1024;

class AesGcmKey implements AeadKey {
  readonly #raw: Uint8Array;
  #web: Promise<CryptoKey | undefined> | undefined;

  constructor(raw: Uint8Array) {
    this.#raw = raw;
  }

  /** Whether a message of `length` bytes goes to WebCrypto (if the runtime has AES-GCM there). */
  #useWeb(length: number): boolean {
    return length > (this.#web ? SYNC_AES_GCM_LIMIT : SYNC_AES_GCM_FIRST_LIMIT);
  }

  #webKey(): Promise<CryptoKey | undefined> {
    this.#web ??= capabilities().then((caps) =>
      caps.aesGcm
        ? subtle()!.importKey("raw", bufferSource(this.#raw), "AES-GCM", false, ["encrypt", "decrypt"])
        : undefined,
    );
    return this.#web;
  }

  async seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
    const key = this.#useWeb(plaintext.length) ? await this.#webKey() : undefined;
    if (!key) return gcm(this.#raw, nonce, aad).encrypt(plaintext);
    const params = { name: "AES-GCM", iv: bufferSource(nonce), additionalData: bufferSource(aad) };
    return new Uint8Array(await subtle()!.encrypt(params, key, bufferSource(plaintext)));
  }

  async open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (ciphertext.length < 16) throw openFailed();
    const key = this.#useWeb(ciphertext.length - 16) ? await this.#webKey() : undefined;
    try {
      if (!key) return gcm(this.#raw, nonce, aad).decrypt(ciphertext);
      const params = { name: "AES-GCM", iv: bufferSource(nonce), additionalData: bufferSource(aad) };
      return new Uint8Array(await subtle()!.decrypt(params, key, bufferSource(ciphertext)));
    } catch (cause) {
      throw openFailed(cause);
    }
  }
}

/** ChaCha20-Poly1305 is always @noble: WebCrypto has no ChaCha20-Poly1305. */
class ChachaKey implements AeadKey {
  readonly #raw: Uint8Array;

  constructor(raw: Uint8Array) {
    this.#raw = raw;
  }

  async seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
    return chacha20poly1305(this.#raw, nonce, aad).encrypt(plaintext);
  }

  async open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (ciphertext.length < 16) throw openFailed();
    try {
      return chacha20poly1305(this.#raw, nonce, aad).decrypt(ciphertext);
    } catch (cause) {
      throw openFailed(cause);
    }
  }
}

function aead(id: AeadId, keyLength: number, make: ((raw: Uint8Array) => AeadKey) | undefined): Aead {
  const nonceLength = make ? 12 : 0;
  return Object.freeze({
    id,
    keyLength,
    nonceLength,
    tagLength: make ? 16 : 0,
    createKey(key: Uint8Array): AeadKey {
      if (!make) throw new HpkeError("hpke_export_only", "the export-only AEAD cannot seal or open");
      return make(key);
    },
  });
}

const AEADS: Readonly<Record<number, Aead>> = {
  [AeadId.Aes128Gcm]: aead(AeadId.Aes128Gcm, 16, (raw) => new AesGcmKey(raw)),
  [AeadId.Aes256Gcm]: aead(AeadId.Aes256Gcm, 32, (raw) => new AesGcmKey(raw)),
  [AeadId.Chacha20Poly1305]: aead(AeadId.Chacha20Poly1305, 32, (raw) => new ChachaKey(raw)),
  [AeadId.ExportOnly]: aead(AeadId.ExportOnly, 0, undefined),
};

/**
 * The AEAD for a registry id; an unsupported id is an `hpke_unsupported_suite` error.
 *
 * @example
 * ```ts
 * aeadFor(0xffff).keyLength; // 0: export-only
 * ```
 */
export function aeadFor(id: number): Aead {
  const found = AEADS[id];
  if (!found) {
    throw new HpkeError("hpke_unsupported_suite", `aead 0x${hex4(id)} is not supported`, {
      details: { aead: id },
    });
  }
  return found;
}
