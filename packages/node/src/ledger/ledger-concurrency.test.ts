import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeDatabase } from "../storage/open-database.js";
import { createStore } from "../storage/store.js";
import { openTestDatabase, type TestDatabase } from "../storage/test-database.js";
import { checkLedger } from "./check-ledger.js";
import { LedgerError } from "./errors.js";
import { createLedger } from "./ledger.js";

/**
 * Two handles on one database stand for two orchestrator replicas (two pools on PostgreSQL, two
 * better-sqlite3 connections to one WAL file on SQLite). Their operations race for real.
 */
describe.each(["postgres", "sqlite"] as const)("ledger concurrency on %s", (dialect) => {
  let test: TestDatabase;
  let replica: NodeDatabase;
  beforeAll(async () => {
    test = await openTestDatabase(dialect);
    replica = await test.openReplica();
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it("N parallel holds from two replicas against one account never overdraw it", async () => {
    const store = createStore(test.database);
    const { id } = await store.accounts.createAccount({ name: "racer" });
    const ledgers = [createLedger(test.database), createLedger(replica)];
    await ledgers[0]?.purchase(id, 100, { paymentReference: "race-fund" });
    const attempts = 40; // 40 × 7 = 280 credits asked for, 100 available: 14 fit
    const outcomes = await Promise.allSettled(
      Array.from({ length: attempts }, (_, index) => ledgers[index % 2]?.hold(`race-${index}`, id, 7)),
    );
    const held = outcomes.filter((outcome) => outcome.status === "fulfilled").length;
    const refused = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason] : []));
    expect(held).toBe(14);
    expect(refused).toHaveLength(attempts - 14);
    for (const reason of refused) {
      expect(LedgerError.isInstance(reason), String(reason)).toBe(true);
      expect((reason as LedgerError).code).toBe("insufficient_credits");
    }
    expect(await ledgers[1]?.balance(`user:${id}`)).toBe(2);
    expect(await checkLedger(test.database)).toEqual([]);
  });

  it("racing settlements of one job settle it exactly once", async () => {
    const store = createStore(test.database);
    const { id } = await store.accounts.createAccount({ name: "settler" });
    await store.workers.upsertWorker({
      id: "wc",
      name: "wc",
      tier: "open",
      model: "m",
      priceCredits: 1,
      signingPublicKey: "00",
    });
    const [first, second] = [createLedger(test.database), createLedger(replica)];
    await first.purchase(id, 50, { paymentReference: "settle-fund" });
    await first.hold("settle-job", id, 50);
    const outcomes = await Promise.allSettled([
      first.capture("settle-job", { credits: 20, workerId: "wc", feeBps: 0 }),
      second.refund("settle-job", { reason: "timed_out" }),
      second.capture("settle-job", { credits: 30, workerId: "wc", feeBps: 0 }),
      first.refund("settle-job", { reason: "cancelled" }),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === "rejected")
        expect(outcome.reason).toMatchObject({ code: "job_already_settled" });
    }
    expect(await first.balance("hold:settle-job")).toBe(0);
    expect(await checkLedger(test.database)).toEqual([]);
  });

  it("the same payment reference from both replicas at once credits once", async () => {
    const store = createStore(test.database);
    const { id } = await store.accounts.createAccount({ name: "payer" });
    const [first, second] = [createLedger(test.database), createLedger(replica)];
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        (index % 2 === 0 ? first : second).purchase(id, 25, { paymentReference: "same-signature" }),
      ),
    );
    expect(new Set(results.map((transaction) => transaction.id)).size).toBe(1);
    expect(await first.balance(`user:${id}`)).toBe(25);
  });
});
