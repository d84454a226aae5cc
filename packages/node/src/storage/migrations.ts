/**
 * The schema's migrations, defined in code so that the built package carries them (no migration files
 * to locate at run time). One list serves both dialects; the only per-dialect choice is how an
 * auto-increment key is spelled.
 *
 * @packageDocumentation
 */

import { type ColumnDefinitionBuilder, type Kysely, sql } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";
import type { DatabaseDialect } from "./open-database.js";

type Column = (builder: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;

function serialKey(dialect: DatabaseDialect): { type: "integer" | "bigint"; column: Column } {
  // SQLite's `integer primary key` is the rowid; PostgreSQL needs an identity column.
  return dialect === "sqlite"
    ? { type: "integer", column: (c) => c.primaryKey().autoIncrement() }
    : { type: "bigint", column: (c) => c.primaryKey().generatedByDefaultAsIdentity() };
}

function initial(dialect: DatabaseDialect): Migration {
  const serial = serialKey(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("accounts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("api_keys")
        .addColumn("key_hash", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("api_keys_account_id").on("api_keys").column("account_id").execute();
      await db.schema
        .createTable("settings")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("workers")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("tier", "text", (c) => c.notNull())
        .addColumn("model", "text", (c) => c.notNull())
        .addColumn("price_credits", "bigint", (c) => c.notNull())
        .addColumn("signing_public_key", "text", (c) => c.notNull())
        .addColumn("attestation", "text")
        .addColumn("reputation", "integer", (c) => c.notNull())
        .addColumn("tokens_per_second", "double precision")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("worker_tokens")
        .addColumn("token_hash", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("jobs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("tier", "text", (c) => c.notNull())
        .addColumn("model", "text", (c) => c.notNull())
        .addColumn("worker_id", "text")
        .addColumn("max_credits", "bigint", (c) => c.notNull())
        .addColumn("seed", "bigint")
        .addColumn("stream", "integer", (c) => c.notNull())
        .addColumn("request_hash", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("price_credits", "bigint")
        .addColumn("prompt_tokens", "bigint")
        .addColumn("completion_tokens", "bigint")
        .addColumn("output_hash", "text")
        .addColumn("receipt", "text")
        .addColumn("error", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("finished_at", "bigint")
        .addColumn("validation_status", "text")
        .addColumn("validator_id", "text")
        .addColumn("validation_detail", "text")
        .addColumn("validated_at", "bigint")
        .execute();
      await db.schema.createIndex("jobs_status").on("jobs").column("status").execute();
      await db.schema
        .createIndex("jobs_account_created")
        .on("jobs")
        .columns(["account_id", "created_at"])
        .execute();
      await db.schema.createIndex("jobs_created").on("jobs").column("created_at").execute();
      await db.schema
        .createTable("events")
        .addColumn("id", serial.type, serial.column)
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("data", "text", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("ledger_accounts")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("ledger_transactions")
        .addColumn("id", serial.type, serial.column)
        .addColumn("kind", "text", (c) => c.notNull())
        // Unique, so that a replayed purchase or a second settlement can never be written twice, even if
        // the application-level check were bypassed. NULLs do not collide in either dialect.
        .addColumn("idempotency_key", "text", (c) => c.unique())
        .addColumn("job_id", "text")
        .addColumn("memo", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("ledger_transactions_job")
        .on("ledger_transactions")
        .column("job_id")
        .execute();
      await db.schema
        .createTable("ledger_postings")
        .addColumn("id", serial.type, serial.column)
        .addColumn("transaction_id", serial.type, (c) => c.notNull().references("ledger_transactions.id"))
        .addColumn("account", "text", (c) => c.notNull().references("ledger_accounts.name"))
        .addColumn("amount", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("ledger_postings_account")
        .on("ledger_postings")
        .column("account")
        .execute();
      await db.schema
        .createIndex("ledger_postings_transaction")
        .on("ledger_postings")
        .column("transaction_id")
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        "ledger_postings",
        "ledger_transactions",
        "ledger_accounts",
        "events",
        "jobs",
        "worker_tokens",
        "workers",
        "settings",
        "api_keys",
        "accounts",
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/**
 * A running balance on every ledger account, so that reading one (and a hold's funds check) costs
 * O(1) rather than a sum over the account's whole history. Filled from the postings already written.
 */
const ledgerBalances: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("ledger_accounts")
      .addColumn("balance", "bigint", (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`update ledger_accounts set balance = coalesce(
      (select sum(amount) from ledger_postings where ledger_postings.account = ledger_accounts.name), 0)`.execute(
      db,
    );
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("ledger_accounts").dropColumn("balance").execute();
  },
};

/**
 * The node's migrations for one dialect, in order. Names sort lexically (Kysely applies them in name
 * order); never rename or edit a released migration, add a new one.
 *
 * @example
 * ```ts
 * const migrator = new Migrator({ db, provider: nodeMigrations("sqlite") });
 * await migrator.migrateToLatest();
 * ```
 */
export function nodeMigrations(dialect: DatabaseDialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return { "0001_initial": initial(dialect), "0002_ledger_balances": ledgerBalances };
    },
  };
}
