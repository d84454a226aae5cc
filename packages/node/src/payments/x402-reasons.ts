import type { PaymentErrorCode } from "./errors.js";

/**
 * x402's stable reason strings (from `@x402/svm` exact and `@x402/core`), mapped to our codes. Reasons
 * not listed here are `payment_invalid`. Simulation failures are classified against the chain instead
 * (see `PaymentGate.settle`), because the simulator's message is not a stable contract.
 */
export const X402_REASON_CODES: Readonly<Record<string, PaymentErrorCode>> = {
  duplicate_settlement: "payment_replayed",
  invalid_exact_svm_payload_mint_mismatch: "payment_wrong_asset",
  invalid_exact_svm_payload_amount_mismatch: "payment_wrong_amount",
  invalid_exact_svm_payload_recipient_mismatch: "payment_wrong_recipient",
  invalid_exact_svm_transaction_failed: "payment_settle_failed",
  post_settlement_transfer_not_confirmed: "payment_settle_failed",
  settlement_pending: "payment_settle_pending",
};

/** The simulation-failed reason, whose cause the gate works out from the chain. */
export const X402_SIMULATION_FAILED = "invalid_exact_svm_transaction_simulation_failed";

/** Our code for an x402 reason string. */
export function codeForX402Reason(reason: string | undefined): PaymentErrorCode {
  if (reason === undefined) return "payment_invalid";
  return X402_REASON_CODES[reason] ?? "payment_invalid";
}
