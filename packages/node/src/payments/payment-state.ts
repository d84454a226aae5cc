import type { NodeDatabase } from "../storage/index.js";
import { runQuery } from "../storage/index.js";

/**
 * Small durable records the payments layer keeps in the node's `settings` table (SQLite or
 * PostgreSQL), shared by every replica and by `peer-cycles payout`:
 *
 * | key | value |
 * |---|---|
 * | `payments.intent:<signature>` | {@link PaymentIntent}: who a payment is for, written before it is settled |
 * | `payments.payer:<address>` | the id of the pay-per-request account of a payer wallet |
 * | `payouts.address:<workerId>` | the Solana address a worker's earnings are paid to |
 * | `payouts.attempt:<workerId>` | the payout being sent to that worker (see `worker-payouts.ts`) |
 * | `payouts.lock` | who is paying out now, and until when |
 */
export interface PaymentState {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /** Writes `value` unless the key exists; answers the stored value (ours or the one already there). */
  claim(key: string, value: string): Promise<string>;
  /** Deletes the key if its value is still `expected` (all values when omitted); says whether it did. */
  delete(key: string, expected?: string): Promise<boolean>;
  /** Replaces the value only if it is still `expected`; says whether it did. */
  replace(key: string, expected: string, value: string): Promise<boolean>;
  /** Every key starting with `prefix`, with its value, in key order. */
  list(prefix: string): Promise<ReadonlyArray<readonly [string, string]>>;
}

/** The settings-table state of an open node database. */
export function createPaymentState(database: NodeDatabase, now: () => number = Date.now): PaymentState {
  const { db } = database;
  return {
    async get(key) {
      const row = await runQuery(() =>
        db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst(),
      );
      return row?.value;
    },
    async set(key, value) {
      const at = now();
      await runQuery(() =>
        db
          .insertInto("settings")
          .values({ key, value, updated_at: at })
          .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: at }))
          .execute(),
      );
    },
    async claim(key, value) {
      await runQuery(() =>
        db
          .insertInto("settings")
          .values({ key, value, updated_at: now() })
          .onConflict((oc) => oc.column("key").doNothing())
          .execute(),
      );
      const row = await runQuery(() =>
        db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst(),
      );
      return row?.value ?? value;
    },
    async delete(key, expected) {
      let query = db.deleteFrom("settings").where("key", "=", key);
      if (expected !== undefined) query = query.where("value", "=", expected);
      const result = await runQuery(() => query.executeTakeFirst());
      return Number(result.numDeletedRows) > 0;
    },
    async replace(key, expected, value) {
      const result = await runQuery(() =>
        db
          .updateTable("settings")
          .set({ value, updated_at: now() })
          .where("key", "=", key)
          .where("value", "=", expected)
          .executeTakeFirst(),
      );
      return Number(result.numUpdatedRows) > 0;
    },
    async list(prefix) {
      if (/[%_\\]/.test(prefix)) throw new TypeError("prefix: no LIKE wildcards");
      const rows = await runQuery(() =>
        db
          .selectFrom("settings")
          .select(["key", "value"])
          .where("key", "like", `${prefix}%`)
          .orderBy("key")
          .execute(),
      );
      // LIKE ignores ASCII case in SQLite: keep the exact prefix only.
      return rows.filter((row) => row.key.startsWith(prefix)).map((row) => [row.key, row.value] as const);
    },
  };
}

/** Why a payment was made, recorded before it is settled so a restart can attribute it. */
export interface PaymentIntent {
  readonly kind: "buy" | "request";
  /** The account to credit; absent: the payer wallet's own account. */
  readonly accountId?: string;
  readonly payer: string;
  readonly credits: number;
  readonly resource: string;
  readonly at: number;
}

export const intentKey = (signature: string) => `payments.intent:${signature}`;
export const payerKey = (address: string) => `payments.payer:${address}`;
export const payoutAddressKey = (workerId: string) => `payouts.address:${workerId}`;
export const payoutAttemptKey = (workerId: string) => `payouts.attempt:${workerId}`;
export const PAYOUT_LOCK_KEY = "payouts.lock";
