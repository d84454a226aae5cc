import type { Address } from "@solana/kit";

/** A USDC payment that settled on chain, as the ledger needs it. */
export interface SettledPayment {
  /** Base58 transaction signature: the idempotency key (`paymentReference`) of the grant. */
  readonly transaction: string;
  /** The wallet that paid. */
  readonly payer: Address;
  /** CAIP-2 network the transfer landed on. */
  readonly network: string;
  readonly amountUsdcBaseUnits: bigint;
  /** Whole credits the amount buys (1 credit = 10,000 base units). */
  readonly credits: number;
  /** The resource the payment was made for, when known (not known to reconciliation). */
  readonly resourceUrl?: string;
}

/** Whether {@link PaymentRecorder.recordPayment} granted the credits now or had already done so. */
export type RecordOutcome = "recorded" | "already_recorded";

/**
 * Where settled payments become credits: the orchestrator implements it over its ledger, as
 * `ledger.purchase(accountId, payment.credits, { paymentReference: payment.transaction })`.
 *
 * Contract: `recordPayment` is idempotent on `payment.transaction` and atomic: a second call with the
 * same transaction grants nothing and answers `already_recorded`, including after a restart and when two
 * calls race. Settlement happens first and recording second, so a crash in between leaves a transfer
 * without credits; {@link reconcileSettlements} finds it on chain and calls `recordPayment` again.
 * `context` is what the caller passed along (for example the account that asked to buy); reconciliation
 * passes none, so the recorder must then attribute the payment by `payment.payer`.
 */
export interface PaymentRecorder<Context = unknown> {
  recordPayment(payment: SettledPayment, context?: Context): Promise<RecordOutcome>;
}

/** A confirmed payout, as the ledger records it (after confirmation, never before). */
export interface ConfirmedPayout {
  /** Base58 transaction signature: the idempotency key of the payout entry. */
  readonly transaction: string;
  readonly to: Address;
  readonly amountUsdcBaseUnits: bigint;
  readonly credits: number;
  /** The caller's reference (written in the transfer memo). */
  readonly reference: string;
}

/** Records payouts once they are confirmed on chain; idempotent on `transaction`. */
export interface PayoutRecorder {
  recordPayout(payout: ConfirmedPayout): Promise<RecordOutcome>;
}
