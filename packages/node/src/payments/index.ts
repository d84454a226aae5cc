export {
  PAYMENT_ERRORS_DOCS,
  PaymentError,
  type PaymentErrorCode,
  type PaymentErrorOptions,
} from "./errors.js";
export {
  createPaymentGate,
  type PaymentChallenge,
  type PaymentFailure,
  type PaymentGate,
  type PaymentGateOptions,
  type PaymentSettlement,
  type RequirementArguments,
  type SettleOptions,
  type SettleResult,
} from "./payment-gate.js";
export type {
  ConfirmedPayout,
  PaymentRecorder,
  PayoutRecorder,
  RecordOutcome,
  SettledPayment,
} from "./payment-recorder.js";
export { type PayoutArguments, payout } from "./payout.js";
export {
  type ReconcileOptions,
  type ReconcileReport,
  reconcileSettlements,
} from "./reconcile-settlements.js";
export { codeForX402Reason, X402_REASON_CODES } from "./x402-reasons.js";
