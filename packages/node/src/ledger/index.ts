/**
 * The reference node's double-entry ledger of credits. 1 credit = $0.01 of USDC, integers only. Every
 * movement is a balanced set of postings written in one database transaction; balances are derived.
 *
 * @packageDocumentation
 */

export {
  BURN_ACCOUNT,
  EXTERNAL_BONDS_ACCOUNT,
  EXTERNAL_PAYOUTS_ACCOUNT,
  EXTERNAL_USDC_ACCOUNT,
  holdAccount,
  ISSUANCE_ACCOUNT,
  isInternalAccount,
  type LedgerAccountKind,
  ledgerAccountKind,
  TREASURY_FEES_ACCOUNT,
  userAccount,
  workerBondAccount,
  workerEarningsAccount,
} from "./account-names.js";
export {
  checkLedger,
  formatLedgerReport,
  type LedgerViolation,
  type LedgerViolationCode,
} from "./check-ledger.js";
export {
  LEDGER_ERROR_DOCS_URL,
  LedgerError,
  type LedgerErrorCode,
  type LedgerErrorOptions,
} from "./errors.js";
export {
  type AccountBalance,
  BASIS_POINTS,
  createLedger,
  type JobHold,
  type Ledger,
  type LedgerOptions,
  splitCapture,
  splitSlash,
} from "./ledger.js";
export type { LedgerPosting, LedgerTransaction, LedgerTransactionKind } from "./postings.js";
