const MARKER = Symbol.for("peercycles.client.error");

/**
 * Where the client's error codes are documented; each error links to its code's anchor.
 *
 * @example
 * ```ts
 * `${CLIENT_ERRORS_DOCS}#receipt_mismatch`; // what error.docsUrl gives for receipt_mismatch
 * ```
 */
export const CLIENT_ERRORS_DOCS = "https://github.com/peercycles/peercycles/blob/main/docs/client-errors.md";

/**
 * Stable codes of {@link PeerCyclesError}. Branch on these, never on messages.
 *
 * - `attestation_rejected`: the worker's attestation bundle failed verification or the policy, or it
 *   is for another model, nonce or key than asked. Nothing was sent.
 * - `attestation_unavailable`: the bundle could not be fetched or read (network, malformed answer,
 *   collateral unavailable). Retryable. Nothing was sent.
 * - `tier_downgrade`: the answer came from another tier than asked, in plaintext where it had to be
 *   sealed, without a `peer` object, or from a worker other than the attested one.
 * - `receipt_missing`: an answer that must carry a signed receipt carries none.
 * - `receipt_mismatch`: the receipt's signature does not verify with the expected key, or it commits
 *   to other request bytes, response bytes, model or worker than this call's.
 * - `key_mismatch`: the answer names another enclave key than the one the request was sealed to.
 * - `sealed_response_invalid`: a sealed answer did not open (tampered, replayed, or for another request).
 * - `sealed_stream_invalid`: a sealed stream was truncated, reordered, tampered, lacked its final
 *   `peer` frame or carried bytes after it.
 * - `response_invalid`: the answer is malformed (not JSON, a bad `peer` object, a broken SSE stream).
 * - `request_unsupported`: a request the tier cannot carry safely (a body for a confidential tier to
 *   an endpoint that cannot be sealed, or a chat body that is not JSON). Nothing was sent.
 * - `argument_invalid`: a bad option (named in `details.argument`).
 *
 * @example
 * ```ts
 * if (PeerCyclesError.isInstance(error) && error.code === "attestation_rejected") showPolicyFailure(error.details);
 * ```
 */
export type PeerCyclesErrorCode =
  | "attestation_rejected"
  | "attestation_unavailable"
  | "tier_downgrade"
  | "receipt_missing"
  | "receipt_mismatch"
  | "key_mismatch"
  | "sealed_response_invalid"
  | "sealed_stream_invalid"
  | "response_invalid"
  | "request_unsupported"
  | "argument_invalid";

/** Every code, for tests and docs. */
export const PEER_CYCLES_ERROR_CODES: readonly PeerCyclesErrorCode[] = [
  "attestation_rejected",
  "attestation_unavailable",
  "tier_downgrade",
  "receipt_missing",
  "receipt_mismatch",
  "key_mismatch",
  "sealed_response_invalid",
  "sealed_stream_invalid",
  "response_invalid",
  "request_unsupported",
  "argument_invalid",
];

const RETRYABLE: ReadonlySet<PeerCyclesErrorCode> = new Set(["attestation_unavailable"]);

/** Options of a {@link PeerCyclesError}. */
export interface PeerCyclesErrorOptions {
  readonly cause?: unknown;
  /** Structured facts safe to log (codes, hashes, ids): never plaintext or key material. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error of `@peercycles/client`: a stable `code`, a short message, `details`, the `cause`,
 * and a docs link. `isInstance` checks a `Symbol.for` marker, so it holds across duplicate installs.
 *
 * @example
 * ```ts
 * try {
 *   await client.chat.completions.create({ model: "peer-tiny", messages });
 * } catch (error) {
 *   if (PeerCyclesError.isInstance(error)) console.error(error.code, error.docsUrl);
 * }
 * ```
 */
export class PeerCyclesError extends Error {
  readonly code: PeerCyclesErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** Only `attestation_unavailable` may succeed when tried again; verification failures never do. */
  readonly retryable: boolean;
  readonly [MARKER] = true;

  constructor(code: PeerCyclesErrorCode, message: string, options: PeerCyclesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PeerCyclesError";
    this.code = code;
    this.details = options.details;
    this.retryable = RETRYABLE.has(code);
  }

  /** Link to this code's entry in the client error reference. */
  get docsUrl(): string {
    return `${CLIENT_ERRORS_DOCS}#${this.code}`;
  }

  /** True for any `PeerCyclesError`, even one from another copy of this package. */
  static isInstance(value: unknown): value is PeerCyclesError {
    return typeof value === "object" && value !== null && MARKER in value;
  }

  toJSON(): { code: PeerCyclesErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** Throws an `argument_invalid` error naming the argument. */
export function invalidArgument(argument: string, message: string, cause?: unknown): never {
  throw new PeerCyclesError("argument_invalid", `${argument}: ${message}`, {
    details: { argument },
    ...(cause === undefined ? {} : { cause }),
  });
}
