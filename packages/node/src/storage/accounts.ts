/**
 * Customer accounts and their API keys.
 *
 * @packageDocumentation
 */

import { randomUUID } from "node:crypto";
import { StorageError } from "./errors.js";
import type { NodeDatabase } from "./open-database.js";
import { generateSecret, hashSecret } from "./secrets.js";
import { runQuery, runTransaction } from "./transaction.js";
import { readInteger, requireText } from "./values.js";

/**
 * A customer account. Its credits are in the ledger, under `user:<id>`.
 *
 * @example
 * ```ts
 * const account: Account = { id: "0b9…", name: "alice", createdAt: 1_700_000_000_000 };
 * ```
 */
export interface Account {
  readonly id: string;
  readonly name: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/**
 * A new account and its first API key. The key is only ever returned here and by
 * {@link AccountRepository.createApiKey}; the database keeps its SHA-256 hash.
 *
 * @example
 * ```ts
 * const { id, apiKey } = await store.accounts.createAccount({ name: "alice" }); // apiKey: "pc_…"
 * ```
 */
export interface CreatedAccount {
  readonly id: string;
  readonly apiKey: string;
}

/**
 * Accounts and API keys.
 *
 * @example
 * ```ts
 * const account = await store.accounts.findAccountByApiKey(bearer);
 * if (account === undefined) return unauthorized();
 * ```
 */
export interface AccountRepository {
  /** Creates an account with a fresh `pc_…` API key. */
  createAccount(input: { readonly name: string }): Promise<CreatedAccount>;
  /** Issues one more API key for an existing account; throws `not_found` if there is no such account. */
  createApiKey(accountId: string): Promise<string>;
  /** The account a key belongs to, or `undefined` (unknown keys and malformed input alike). */
  findAccountByApiKey(apiKey: string): Promise<Account | undefined>;
  getAccount(id: string): Promise<Account | undefined>;
  /** Every account, oldest first. */
  listAccounts(): Promise<readonly Account[]>;
}

const API_KEY_PREFIX = "pc_";

interface AccountRow {
  id: string;
  name: string;
  created_at: unknown;
}

function toAccount(row: AccountRow): Account {
  return { id: row.id, name: row.name, createdAt: readInteger(row.created_at, "created_at") };
}

/**
 * The account repository over an open database.
 *
 * @example
 * ```ts
 * const accounts = createAccountRepository(database, Date.now);
 * ```
 */
export function createAccountRepository(database: NodeDatabase, now: () => number): AccountRepository {
  const { db } = database;
  return {
    async createAccount(input) {
      const name = requireText(input?.name, "name", 200);
      const id = randomUUID();
      const apiKey = generateSecret(API_KEY_PREFIX);
      const at = now();
      await runTransaction(database, async (trx) => {
        await trx.insertInto("accounts").values({ id, name, created_at: at }).execute();
        await trx
          .insertInto("api_keys")
          .values({ key_hash: hashSecret(apiKey), account_id: id, created_at: at })
          .execute();
      });
      return { id, apiKey };
    },
    async createApiKey(accountId) {
      requireText(accountId, "accountId", 200);
      const apiKey = generateSecret(API_KEY_PREFIX);
      await runTransaction(database, async (trx) => {
        const account = await trx
          .selectFrom("accounts")
          .select("id")
          .where("id", "=", accountId)
          .executeTakeFirst();
        if (account === undefined) {
          throw new StorageError("not_found", `no account ${accountId}`, { details: { accountId } });
        }
        await trx
          .insertInto("api_keys")
          .values({ key_hash: hashSecret(apiKey), account_id: accountId, created_at: now() })
          .execute();
      });
      return apiKey;
    },
    async findAccountByApiKey(apiKey) {
      if (typeof apiKey !== "string" || !apiKey.startsWith(API_KEY_PREFIX) || apiKey.length > 200)
        return undefined;
      const row = await runQuery(() =>
        db
          .selectFrom("api_keys")
          .innerJoin("accounts", "accounts.id", "api_keys.account_id")
          .select(["accounts.id", "accounts.name", "accounts.created_at"])
          .where("api_keys.key_hash", "=", hashSecret(apiKey))
          .executeTakeFirst(),
      );
      return row === undefined ? undefined : toAccount(row);
    },
    async getAccount(id) {
      if (typeof id !== "string") return undefined;
      const row = await runQuery(() =>
        db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst(),
      );
      return row === undefined ? undefined : toAccount(row);
    },
    async listAccounts() {
      const rows = await runQuery(() =>
        db.selectFrom("accounts").selectAll().orderBy("created_at").orderBy("id").execute(),
      );
      return rows.map(toAccount);
    },
  };
}
