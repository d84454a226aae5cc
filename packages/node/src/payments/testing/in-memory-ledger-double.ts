import type {
  ConfirmedPayout,
  PaymentRecorder,
  PayoutRecorder,
  RecordOutcome,
  SettledPayment,
} from "../payment-recorder.js";

/**
 * TEST DOUBLE OF THE LEDGER (not of the chain): an in-memory `PaymentRecorder` and `PayoutRecorder` that
 * enforce the contract the orchestrator's ledger must keep: one grant per transaction signature, one
 * payout entry per payout signature. Credits go to `context.accountId`, else to the payer's wallet.
 */
export class InMemoryLedgerDouble implements PaymentRecorder<{ accountId?: string }>, PayoutRecorder {
  readonly payments = new Map<string, SettledPayment & { accountId: string }>();
  readonly payouts = new Map<string, ConfirmedPayout>();
  readonly balances = new Map<string, number>();
  /** Every call, so tests can see a second grant was refused rather than never attempted. */
  recordCalls = 0;

  async recordPayment(payment: SettledPayment, context?: { accountId?: string }): Promise<RecordOutcome> {
    this.recordCalls += 1;
    if (this.payments.has(payment.transaction)) return "already_recorded";
    const accountId = context?.accountId ?? `wallet:${payment.payer}`;
    this.payments.set(payment.transaction, { ...payment, accountId });
    this.balances.set(accountId, (this.balances.get(accountId) ?? 0) + payment.credits);
    return "recorded";
  }

  async recordPayout(payout: ConfirmedPayout): Promise<RecordOutcome> {
    if (this.payouts.has(payout.transaction)) return "already_recorded";
    this.payouts.set(payout.transaction, payout);
    return "recorded";
  }

  /** USDC base units of all recorded payments. */
  recordedUsdc(): bigint {
    let total = 0n;
    for (const payment of this.payments.values()) total += payment.amountUsdcBaseUnits;
    return total;
  }

  balanceOf(accountId: string): number {
    return this.balances.get(accountId) ?? 0;
  }
}
