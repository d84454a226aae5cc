import type { Ledger } from "../ledger/index.js";
import type { Store } from "../storage/index.js";
import type { PaymentRecorder, RecordOutcome, SettledPayment } from "./payment-recorder.js";
import { intentKey, type PaymentIntent, type PaymentState, payerKey } from "./payment-state.js";

/** What a settled payment was credited to. */
export interface PaymentGrant {
  readonly accountId: string;
  readonly outcome: RecordOutcome;
}

/** The node's {@link PaymentRecorder} over its ledger, plus the per-wallet accounts it credits. */
export interface LedgerPaymentRecorder extends PaymentRecorder<{ accountId?: string }> {
  /** Like `recordPayment`, and says which account was credited. */
  grant(payment: SettledPayment, context?: { accountId?: string }): Promise<PaymentGrant>;
  /** The pay-per-request account of a payer wallet: created on first use, one per wallet, race-free. */
  payerAccount(payer: string): Promise<string>;
}

/**
 * Grants settled payments as ledger purchases, exactly once per transaction signature (the ledger's
 * `purchase` is idempotent on `paymentReference`). The account credited is, in order: the context's
 * `accountId`, the one named by the payment's intent record (written before settlement, so it
 * survives a crash), or the payer wallet's own account.
 *
 * @example
 * ```ts
 * const recorder = createLedgerPaymentRecorder({ ledger, store, state });
 * await reconcileSettlements(chain, recorder); // at start: settled transfers missing from the ledger
 * ```
 */
export function createLedgerPaymentRecorder(input: {
  readonly ledger: Ledger;
  readonly store: Store;
  readonly state: PaymentState;
}): LedgerPaymentRecorder {
  const { ledger, store, state } = input;

  const payerAccount = async (payer: string): Promise<string> => {
    const key = payerKey(payer);
    const known = await state.get(key);
    if (known && (await store.accounts.getAccount(known))) return known;
    const created = await store.accounts.createAccount({ name: `wallet ${payer}` });
    if (known) {
      // The recorded account is gone (a restored database): point the wallet at a fresh one.
      await state.set(key, created.id);
      return created.id;
    }
    // Two first payments racing: one account wins; the other stays empty and unused.
    return state.claim(key, created.id);
  };

  const alreadyPurchased = async (signature: string): Promise<boolean> => {
    const row = await ledger.database.db
      .selectFrom("ledger_transactions")
      .select("id")
      .where("idempotency_key", "=", `purchase:${signature}`)
      .executeTakeFirst();
    return row !== undefined;
  };

  const grant = async (payment: SettledPayment, context?: { accountId?: string }): Promise<PaymentGrant> => {
    let accountId = context?.accountId;
    if (accountId === undefined) {
      const intent = await state.get(intentKey(payment.transaction));
      if (intent) accountId = (JSON.parse(intent) as PaymentIntent).accountId;
    }
    accountId ??= await payerAccount(payment.payer);
    if (payment.credits <= 0) return { accountId, outcome: "already_recorded" };
    const before = await alreadyPurchased(payment.transaction);
    await ledger.purchase(accountId, payment.credits, { paymentReference: payment.transaction });
    return { accountId, outcome: before ? "already_recorded" : "recorded" };
  };

  return {
    grant,
    payerAccount,
    async recordPayment(payment, context) {
      return (await grant(payment, context)).outcome;
    },
  };
}
