import type { AeadKey } from "./aead.js";
import { assertBytes, optionalBytes, utf8, xorCounter } from "./bytes.js";
import { HpkeError } from "./errors.js";
import type { HpkeMode } from "./identifiers.js";
import type { Kdf } from "./kdf.js";

/**
 * Largest sequence number a context will use. RFC 9180 stops at 2^(8·Nn) − 1 messages; counting in a
 * JavaScript number, we stop earlier, at 2^53 − 1, so that the counter is always exact. No real
 * context comes near either limit.
 *
 * @example
 * ```ts
 * context.sequenceNumber < MAX_SEQUENCE; // until hpke_sequence_overflow
 * ```
 */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

const EXPORT_LABEL = utf8("sec");

/** The keys a key schedule hands to a context. Internal. */
export interface ContextKeys {
  readonly mode: HpkeMode;
  readonly suiteId: Uint8Array;
  readonly kdf: Kdf;
  readonly aeadKey: AeadKey | undefined;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
}

let setSequence: (context: Context, value: number) => void;

/**
 * State shared by sender and recipient contexts: the exporter and the sequence number.
 *
 * @example
 * ```ts
 * const secret = await context.export(new TextEncoder().encode("my app"), 32);
 * ```
 */
export abstract class Context {
  /** The HPKE mode this context was set up in (0 base, 1 psk, 2 auth, 3 auth_psk). */
  readonly mode: HpkeMode;
  readonly #keys: ContextKeys;
  #sequence = 0;

  static {
    setSequence = (context, value) => {
      context.#sequence = value;
    };
  }

  /** @internal */
  constructor(keys: ContextKeys) {
    this.mode = keys.mode;
    this.#keys = keys;
  }

  /** Number of messages sealed or opened so far. */
  get sequenceNumber(): number {
    return this.#sequence;
  }

  /**
   * RFC 9180 secret export: `length` bytes bound to this context and `exporterContext`. Works for every
   * AEAD including export-only.
   *
   * @example
   * ```ts
   * const key = await context.export(new TextEncoder().encode("response key"), 16);
   * ```
   */
  async export(exporterContext: Uint8Array, length: number): Promise<Uint8Array> {
    const exporter = optionalBytes(exporterContext, "exporterContext");
    const max = 255 * this.#keys.kdf.hashLength;
    if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || length > max) {
      throw new HpkeError(
        "hpke_export_length_invalid",
        `length must be an integer in 0..${max}, got ${String(length)}`,
        {
          details: { argument: "length", maximum: max },
        },
      );
    }
    if (length === 0) return new Uint8Array(0);
    const { kdf, suiteId, exporterSecret } = this.#keys;
    return kdf.labeledExpand(suiteId, exporterSecret, EXPORT_LABEL, exporter, length);
  }

  /** Reserves the next nonce. Reserving synchronously keeps concurrent callers on distinct nonces. */
  protected nextNonce(): { aeadKey: AeadKey; nonce: Uint8Array; sequence: number } {
    const { aeadKey, baseNonce } = this.#keys;
    if (!aeadKey)
      throw new HpkeError("hpke_export_only", "this context uses the export-only AEAD: it can only export");
    const sequence = this.#sequence;
    if (sequence >= MAX_SEQUENCE) {
      throw new HpkeError("hpke_sequence_overflow", "sequence number exhausted: set up a new context", {
        details: { sequence },
      });
    }
    return { aeadKey, nonce: xorCounter(baseNonce, sequence), sequence };
  }

  protected advance(): void {
    this.#sequence += 1;
  }
}

/**
 * Test hook: move a context's sequence number (to test exhaustion without 2^53 messages). Not exported
 * from the package entry point.
 */
export function setSequenceNumberForTesting(context: Context, value: number): void {
  setSequence(context, value);
}

/**
 * The sender's half of an HPKE context (RFC 9180 §5.2): seals messages in order, and exports secrets.
 *
 * @example
 * ```ts
 * const { enc, context } = await suite.setupSender({ recipientPublicKey });
 * const first = await context.seal(new TextEncoder().encode("hello"));
 * const second = await context.seal(new TextEncoder().encode("again"), aad);
 * ```
 */
export class SenderContext extends Context {
  /**
   * Encrypts `plaintext` with `aad` under the next sequence number. Concurrent calls take nonces in
   * call order.
   *
   * @example
   * ```ts
   * const ciphertext = await context.seal(plaintext, new TextEncoder().encode("header"));
   * ```
   */
  async seal(plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    assertBytes(plaintext, "plaintext");
    const additional = optionalBytes(aad, "aad");
    const { aeadKey, nonce } = this.nextNonce();
    this.advance();
    return aeadKey.seal(nonce, additional, plaintext);
  }
}

/**
 * The recipient's half of an HPKE context: opens messages in the order they were sealed.
 *
 * @example
 * ```ts
 * const ctx = await suite.setupRecipient({ recipientKeyPair, enc });
 * const plaintext = await ctx.open(ciphertext);
 * ```
 */
export class RecipientContext extends Context {
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Decrypts the next message. A failed open leaves the sequence number where it was (RFC 9180
   * §5.2), so the caller may retry with the right ciphertext. Calls are serialized internally.
   *
   * @example
   * ```ts
   * try { await ctx.open(ciphertext, aad); } catch (e) { // HpkeError "hpke_open_failed" }
   * ```
   */
  open(ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const run = this.#tail.then(() => this.#open(ciphertext, aad));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #open(ciphertext: Uint8Array, aad: Uint8Array | undefined): Promise<Uint8Array> {
    assertBytes(ciphertext, "ciphertext");
    const additional = optionalBytes(aad, "aad");
    const { aeadKey, nonce } = this.nextNonce();
    const plaintext = await aeadKey.open(nonce, additional, ciphertext);
    this.advance();
    return plaintext;
  }
}
