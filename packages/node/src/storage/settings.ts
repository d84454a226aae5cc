/**
 * Small key/value node state.
 *
 * @packageDocumentation
 */

import type { NodeDatabase } from "./open-database.js";
import { runQuery } from "./transaction.js";
import { requireText } from "./values.js";

/**
 * Node state that fits in a string: the admin token's hash, treasury addresses, the chain cursor….
 * Values are opaque text; store JSON if you need structure.
 *
 * @example
 * ```ts
 * await store.settings.setSetting("treasury.address", "9xQ…");
 * const address = await store.settings.getSetting("treasury.address"); // "9xQ…" | undefined
 * ```
 */
export interface SettingsRepository {
  getSetting(key: string): Promise<string | undefined>;
  /** Inserts or replaces. */
  setSetting(key: string, value: string): Promise<void>;
}

/**
 * The settings repository over an open database.
 *
 * @example
 * ```ts
 * const settings = createSettingsRepository(database, Date.now);
 * ```
 */
export function createSettingsRepository(database: NodeDatabase, now: () => number): SettingsRepository {
  const { db } = database;
  return {
    async getSetting(key) {
      requireText(key, "key", 200);
      const row = await runQuery(() =>
        db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst(),
      );
      return row?.value;
    },
    async setSetting(key, value) {
      requireText(key, "key", 200);
      if (typeof value !== "string") requireText(value, "value");
      const at = now();
      // ON CONFLICT … DO UPDATE is spelled the same in SQLite (3.24+) and PostgreSQL.
      await runQuery(() =>
        db
          .insertInto("settings")
          .values({ key, value, updated_at: at })
          .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: at }))
          .execute(),
      );
    },
  };
}
