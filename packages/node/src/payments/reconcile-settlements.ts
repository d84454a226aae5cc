import type { SettlementChain } from "../chain/settlement-chain.js";
import { baseUnitsToCredits } from "../chain/usdc.js";
import type { PaymentRecorder, SettledPayment } from "./payment-recorder.js";

/** Options of {@link reconcileSettlements}. */
export interface ReconcileOptions {
  /**
   * Count only transfers whose fee payer is one of the facilitator's (payments this node settled).
   * Default: true. With false, any USDC sent to the treasury buys credits for its sender.
   */
  readonly onlyFacilitatorSettlements?: boolean;
  /** How many recent transfers an RPC chain looks back over. */
  readonly limit?: number;
}

/** What a reconciliation did. */
export interface ReconcileReport {
  /** Incoming transfers considered. */
  readonly scanned: number;
  /** Payments granted now: settled on chain, missing from the ledger. */
  readonly granted: readonly SettledPayment[];
  /** Payments the ledger already had. */
  readonly alreadyRecorded: number;
}

/**
 * The recovery step run at start: every settled payment into the treasury is offered to the recorder,
 * which grants the ones it does not have, exactly once (it is idempotent on the transaction signature).
 * This closes the gap of "settle, then record": a crash after the transfer and before the grant loses
 * no credits. Payments are attributed by payer (the recorder has no other context for them).
 *
 * @example
 * ```ts
 * const report = await reconcileSettlements(chain, recorder);
 * log.info({ granted: report.granted.length }, "payments reconciled");
 * ```
 */
export async function reconcileSettlements(
  chain: SettlementChain,
  recorder: PaymentRecorder,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const facilitators = new Set<string>(chain.facilitatorSigner.getAddresses());
  const onlyFacilitator = options.onlyFacilitatorSettlements ?? true;
  const transfers = await chain.incomingUsdcTransfers(
    chain.treasury,
    options.limit === undefined ? undefined : { limit: options.limit },
  );
  const granted: SettledPayment[] = [];
  let alreadyRecorded = 0;
  let scanned = 0;
  for (const transfer of transfers) {
    if (onlyFacilitator && !facilitators.has(transfer.feePayer)) continue;
    if (transfer.amount <= 0n) continue;
    scanned += 1;
    const payment: SettledPayment = {
      transaction: transfer.signature,
      payer: transfer.authority,
      network: chain.network,
      amountUsdcBaseUnits: transfer.amount,
      credits: baseUnitsToCredits(transfer.amount),
    };
    const outcome = await recorder.recordPayment(payment);
    if (outcome === "recorded") granted.push(payment);
    else alreadyRecorded += 1;
  }
  return { scanned, granted, alreadyRecorded };
}
