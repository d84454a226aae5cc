/**
 * Isolated databases for tests, on either dialect.
 *
 * @packageDocumentation
 */

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { StorageError } from "./errors.js";
import { type DatabaseDialect, type NodeDatabase, openDatabase } from "./open-database.js";

/** The environment variable naming the PostgreSQL server tests run against. */
export const TEST_POSTGRES_URL_VARIABLE = "PEER_TEST_POSTGRES_URL";

/**
 * A database for one test file, and how to throw it away.
 *
 * @example
 * ```ts
 * const test = await openTestDatabase("postgres");
 * try { … } finally { await test.dispose(); }
 * ```
 */
export interface TestDatabase {
  readonly database: NodeDatabase;
  /**
   * A second handle on the same data, standing for a second replica; closed by `dispose`. PostgreSQL: a
   * second pool. SQLite: the same handle, because one process must keep one connection per file (see
   * {@link openDatabase}).
   */
  openReplica(): Promise<NodeDatabase>;
  /** Closes every handle and deletes the data (temp dir or schema). */
  dispose(): Promise<void>;
}

/**
 * The PostgreSQL URL tests use, or a `missing_test_database` error explaining how to set it. Tests must
 * fail, not skip, without it: a skipped dialect looks like a passing one.
 *
 * @example
 * ```ts
 * const url = testPostgresUrl(process.env);
 * ```
 */
export function testPostgresUrl(environment: Readonly<Record<string, string | undefined>>): string {
  const url = environment[TEST_POSTGRES_URL_VARIABLE];
  if (url === undefined || url === "") {
    throw new StorageError(
      "missing_test_database",
      `${TEST_POSTGRES_URL_VARIABLE} is not set. The storage and ledger tests run on PostgreSQL as well as SQLite; ` +
        `point it at a server where the user may CREATE SCHEMA, e.g. ` +
        `${TEST_POSTGRES_URL_VARIABLE}=postgres://postgres:postgres@127.0.0.1:5432/postgres ` +
        `(locally: apt-get install postgresql; pg_ctlcluster <version> main start; ` +
        `su postgres -c "psql -c \\"ALTER USER postgres PASSWORD 'postgres'\\"").`,
    );
  }
  return url;
}

/**
 * Opens a fresh, migrated database: SQLite in a new temp directory, or PostgreSQL in a new schema
 * (`pc_test_<random>`) of the server named by `PEER_TEST_POSTGRES_URL`, so test files never see each
 * other's rows.
 *
 * @example
 * ```ts
 * const { database, dispose } = await openTestDatabase("sqlite");
 * ```
 */
export async function openTestDatabase(
  dialect: DatabaseDialect,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): Promise<TestDatabase> {
  const handles: NodeDatabase[] = [];
  if (dialect === "sqlite") {
    const dataDir = await mkdtemp(join(tmpdir(), "peercycles-test-"));
    const database = await openDatabase({ dataDir });
    handles.push(database);
    return {
      database,
      async openReplica() {
        return database;
      },
      async dispose() {
        for (const handle of handles) await handle.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const url = testPostgresUrl(environment);
  const schema = `pc_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const open = () => openDatabase({ url, postgresSchema: schema, poolSize: 12 });
  const database = await open();
  handles.push(database);
  return {
    database,
    async openReplica() {
      const replica = await open();
      handles.push(replica);
      return replica;
    },
    async dispose() {
      for (const handle of handles) await handle.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      try {
        await cleanup.query(`drop schema ${schema} cascade`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
