/**
 * The one place ledger rows are written: a balanced set of postings, checked before anything touches the
 * database, plus the row locks and balance reads the operations build on.
 *
 * @packageDocumentation
 */

import { type Kysely, sql } from "kysely";
import { precompiled, precompiledRows } from "../storage/precompiled-query.js";
import type { DatabaseSchema } from "../storage/schema.js";
import { readInteger } from "../storage/values.js";
import { ledgerAccountKind } from "./account-names.js";
import { LedgerError } from "./errors.js";

/**
 * What a ledger transaction records.
 *
 * @example
 * ```ts
 * const kind: LedgerTransactionKind = "capture";
 * ```
 */
export type LedgerTransactionKind =
  | "grant"
  | "purchase"
  | "hold"
  | "capture"
  | "refund"
  | "bond"
  | "slash"
  | "payout";

/**
 * One leg of a transaction: credits into (`amount > 0`) or out of (`amount < 0`) an account.
 *
 * @example
 * ```ts
 * const leg: LedgerPosting = { account: "user:a", amount: -40 };
 * ```
 */
export interface LedgerPosting {
  readonly account: string;
  readonly amount: number;
}

/**
 * A written, balanced transaction.
 *
 * @example
 * ```ts
 * const transaction = await ledger.purchase(accountId, 500, { paymentReference: txSignature });
 * transaction.postings; // [{ account: "external:usdc", amount: -500 }, { account: "user:…", amount: 500 }]
 * ```
 */
export interface LedgerTransaction {
  readonly id: number;
  readonly kind: LedgerTransactionKind;
  /** `<kind-scope>:<key>`, unique across the ledger (e.g. `purchase:<paymentReference>`, `settle:<jobId>`). */
  readonly idempotencyKey: string | null;
  readonly jobId: string | null;
  readonly memo: string | null;
  readonly createdAt: number;
  /** Non-zero legs summing to zero, in the order written. */
  readonly postings: readonly LedgerPosting[];
}

/** What {@link writeTransaction} needs. */
export interface TransactionDraft {
  readonly kind: LedgerTransactionKind;
  readonly idempotencyKey: string | null;
  readonly jobId: string | null;
  readonly memo: string | null;
  readonly createdAt: number;
  readonly postings: readonly LedgerPosting[];
}

/**
 * Drops zero legs and checks the rest: each a non-zero safe integer on a well-formed account, and the
 * whole summing to zero. Throws before anything is written.
 *
 * @example
 * ```ts
 * balancedPostings([{ account: "issuance", amount: -5 }, { account: "user:a", amount: 5 }]);
 * ```
 */
export function balancedPostings(postings: readonly LedgerPosting[]): readonly LedgerPosting[] {
  const kept = postings.filter((posting) => posting.amount !== 0);
  let sum = 0n;
  for (const posting of kept) {
    if (!Number.isSafeInteger(posting.amount)) {
      throw new LedgerError("invalid_amount", "posting amounts must be safe integers", {
        details: { account: posting.account, amount: posting.amount },
      });
    }
    if (ledgerAccountKind(posting.account) === undefined) {
      throw new LedgerError("unknown_account", `${posting.account} is not a ledger account name`, {
        details: { account: posting.account },
      });
    }
    sum += BigInt(posting.amount);
  }
  if (sum !== 0n || kept.length < 2) {
    throw new LedgerError(
      "unbalanced_transaction",
      "a transaction needs at least two postings summing to zero",
      {
        details: { sum: sum.toString(), postings: kept.length },
      },
    );
  }
  return kept;
}

/** The statements of {@link lockAccounts} (per account count), compiled once per dialect. */
const LOCK_ACCOUNTS = precompiledRows(3, (db, rows) =>
  db
    .insertInto("ledger_accounts")
    .values(
      rows.map(([name, kind, createdAt]) => ({
        name: name as string,
        kind: kind as string,
        created_at: createdAt as number,
        balance: 0,
      })),
    )
    // A no-op update rather than DO NOTHING: it locks an existing row and makes RETURNING give it.
    .onConflict((oc) => oc.column("name").doUpdateSet({ balance: sql`ledger_accounts.balance` }))
    .returning(["name", "balance"]),
);

/**
 * Makes sure the `ledger_accounts` rows exist, locks them and returns their balances, in one statement
 * (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, rows in name order). On PostgreSQL the upsert takes each
 * row's lock like `SELECT … FOR UPDATE`, in name order, so two transactions never wait on each other in a
 * cycle; locks are held until commit, so a balance read here stays true until the write: two replicas
 * holding against one account are serialised on its row. On SQLite `BEGIN IMMEDIATE` already holds the
 * database's single write lock.
 *
 * @example
 * ```ts
 * const balances = await lockAccounts(trx, ["user:a"], now);
 * balances.get("user:a"); // 40
 * ```
 */
export async function lockAccounts(
  trx: Kysely<DatabaseSchema>,
  names: readonly string[],
  createdAt: number,
): Promise<Map<string, number>> {
  const sorted = [...new Set(names)].sort();
  const balances = new Map<string, number>();
  if (sorted.length === 0) return balances;
  const args: unknown[] = [];
  for (const name of sorted) args.push(name, ledgerAccountKind(name) ?? "unknown", createdAt);
  const { rows } = await LOCK_ACCOUNTS.execute(trx, sorted.length, args);
  for (const row of rows) balances.set(row.name, readInteger(row.balance, "balance"));
  return balances;
}

const SELECT_BALANCE = precompiled(1, (db, account) =>
  db
    .selectFrom("ledger_accounts")
    .select("balance")
    .where("name", "=", account as string),
);

/**
 * The balance of one account (0 for an account never posted to): the running balance kept on its
 * `ledger_accounts` row, which every {@link writeTransaction} updates with its postings and
 * `checkLedger` compares with the sum of postings. O(1) however long the history.
 *
 * @example
 * ```ts
 * const available = await readBalance(trx, "user:a");
 * ```
 */
export async function readBalance(trx: Kysely<DatabaseSchema>, account: string): Promise<number> {
  const [row] = (await SELECT_BALANCE.execute(trx, [account])).rows;
  return row === undefined ? 0 : readInteger(row.balance, "balance");
}

const INSERT_TRANSACTION = precompiled(5, (db, kind, idempotencyKey, jobId, memo, createdAt) =>
  db
    .insertInto("ledger_transactions")
    .values({
      kind: kind as string,
      idempotency_key: idempotencyKey as string | null,
      job_id: jobId as string | null,
      memo: memo as string | null,
      created_at: createdAt as number,
    })
    .returning("id"),
);

const ADD_TO_BALANCES = precompiledRows(4, (db, rows) =>
  db
    .insertInto("ledger_accounts")
    .values(
      rows.map(([name, kind, createdAt, amount]) => ({
        name: name as string,
        kind: kind as string,
        created_at: createdAt as number,
        balance: amount as number,
      })),
    )
    .onConflict((oc) =>
      oc.column("name").doUpdateSet({ balance: sql`ledger_accounts.balance + excluded.balance` }),
    ),
);

const INSERT_POSTINGS = precompiledRows(3, (db, rows) =>
  db.insertInto("ledger_postings").values(
    rows.map(([transactionId, account, amount]) => ({
      transaction_id: transactionId as number,
      account: account as string,
      amount: amount as number,
    })),
  ),
);

/**
 * Writes a checked transaction and its postings, and adds each account's net amount to its running
 * balance (creating the account row if needed) in the same database transaction; returns the
 * transaction as stored. Call inside a database transaction, after {@link lockAccounts} for every
 * account whose balance was checked. Three statements: the transaction row (first, so that a reused
 * idempotency key fails before anything else is done), the balances (one upsert, rows in name order),
 * the postings.
 *
 * @example
 * ```ts
 * await writeTransaction(trx, { kind: "grant", idempotencyKey: null, jobId: null, memo: "welcome",
 *   createdAt: now, postings: [{ account: "issuance", amount: -100 }, { account: "user:a", amount: 100 }] });
 * ```
 */
export async function writeTransaction(
  trx: Kysely<DatabaseSchema>,
  draft: TransactionDraft,
): Promise<LedgerTransaction> {
  const postings = balancedPostings(draft.postings);
  const [inserted] = (
    await INSERT_TRANSACTION.execute(trx, [
      draft.kind,
      draft.idempotencyKey,
      draft.jobId,
      draft.memo,
      draft.createdAt,
    ])
  ).rows;
  if (inserted === undefined) throw new Error("inserting a ledger transaction returned no id");
  const id = readInteger(inserted.id, "id");
  const net = new Map<string, number>();
  for (const posting of postings) net.set(posting.account, (net.get(posting.account) ?? 0) + posting.amount);
  const balances: unknown[] = [];
  for (const name of [...net.keys()].sort()) {
    balances.push(name, ledgerAccountKind(name) ?? "unknown", draft.createdAt, net.get(name) as number);
  }
  await ADD_TO_BALANCES.execute(trx, net.size, balances);
  const legs: unknown[] = [];
  for (const posting of postings) legs.push(id, posting.account, posting.amount);
  await INSERT_POSTINGS.execute(trx, postings.length, legs);
  return { ...draft, id, postings };
}

/**
 * Reads transactions (with their postings) by a filter, oldest first.
 *
 * @example
 * ```ts
 * const [existing] = await readTransactions(trx, { idempotencyKey: "purchase:sig" });
 * ```
 */
export async function readTransactions(
  trx: Kysely<DatabaseSchema>,
  filter: {
    readonly idempotencyKey?: string;
    readonly jobId?: string;
    readonly afterId?: number;
    readonly limit?: number;
  },
): Promise<LedgerTransaction[]> {
  let query = trx.selectFrom("ledger_transactions").selectAll();
  if (filter.idempotencyKey !== undefined) query = query.where("idempotency_key", "=", filter.idempotencyKey);
  if (filter.jobId !== undefined) query = query.where("job_id", "=", filter.jobId);
  if (filter.afterId !== undefined) query = query.where("id", ">", filter.afterId);
  query = query.orderBy("id");
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const ids = rows.map((row) => readInteger(row.id, "id"));
  const postings = await trx
    .selectFrom("ledger_postings")
    .select(["transaction_id", "account", "amount"])
    .where("transaction_id", "in", ids)
    .orderBy("id")
    .execute();
  const byTransaction = new Map<number, LedgerPosting[]>();
  for (const posting of postings) {
    const key = readInteger(posting.transaction_id, "transaction_id");
    let list = byTransaction.get(key);
    if (list === undefined) {
      list = [];
      byTransaction.set(key, list);
    }
    list.push({ account: posting.account, amount: readInteger(posting.amount, "amount") });
  }
  return rows.map((row, index) => {
    const id = ids[index] as number;
    return {
      id,
      kind: row.kind as LedgerTransactionKind,
      idempotencyKey: row.idempotency_key,
      jobId: row.job_id,
      memo: row.memo,
      createdAt: readInteger(row.created_at, "created_at"),
      postings: byTransaction.get(id) ?? [],
    };
  });
}
