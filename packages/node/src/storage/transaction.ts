/**
 * One way to run a read-modify-write unit of work on either dialect, with the locking each needs.
 *
 * @packageDocumentation
 */

import { CompiledQuery, type Kysely } from "kysely";
import { isTransientConflict, toStorageError } from "./database-errors.js";
import type { NodeDatabase } from "./open-database.js";
import type { DatabaseSchema } from "./schema.js";

const MAX_ATTEMPTS = 5;

const BEGIN_IMMEDIATE = CompiledQuery.raw("begin immediate");
const COMMIT = CompiledQuery.raw("commit");
const ROLLBACK = CompiledQuery.raw("rollback");

/**
 * Runs `work` in one database transaction and returns its result; any throw rolls everything back.
 *
 * - SQLite: `BEGIN IMMEDIATE`, so the write lock is taken before the first read. A deferred transaction
 *   that reads a balance and then writes could fail with SQLITE_BUSY when another process wrote in
 *   between; taking the lock first makes read-check-write atomic across processes.
 * - PostgreSQL: READ COMMITTED; `work` takes row locks (`SELECT … FOR UPDATE`) on what it must
 *   serialise. Deadlocks and serialization failures are retried (the whole `work` runs again).
 *
 * Driver failures meaning "database not reachable" come out as `database_unavailable`
 * {@link StorageError}s; errors thrown by `work` come out unchanged.
 *
 * `work` must use only the handle it is given: on SQLite the one connection is held for the duration.
 *
 * @example
 * ```ts
 * const id = await runTransaction(database, async (trx) => {
 *   await lockRows(database.dialect, trx, ["user:a"]);
 *   return insertPostings(trx, …);
 * });
 * ```
 */
export async function runTransaction<T>(
  database: NodeDatabase,
  work: (trx: Kysely<DatabaseSchema>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (database.dialect === "postgres") return await database.db.transaction().execute(work);
      return await database.db.connection().execute(async (connection) => {
        await connection.executeQuery(BEGIN_IMMEDIATE);
        try {
          const result = await work(connection);
          await connection.executeQuery(COMMIT);
          return result;
        } catch (error) {
          try {
            await connection.executeQuery(ROLLBACK);
          } catch {
            // The transaction may already be gone (connection closed); the original error matters.
          }
          throw error;
        }
      });
    } catch (error) {
      if (attempt < MAX_ATTEMPTS && isTransientConflict(error)) continue;
      throw toStorageError(error);
    }
  }
}

/**
 * Runs a single read or write outside an explicit transaction, mapping driver failures like
 * {@link runTransaction} does.
 *
 * @example
 * ```ts
 * const rows = await runQuery(() => database.db.selectFrom("jobs").selectAll().execute());
 * ```
 */
export async function runQuery<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    throw toStorageError(error);
  }
}
