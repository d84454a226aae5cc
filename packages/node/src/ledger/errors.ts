/**
 * Every failure raised by the ledger is a {@link LedgerError} with a stable `code`. A ledger call that
 * throws has written nothing.
 *
 * @packageDocumentation
 */

const MARKER = Symbol.for("peercycles.node.ledger.error");

/**
 * Base URL of the error reference; each error links to its code's anchor.
 *
 * @example
 * ```ts
 * `${LEDGER_ERROR_DOCS_URL}-insufficient-credits`;
 * ```
 */
export const LEDGER_ERROR_DOCS_URL =
  "https://github.com/peercycles/peercycles/tree/main/packages/node#ledger-error-codes";

/**
 * Stable ledger error codes.
 *
 * - `insufficient_credits`: the debited account holds less than required (`details.available`,
 *   `details.required`, `details.account`).
 * - `job_already_held`: `hold` for a job that already has a hold.
 * - `job_already_settled`: `capture`/`refund` for a job already captured or refunded.
 * - `unknown_hold`: `capture`/`refund` for a job that never had a hold.
 * - `capture_exceeds_hold`: `capture` of more credits than the job holds.
 * - `no_bond`: `slash` of a worker with no bond posted.
 * - `already_slashed`: a second `slash` for the same worker and job.
 * - `idempotency_conflict`: an idempotency key (payment reference, bond reference, payout signature,
 *   grant key) reused with different arguments.
 * - `unbalanced_transaction`: postings that do not sum to zero (a bug in the caller of the internal API).
 * - `negative_amount`: an amount below zero.
 * - `invalid_amount`: an amount that is not a safe integer, or zero where a positive amount is required.
 * - `unknown_account`: the customer account or worker does not exist, or an account name is not one of
 *   the ledger's kinds.
 * - `invalid_argument`: any other malformed argument; the message names it.
 * - `database_unavailable`: the database could not be reached; retryable; nothing was written.
 *
 * @example
 * ```ts
 * if (LedgerError.isInstance(error) && error.code === "insufficient_credits") return paymentRequired();
 * ```
 */
export type LedgerErrorCode =
  | "insufficient_credits"
  | "job_already_held"
  | "job_already_settled"
  | "unknown_hold"
  | "capture_exceeds_hold"
  | "no_bond"
  | "already_slashed"
  | "idempotency_conflict"
  | "unbalanced_transaction"
  | "negative_amount"
  | "invalid_amount"
  | "unknown_account"
  | "invalid_argument"
  | "database_unavailable";

/**
 * Options accepted by the {@link LedgerError} constructor.
 *
 * @example
 * ```ts
 * new LedgerError("no_bond", "worker w1 has no bond", { details: { workerId: "w1" } });
 * ```
 */
export interface LedgerErrorOptions {
  cause?: unknown;
  /** Log-safe structured facts (account names, amounts). */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Error thrown by the ledger. `isInstance` checks a `Symbol.for` marker, so it answers `true` across
 * duplicate installs of the package.
 *
 * @example
 * ```ts
 * try { await ledger.hold(jobId, accountId, maxCredits); }
 * catch (error) {
 *   if (LedgerError.isInstance(error) && error.code === "insufficient_credits") {
 *     const { available, required } = error.details;
 *   }
 * }
 * ```
 */
export class LedgerError extends Error {
  /** Stable snake_case code. */
  readonly code: LedgerErrorCode;
  /** Structured, log-safe facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: LedgerErrorCode, message: string, options: LedgerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LedgerError";
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** `true` when retrying the same call later may succeed. */
  get retryable(): boolean {
    return this.code === "database_unavailable";
  }

  /** Link to this code's entry in the documentation. */
  get docsUrl(): string {
    return `${LEDGER_ERROR_DOCS_URL}-${this.code.replaceAll("_", "-")}`;
  }

  /**
   * `true` for any ledger error from any copy of this package.
   *
   * @example
   * ```ts
   * if (LedgerError.isInstance(error)) log.warn({ code: error.code });
   * ```
   */
  static isInstance(value: unknown): value is LedgerError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
