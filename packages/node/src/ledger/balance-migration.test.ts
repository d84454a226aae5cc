import { Migrator } from "kysely/migration";
import { describe, expect, it } from "vitest";
import { nodeMigrations } from "../storage/migrations.js";
import { createStore } from "../storage/store.js";
import { openTestDatabase } from "../storage/test-database.js";
import { checkLedger } from "./check-ledger.js";
import { createLedger } from "./ledger.js";

describe.each(["sqlite", "postgres"] as const)("migration 0002_ledger_balances on %s", (dialect) => {
  it("fills each account's running balance from the postings already written", async () => {
    const test = await openTestDatabase(dialect);
    try {
      const store = createStore(test.database);
      const ledger = createLedger(test.database);
      const { id } = await store.accounts.createAccount({ name: "before-the-migration" });
      await ledger.grant(id, 50, { memo: "m" });
      await ledger.hold("j", id, 20);
      await ledger.refund("j", { reason: "r" });
      await ledger.hold("k", id, 15);
      const migrator = new Migrator({ db: test.database.db, provider: nodeMigrations(dialect) });
      expect((await migrator.migrateDown()).error).toBeUndefined();
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      expect(await ledger.accountBalances()).toEqual([
        { account: "hold:j", kind: "hold", balance: 0 },
        { account: "hold:k", kind: "hold", balance: 15 },
        { account: "issuance", kind: "issuance", balance: -50 },
        { account: `user:${id}`, kind: "user", balance: 35 },
      ]);
      expect(await checkLedger(ledger)).toEqual([]);
    } finally {
      await test.dispose();
    }
  });
});
