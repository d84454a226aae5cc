/**
 * Every failure raised by the storage layer is a {@link StorageError} with a stable `code`. Callers branch
 * on `code`, never on `message`.
 *
 * @packageDocumentation
 */

const MARKER = Symbol.for("peercycles.node.storage.error");

/**
 * Base URL of the error reference; each error links to its code's anchor.
 *
 * @example
 * ```ts
 * `${STORAGE_ERROR_DOCS_URL}-database-unavailable`;
 * ```
 */
export const STORAGE_ERROR_DOCS_URL =
  "https://github.com/peercycles/peercycles/tree/main/packages/node#storage-error-codes";

/**
 * Stable storage error codes.
 *
 * - `database_unavailable`: the database could not be reached, is locked or busy, or was closed.
 *   Retryable: the same call may succeed later. Nothing was written.
 * - `unsupported_database_url`: `url` is neither a `postgres://` URL nor a file path.
 * - `migration_failed`: migrating the schema to the latest version failed (see `cause`).
 * - `invalid_argument`: an argument has the wrong type or shape; the message names it.
 * - `not_found`: the row to update does not exist.
 * - `already_exists`: a row with that id exists already.
 * - `job_already_finished`: `finishJob` on a job that is no longer running.
 * - `missing_test_database`: `PEER_TEST_POSTGRES_URL` is unset (tests only).
 *
 * @example
 * ```ts
 * if (StorageError.isInstance(error) && error.code === "database_unavailable") retryLater();
 * ```
 */
export type StorageErrorCode =
  | "database_unavailable"
  | "unsupported_database_url"
  | "migration_failed"
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "job_already_finished"
  | "missing_test_database";

/**
 * Options accepted by the {@link StorageError} constructor.
 *
 * @example
 * ```ts
 * new StorageError("not_found", "no job j_1", { details: { jobId: "j_1" } });
 * ```
 */
export interface StorageErrorOptions {
  /** The underlying failure (a driver error), kept for debugging. */
  cause?: unknown;
  /** Log-safe structured facts (ids, counts); never secrets such as API keys. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Error thrown by the storage layer. `isInstance` checks a `Symbol.for` marker, so it answers `true`
 * across duplicate installs of the package.
 *
 * @example
 * ```ts
 * try { await store.jobs.finishJob(id, result); }
 * catch (error) { if (StorageError.isInstance(error) && error.code === "job_already_finished") return; throw error; }
 * ```
 */
export class StorageError extends Error {
  /** Stable snake_case code. */
  readonly code: StorageErrorCode;
  /** Structured, log-safe facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: StorageErrorCode, message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StorageError";
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** `true` when retrying the same call later may succeed. */
  get retryable(): boolean {
    return this.code === "database_unavailable";
  }

  /** Link to this code's entry in the documentation. */
  get docsUrl(): string {
    return `${STORAGE_ERROR_DOCS_URL}-${this.code.replaceAll("_", "-")}`;
  }

  /**
   * `true` for any storage error from any copy of this package.
   *
   * @example
   * ```ts
   * if (StorageError.isInstance(error)) console.log(error.code);
   * ```
   */
  static isInstance(value: unknown): value is StorageError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
