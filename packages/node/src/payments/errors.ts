const PAYMENT_ERROR_MARKER = Symbol.for("peercycles.node.payments.error");

/** Where the payment error codes are documented. */
export const PAYMENT_ERRORS_DOCS =
  "https://github.com/peercycles/peercycles/blob/main/packages/node/src/payments/README.md#error-codes";

/**
 * Stable codes of {@link PaymentError}.
 *
 * - `payment_invalid`: the `PAYMENT-SIGNATURE` header or its transaction is malformed or not acceptable.
 * - `payment_replayed`: this transaction was already settled (or is being settled).
 * - `payment_insufficient_funds`: the payer's USDC account cannot cover the amount.
 * - `payment_wrong_asset`, `payment_wrong_amount`, `payment_wrong_recipient`, `payment_wrong_resource`:
 *   the payment is for something else than what was asked.
 * - `payment_expired`: the transaction's blockhash is no longer valid; pay again.
 * - `payment_settle_failed`: verified, but the transaction failed when sent; no money moved.
 * - `payment_settle_pending`: sent but not confirmed; money may have moved. Retryable; the settlement is
 *   found by `reconcileSettlements` once confirmed.
 * - `payment_unavailable`: the facilitator or chain could not be reached. Retryable.
 * - `payout_failed`: a payout transfer did not land; nothing was paid.
 * - `payment_argument_invalid`: a caller passed a bad argument (names it in `details.argument`).
 */
export type PaymentErrorCode =
  | "payment_invalid"
  | "payment_replayed"
  | "payment_insufficient_funds"
  | "payment_wrong_asset"
  | "payment_wrong_amount"
  | "payment_wrong_recipient"
  | "payment_wrong_resource"
  | "payment_expired"
  | "payment_settle_failed"
  | "payment_settle_pending"
  | "payment_unavailable"
  | "payout_failed"
  | "payment_argument_invalid";

export interface PaymentErrorOptions {
  cause?: unknown;
  /** Structured facts: the x402 reason string (`x402Reason`), the payer, the transaction. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The error of settlement and payouts, with a stable `code`. `PaymentGate.settle` returns it inside a
 * failed result rather than throwing; `payout` throws it.
 *
 * @example
 * ```ts
 * const result = await gate.settle(header, challenge);
 * if (!result.ok && result.error.code === "payment_expired") return askToPayAgain();
 * ```
 */
export class PaymentError extends Error {
  readonly code: PaymentErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [PAYMENT_ERROR_MARKER] = true;

  constructor(code: PaymentErrorCode, message: string, options: PaymentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PaymentError";
    this.code = code;
    this.details = options.details;
  }

  /** Whether trying again may succeed (`payment_settle_pending`, `payment_unavailable`). */
  get retryable(): boolean {
    return this.code === "payment_settle_pending" || this.code === "payment_unavailable";
  }

  /** Link to the table that documents this error's code. */
  get docsUrl(): string {
    return PAYMENT_ERRORS_DOCS;
  }

  /** True for any `PaymentError`, even one from another copy of this package. */
  static isInstance(value: unknown): value is PaymentError {
    return typeof value === "object" && value !== null && PAYMENT_ERROR_MARKER in value;
  }

  toJSON(): { code: PaymentErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
