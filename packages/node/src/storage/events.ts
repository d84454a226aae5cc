/**
 * The append-only event log the dashboard tails and auditors read.
 *
 * @packageDocumentation
 */

import { StorageError } from "./errors.js";
import type { NodeDatabase } from "./open-database.js";
import { runQuery } from "./transaction.js";
import { readInteger, requireInteger, requireText } from "./values.js";

/**
 * Any value `JSON.stringify` round-trips.
 *
 * @example
 * ```ts
 * const data: JsonValue = { jobId: "j1", credits: 12 };
 * ```
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * One stored event. `id` increases with every append, so it doubles as a cursor.
 *
 * @example
 * ```ts
 * const next = await store.events.listEvents({ afterId: last.id, limit: 100 });
 * ```
 */
export interface NodeEvent {
  readonly id: number;
  readonly type: string;
  readonly data: JsonValue;
  readonly at: number;
}

/**
 * Events: append and read, never update or delete.
 *
 * @example
 * ```ts
 * await store.events.appendEvent({ type: "job.finished", data: { jobId, status }, at: Date.now() });
 * ```
 */
export interface EventRepository {
  appendEvent(event: {
    readonly type: string;
    readonly data: JsonValue;
    readonly at: number;
  }): Promise<NodeEvent>;
  /** Events with `id > afterId` (default: from the start), oldest first; `limit` 1..1000. */
  listEvents(options: { readonly afterId?: number; readonly limit: number }): Promise<readonly NodeEvent[]>;
}

/**
 * The event repository over an open database.
 *
 * @example
 * ```ts
 * const events = createEventRepository(database);
 * ```
 */
export function createEventRepository(database: NodeDatabase): EventRepository {
  const { db } = database;
  return {
    async appendEvent(event) {
      const type = requireText(event?.type, "type", 200);
      const at = requireInteger(event.at, "at", 0);
      let data: string | undefined;
      try {
        data = JSON.stringify(event.data);
      } catch (error) {
        throw new StorageError("invalid_argument", "data must be JSON-serialisable", {
          details: { argument: "data" },
          cause: error,
        });
      }
      if (data === undefined) {
        throw new StorageError("invalid_argument", "data must be JSON-serialisable", {
          details: { argument: "data" },
        });
      }
      const text = data;
      const row = await runQuery(() =>
        db.insertInto("events").values({ type, data: text, at }).returning("id").executeTakeFirstOrThrow(),
      );
      return { id: readInteger(row.id, "id"), type, data: JSON.parse(text) as JsonValue, at };
    },
    async listEvents(options) {
      const limit = requireInteger(options?.limit, "limit", 1, 1000);
      const afterId = options.afterId === undefined ? 0 : requireInteger(options.afterId, "afterId", 0);
      const rows = await runQuery(() =>
        db.selectFrom("events").selectAll().where("id", ">", afterId).orderBy("id").limit(limit).execute(),
      );
      return rows.map((row) => ({
        id: readInteger(row.id, "id"),
        type: row.type,
        data: JSON.parse(row.data) as JsonValue,
        at: readInteger(row.at, "at"),
      }));
    },
  };
}
