/**
 * The node's double-entry ledger of credits (1 credit = $0.01 of USDC, integers only). Every movement is
 * one database transaction of postings summing to zero; each account's running balance is updated in
 * that same transaction, and `checkLedger` verifies it equals the sum of the account's postings.
 *
 * @packageDocumentation
 */

import type { Kysely } from "kysely";
import { isTransientConflict, isUniqueViolation, toStorageError } from "../storage/database-errors.js";
import { StorageError } from "../storage/errors.js";
import type { NodeDatabase } from "../storage/open-database.js";
import { precompiled } from "../storage/precompiled-query.js";
import type { DatabaseSchema } from "../storage/schema.js";
import { runQuery, runTransaction } from "../storage/transaction.js";
import { readInteger } from "../storage/values.js";
import {
  BURN_ACCOUNT,
  EXTERNAL_BONDS_ACCOUNT,
  EXTERNAL_PAYOUTS_ACCOUNT,
  EXTERNAL_USDC_ACCOUNT,
  holdAccount,
  ISSUANCE_ACCOUNT,
  type LedgerAccountKind,
  ledgerAccountKind,
  requireLedgerId,
  TREASURY_FEES_ACCOUNT,
  userAccount,
  workerBondAccount,
  workerEarningsAccount,
} from "./account-names.js";
import { LedgerError } from "./errors.js";
import {
  type LedgerPosting,
  type LedgerTransaction,
  lockAccounts,
  readBalance,
  readTransactions,
  type TransactionDraft,
  writeTransaction,
} from "./postings.js";

/** Basis points in one whole: fees and rewards are given in 1/10,000ths. */
export const BASIS_POINTS = 10_000;

/**
 * How a captured amount splits between the worker and the treasury. The fee is rounded **down**
 * (`floor(credits × feeBps / 10000)`): on a one-credit job with a 5% fee the worker gets the credit.
 * Rounding toward the party doing the work keeps tiny jobs worth serving, and the split always sums to
 * `credits` exactly.
 *
 * @example
 * ```ts
 * splitCapture(99, 500); // { workerCredits: 95, feeCredits: 4 }
 * ```
 */
export function splitCapture(credits: number, feeBps: number): { workerCredits: number; feeCredits: number } {
  const feeCredits = Number((BigInt(credits) * BigInt(feeBps)) / BigInt(BASIS_POINTS));
  return { workerCredits: credits - feeCredits, feeCredits };
}

/**
 * How a slashed bond splits between the challenger and the burn. The reward is rounded **down**
 * (`floor(bond × rewardBps / 10000)`), the rest is burned, so the split sums to the bond exactly.
 *
 * @example
 * ```ts
 * splitSlash(1001, 5000); // { rewardCredits: 500, burnedCredits: 501 }
 * ```
 */
export function splitSlash(
  bond: number,
  rewardBps: number,
): { rewardCredits: number; burnedCredits: number } {
  const rewardCredits = Number((BigInt(bond) * BigInt(rewardBps)) / BigInt(BASIS_POINTS));
  return { rewardCredits, burnedCredits: bond - rewardCredits };
}

/**
 * A job's hold, as the ledger sees it.
 *
 * @example
 * ```ts
 * const hold = await ledger.holdOf(jobId); // { heldCredits: 40, balance: 40, settlement: null, … }
 * ```
 */
export interface JobHold {
  readonly jobId: string;
  /** The customer account the credits were held from. */
  readonly accountId: string;
  /** Credits moved into the hold. */
  readonly heldCredits: number;
  /** What is still held: `heldCredits` before settlement, 0 after. */
  readonly balance: number;
  readonly settlement: "capture" | "refund" | null;
}

/**
 * One account's derived balance.
 *
 * @example
 * ```ts
 * for (const { account, balance } of await ledger.accountBalances()) console.log(account, balance);
 * ```
 */
export interface AccountBalance {
  readonly account: string;
  readonly kind: LedgerAccountKind | "unknown";
  readonly balance: number;
}

/**
 * More statements for the ledger operation's own database transaction, run after its checks and
 * writes: they commit together or not at all (a job row with its hold, a job's final state with its
 * capture). Use only the handle given. What it throws comes out of the operation unchanged, after the
 * rollback; it may run more than once when the database asks for a retry (a PostgreSQL deadlock).
 *
 * @example
 * ```ts
 * const alongside: LedgerAlongside = (trx) => insertJob(trx, job);
 * await ledger.hold(job.id, job.accountId, job.maxCredits, { alongside });
 * ```
 */
export type LedgerAlongside = (trx: Kysely<DatabaseSchema>) => Promise<unknown>;

/** Carries an error thrown by a {@link LedgerAlongside} past the ledger's own error mapping. */
class AlongsideFailure {
  constructor(readonly error: unknown) {}
}

async function runAlongside(trx: Kysely<DatabaseSchema>, alongside: LedgerAlongside | undefined) {
  if (alongside === undefined) return;
  try {
    await alongside(trx);
  } catch (error) {
    // A deadlock or serialization failure stays as it is: runTransaction runs the whole operation again.
    throw isTransientConflict(error) ? error : new AlongsideFailure(error);
  }
}

/**
 * The ledger's operations. Each one either writes one balanced transaction or throws a
 * {@link LedgerError} having written nothing.
 *
 * @example
 * ```ts
 * const ledger = createLedger(database);
 * await ledger.purchase(accountId, 1000, { paymentReference: solanaSignature });
 * await ledger.hold(jobId, accountId, 40);
 * await ledger.capture(jobId, { credits: 12, workerId, feeBps: 500 }); // 11 to the worker, 1 fee... see splitCapture
 * ```
 */
export interface Ledger {
  readonly database: NodeDatabase;
  /**
   * Free credits from `issuance` to `user:<accountId>`. With `idempotencyKey`, a repeat with the same
   * arguments returns the first transaction; with different ones, `idempotency_conflict`.
   */
  grant(
    accountId: string,
    credits: number,
    options: { readonly memo: string; readonly idempotencyKey?: string },
  ): Promise<LedgerTransaction>;
  /**
   * Credits bought with USDC, from `external:usdc` to `user:<accountId>`. Idempotent on
   * `paymentReference` (the on-chain signature or x402 payment id): a repeat returns the first
   * transaction, a reuse with other arguments throws `idempotency_conflict`.
   */
  purchase(
    accountId: string,
    credits: number,
    options: { readonly paymentReference: string },
  ): Promise<LedgerTransaction>;
  /**
   * Moves a job's maximum price from `user:<accountId>` to `hold:<jobId>`. Throws `insufficient_credits`
   * (details: `available`, `required`), `job_already_held`, `unknown_account`. `alongside` runs in the
   * same database transaction (the job's row: a hold never exists without it).
   */
  hold(
    jobId: string,
    accountId: string,
    credits: number,
    options?: { readonly alongside?: LedgerAlongside },
  ): Promise<LedgerTransaction>;
  /**
   * Settles a successful job: of the hold, `credits` are charged and split by {@link splitCapture} into
   * `worker:<workerId>:earnings` and `treasury:fees`; the rest returns to the user. Exactly once per job
   * (`job_already_settled`); `capture_exceeds_hold` if `credits` is more than was held. `alongside` runs
   * in the same database transaction (the job's final state: a captured job is never left running).
   */
  capture(
    jobId: string,
    options: {
      readonly credits: number;
      readonly workerId: string;
      readonly feeBps: number;
      readonly alongside?: LedgerAlongside;
    },
  ): Promise<LedgerTransaction>;
  /**
   * Settles a failed, timed-out or cancelled job: the whole hold returns to the user. Exactly once per
   * job. `alongside` runs in the same database transaction.
   */
  refund(
    jobId: string,
    options: { readonly reason: string; readonly alongside?: LedgerAlongside },
  ): Promise<LedgerTransaction>;
  /** A worker's bond, from `external:bonds` to `worker:<workerId>:bond`; idempotent on `reference`. */
  depositBond(
    workerId: string,
    credits: number,
    options: { readonly reference: string },
  ): Promise<LedgerTransaction>;
  /**
   * Takes a worker's whole bond after a proven cheat on `jobId`: {@link splitSlash} gives the reward to
   * `challengerAccount` (a `user:<id>` or `worker:<id>:earnings` account name) and burns the rest. Throws
   * `no_bond` when there is nothing to take and `already_slashed` for a second slash on the same job.
   */
  slash(
    workerId: string,
    options: {
      readonly jobId: string;
      readonly challengerAccount: string;
      readonly rewardBps: number;
      /**
       * The cheated client, refunded from the bond first (at most the bond): the job was already
       * captured, so the refund comes out of the cheater's stake, not the treasury's.
       */
      readonly refund?: { readonly accountId: string; readonly credits: number };
    },
  ): Promise<LedgerTransaction>;
  /**
   * Records earnings paid out on chain: `worker:<workerId>:earnings` to `external:payouts`. Idempotent on
   * the payout transaction's `signature`.
   */
  recordPayout(
    workerId: string,
    credits: number,
    options: { readonly signature: string },
  ): Promise<LedgerTransaction>;
  /** The balance of any well-formed account name (0 if never posted to); O(1), a running balance. */
  balance(account: string): Promise<number>;
  /** Every account ever posted to, by name, with its balance. */
  accountBalances(): Promise<readonly AccountBalance[]>;
  /** The job's hold, or `undefined` if it never had one. */
  holdOf(jobId: string): Promise<JobHold | undefined>;
  /** Transactions oldest first, optionally after a cursor or for one job; `limit` 1..1000. */
  listTransactions(options: {
    readonly afterId?: number;
    readonly jobId?: string;
    readonly limit: number;
  }): Promise<readonly LedgerTransaction[]>;
}

/**
 * Options of {@link createLedger}.
 *
 * @example
 * ```ts
 * createLedger(database, { now: () => 1_700_000_000_000 });
 * ```
 */
export interface LedgerOptions {
  /** Clock for `createdAt`; default `Date.now`. */
  readonly now?: () => number;
}

function requireAmount(value: unknown, name: string, allowZero = false): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new LedgerError("invalid_amount", `${name} must be an integer number of credits`, {
      details: { argument: name },
    });
  }
  if (value < 0) {
    throw new LedgerError("negative_amount", `${name} must not be negative`, {
      details: { argument: name, value },
    });
  }
  if (value === 0 && !allowZero) {
    throw new LedgerError("invalid_amount", `${name} must be at least 1 credit`, {
      details: { argument: name },
    });
  }
  return value;
}

function requireBasisPoints(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > BASIS_POINTS) {
    throw new LedgerError("invalid_argument", `${name} must be an integer in [0, ${BASIS_POINTS}]`, {
      details: { argument: name },
    });
  }
  return value;
}

function requireMemo(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length > 1000) {
    throw new LedgerError("invalid_argument", `${name} must be a string of at most 1000 characters`, {
      details: { argument: name },
    });
  }
  return value;
}

function toLedgerError(error: unknown): unknown {
  if (LedgerError.isInstance(error)) return error;
  if (StorageError.isInstance(error)) {
    const code = error.code === "database_unavailable" ? "database_unavailable" : "invalid_argument";
    return new LedgerError(code, error.message, { cause: error, details: error.details });
  }
  return error;
}

function samePostings(a: readonly LedgerPosting[], b: readonly LedgerPosting[]): boolean {
  const key = (postings: readonly LedgerPosting[]) =>
    postings
      .filter((posting) => posting.amount !== 0)
      .map((posting) => `${posting.account}=${posting.amount}`)
      .sort()
      .join(",");
  return key(a) === key(b);
}

const SELECT_WORKER = precompiled(1, (db, workerId) =>
  db
    .selectFrom("workers")
    .select("id")
    .where("id", "=", workerId as string),
);

const SELECT_HOLD_SOURCE = precompiled(1, (db, holdKey) =>
  db
    .selectFrom("ledger_postings")
    .innerJoin("ledger_transactions", "ledger_transactions.id", "ledger_postings.transaction_id")
    .select("ledger_postings.account")
    .where("ledger_transactions.idempotency_key", "=", holdKey as string)
    .where("ledger_postings.amount", "<", 0),
);

/**
 * The ledger over an open database (SQLite or PostgreSQL).
 *
 * Concurrency: every operation is one database transaction. On PostgreSQL the debited internal account's
 * row in `ledger_accounts` is locked (an upsert, like `SELECT … FOR UPDATE`) as its balance is read, so replicas
 * sharing the database serialise on it and cannot overdraw it; on SQLite `BEGIN IMMEDIATE` serialises
 * writers. Idempotency keys are also a unique column: if two writers race on one key, the loser's
 * transaction rolls back and the operation runs again, finding the winner's row.
 *
 * @example
 * ```ts
 * const ledger = createLedger(await openDatabase({ dataDir: "./data" }));
 * await ledger.grant(accountId, 100, { memo: "welcome credits", idempotencyKey: `welcome:${accountId}` });
 * ```
 */
export function createLedger(database: NodeDatabase, options: LedgerOptions = {}): Ledger {
  const now = options.now ?? Date.now;
  async function atomically<T>(work: (trx: Kysely<DatabaseSchema>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runTransaction(database, work);
      } catch (error) {
        if (error instanceof AlongsideFailure) throw toStorageError(error.error);
        // A concurrent writer committed the same idempotency key between our check and our insert;
        // running again sees its row and answers as a replay (or as already settled).
        if (attempt < 3 && isUniqueViolation(error)) continue;
        throw toLedgerError(error);
      }
    }
  }

  async function requireCustomer(trx: Kysely<DatabaseSchema>, accountId: string): Promise<void> {
    const row = await trx.selectFrom("accounts").select("id").where("id", "=", accountId).executeTakeFirst();
    if (row === undefined) {
      throw new LedgerError("unknown_account", `no account ${accountId}`, { details: { accountId } });
    }
  }

  async function requireWorker(trx: Kysely<DatabaseSchema>, workerId: string): Promise<void> {
    const [row] = (await SELECT_WORKER.execute(trx, [workerId])).rows;
    if (row === undefined)
      throw new LedgerError("unknown_account", `no worker ${workerId}`, { details: { workerId } });
  }

  /** Writes `draft` unless its idempotency key exists: then returns the existing one if it matches. */
  async function idempotentWrite(
    trx: Kysely<DatabaseSchema>,
    draft: TransactionDraft,
  ): Promise<LedgerTransaction> {
    const key = draft.idempotencyKey;
    if (key !== null) {
      const [existing] = await readTransactions(trx, { idempotencyKey: key });
      if (existing !== undefined) {
        if (existing.kind === draft.kind && samePostings(existing.postings, draft.postings)) return existing;
        throw new LedgerError("idempotency_conflict", `${key} was already used with other arguments`, {
          details: { idempotencyKey: key, transactionId: existing.id },
        });
      }
    }
    return writeTransaction(trx, draft);
  }

  function requireFunds(account: string, available: number, required: number): void {
    if (available < required) {
      throw new LedgerError(
        "insufficient_credits",
        `${account} has ${available} credits, ${required} required`,
        {
          details: { account, available, required },
        },
      );
    }
  }

  async function findHold(
    trx: Kysely<DatabaseSchema>,
    jobId: string,
  ): Promise<LedgerTransaction | undefined> {
    const [transaction] = await readTransactions(trx, { idempotencyKey: `hold:${jobId}` });
    return transaction;
  }

  /** The account a job's hold was taken from (its one debit), or `undefined` without a hold. */
  async function holdSourceOf(trx: Kysely<DatabaseSchema>, jobId: string): Promise<string | undefined> {
    const [row] = (await SELECT_HOLD_SOURCE.execute(trx, [`hold:${jobId}`])).rows;
    return row?.account;
  }

  function holdSource(transaction: LedgerTransaction): string {
    const source = transaction.postings.find((posting) => posting.amount < 0);
    if (source === undefined) throw new Error(`hold transaction ${transaction.id} has no debit`);
    return source.account;
  }

  /**
   * Locks the hold, checks it exists and is unsettled; returns the account it came from and what it
   * still holds. A hold is at least 1 credit and settling empties it, so a non-zero balance is an open
   * hold; only a zero one needs a look at why.
   */
  async function openHold(trx: Kysely<DatabaseSchema>, jobId: string) {
    const hold = holdAccount(jobId);
    const held = (await lockAccounts(trx, [hold], now())).get(hold) ?? 0;
    const user = held === 0 ? undefined : await holdSourceOf(trx, jobId);
    if (user === undefined) {
      const [settlement] = await readTransactions(trx, { idempotencyKey: `settle:${jobId}` });
      if (settlement !== undefined) {
        throw new LedgerError(
          "job_already_settled",
          `job ${jobId} was already settled (${settlement.kind})`,
          { details: { jobId, settlement: settlement.kind, transactionId: settlement.id } },
        );
      }
      throw new LedgerError("unknown_hold", `job ${jobId} has no hold`, { details: { jobId } });
    }
    return { hold, user, held };
  }

  return {
    database,

    async grant(accountId, credits, grantOptions) {
      requireLedgerId(accountId, "accountId");
      requireAmount(credits, "credits");
      const memo = requireMemo(grantOptions?.memo, "memo");
      const key = grantOptions.idempotencyKey;
      if (key !== undefined) requireLedgerId(key, "idempotencyKey");
      return atomically(async (trx) => {
        await requireCustomer(trx, accountId);
        return idempotentWrite(trx, {
          kind: "grant",
          idempotencyKey: key === undefined ? null : `grant:${key}`,
          jobId: null,
          memo,
          createdAt: now(),
          postings: [
            { account: ISSUANCE_ACCOUNT, amount: -credits },
            { account: userAccount(accountId), amount: credits },
          ],
        });
      });
    },

    async purchase(accountId, credits, purchaseOptions) {
      requireLedgerId(accountId, "accountId");
      requireAmount(credits, "credits");
      const reference = requireLedgerId(purchaseOptions?.paymentReference, "paymentReference");
      return atomically(async (trx) => {
        await requireCustomer(trx, accountId);
        return idempotentWrite(trx, {
          kind: "purchase",
          idempotencyKey: `purchase:${reference}`,
          jobId: null,
          memo: null,
          createdAt: now(),
          postings: [
            { account: EXTERNAL_USDC_ACCOUNT, amount: -credits },
            { account: userAccount(accountId), amount: credits },
          ],
        });
      });
    },

    async hold(jobId, accountId, credits, holdOptions) {
      const hold = holdAccount(jobId);
      const user = userAccount(accountId);
      requireAmount(credits, "credits");
      const alreadyHeld = () =>
        new LedgerError("job_already_held", `job ${jobId} already has a hold`, { details: { jobId } });
      return atomically(async (trx) => {
        // The user's row is the one that matters: its lock serialises every hold against the account.
        // The hold's row serialises two holds for one job.
        const balances = await lockAccounts(trx, [user, hold], now());
        const available = balances.get(user) ?? 0;
        if (available < credits) {
          // Refused: find the first reason, in the order unknown account, held, funds.
          await requireCustomer(trx, accountId);
          if ((await findHold(trx, jobId)) !== undefined) throw alreadyHeld();
          requireFunds(user, available, credits);
        }
        // Funded, so the customer exists: only a customer's account is ever credited. An open hold has a
        // balance; a settled one is refused by the idempotency key's uniqueness when written.
        if ((balances.get(hold) ?? 0) !== 0) throw alreadyHeld();
        let transaction: LedgerTransaction;
        try {
          transaction = await writeTransaction(trx, {
            kind: "hold",
            idempotencyKey: `hold:${jobId}`,
            jobId,
            memo: null,
            createdAt: now(),
            postings: [
              { account: user, amount: -credits },
              { account: hold, amount: credits },
            ],
          });
        } catch (error) {
          if (isUniqueViolation(error)) throw alreadyHeld();
          throw error;
        }
        await runAlongside(trx, holdOptions?.alongside);
        return transaction;
      });
    },

    async capture(jobId, captureOptions) {
      holdAccount(jobId);
      const credits = requireAmount(captureOptions?.credits, "credits", true);
      const workerId = requireLedgerId(captureOptions.workerId, "workerId");
      const feeBps = requireBasisPoints(captureOptions.feeBps, "feeBps");
      return atomically(async (trx) => {
        await requireWorker(trx, workerId);
        const { hold, user, held } = await openHold(trx, jobId);
        if (credits > held) {
          throw new LedgerError(
            "capture_exceeds_hold",
            `job ${jobId} holds ${held} credits, ${credits} captured`,
            {
              details: { jobId, held, credits },
            },
          );
        }
        const { workerCredits, feeCredits } = splitCapture(credits, feeBps);
        const transaction = await writeTransaction(trx, {
          kind: "capture",
          idempotencyKey: `settle:${jobId}`,
          jobId,
          memo: null,
          createdAt: now(),
          postings: [
            { account: hold, amount: -held },
            { account: workerEarningsAccount(workerId), amount: workerCredits },
            { account: TREASURY_FEES_ACCOUNT, amount: feeCredits },
            { account: user, amount: held - credits },
          ],
        });
        await runAlongside(trx, captureOptions.alongside);
        return transaction;
      });
    },

    async refund(jobId, refundOptions) {
      holdAccount(jobId);
      const reason = requireMemo(refundOptions?.reason, "reason");
      return atomically(async (trx) => {
        const { hold, user, held } = await openHold(trx, jobId);
        const transaction = await writeTransaction(trx, {
          kind: "refund",
          idempotencyKey: `settle:${jobId}`,
          jobId,
          memo: reason,
          createdAt: now(),
          postings: [
            { account: hold, amount: -held },
            { account: user, amount: held },
          ],
        });
        await runAlongside(trx, refundOptions.alongside);
        return transaction;
      });
    },

    async depositBond(workerId, credits, bondOptions) {
      const bond = workerBondAccount(workerId);
      requireAmount(credits, "credits");
      const reference = requireLedgerId(bondOptions?.reference, "reference");
      return atomically(async (trx) => {
        await requireWorker(trx, workerId);
        return idempotentWrite(trx, {
          kind: "bond",
          idempotencyKey: `bond:${reference}`,
          jobId: null,
          memo: null,
          createdAt: now(),
          postings: [
            { account: EXTERNAL_BONDS_ACCOUNT, amount: -credits },
            { account: bond, amount: credits },
          ],
        });
      });
    },

    async slash(workerId, slashOptions) {
      const bond = workerBondAccount(workerId);
      const jobId = requireLedgerId(slashOptions?.jobId, "jobId");
      const challenger = slashOptions.challengerAccount;
      const challengerKind = typeof challenger === "string" ? ledgerAccountKind(challenger) : undefined;
      if (challengerKind !== "user" && challengerKind !== "worker_earnings") {
        throw new LedgerError(
          "unknown_account",
          "challengerAccount must be a user:<accountId> or worker:<workerId>:earnings account",
          { details: { argument: "challengerAccount" } },
        );
      }
      const rewardBps = requireBasisPoints(slashOptions.rewardBps, "rewardBps");
      const refund = slashOptions.refund;
      if (refund !== undefined) requireAmount(refund.credits, "refund.credits", true);
      return atomically(async (trx) => {
        if (refund !== undefined) await requireCustomer(trx, refund.accountId);
        if (challengerKind === "user") await requireCustomer(trx, challenger.substring("user:".length));
        else
          await requireWorker(
            trx,
            challenger.substring("worker:".length, challenger.length - ":earnings".length),
          );
        const posted = (await lockAccounts(trx, [bond], now())).get(bond) ?? 0;
        // Space cannot occur in an id, so "<worker> <job>" is unambiguous.
        const key = `slash:${workerId} ${jobId}`;
        const [previous] = await readTransactions(trx, { idempotencyKey: key });
        if (previous !== undefined) {
          throw new LedgerError(
            "already_slashed",
            `worker ${workerId} was already slashed for job ${jobId}`,
            {
              details: { workerId, jobId, transactionId: previous.id },
            },
          );
        }
        if (posted <= 0)
          throw new LedgerError("no_bond", `worker ${workerId} has no bond to slash`, {
            details: { workerId },
          });
        const refunded = refund === undefined ? 0 : Math.min(refund.credits, posted);
        const { rewardCredits, burnedCredits } = splitSlash(posted - refunded, rewardBps);
        const postings: LedgerPosting[] = [
          { account: bond, amount: -posted },
          { account: challenger, amount: rewardCredits },
          { account: BURN_ACCOUNT, amount: burnedCredits },
        ];
        if (refund !== undefined && refunded > 0)
          postings.push({ account: `user:${refund.accountId}`, amount: refunded });
        return writeTransaction(trx, {
          kind: "slash",
          idempotencyKey: key,
          jobId,
          memo: refunded > 0 ? `refunded ${refunded} to the client` : null,
          createdAt: now(),
          postings,
        });
      });
    },

    async recordPayout(workerId, credits, payoutOptions) {
      const earnings = workerEarningsAccount(workerId);
      requireAmount(credits, "credits");
      const signature = requireLedgerId(payoutOptions?.signature, "signature");
      return atomically(async (trx) => {
        await requireWorker(trx, workerId);
        const available = (await lockAccounts(trx, [earnings], now())).get(earnings) ?? 0;
        const draft: TransactionDraft = {
          kind: "payout",
          idempotencyKey: `payout:${signature}`,
          jobId: null,
          memo: null,
          createdAt: now(),
          postings: [
            { account: earnings, amount: -credits },
            { account: EXTERNAL_PAYOUTS_ACCOUNT, amount: credits },
          ],
        };
        const [existing] = await readTransactions(trx, { idempotencyKey: `payout:${signature}` });
        // A replay must not be refused for lack of funds: the first call already took them.
        if (existing === undefined) requireFunds(earnings, available, credits);
        return idempotentWrite(trx, draft);
      });
    },

    async balance(account) {
      if (typeof account !== "string" || ledgerAccountKind(account) === undefined) {
        throw new LedgerError("unknown_account", "not a ledger account name", { details: { account } });
      }
      return runQuery(() => readBalance(database.db, account)).catch((error: unknown) => {
        throw toLedgerError(error);
      });
    },

    async accountBalances() {
      const rows = await runQuery(() =>
        database.db.selectFrom("ledger_accounts").select(["name", "balance"]).orderBy("name").execute(),
      ).catch((error: unknown) => {
        throw toLedgerError(error);
      });
      return rows.map((row) => ({
        account: row.name,
        kind: ledgerAccountKind(row.name) ?? "unknown",
        balance: readInteger(row.balance, "balance"),
      }));
    },

    async holdOf(jobId) {
      const hold = holdAccount(jobId);
      return atomically(async (trx) => {
        const transaction = await findHold(trx, jobId);
        if (transaction === undefined) return undefined;
        const [settlement] = await readTransactions(trx, { idempotencyKey: `settle:${jobId}` });
        const source = holdSource(transaction);
        return {
          jobId,
          accountId: source.substring("user:".length),
          heldCredits: transaction.postings.find((posting) => posting.account === hold)?.amount ?? 0,
          balance: await readBalance(trx, hold),
          settlement: settlement === undefined ? null : (settlement.kind as "capture" | "refund"),
        };
      });
    },

    async listTransactions(listOptions) {
      const limit = listOptions?.limit;
      if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
        throw new LedgerError("invalid_argument", "limit must be an integer in [1, 1000]", {
          details: { argument: "limit" },
        });
      }
      const afterId = listOptions.afterId;
      if (afterId !== undefined && (!Number.isSafeInteger(afterId) || afterId < 0)) {
        throw new LedgerError("invalid_argument", "afterId must be an integer ≥ 0", {
          details: { argument: "afterId" },
        });
      }
      const jobId = listOptions.jobId === undefined ? undefined : requireLedgerId(listOptions.jobId, "jobId");
      return runQuery(() =>
        readTransactions(database.db, {
          limit,
          ...(afterId === undefined ? {} : { afterId }),
          ...(jobId === undefined ? {} : { jobId }),
        }),
      ).catch((error: unknown) => {
        throw toLedgerError(error);
      });
    },
  };
}
