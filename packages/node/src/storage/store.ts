/**
 * The node's repositories, bound to one database.
 *
 * @packageDocumentation
 */

import { type AccountRepository, createAccountRepository } from "./accounts.js";
import { createEventRepository, type EventRepository } from "./events.js";
import { createJobRepository, type JobRepository } from "./jobs.js";
import type { NodeDatabase } from "./open-database.js";
import { createSettingsRepository, type SettingsRepository } from "./settings.js";
import { createWorkerRepository, type WorkerRepository } from "./workers.js";

/**
 * Options of {@link createStore}.
 *
 * @example
 * ```ts
 * createStore(database, { now: () => fixedClock });
 * ```
 */
export interface StoreOptions {
  /** Clock for the timestamps the store sets itself (`createdAt` of accounts, `updatedAt`…). Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Everything the node keeps, except credits (see the ledger).
 *
 * @example
 * ```ts
 * const store = createStore(database);
 * const { id, apiKey } = await store.accounts.createAccount({ name: "alice" });
 * ```
 */
export interface Store {
  readonly database: NodeDatabase;
  readonly accounts: AccountRepository;
  readonly settings: SettingsRepository;
  readonly workers: WorkerRepository;
  readonly jobs: JobRepository;
  readonly events: EventRepository;
}

/**
 * Binds the repositories to an open database. Cheap: holds no state beyond the database handle.
 *
 * @example
 * ```ts
 * const database = await openDatabase({ dataDir: "./data" });
 * const store = createStore(database);
 * await store.settings.setSetting("admin.tokenHash", hash);
 * ```
 */
export function createStore(database: NodeDatabase, options: StoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  return {
    database,
    accounts: createAccountRepository(database, now),
    settings: createSettingsRepository(database, now),
    workers: createWorkerRepository(database, now),
    jobs: createJobRepository(database, now),
    events: createEventRepository(database),
  };
}
