/**
 * Ledger account names. Every balance the node tracks is one of these accounts; the name says what it is.
 *
 * | name                         | kind              | may go negative |
 * | ---------------------------- | ----------------- | --------------- |
 * | `user:<accountId>`           | `user`            | no              |
 * | `hold:<jobId>`               | `hold`            | no              |
 * | `worker:<workerId>:earnings` | `worker_earnings` | no              |
 * | `worker:<workerId>:bond`     | `worker_bond`     | no              |
 * | `treasury:fees`              | `treasury`        | no              |
 * | `burn`                       | `burn`            | no              |
 * | `issuance`                   | `issuance`        | yes (credits granted out of thin air) |
 * | `external:usdc`              | `external`        | yes (USDC paid in for credits)        |
 * | `external:bonds`             | `external`        | yes (bonds posted from outside)       |
 * | `external:payouts`           | `external`        | yes (by design; in practice it only receives) |
 *
 * External accounts are the other side of money crossing the node's boundary, so the sum over all
 * accounts is always zero.
 *
 * @packageDocumentation
 */

import { LedgerError } from "./errors.js";

/** Where granted (free) credits come from. */
export const ISSUANCE_ACCOUNT = "issuance";
/** Counterpart of credits bought with USDC. */
export const EXTERNAL_USDC_ACCOUNT = "external:usdc";
/** Counterpart of worker bonds posted from outside the node. */
export const EXTERNAL_BONDS_ACCOUNT = "external:bonds";
/** Where earnings go when paid out on chain. */
export const EXTERNAL_PAYOUTS_ACCOUNT = "external:payouts";
/** The treasury's share of each captured job. */
export const TREASURY_FEES_ACCOUNT = "treasury:fees";
/** Slashed bond that is not paid to the challenger: destroyed. */
export const BURN_ACCOUNT = "burn";

/**
 * What an account is.
 *
 * @example
 * ```ts
 * ledgerAccountKind("worker:w1:bond"); // "worker_bond"
 * ```
 */
export type LedgerAccountKind =
  | "user"
  | "hold"
  | "worker_earnings"
  | "worker_bond"
  | "treasury"
  | "burn"
  | "issuance"
  | "external";

const ID_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * Checks an id used inside an account name: 1..200 printable ASCII characters, no spaces.
 *
 * @example
 * ```ts
 * requireLedgerId(jobId, "jobId");
 * ```
 */
export function requireLedgerId(value: unknown, name: string): string {
  if (typeof value !== "string" || !ID_PATTERN.test(value)) {
    throw new LedgerError(
      "invalid_argument",
      `${name} must be 1..200 printable ASCII characters without spaces`,
      {
        details: { argument: name },
      },
    );
  }
  return value;
}

/**
 * The credit balance of a customer account.
 *
 * @example
 * ```ts
 * userAccount("0b9…"); // "user:0b9…"
 * ```
 */
export function userAccount(accountId: string): string {
  return `user:${requireLedgerId(accountId, "accountId")}`;
}

/**
 * The credits held for one job between `hold` and `capture`/`refund`.
 *
 * @example
 * ```ts
 * holdAccount("job_1"); // "hold:job_1"
 * ```
 */
export function holdAccount(jobId: string): string {
  return `hold:${requireLedgerId(jobId, "jobId")}`;
}

/**
 * A worker's earned, not yet paid out, credits.
 *
 * @example
 * ```ts
 * workerEarningsAccount("w1"); // "worker:w1:earnings"
 * ```
 */
export function workerEarningsAccount(workerId: string): string {
  return `worker:${requireLedgerId(workerId, "workerId")}:earnings`;
}

/**
 * A worker's posted bond, slashable on a proven cheat.
 *
 * @example
 * ```ts
 * workerBondAccount("w1"); // "worker:w1:bond"
 * ```
 */
export function workerBondAccount(workerId: string): string {
  return `worker:${requireLedgerId(workerId, "workerId")}:bond`;
}

/**
 * The kind of a well-formed account name, or `undefined`.
 *
 * @example
 * ```ts
 * ledgerAccountKind("user:abc"); // "user"
 * ledgerAccountKind("nonsense"); // undefined
 * ```
 */
export function ledgerAccountKind(name: string): LedgerAccountKind | undefined {
  if (name === ISSUANCE_ACCOUNT) return "issuance";
  if (name === BURN_ACCOUNT) return "burn";
  if (name === TREASURY_FEES_ACCOUNT) return "treasury";
  if (
    name === EXTERNAL_USDC_ACCOUNT ||
    name === EXTERNAL_BONDS_ACCOUNT ||
    name === EXTERNAL_PAYOUTS_ACCOUNT
  ) {
    return "external";
  }
  const rest = (prefix: string, suffix = ""): string | undefined => {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) return undefined;
    const id = name.substring(prefix.length, name.length - suffix.length);
    return ID_PATTERN.test(id) ? id : undefined;
  };
  if (rest("user:") !== undefined) return "user";
  if (rest("hold:") !== undefined) return "hold";
  if (rest("worker:", ":earnings") !== undefined) return "worker_earnings";
  if (rest("worker:", ":bond") !== undefined) return "worker_bond";
  return undefined;
}

/**
 * `true` for accounts that hold real credits and so must never go negative; `false` for `issuance` and
 * `external:*`, which are the outside world's side of each movement.
 *
 * @example
 * ```ts
 * isInternalAccount("burn"); // true
 * isInternalAccount("external:usdc"); // false
 * ```
 */
export function isInternalAccount(name: string): boolean {
  const kind = ledgerAccountKind(name);
  return kind !== undefined && kind !== "issuance" && kind !== "external";
}
