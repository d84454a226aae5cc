/**
 * Storage for the reference node: one schema and one set of migrations over SQLite (default, embedded)
 * or PostgreSQL (several orchestrator replicas sharing one state), and the repositories the node uses.
 * Credits are not here: see `../ledger`.
 *
 * @packageDocumentation
 */

export type { Account, AccountRepository, CreatedAccount } from "./accounts.js";
export { isTransientConflict, isUnavailable, isUniqueViolation, toStorageError } from "./database-errors.js";
export {
  STORAGE_ERROR_DOCS_URL,
  StorageError,
  type StorageErrorCode,
  type StorageErrorOptions,
} from "./errors.js";
export type { EventRepository, JsonValue, NodeEvent } from "./events.js";
export {
  FINISHED_JOB_STATUSES,
  type FinishedJobStatus,
  finishJobRecord,
  insertJob,
  type Job,
  type JobRepository,
  type JobResult,
  type JobStatus,
  type JobValidation,
  type NewJob,
  type ValidationStatus,
} from "./jobs.js";
export { nodeMigrations } from "./migrations.js";
export {
  type DatabaseDialect,
  type NodeDatabase,
  type OpenDatabaseOptions,
  openDatabase,
} from "./open-database.js";
export type { DatabaseSchema } from "./schema.js";
export { generateSecret, hashSecret } from "./secrets.js";
export type { SettingsRepository } from "./settings.js";
export { createStore, type Store, type StoreOptions } from "./store.js";
export {
  openTestDatabase,
  TEST_POSTGRES_URL_VARIABLE,
  type TestDatabase,
  testPostgresUrl,
} from "./test-database.js";
export { runQuery, runTransaction } from "./transaction.js";
export { readInteger } from "./values.js";
export {
  INITIAL_REPUTATION,
  MAX_REPUTATION,
  THROUGHPUT_SMOOTHING,
  WORKER_TIERS,
  type Worker,
  type WorkerRegistration,
  type WorkerRepository,
  type WorkerTier,
  type WorkerTokenRecord,
} from "./workers.js";
