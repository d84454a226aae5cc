/**
 * Every failure raised by `@peercycles/seal` is a {@link SealError} with a stable `code`. Callers branch
 * on `code` (or on the family subclass), never on `message`: messages may be reworded, codes never are.
 *
 * @packageDocumentation
 */

const MARKER = Symbol.for("peercycles.seal.error");

/**
 * Base URL of the error reference; each error links to its code's anchor.
 *
 * @example
 * ```ts
 * `${ERROR_DOCS_URL}-hpke-open-failed`; // what error.docsUrl gives for hpke_open_failed
 * ```
 */
export const ERROR_DOCS_URL = "https://github.com/peercycles/peercycles/tree/main/packages/seal#error-codes";

/**
 * Stable error codes. The string values are part of the public contract and shared across languages.
 *
 * @example
 * ```ts
 * import { SealError } from "@peercycles/seal";
 * try { await ctx.open(ciphertext); } catch (e) { if (SealError.isInstance(e) && e.code === "hpke_open_failed") drop(); }
 * ```
 */
export type SealErrorCode =
  // arguments
  | "invalid_argument"
  // HPKE
  | "hpke_unsupported_suite"
  | "hpke_invalid_key"
  | "hpke_invalid_ikm"
  | "hpke_invalid_enc"
  | "hpke_invalid_psk"
  | "hpke_psk_inconsistent"
  | "hpke_open_failed"
  | "hpke_sequence_overflow"
  | "hpke_export_only"
  | "hpke_export_length_invalid"
  | "hpke_derive_key_pair_failed"
  // Oblivious HTTP (RFC 9458)
  | "ohttp_key_config_invalid"
  | "ohttp_key_config_unsupported"
  | "ohttp_request_invalid"
  | "ohttp_key_id_mismatch"
  | "ohttp_suite_mismatch"
  | "ohttp_response_invalid"
  | "ohttp_response_open_failed"
  // Sealed streams (chunked OHTTP)
  | "sealed_stream_truncated"
  | "sealed_stream_chunk_open_failed"
  | "sealed_stream_chunk_too_large"
  | "sealed_stream_counter_overflow";

/**
 * Options accepted by every {@link SealError} constructor.
 *
 * @example
 * ```ts
 * new HpkeError("hpke_open_failed", "authentication failed", { cause, details: { sequence: 4 } });
 * ```
 */
export interface SealErrorOptions {
  /** The underlying failure, kept for debugging; never needed to decide what to do. */
  cause?: unknown;
  /** Extra structured facts (lengths, ids) that are safe to log: never key material or plaintext. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Base class of every error thrown by this package.
 *
 * `isInstance` checks a `Symbol.for` marker rather than the prototype chain, so it still answers `true`
 * when two copies of the package are installed side by side.
 *
 * @example
 * ```ts
 * import { SealError } from "@peercycles/seal";
 * try {
 *   await suite.open({ recipientKeyPair, enc }, ciphertext);
 * } catch (error) {
 *   if (SealError.isInstance(error)) console.log(error.code, error.docsUrl);
 *   else throw error;
 * }
 * ```
 */
export class SealError extends Error {
  /** Stable snake_case code; see the README's error table. */
  readonly code: SealErrorCode;
  /** Structured, log-safe facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: SealErrorCode, message: string, options: SealErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    // The marker holds the family name, so family checks also work across duplicate installs.
    Object.defineProperty(this, MARKER, { value: (new.target as typeof SealError).family });
  }

  /** Family name stored in the cross-copy marker; each subclass sets its own. */
  static readonly family: string = "SealError";

  /** Link to this code's entry in the documentation. */
  get docsUrl(): string {
    return `${ERROR_DOCS_URL}-${this.code.replaceAll("_", "-")}`;
  }

  /**
   * `true` for any error raised by any copy of `@peercycles/seal`; on a subclass
   * (`HpkeError.isInstance`), `true` for errors of that family only.
   *
   * @example
   * ```ts
   * if (SealError.isInstance(error) && error.code === "sealed_stream_truncated") retry();
   * ```
   */
  static isInstance<T extends typeof SealError>(this: T, value: unknown): value is InstanceType<T> {
    if (typeof value !== "object" || value === null) return false;
    const marker = (value as Record<symbol, unknown>)[MARKER];
    // biome-ignore lint/complexity/noThisInStatic: polymorphic on purpose: each subclass checks its own family.
    const family = this.family;
    if (family === SealError.family) return marker !== undefined && marker !== false;
    return marker === family;
  }
}

/**
 * A caller passed an argument of the wrong type or shape. The message names the argument.
 *
 * @example
 * ```ts
 * // throws SealArgumentError { code: "invalid_argument" }: "plaintext must be a Uint8Array"
 * await context.seal("hello" as never);
 * ```
 */
export class SealArgumentError extends SealError {
  static override readonly family: string = "SealArgumentError";
}

/**
 * HPKE (RFC 9180) failures: bad keys, bad `enc`, authentication failures, sequence exhaustion.
 *
 * @example
 * ```ts
 * try { await ctx.open(ct); } catch (e) { if (e instanceof HpkeError && e.code === "hpke_open_failed") reject(); }
 * ```
 */
export class HpkeError extends SealError {
  static override readonly family: string = "HpkeError";
}

/**
 * Oblivious HTTP (RFC 9458) failures: key configurations and encapsulated messages.
 *
 * @example
 * ```ts
 * try { decodeKeyConfig(bytes); } catch (e) { if (e instanceof OhttpError) console.log(e.code); }
 * ```
 */
export class OhttpError extends SealError {
  static override readonly family: string = "OhttpError";
}

/**
 * Sealed stream (chunked OHTTP) failures: truncation, tampering, reordering, oversize chunks.
 *
 * @example
 * ```ts
 * response.body.pipeThrough(opener).pipeTo(sink).catch((e) => {
 *   if (SealedStreamError.isInstance(e) && e.code === "sealed_stream_truncated") showPartialWarning();
 * });
 * ```
 */
export class SealedStreamError extends SealError {
  static override readonly family: string = "SealedStreamError";
}
