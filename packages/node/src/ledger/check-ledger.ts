/**
 * An audit of the ledger against its invariants and against the jobs table. Reports every violation,
 * not the first; an empty list means the books are consistent.
 *
 * @packageDocumentation
 */

import { sql } from "kysely";
import type { NodeDatabase } from "../storage/open-database.js";
import { runTransaction } from "../storage/transaction.js";
import { readInteger } from "../storage/values.js";
import { holdAccount, isInternalAccount, ledgerAccountKind } from "./account-names.js";

/**
 * Stable codes of ledger invariant violations.
 *
 * - `unbalanced_transaction`: a transaction's postings do not sum to zero.
 * - `short_transaction`: a transaction with fewer than two postings.
 * - `zero_posting`: a posting of 0 credits.
 * - `non_integer_posting`: a posting that is not an integer (SQLite's dynamic typing makes it possible).
 * - `unknown_account_name`: a posting to a name that is none of the ledger's account kinds.
 * - `negative_balance`: an internal account (user, hold, worker earnings or bond, treasury, burn) below 0.
 * - `balance_mismatch`: an account's running balance (`ledger_accounts.balance`) is not the sum of its
 *   postings.
 * - `open_hold`: a finished job whose hold still holds credits.
 * - `settled_twice`: a job with more than one capture or refund.
 * - `missing_capture`: a succeeded job without a capture.
 * - `missing_refund`: a failed, cancelled or timed-out job with a hold but no refund.
 * - `settlement_mismatch`: a succeeded job refunded, or a failed one captured.
 * - `price_mismatch`: a succeeded job whose `priceCredits` differs from what was captured.
 * - `hold_exceeds_max_credits`: a hold larger than the job's `maxCredits`.
 *
 * @example
 * ```ts
 * const blocking = violations.filter((violation) => violation.code === "negative_balance");
 * ```
 */
export type LedgerViolationCode =
  | "unbalanced_transaction"
  | "short_transaction"
  | "zero_posting"
  | "non_integer_posting"
  | "unknown_account_name"
  | "negative_balance"
  | "balance_mismatch"
  | "open_hold"
  | "settled_twice"
  | "missing_capture"
  | "missing_refund"
  | "settlement_mismatch"
  | "price_mismatch"
  | "hold_exceeds_max_credits";

/**
 * One broken invariant.
 *
 * @example
 * ```ts
 * { code: "negative_balance", message: "user:a has a balance of -5", detail: { account: "user:a", balance: -5 } }
 * ```
 */
export interface LedgerViolation {
  readonly code: LedgerViolationCode;
  readonly message: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * Checks the whole ledger (in one read transaction, so the figures are a consistent snapshot) and returns
 * every violation. Accepts the database, or anything carrying it (a store or a ledger).
 *
 * Jobs that never held credits (for example refused for lack of them) need no settlement; jobs still
 * running are not judged, since settlement and `finishJob` are two writes.
 *
 * @example
 * ```ts
 * const violations = await checkLedger(ledger);
 * console.log(formatLedgerReport(violations));
 * process.exitCode = violations.length === 0 ? 0 : 1;
 * ```
 */
export async function checkLedger(
  source: NodeDatabase | { readonly database: NodeDatabase },
): Promise<LedgerViolation[]> {
  const database = "database" in source ? source.database : source;
  return runTransaction(database, async (trx) => {
    // READ COMMITTED would give each query its own snapshot; the audit compares figures across queries.
    // (SQLite's BEGIN IMMEDIATE already excludes writers for the duration.)
    if (database.dialect === "postgres")
      await sql`set transaction isolation level repeatable read read only`.execute(trx);
    const violations: LedgerViolation[] = [];
    const add = (code: LedgerViolationCode, message: string, detail: Record<string, unknown>) =>
      violations.push({ code, message, detail: Object.freeze(detail) });

    const unbalanced = await trx
      .selectFrom("ledger_postings")
      .select(["transaction_id", sql<unknown>`sum(amount)`.as("sum")])
      .groupBy("transaction_id")
      .having(sql`sum(amount)`, "<>", 0)
      .orderBy("transaction_id")
      .execute();
    for (const row of unbalanced) {
      const transactionId = readInteger(row.transaction_id, "transaction_id");
      add("unbalanced_transaction", `transaction ${transactionId} sums to ${String(row.sum)}, not 0`, {
        transactionId,
        sum: String(row.sum),
      });
    }

    const short = await trx
      .selectFrom("ledger_transactions")
      .leftJoin("ledger_postings", "ledger_postings.transaction_id", "ledger_transactions.id")
      .select(["ledger_transactions.id", sql<unknown>`count(ledger_postings.id)`.as("legs")])
      .groupBy("ledger_transactions.id")
      .having(sql`count(ledger_postings.id)`, "<", 2)
      .orderBy("ledger_transactions.id")
      .execute();
    for (const row of short) {
      const transactionId = readInteger(row.id, "id");
      const legs = readInteger(row.legs, "legs");
      add("short_transaction", `transaction ${transactionId} has ${legs} posting(s)`, {
        transactionId,
        legs,
      });
    }

    const zero = await trx
      .selectFrom("ledger_postings")
      .select(["id", "transaction_id", "account"])
      .where("amount", "=", 0)
      .orderBy("id")
      .execute();
    for (const row of zero) {
      add("zero_posting", `posting ${row.id} on ${row.account} is 0 credits`, {
        postingId: readInteger(row.id, "id"),
        transactionId: readInteger(row.transaction_id, "transaction_id"),
        account: row.account,
      });
    }

    if (database.dialect === "sqlite") {
      // PostgreSQL's bigint cannot hold anything else; SQLite stores whatever it is given.
      const odd = await trx
        .selectFrom("ledger_postings")
        .select(["id", "transaction_id", "account", sql<unknown>`cast(amount as text)`.as("text")])
        .where(sql`typeof(amount)`, "<>", "integer")
        .orderBy("id")
        .execute();
      for (const row of odd) {
        add("non_integer_posting", `posting ${row.id} on ${row.account} is ${String(row.text)}`, {
          postingId: readInteger(row.id, "id"),
          transactionId: readInteger(row.transaction_id, "transaction_id"),
          account: row.account,
          amount: String(row.text),
        });
      }
    }

    const balanceRows = await trx
      .selectFrom("ledger_postings")
      .select(["account", sql<unknown>`sum(amount)`.as("balance")])
      .groupBy("account")
      .orderBy("account")
      .execute();
    const balances = new Map<string, number>();
    for (const row of balanceRows) {
      // Math.round: a non-integer posting (already reported) must not stop the rest of the audit.
      const balance = Math.round(Number(row.balance));
      balances.set(row.account, balance);
      if (ledgerAccountKind(row.account) === undefined) {
        add("unknown_account_name", `${row.account} is not a ledger account name`, { account: row.account });
      } else if (isInternalAccount(row.account) && balance < 0) {
        add("negative_balance", `${row.account} has a balance of ${balance}`, {
          account: row.account,
          balance,
        });
      }
    }

    // Each account's running balance must be the sum of its postings.
    const stored = await trx
      .selectFrom("ledger_accounts")
      .select(["name", "balance"])
      .orderBy("name")
      .execute();
    for (const row of stored) {
      const balance = readInteger(row.balance, "balance");
      const posted = balances.get(row.name) ?? 0;
      if (balance !== posted) {
        add(
          "balance_mismatch",
          `${row.name} records a balance of ${balance}, its postings sum to ${posted}`,
          {
            account: row.name,
            balance,
            posted,
          },
        );
      }
    }

    const jobTransactions = await trx
      .selectFrom("ledger_transactions")
      .innerJoin("ledger_postings", "ledger_postings.transaction_id", "ledger_transactions.id")
      .select([
        "ledger_transactions.id",
        "ledger_transactions.kind",
        "ledger_transactions.job_id",
        "ledger_postings.account",
        "ledger_postings.amount",
      ])
      .where("ledger_transactions.kind", "in", ["hold", "capture", "refund"])
      .orderBy("ledger_transactions.id")
      .execute();
    interface JobLedger {
      held: number;
      captures: number[];
      refunds: number[];
      charged: number;
    }
    const byJob = new Map<string, JobLedger>();
    for (const row of jobTransactions) {
      if (row.job_id === null) continue;
      let entry = byJob.get(row.job_id);
      if (entry === undefined) {
        entry = { held: 0, captures: [], refunds: [], charged: 0 };
        byJob.set(row.job_id, entry);
      }
      const id = readInteger(row.id, "id");
      const amount = Math.round(Number(row.amount));
      if (row.kind === "hold" && amount > 0) entry.held += amount;
      if (row.kind === "capture") {
        if (!entry.captures.includes(id)) entry.captures.push(id);
        // What was charged is what left the hold and did not go back to the user.
        if (amount > 0 && !row.account.startsWith("user:")) entry.charged += amount;
      }
      if (row.kind === "refund" && !entry.refunds.includes(id)) entry.refunds.push(id);
    }
    for (const [jobId, entry] of byJob) {
      const settlements = entry.captures.length + entry.refunds.length;
      if (settlements > 1) {
        add("settled_twice", `job ${jobId} was settled ${settlements} times`, {
          jobId,
          captures: entry.captures,
          refunds: entry.refunds,
        });
      }
    }

    const jobs = await trx
      .selectFrom("jobs")
      .select(["id", "status", "max_credits", "price_credits"])
      .orderBy("id")
      .execute();
    for (const job of jobs) {
      const entry = byJob.get(job.id);
      const held = entry?.held ?? 0;
      const maxCredits = readInteger(job.max_credits, "max_credits");
      if (held > maxCredits) {
        add("hold_exceeds_max_credits", `job ${job.id} held ${held} credits, its maximum is ${maxCredits}`, {
          jobId: job.id,
          held,
          maxCredits,
        });
      }
      if (job.status === "running") continue;
      const remaining = entry === undefined ? 0 : (balances.get(safeHoldName(job.id)) ?? 0);
      if (remaining !== 0) {
        add("open_hold", `job ${job.id} is ${job.status} but its hold still has ${remaining} credits`, {
          jobId: job.id,
          status: job.status,
          balance: remaining,
        });
      }
      const captured = (entry?.captures.length ?? 0) > 0;
      const refunded = (entry?.refunds.length ?? 0) > 0;
      if (job.status === "succeeded") {
        if (!captured)
          add("missing_capture", `job ${job.id} succeeded but was never captured`, { jobId: job.id });
        if (refunded)
          add("settlement_mismatch", `job ${job.id} succeeded but was refunded`, { jobId: job.id });
        const price = job.price_credits === null ? null : readInteger(job.price_credits, "price_credits");
        if (captured && price !== null && entry !== undefined && price !== entry.charged) {
          add("price_mismatch", `job ${job.id} reports ${price} credits, ${entry.charged} were captured`, {
            jobId: job.id,
            priceCredits: price,
            captured: entry.charged,
          });
        }
      } else {
        if (captured)
          add("settlement_mismatch", `job ${job.id} is ${job.status} but was captured`, { jobId: job.id });
        if (held > 0 && !refunded && !captured) {
          add("missing_refund", `job ${job.id} is ${job.status} but its hold was never refunded`, {
            jobId: job.id,
            status: job.status,
          });
        }
      }
    }
    return violations;
  });
}

function safeHoldName(jobId: string): string {
  try {
    return holdAccount(jobId);
  } catch {
    return `hold:${jobId}`;
  }
}

/**
 * A plain-text report of {@link checkLedger}'s result for a terminal: one line per violation, grouped by
 * code, or a single "ok" line.
 *
 * @example
 * ```ts
 * console.log(formatLedgerReport(await checkLedger(ledger)));
 * // ledger check: 1 violation
 * //   negative_balance (1)
 * //     - user:a has a balance of -5
 * ```
 */
export function formatLedgerReport(violations: readonly LedgerViolation[]): string {
  if (violations.length === 0) return "ledger check: ok, no violations";
  const lines = [`ledger check: ${violations.length} violation${violations.length === 1 ? "" : "s"}`];
  const byCode = new Map<string, LedgerViolation[]>();
  for (const violation of violations) {
    const list = byCode.get(violation.code) ?? [];
    list.push(violation);
    byCode.set(violation.code, list);
  }
  for (const [code, list] of byCode) {
    lines.push(`  ${code} (${list.length})`);
    for (const violation of list) lines.push(`    - ${violation.message}`);
  }
  return lines.join("\n");
}
