import { x25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import {
  assertBytes,
  bufferSource,
  concat,
  copyBytes,
  EMPTY,
  equalBytes,
  i2osp,
  isAllZero,
  toBase64Url,
  utf8,
} from "./bytes.js";
import { HpkeError, type SealErrorCode } from "./errors.js";
import { KdfId, KemId } from "./identifiers.js";
import { hex4, kdfFor } from "./kdf.js";
import { capabilities, subtle } from "./webcrypto.js";

/**
 * A KEM key pair as raw bytes: the private key is Nsk bytes (a little-endian X25519 scalar or a
 * big-endian P-256 scalar), the public key is Npk bytes (X25519 u-coordinate, or an uncompressed P-256
 * point starting 0x04).
 *
 * @example
 * ```ts
 * const { privateKey, publicKey }: KeyPair = await suite.generateKeyPair();
 * ```
 */
export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * A private key with its public key optional: the public key is computed when left out, and checked
 * against the private key when given.
 *
 * @example
 * ```ts
 * const ctx = await suite.setupRecipient({ recipientKeyPair: { privateKey }, enc });
 * ```
 */
export interface PrivateKeyInput {
  readonly privateKey: Uint8Array;
  readonly publicKey?: Uint8Array;
}

/**
 * A DHKEM (RFC 9180 §4.1). Obtained with {@link kemFor}; most callers use {@link CipherSuite} instead.
 *
 * @example
 * ```ts
 * const kem = kemFor(0x0020);
 * const { sharedSecret, enc } = await kem.encap(recipientPublicKey);
 * ```
 */
export interface Kem {
  readonly id: KemId;
  /** Nsecret: length of the shared secret. */
  readonly secretLength: number;
  /** Nenc: length of the encapsulated key. */
  readonly encLength: number;
  /** Npk: length of a serialized public key. */
  readonly publicKeyLength: number;
  /** Nsk: length of a serialized private key. */
  readonly privateKeyLength: number;
  /** A fresh random key pair. */
  generateKeyPair(): Promise<KeyPair>;
  /** RFC 9180 DeriveKeyPair: deterministic key pair from `ikm` (at least Nsk bytes). */
  deriveKeyPair(ikm: Uint8Array): Promise<KeyPair>;
  /** The full key pair for a private key; checks `publicKey` when given. `name` labels errors. */
  completeKeyPair(input: PrivateKeyInput, name: string): Promise<KeyPair>;
  /** Synchronous structural check of a public key: length, and for P-256 that the point is on the curve. */
  isValidPublicKey(publicKey: Uint8Array): boolean;
  /** Throws `hpke_invalid_key` naming `name` unless `publicKey` is a valid public key. */
  validatePublicKey(publicKey: Uint8Array, name: string): Promise<void>;
  /** Encap / AuthEncap. */
  encap(
    recipientPublicKey: Uint8Array,
    options?: { ephemeralKeyPair?: PrivateKeyInput; senderKeyPair?: PrivateKeyInput },
  ): Promise<{ sharedSecret: Uint8Array; enc: Uint8Array }>;
  /** Decap / AuthDecap. */
  decap(
    enc: Uint8Array,
    recipientKeyPair: PrivateKeyInput,
    senderPublicKey?: Uint8Array,
  ): Promise<Uint8Array>;
}

/** What differs between the two curves; the DHKEM logic around it is shared. */
interface Curve {
  readonly kemId: KemId;
  readonly privateKeyLength: number;
  readonly publicKeyLength: number;
  readonly webAlgorithm: { name: string; namedCurve?: string };
  readonly webCapability: "x25519" | "p256";
  /** A raw public key whose DH with sk yields pk(sk) (X25519) or its x-coordinate (P-256). */
  readonly basePoint: Uint8Array;
  /** Bytes of the DH with the base point that a correct public key must reproduce. */
  publicCheckBytes(publicKey: Uint8Array): Uint8Array;
  isValidPrivateKey(privateKey: Uint8Array): boolean;
  isValidPublicKey(publicKey: Uint8Array): boolean;
  noblePublicKey(privateKey: Uint8Array): Uint8Array;
  nobleDh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  randomPrivateKey(): Uint8Array;
  toJwk(privateKey: Uint8Array, publicKey: Uint8Array): JsonWebKey;
}

const X25519_CURVE: Curve = {
  kemId: KemId.DhkemX25519HkdfSha256,
  privateKeyLength: 32,
  publicKeyLength: 32,
  webAlgorithm: { name: "X25519" },
  webCapability: "x25519",
  basePoint: (() => {
    const u = new Uint8Array(32);
    u[0] = 9;
    return u;
  })(),
  publicCheckBytes: (publicKey) => publicKey,
  isValidPrivateKey: (privateKey) => privateKey.length === 32,
  isValidPublicKey: (publicKey) => publicKey.length === 32,
  noblePublicKey: (privateKey) => x25519.getPublicKey(privateKey),
  nobleDh: (privateKey, publicKey) => x25519.getSharedSecret(privateKey, publicKey),
  randomPrivateKey: () => x25519.utils.randomSecretKey(),
  toJwk: (privateKey, publicKey) => ({
    kty: "OKP",
    crv: "X25519",
    d: toBase64Url(privateKey),
    x: toBase64Url(publicKey),
  }),
};

const P256_CURVE: Curve = {
  kemId: KemId.DhkemP256HkdfSha256,
  privateKeyLength: 32,
  publicKeyLength: 65,
  webAlgorithm: { name: "ECDH", namedCurve: "P-256" },
  webCapability: "p256",
  basePoint: p256.Point.BASE.toBytes(false),
  publicCheckBytes: (publicKey) => publicKey.subarray(1, 33),
  isValidPrivateKey: (privateKey) => privateKey.length === 32 && p256.utils.isValidSecretKey(privateKey),
  isValidPublicKey: (publicKey) => {
    if (publicKey.length !== 65 || publicKey[0] !== 0x04) return false;
    try {
      p256.Point.fromBytes(publicKey).assertValidity();
      return true;
    } catch {
      return false;
    }
  },
  noblePublicKey: (privateKey) => p256.getPublicKey(privateKey, false),
  nobleDh: (privateKey, publicKey) => p256.getSharedSecret(privateKey, publicKey, true).subarray(1),
  randomPrivateKey: () => p256.utils.randomSecretKey(),
  toJwk: (privateKey, publicKey) => ({
    kty: "EC",
    crv: "P-256",
    d: toBase64Url(privateKey),
    x: toBase64Url(publicKey.subarray(1, 33)),
    y: toBase64Url(publicKey.subarray(33, 65)),
  }),
};

const LABEL_EAE_PRK = utf8("eae_prk");
const LABEL_SHARED_SECRET = utf8("shared_secret");

function keyError(code: SealErrorCode, name: string, message: string, cause?: unknown): HpkeError {
  return new HpkeError(code, `${name}: ${message}`, { cause, details: { argument: name } });
}

/**
 * Caches keyed by the caller's own Uint8Array object. A hit also compares contents, so a caller who
 * rewrites the array in place gets a fresh import rather than a stale key. Long-lived recipient keys
 * then pay the import and the key-pair check once instead of on every message.
 */
interface PrivateEntry {
  readonly copy: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly key: CryptoKey | undefined;
}
interface PublicEntry {
  readonly copy: Uint8Array;
  readonly key: CryptoKey;
}

class DhKem implements Kem {
  readonly id: KemId;
  readonly secretLength = 32;
  readonly encLength: number;
  readonly publicKeyLength: number;
  readonly privateKeyLength: number;
  readonly #curve: Curve;
  readonly #suiteId: Uint8Array;
  readonly #kdf = kdfFor(KdfId.HkdfSha256);
  readonly #privateCache = new WeakMap<Uint8Array, PrivateEntry>();
  readonly #publicCache = new WeakMap<Uint8Array, PublicEntry>();

  constructor(curve: Curve) {
    this.#curve = curve;
    this.id = curve.kemId;
    this.encLength = curve.publicKeyLength;
    this.publicKeyLength = curve.publicKeyLength;
    this.privateKeyLength = curve.privateKeyLength;
    this.#suiteId = concat(utf8("KEM"), i2osp(curve.kemId, 2));
  }

  async #web(): Promise<SubtleCrypto | undefined> {
    const caps = await capabilities();
    return caps[this.#curve.webCapability] ? subtle() : undefined;
  }

  async generateKeyPair(): Promise<KeyPair> {
    // Always @noble here, even where WebCrypto could generate the pair: getting a raw private key out
    // of WebCrypto means a JWK export, and on Node 20 a synchronous JWK export can deadlock when garbage
    // collection finalizes the key-generation job while the export holds the key's lock (seen as a hang
    // under load). Long-lived key pairs are generated rarely, so the ~0.3 ms this costs does not matter;
    // ephemeral keys inside `encap` never leave WebCrypto and are unaffected.
    const privateKey = this.#curve.randomPrivateKey();
    return { privateKey, publicKey: this.#curve.noblePublicKey(privateKey) };
  }

  async deriveKeyPair(ikm: Uint8Array): Promise<KeyPair> {
    assertBytes(ikm, "ikm");
    if (ikm.length < this.privateKeyLength) {
      throw new HpkeError(
        "hpke_invalid_ikm",
        `ikm must be at least ${this.privateKeyLength} bytes, got ${ikm.length}`,
        {
          details: { argument: "ikm", minimum: this.privateKeyLength, actual: ikm.length },
        },
      );
    }
    const kdf = this.#kdf;
    const dkpPrk = kdf.labeledExtract(this.#suiteId, EMPTY, utf8("dkp_prk"), ikm);
    let privateKey: Uint8Array | undefined;
    if (this.id === KemId.DhkemX25519HkdfSha256) {
      privateKey = kdf.labeledExpand(this.#suiteId, dkpPrk, utf8("sk"), EMPTY, 32);
    } else {
      // RFC 9180 §7.1.3 rejection sampling; the P-256 bitmask is 0xff, so the candidate is used as is.
      for (let counter = 0; counter < 256; counter++) {
        const candidate = kdf.labeledExpand(this.#suiteId, dkpPrk, utf8("candidate"), i2osp(counter, 1), 32);
        if (this.#curve.isValidPrivateKey(candidate)) {
          privateKey = candidate;
          break;
        }
      }
      if (!privateKey)
        throw new HpkeError("hpke_derive_key_pair_failed", "no valid P-256 scalar in 256 candidates");
    }
    return { privateKey, publicKey: this.#curve.noblePublicKey(privateKey) };
  }

  async completeKeyPair(input: PrivateKeyInput, name: string): Promise<KeyPair> {
    const entry = await this.#privateEntry(input, name);
    return { privateKey: input.privateKey, publicKey: entry.publicKey };
  }

  isValidPublicKey(publicKey: Uint8Array): boolean {
    return publicKey instanceof Uint8Array && this.#curve.isValidPublicKey(publicKey);
  }

  async validatePublicKey(publicKey: Uint8Array, name: string): Promise<void> {
    await this.#publicKey(publicKey, name, "hpke_invalid_key");
  }

  async #privateEntry(input: PrivateKeyInput, name: string): Promise<PrivateEntry> {
    const { privateKey, publicKey } = input;
    assertBytes(privateKey, `${name}.privateKey`, this.privateKeyLength);
    if (publicKey !== undefined) assertBytes(publicKey, `${name}.publicKey`, this.publicKeyLength);
    const s = await this.#web();
    const cached = this.#privateCache.get(privateKey);
    // An entry is only reused on the path that made it (WebCrypto handle or none), so a test that
    // forces a path really runs that path; in production the path never changes within a process.
    if (
      cached &&
      (cached.key !== undefined) === (s !== undefined) &&
      equalBytes(cached.copy, privateKey) &&
      (publicKey === undefined || equalBytes(cached.publicKey, publicKey))
    ) {
      return cached;
    }
    if (!this.#curve.isValidPrivateKey(privateKey)) {
      throw keyError("hpke_invalid_key", `${name}.privateKey`, "not a valid private key");
    }
    let entry: PrivateEntry;
    if (!s) {
      const derived = this.#curve.noblePublicKey(privateKey);
      if (publicKey !== undefined && !equalBytes(derived, publicKey)) {
        throw keyError("hpke_invalid_key", name, "publicKey does not match privateKey");
      }
      entry = { copy: copyBytes(privateKey), publicKey: derived, key: undefined };
    } else {
      const pub = publicKey ?? this.#curve.noblePublicKey(privateKey);
      let key: CryptoKey;
      try {
        key = await s.importKey("jwk", this.#curve.toJwk(privateKey, pub), this.#curve.webAlgorithm, false, [
          "deriveBits",
        ]);
      } catch (cause) {
        throw keyError("hpke_invalid_key", name, "publicKey does not match privateKey", cause);
      }
      // Not every WebCrypto checks a JWK's public half against its private half; one DH with the base
      // point does, so a mismatched pair fails here on every runtime, as it does on the noble path.
      const base = await this.#publicKey(this.#curve.basePoint, "basePoint", "hpke_invalid_key");
      const check = new Uint8Array(
        await s.deriveBits({ name: this.#curve.webAlgorithm.name, public: base }, key, 256),
      );
      if (!equalBytes(check, this.#curve.publicCheckBytes(pub))) {
        throw keyError("hpke_invalid_key", name, "publicKey does not match privateKey");
      }
      entry = { copy: copyBytes(privateKey), publicKey: copyBytes(pub), key };
    }
    this.#privateCache.set(privateKey, entry);
    return entry;
  }

  /** Validates a public key and, on the WebCrypto path, imports it (cached). */
  async #publicKey(publicKey: Uint8Array, name: string, code: SealErrorCode): Promise<CryptoKey | undefined> {
    const cached = this.#publicCache.get(publicKey);
    if (cached && equalBytes(cached.copy, publicKey)) return cached.key;
    if (!this.#curve.isValidPublicKey(publicKey)) throw keyError(code, name, "not a valid public key");
    const s = await this.#web();
    if (!s) return undefined;
    let key: CryptoKey;
    try {
      key = await s.importKey("raw", bufferSource(publicKey), this.#curve.webAlgorithm, false, []);
    } catch (cause) {
      throw keyError(code, name, "not a valid public key", cause);
    }
    this.#publicCache.set(publicKey, { copy: copyBytes(publicKey), key });
    return key;
  }

  async #dh(
    s: SubtleCrypto | undefined,
    privateKey: Uint8Array,
    privateHandle: CryptoKey | undefined,
    publicKey: Uint8Array,
    publicHandle: CryptoKey | undefined,
    code: SealErrorCode,
    name: string,
  ): Promise<Uint8Array> {
    let out: Uint8Array;
    try {
      out =
        s && privateHandle && publicHandle
          ? new Uint8Array(
              await s.deriveBits(
                { name: this.#curve.webAlgorithm.name, public: publicHandle },
                privateHandle,
                256,
              ),
            )
          : this.#curve.nobleDh(privateKey, publicKey);
    } catch (cause) {
      throw keyError(code, name, "Diffie-Hellman failed (low-order or invalid point)", cause);
    }
    // RFC 9180 §7.1.4: an all-zero X25519 output must abort. Both backends already refuse it; the
    // explicit check keeps that true whatever a future backend does.
    if (isAllZero(out)) throw keyError(code, name, "Diffie-Hellman produced the all-zero value");
    return out;
  }

  #extractAndExpand(dh: Uint8Array, kemContext: Uint8Array): Uint8Array {
    const eaePrk = this.#kdf.labeledExtract(this.#suiteId, EMPTY, LABEL_EAE_PRK, dh);
    return this.#kdf.labeledExpand(this.#suiteId, eaePrk, LABEL_SHARED_SECRET, kemContext, this.secretLength);
  }

  async encap(
    recipientPublicKey: Uint8Array,
    options: { ephemeralKeyPair?: PrivateKeyInput; senderKeyPair?: PrivateKeyInput } = {},
  ): Promise<{ sharedSecret: Uint8Array; enc: Uint8Array }> {
    assertBytes(recipientPublicKey, "recipientPublicKey", this.publicKeyLength);
    const { ephemeralKeyPair, senderKeyPair } = options;
    const s = await this.#web();
    const [pkR, sender] = await Promise.all([
      this.#publicKey(recipientPublicKey, "recipientPublicKey", "hpke_invalid_key"),
      senderKeyPair ? this.#privateEntry(senderKeyPair, "senderKeyPair") : undefined,
    ]);

    let enc: Uint8Array;
    let dhE: Uint8Array;
    const senderDh = sender
      ? this.#dh(
          s,
          senderKeyPair!.privateKey,
          sender.key,
          recipientPublicKey,
          pkR,
          "hpke_invalid_key",
          "recipientPublicKey",
        )
      : undefined;
    // The sender DH runs alongside the ephemeral one; if the ephemeral side throws first, this keeps the
    // sender promise's rejection from surfacing as an unhandled rejection.
    senderDh?.catch(() => undefined);
    if (ephemeralKeyPair) {
      const eph = await this.#privateEntry(ephemeralKeyPair, "ephemeralKeyPair");
      enc = eph.publicKey;
      dhE = await this.#dh(
        s,
        ephemeralKeyPair.privateKey,
        eph.key,
        recipientPublicKey,
        pkR,
        "hpke_invalid_key",
        "recipientPublicKey",
      );
    } else if (s && pkR) {
      const pair = (await s.generateKey(this.#curve.webAlgorithm, false, ["deriveBits"])) as CryptoKeyPair;
      // Export and DH are independent; running them together hides one WebCrypto round trip.
      const [raw, dh] = await Promise.all([
        s.exportKey("raw", pair.publicKey),
        this.#dh(
          s,
          EMPTY,
          pair.privateKey,
          recipientPublicKey,
          pkR,
          "hpke_invalid_key",
          "recipientPublicKey",
        ),
      ]);
      enc = new Uint8Array(raw);
      dhE = dh;
    } else {
      const skE = this.#curve.randomPrivateKey();
      enc = this.#curve.noblePublicKey(skE);
      dhE = await this.#dh(
        undefined,
        skE,
        undefined,
        recipientPublicKey,
        undefined,
        "hpke_invalid_key",
        "recipientPublicKey",
      );
    }
    if (!sender) {
      return { sharedSecret: this.#extractAndExpand(dhE, concat(enc, recipientPublicKey)), enc };
    }
    const dhS = await senderDh!;
    return {
      sharedSecret: this.#extractAndExpand(
        concat(dhE, dhS),
        concat(enc, recipientPublicKey, sender.publicKey),
      ),
      enc,
    };
  }

  async decap(
    enc: Uint8Array,
    recipientKeyPair: PrivateKeyInput,
    senderPublicKey?: Uint8Array,
  ): Promise<Uint8Array> {
    assertBytes(enc, "enc");
    if (enc.length !== this.encLength) {
      throw new HpkeError("hpke_invalid_enc", `enc must be ${this.encLength} bytes, got ${enc.length}`, {
        details: { argument: "enc", expected: this.encLength, actual: enc.length },
      });
    }
    if (senderPublicKey !== undefined) assertBytes(senderPublicKey, "senderPublicKey", this.publicKeyLength);
    const s = await this.#web();
    const [recipient, pkE, pkS] = await Promise.all([
      this.#privateEntry(recipientKeyPair, "recipientKeyPair"),
      this.#publicKey(enc, "enc", "hpke_invalid_enc"),
      senderPublicKey ? this.#publicKey(senderPublicKey, "senderPublicKey", "hpke_invalid_key") : undefined,
    ]);
    const skR = recipientKeyPair.privateKey;
    const [dhE, dhS] = await Promise.all([
      this.#dh(s, skR, recipient.key, enc, pkE, "hpke_invalid_enc", "enc"),
      senderPublicKey
        ? this.#dh(s, skR, recipient.key, senderPublicKey, pkS, "hpke_invalid_key", "senderPublicKey")
        : undefined,
    ]);
    if (!senderPublicKey || !dhS) return this.#extractAndExpand(dhE, concat(enc, recipient.publicKey));
    return this.#extractAndExpand(concat(dhE, dhS), concat(enc, recipient.publicKey, senderPublicKey));
  }
}

const KEMS: Readonly<Record<number, Kem>> = {
  [KemId.DhkemX25519HkdfSha256]: new DhKem(X25519_CURVE),
  [KemId.DhkemP256HkdfSha256]: new DhKem(P256_CURVE),
};

/**
 * The KEM for a registry id; an unsupported id is an `hpke_unsupported_suite` error.
 *
 * @example
 * ```ts
 * kemFor(0x0010).encLength; // 65
 * ```
 */
export function kemFor(id: number): Kem {
  const kem = KEMS[id];
  if (!kem) {
    throw new HpkeError("hpke_unsupported_suite", `kem 0x${hex4(id)} is not supported`, {
      details: { kem: id },
    });
  }
  return kem;
}
