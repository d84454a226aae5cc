/**
 * Opens the node's database (SQLite by default, PostgreSQL for replicas sharing one state) and migrates
 * it to the latest schema.
 *
 * @packageDocumentation
 */

import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import { toStorageError } from "./database-errors.js";
import { StorageError } from "./errors.js";
import { nodeMigrations } from "./migrations.js";
import type { DatabaseSchema } from "./schema.js";
import {
  startWalCheckpointer,
  WAL_AUTOCHECKPOINT_BOUND_PAGES,
  type WalCheckpointer,
} from "./wal-checkpointer.js";

/**
 * The two supported databases.
 *
 * @example
 * ```ts
 * const dialect: DatabaseDialect = database.dialect; // "sqlite" | "postgres"
 * ```
 */
export type DatabaseDialect = "sqlite" | "postgres";

/**
 * Where the database lives.
 *
 * @example
 * ```ts
 * await openDatabase({ dataDir: "./data" });                             // ./data/peercycles.sqlite
 * await openDatabase({ url: "postgres://node:secret@db:5432/peercycles" }); // shared by replicas
 * ```
 */
export interface OpenDatabaseOptions {
  /** Directory for the default SQLite file `peercycles.sqlite`; created if missing. */
  readonly dataDir?: string;
  /**
   * `postgres://…` / `postgresql://…` for PostgreSQL, a file path (or `:memory:`) for SQLite. Wins over
   * `dataDir`.
   */
  readonly url?: string;
  /**
   * PostgreSQL only: the schema to use (set as `search_path` on every connection). It must exist. Lets
   * several nodes, or test files, share one database without seeing each other.
   */
  readonly postgresSchema?: string;
  /** PostgreSQL only: connection pool size (default 10). */
  readonly poolSize?: number;
}

/**
 * An open, migrated database.
 *
 * @example
 * ```ts
 * const database = await openDatabase({ dataDir });
 * try { const store = createStore(database); } finally { await database.close(); }
 * ```
 */
export interface NodeDatabase {
  /** Which database this is; a few queries (locks, transactions) differ between the two. */
  readonly dialect: DatabaseDialect;
  /** The Kysely handle. Prefer the store and ledger; write ledger rows only through the ledger. */
  readonly db: Kysely<DatabaseSchema>;
  /** Closes the pool or file handle. Idempotent. */
  close(): Promise<void>;
}

const SAFE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function parseInt8(value: string): number {
  // pg returns BIGINT as a string by default; every bigint we store is a credit amount, a token count or
  // a timestamp, all of which must be safe integers. Refusing the rest beats silently rounding money.
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed))
    throw new RangeError(`bigint ${value} is outside the safe integer range`);
  return parsed;
}

function postgresPool(options: OpenDatabaseOptions, url: string): pg.Pool {
  const schema = options.postgresSchema;
  if (schema !== undefined && !SAFE_IDENTIFIER.test(schema)) {
    throw new StorageError("invalid_argument", "postgresSchema must be a plain SQL identifier", {
      details: { postgresSchema: schema },
    });
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // Per pool, not pg.types.setTypeParser: that would change every other pg user in the process.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === 20 ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, it would crash the process.
  // The next query then fails and is reported as database_unavailable.
  pool.on("error", () => {});
  return pool;
}

function sqliteDatabase(path: string): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  // WAL: readers never block the writer. busy_timeout: a second process waits for the write lock rather
  // than failing at once. foreign_keys: SQLite leaves them off unless asked. Checkpoints run on a worker
  // thread (see startWalCheckpointer): the connection's own, on the event loop, would block a commit every
  // few dozen jobs for a checkpoint's fsyncs (milliseconds to tens of them); it stays as the log's bound.
  if (path !== ":memory:") {
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_BOUND_PAGES}`);
  }
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("synchronous = NORMAL");
  return sqlite;
}

/** Most distinct statements kept prepared (queries with `in (?, ?, …)` differ by their list length). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The handle Kysely gets: better-sqlite3 with its statements prepared once per SQL text. Kysely's SQLite
 * driver prepares every query it runs; preparing (parsing and planning) costs more than running most of
 * ours. Reusing a statement is safe because Kysely runs one query at a time on its single connection.
 */
function withStatementCache(sqlite: Database.Database): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = sqlite.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

function resolveTarget(options: OpenDatabaseOptions): { dialect: DatabaseDialect; location: string } {
  const url = options.url;
  if (url !== undefined && url !== "") {
    if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: "postgres", location: url };
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
      throw new StorageError(
        "unsupported_database_url",
        "url must be postgres://…, postgresql://… or a SQLite file path",
        { details: { scheme: url.slice(0, url.indexOf(":")) } },
      );
    }
    return { dialect: "sqlite", location: url };
  }
  if (options.dataDir === undefined || options.dataDir === "") {
    throw new StorageError("invalid_argument", "openDatabase needs a dataDir or a url");
  }
  return { dialect: "sqlite", location: join(options.dataDir, "peercycles.sqlite") };
}

/**
 * Opens the database and runs every pending migration (Kysely's `Migrator`; on PostgreSQL it takes an
 * advisory lock, so replicas starting together migrate once). SQLite files are opened in WAL mode,
 * checkpointed by a worker thread (see {@link startWalCheckpointer}).
 *
 * SQLite: open a file once per process and share the handle. Kysely serialises its queries and
 * transactions; two handles in one process would not be: better-sqlite3 waits for a lock synchronously,
 * blocking the very event loop the other handle needs to commit (a deadlock until `busy_timeout`, then
 * `database_unavailable`). Separate processes on one file are fine: each waits up to 5 s for the write
 * lock. Several replicas on several hosts: use PostgreSQL.
 *
 * @throws {@link StorageError} `database_unavailable` (cannot connect or open; retryable),
 *   `unsupported_database_url`, `invalid_argument`, `migration_failed`.
 *
 * @example
 * ```ts
 * const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir: "./data" });
 * const store = createStore(database);
 * const ledger = createLedger(database);
 * ```
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<NodeDatabase> {
  const target = resolveTarget(options);
  let db: Kysely<DatabaseSchema>;
  try {
    db =
      target.dialect === "postgres"
        ? new Kysely<DatabaseSchema>({
            dialect: new PostgresDialect({ pool: postgresPool(options, target.location) }),
          })
        : new Kysely<DatabaseSchema>({
            dialect: new SqliteDialect({ database: withStatementCache(sqliteDatabase(target.location)) }),
          });
  } catch (error) {
    throw toStorageError(error);
  }
  const migrator = new Migrator({ db, provider: nodeMigrations(target.dialect) });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    await db.destroy().catch(() => {});
    const mapped = toStorageError(error);
    if (StorageError.isInstance(mapped)) throw mapped;
    throw new StorageError("migration_failed", "migrating the database to the latest schema failed", {
      cause: error,
    });
  }
  let checkpointer: WalCheckpointer | undefined;
  if (target.dialect === "sqlite" && target.location !== ":memory:") {
    try {
      checkpointer = startWalCheckpointer(target.location);
    } catch (error) {
      await db.destroy().catch(() => {});
      throw toStorageError(error);
    }
  }
  let closed: Promise<void> | undefined;
  return {
    dialect: target.dialect,
    db,
    close() {
      // The thread's connection first: the last connection to close folds the log into the file.
      closed ??= (async () => {
        await checkpointer?.close();
        await db.destroy();
      })();
      return closed;
    },
  };
}
