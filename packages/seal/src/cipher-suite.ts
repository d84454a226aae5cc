import { type Aead, aeadFor } from "./aead.js";
import {
  assertBytes,
  assertObject,
  concat,
  copyBytes,
  EMPTY,
  equalBytes,
  i2osp,
  optionalBytes,
  utf8,
} from "./bytes.js";
import { type ContextKeys, RecipientContext, SenderContext } from "./context.js";
import { HpkeError } from "./errors.js";
import { type AeadId, HpkeMode, type KdfId, type KemId } from "./identifiers.js";
import { type Kdf, kdfFor } from "./kdf.js";
import { type Kem, type KeyPair, kemFor, type PrivateKeyInput } from "./kem.js";

/**
 * RFC 9180 registry ids of a cipher suite.
 *
 * @example
 * ```ts
 * const ids: CipherSuiteIds = { kem: 0x0020, kdf: 0x0001, aead: 0x0003 };
 * ```
 */
export interface CipherSuiteIds {
  readonly kem: KemId | number;
  readonly kdf: KdfId | number;
  readonly aead: AeadId | number;
}

/** Inputs shared by sender and recipient setup. */
interface CommonSetupOptions {
  /** Application-supplied context information bound into the key schedule. Default: empty. */
  readonly info?: Uint8Array;
  /** Pre-shared key (at least 32 bytes). Must come with `pskId`. */
  readonly psk?: Uint8Array;
  /** Identifier of the pre-shared key. Must come with `psk`. */
  readonly pskId?: Uint8Array;
}

/**
 * Sender inputs. The mode follows from what is present: `psk` + `pskId` → psk; `senderKeyPair` → auth;
 * both → auth_psk; neither → base.
 *
 * @example
 * ```ts
 * const options: SenderOptions = { recipientPublicKey, info: new TextEncoder().encode("app v1") };
 * ```
 */
export interface SenderOptions extends CommonSetupOptions {
  /** The recipient's public key, Npk bytes. */
  readonly recipientPublicKey: Uint8Array;
  /** The sender's static key pair, for auth modes. The public key may be left out. */
  readonly senderKeyPair?: PrivateKeyInput;
  /** A fixed ephemeral key pair. For test vectors only: leaving it out draws a fresh one, as it must be. */
  readonly ephemeralKeyPair?: PrivateKeyInput;
}

/**
 * Recipient inputs; `senderPublicKey` selects an auth mode.
 *
 * @example
 * ```ts
 * const options: RecipientOptions = { recipientKeyPair: { privateKey }, enc };
 * ```
 */
export interface RecipientOptions extends CommonSetupOptions {
  /** The recipient's key pair; `{ privateKey }` alone is enough. */
  readonly recipientKeyPair: PrivateKeyInput;
  /** The encapsulated key sent by the sender, Nenc bytes. */
  readonly enc: Uint8Array;
  /** The sender's static public key, for auth modes. */
  readonly senderPublicKey?: Uint8Array;
}

/**
 * Result of a single-shot {@link CipherSuite.seal}.
 *
 * @example
 * ```ts
 * const { enc, ciphertext }: SealResult = await suite.seal({ recipientPublicKey }, plaintext);
 * ```
 */
export interface SealResult {
  readonly enc: Uint8Array;
  readonly ciphertext: Uint8Array;
}

const MIN_PSK_LENGTH = 32;
const LABEL_PSK_ID_HASH = utf8("psk_id_hash");
const LABEL_INFO_HASH = utf8("info_hash");
const LABEL_SECRET = utf8("secret");
const LABEL_KEY = utf8("key");
const LABEL_BASE_NONCE = utf8("base_nonce");
const LABEL_EXP = utf8("exp");

/**
 * An HPKE cipher suite (RFC 9180): one KEM, one KDF, one AEAD. Stateless and safe to share; every
 * method returns a promise and reports failure as a {@link SealError}.
 *
 * @example
 * ```ts
 * import { CipherSuite } from "@peercycles/seal";
 * const suite = new CipherSuite({ kem: 0x0020, kdf: 0x0001, aead: 0x0001 });
 * const recipient = await suite.generateKeyPair();
 * const { enc, context } = await suite.setupSender({ recipientPublicKey: recipient.publicKey });
 * const ciphertext = await context.seal(new TextEncoder().encode("hello"));
 * const ctx = await suite.setupRecipient({ recipientKeyPair: recipient, enc });
 * new TextDecoder().decode(await ctx.open(ciphertext)); // "hello"
 * ```
 */
export class CipherSuite {
  readonly kem: Kem;
  readonly kdf: Kdf;
  readonly aead: Aead;
  /** `"HPKE" || kem || kdf || aead`, the RFC 9180 suite_id. */
  readonly suiteId: Uint8Array;
  readonly #emptyPskIdHash: Uint8Array;
  #lastInfo: { copy: Uint8Array; hash: Uint8Array } | undefined;

  /**
   * @param ids RFC 9180 registry ids. Unsupported ids throw `hpke_unsupported_suite`.
   */
  constructor(ids: CipherSuiteIds) {
    assertObject(ids, "ids");
    this.kem = kemFor(ids.kem);
    this.kdf = kdfFor(ids.kdf);
    this.aead = aeadFor(ids.aead);
    this.suiteId = concat(utf8("HPKE"), i2osp(this.kem.id, 2), i2osp(this.kdf.id, 2), i2osp(this.aead.id, 2));
    this.#emptyPskIdHash = this.kdf.labeledExtract(this.suiteId, EMPTY, LABEL_PSK_ID_HASH, EMPTY);
  }

  /**
   * A fresh random key pair for this suite's KEM.
   *
   * @example
   * ```ts
   * const { privateKey, publicKey } = await suite.generateKeyPair();
   * ```
   */
  generateKeyPair(): Promise<KeyPair> {
    return this.kem.generateKeyPair();
  }

  /**
   * RFC 9180 DeriveKeyPair: the same `ikm` always gives the same key pair. `ikm` must carry at least
   * Nsk (32) bytes of entropy; shorter input is refused.
   *
   * @example
   * ```ts
   * const pair = await suite.deriveKeyPair(crypto.getRandomValues(new Uint8Array(32)));
   * ```
   */
  async deriveKeyPair(ikm: Uint8Array): Promise<KeyPair> {
    return this.kem.deriveKeyPair(ikm);
  }

  /**
   * Checks and copies a public key for the wire (SerializePublicKey is the identity for both KEMs).
   *
   * @example
   * ```ts
   * const wire = await suite.serializePublicKey(pair.publicKey);
   * ```
   */
  async serializePublicKey(publicKey: Uint8Array): Promise<Uint8Array> {
    assertBytes(publicKey, "publicKey", this.kem.publicKeyLength);
    await this.kem.validatePublicKey(publicKey, "publicKey");
    return copyBytes(publicKey);
  }

  /**
   * Parses and validates a public key from the wire; an invalid point throws `hpke_invalid_key`.
   *
   * @example
   * ```ts
   * const publicKey = await suite.deserializePublicKey(bytesFromPeer);
   * ```
   */
  async deserializePublicKey(bytes: Uint8Array): Promise<Uint8Array> {
    assertBytes(bytes, "bytes");
    if (bytes.length !== this.kem.publicKeyLength) {
      throw new HpkeError(
        "hpke_invalid_key",
        `publicKey must be ${this.kem.publicKeyLength} bytes, got ${bytes.length}`,
        {
          details: { argument: "bytes" },
        },
      );
    }
    await this.kem.validatePublicKey(bytes, "bytes");
    return copyBytes(bytes);
  }

  /**
   * Sender setup (RFC 9180 §5.1): encapsulates to `recipientPublicKey` and returns `enc` (send it) and
   * the sealing context.
   *
   * @example
   * ```ts
   * const { enc, context } = await suite.setupSender({ recipientPublicKey, info, psk, pskId, senderKeyPair });
   * const ct = await context.seal(plaintext, aad);
   * ```
   */
  async setupSender(options: SenderOptions): Promise<{ enc: Uint8Array; context: SenderContext }> {
    assertObject(options, "options");
    const info = optionalBytes(options.info, "info");
    const { psk, pskId } = this.#pskInputs(options);
    const senderKeyPair = options.senderKeyPair ?? undefined;
    const ephemeralKeyPair = options.ephemeralKeyPair ?? undefined;
    if (senderKeyPair !== undefined) assertObject(senderKeyPair, "senderKeyPair");
    if (ephemeralKeyPair !== undefined) assertObject(ephemeralKeyPair, "ephemeralKeyPair");
    assertBytes(options.recipientPublicKey, "recipientPublicKey");
    if (options.recipientPublicKey.length !== this.kem.publicKeyLength) {
      throw new HpkeError(
        "hpke_invalid_key",
        `recipientPublicKey must be ${this.kem.publicKeyLength} bytes, got ${options.recipientPublicKey.length}`,
        { details: { argument: "recipientPublicKey" } },
      );
    }
    const { sharedSecret, enc } = await this.kem.encap(options.recipientPublicKey, {
      ephemeralKeyPair,
      senderKeyPair,
    });
    const mode = modeOf(psk.length > 0, senderKeyPair !== undefined);
    return { enc, context: new SenderContext(this.#keySchedule(mode, sharedSecret, info, psk, pskId)) };
  }

  /**
   * Recipient setup (RFC 9180 §5.1): decapsulates `enc` with the recipient's private key.
   *
   * @example
   * ```ts
   * const ctx = await suite.setupRecipient({ recipientKeyPair: { privateKey }, enc, info });
   * const plaintext = await ctx.open(ciphertext, aad);
   * ```
   */
  async setupRecipient(options: RecipientOptions): Promise<RecipientContext> {
    assertObject(options, "options");
    const info = optionalBytes(options.info, "info");
    const { psk, pskId } = this.#pskInputs(options);
    assertObject(options.recipientKeyPair, "recipientKeyPair");
    assertBytes(options.enc, "enc");
    const senderPublicKey = options.senderPublicKey ?? undefined;
    if (senderPublicKey !== undefined) {
      assertBytes(senderPublicKey, "senderPublicKey");
      if (senderPublicKey.length !== this.kem.publicKeyLength) {
        throw new HpkeError(
          "hpke_invalid_key",
          `senderPublicKey must be ${this.kem.publicKeyLength} bytes, got ${senderPublicKey.length}`,
          { details: { argument: "senderPublicKey" } },
        );
      }
    }
    const sharedSecret = await this.kem.decap(options.enc, options.recipientKeyPair, senderPublicKey);
    const mode = modeOf(psk.length > 0, senderPublicKey !== undefined);
    return new RecipientContext(this.#keySchedule(mode, sharedSecret, info, psk, pskId));
  }

  /**
   * Single-shot seal: setup plus one `seal`.
   *
   * @example
   * ```ts
   * const { enc, ciphertext } = await suite.seal({ recipientPublicKey }, plaintext, aad);
   * ```
   */
  async seal(options: SenderOptions, plaintext: Uint8Array, aad?: Uint8Array): Promise<SealResult> {
    assertBytes(plaintext, "plaintext");
    optionalBytes(aad, "aad");
    const { enc, context } = await this.setupSender(options);
    return { enc, ciphertext: await context.seal(plaintext, aad) };
  }

  /**
   * Single-shot open: setup plus one `open`.
   *
   * @example
   * ```ts
   * const plaintext = await suite.open({ recipientKeyPair, enc }, ciphertext, aad);
   * ```
   */
  async open(options: RecipientOptions, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    assertBytes(ciphertext, "ciphertext");
    optionalBytes(aad, "aad");
    const context = await this.setupRecipient(options);
    return context.open(ciphertext, aad);
  }

  /** RFC 9180 VerifyPSKInputs, with the mode implied by presence. */
  #pskInputs(options: CommonSetupOptions): { psk: Uint8Array; pskId: Uint8Array } {
    const psk = optionalBytes(options.psk, "psk");
    const pskId = optionalBytes(options.pskId, "pskId");
    if (psk.length > 0 && pskId.length === 0) {
      throw new HpkeError("hpke_psk_inconsistent", "psk was given without pskId: give both or neither", {
        details: { argument: "pskId" },
      });
    }
    if (psk.length === 0 && pskId.length > 0) {
      throw new HpkeError("hpke_psk_inconsistent", "pskId was given without psk: give both or neither", {
        details: { argument: "psk" },
      });
    }
    if (psk.length > 0 && psk.length < MIN_PSK_LENGTH) {
      throw new HpkeError(
        "hpke_invalid_psk",
        `psk must be at least ${MIN_PSK_LENGTH} bytes, got ${psk.length}`,
        {
          details: { argument: "psk", minimum: MIN_PSK_LENGTH, actual: psk.length },
        },
      );
    }
    return { psk, pskId };
  }

  #infoHash(info: Uint8Array): Uint8Array {
    // Most applications use one fixed info string (OHTTP does), so the last hash is kept.
    const last = this.#lastInfo;
    if (last && equalBytes(last.copy, info)) return last.hash;
    const hash = this.kdf.labeledExtract(this.suiteId, EMPTY, LABEL_INFO_HASH, info);
    this.#lastInfo = { copy: copyBytes(info), hash };
    return hash;
  }

  #keySchedule(
    mode: HpkeMode,
    sharedSecret: Uint8Array,
    info: Uint8Array,
    psk: Uint8Array,
    pskId: Uint8Array,
  ) {
    const { kdf, suiteId, aead } = this;
    const pskIdHash =
      pskId.length === 0
        ? this.#emptyPskIdHash
        : kdf.labeledExtract(suiteId, EMPTY, LABEL_PSK_ID_HASH, pskId);
    const keyScheduleContext = concat(Uint8Array.of(mode), pskIdHash, this.#infoHash(info));
    const secret = kdf.keyed(kdf.labeledExtract(suiteId, sharedSecret, LABEL_SECRET, psk));
    const exporterSecret = kdf.labeledExpand(suiteId, secret, LABEL_EXP, keyScheduleContext, kdf.hashLength);
    let aeadKey: ContextKeys["aeadKey"];
    let baseNonce = EMPTY;
    if (aead.keyLength > 0) {
      aeadKey = aead.createKey(
        kdf.labeledExpand(suiteId, secret, LABEL_KEY, keyScheduleContext, aead.keyLength),
      );
      baseNonce = kdf.labeledExpand(suiteId, secret, LABEL_BASE_NONCE, keyScheduleContext, aead.nonceLength);
    }
    const keys: ContextKeys = { mode, suiteId, kdf, aeadKey, baseNonce, exporterSecret };
    return keys;
  }
}

function modeOf(psk: boolean, auth: boolean): HpkeMode {
  if (psk) return auth ? HpkeMode.AuthPsk : HpkeMode.Psk;
  return auth ? HpkeMode.Auth : HpkeMode.Base;
}

const SUITES = new Map<number, CipherSuite>();

/**
 * A shared suite per id triple, so the per-suite caches (empty psk_id hash, last info hash) survive
 * across requests. Internal.
 */
export function cachedSuite(kem: number, kdf: number, aead: number): CipherSuite {
  const key = kem * 0x1_0000_0000 + kdf * 0x1_0000 + aead;
  let suite = SUITES.get(key);
  if (!suite) {
    suite = new CipherSuite({ kem, kdf, aead });
    SUITES.set(key, suite);
  }
  return suite;
}
