/**
 * Classifies driver errors (better-sqlite3, pg) so that callers see a {@link StorageError} with a stable
 * code rather than a driver-specific shape.
 *
 * @packageDocumentation
 */

import { StorageError } from "./errors.js";

function driverCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * `true` for a unique or primary-key violation (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE /
 * _PRIMARYKEY).
 *
 * @example
 * ```ts
 * try { await insert(); } catch (error) { if (isUniqueViolation(error)) return existing(); throw error; }
 * ```
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = driverCode(error);
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/**
 * `true` for a PostgreSQL serialization failure or deadlock: the transaction was rolled back and may
 * simply be run again.
 *
 * @example
 * ```ts
 * if (isTransientConflict(error)) retry();
 * ```
 */
export function isTransientConflict(error: unknown): boolean {
  const code = driverCode(error);
  return code === "40001" || code === "40P01";
}

const UNAVAILABLE_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EPIPE",
  "EAI_AGAIN",
]);

/**
 * `true` when the database could not be reached or used right now (connection refused or lost, server
 * shutting down, too many connections, SQLite busy/locked/unopenable, or the handle was closed).
 *
 * @example
 * ```ts
 * if (isUnavailable(error)) throw new StorageError("database_unavailable", "…", { cause: error });
 * ```
 */
export function isUnavailable(error: unknown): boolean {
  const code = driverCode(error);
  if (code !== undefined) {
    if (UNAVAILABLE_NODE_CODES.has(code)) return true;
    // PostgreSQL class 08 (connection exception), 57P0x (shutdown), 53300 (too many connections).
    if (code.startsWith("08") || code.startsWith("57P") || code === "53300") return true;
    if (/^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|READONLY|FULL|NOTADB|CORRUPT)/.test(code)) return true;
  }
  const message = error instanceof Error ? error.message : "";
  return (
    /database connection is not open/i.test(message) ||
    /Connection terminated/i.test(message) ||
    /Cannot use a pool after calling end/i.test(message) ||
    /driver has already been destroyed/i.test(message)
  );
}

/**
 * Wraps a driver failure that means "the database is not available" in a `database_unavailable`
 * {@link StorageError}; anything else (including our own typed errors) is returned unchanged.
 *
 * @example
 * ```ts
 * try { await query(); } catch (error) { throw toStorageError(error); }
 * ```
 */
export function toStorageError(error: unknown): unknown {
  if (StorageError.isInstance(error)) return error;
  if (isUnavailable(error)) {
    return new StorageError(
      "database_unavailable",
      `database unavailable: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return error;
}
