import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finishJobRecord, insertJob, type JobResult, type NewJob } from "../storage/jobs.js";
import { createStore, type Store } from "../storage/store.js";
import { openTestDatabase, type TestDatabase } from "../storage/test-database.js";
import { checkLedger } from "./check-ledger.js";
import { LedgerError } from "./errors.js";
import { createLedger, type Ledger } from "./ledger.js";

/**
 * The orchestrator writes a job's row with its hold, and its final state with its capture, through
 * `alongside`: one database transaction each, so a failure between the two halves leaves neither.
 */
describe.each(["sqlite", "postgres"] as const)("ledger operations with alongside on %s", (dialect) => {
  let test: TestDatabase;
  let store: Store;
  let ledger: Ledger;
  let accountId: string;
  beforeAll(async () => {
    test = await openTestDatabase(dialect);
    store = createStore(test.database);
    ledger = createLedger(test.database);
    accountId = (await store.accounts.createAccount({ name: "carol" })).id;
    await store.workers.upsertWorker({
      id: "w",
      name: "w",
      tier: "open",
      model: "m",
      priceCredits: 1,
      signingPublicKey: "00",
    });
    await ledger.grant(accountId, 100, { memo: "test credits" });
  });
  afterAll(async () => {
    await test?.dispose();
  });

  const newJob = (id: string, maxCredits: number): NewJob => ({
    id,
    accountId,
    tier: "open",
    model: "m",
    workerId: "w",
    maxCredits,
    seed: null,
    stream: false,
    requestHash: "00",
    createdAt: 1,
  });
  const succeeded = (priceCredits: number): JobResult => ({
    status: "succeeded",
    priceCredits,
    promptTokens: 1,
    completionTokens: 1,
    outputHash: "00",
    receipt: "{}",
    error: null,
    finishedAt: 2,
  });

  async function snapshot() {
    return {
      balances: await ledger.accountBalances(),
      transactions: await ledger.listTransactions({ limit: 1000 }),
      jobs: await store.jobs.listJobs({ limit: 1000 }),
    };
  }

  /** Runs `action`, expects it to throw `expected` itself, and the database to be as it was. */
  async function expectNothingWritten(action: () => Promise<unknown>, expected: unknown) {
    const before = await snapshot();
    await expect(action()).rejects.toBe(expected);
    expect(await snapshot()).toEqual(before);
  }

  it("commits a hold and its job row together", async () => {
    await ledger.hold("j-ok", accountId, 30, { alongside: (trx) => insertJob(trx, newJob("j-ok", 30)) });
    expect((await store.jobs.getJob("j-ok"))?.status).toBe("running");
    expect(await ledger.balance("hold:j-ok")).toBe(30);
    await ledger.capture("j-ok", {
      credits: 12,
      workerId: "w",
      feeBps: 0,
      alongside: (trx) => finishJobRecord(trx, "j-ok", succeeded(12)),
    });
    expect((await store.jobs.getJob("j-ok"))?.status).toBe("succeeded");
    expect((await ledger.holdOf("j-ok"))?.settlement).toBe("capture");
    expect(await ledger.balance(`user:${accountId}`)).toBe(88);
    expect(await checkLedger(ledger)).toEqual([]);
  });

  it("a failure after the job row is written leaves neither the hold nor the row", async () => {
    const injected = new Error("crash between the two halves");
    await expectNothingWritten(
      () =>
        ledger.hold("j-crash", accountId, 10, {
          alongside: async (trx) => {
            await insertJob(trx, newJob("j-crash", 10));
            throw injected;
          },
        }),
      injected,
    );
    expect(await ledger.holdOf("j-crash")).toBeUndefined();
    expect(await store.jobs.getJob("j-crash")).toBeUndefined();
  });

  it("a job row that cannot be written takes the hold back with it, and its error comes out as it was", async () => {
    await ledger.hold("j-dup", accountId, 5, { alongside: (trx) => insertJob(trx, newJob("j-dup", 5)) });
    const error = await ledger
      .hold("j-dup-2", accountId, 5, { alongside: (trx) => insertJob(trx, newJob("j-dup", 5)) })
      .catch((e: unknown) => e);
    expect((error as { code?: unknown }).code).toBe("already_exists");
    expect(await ledger.holdOf("j-dup-2")).toBeUndefined();
    await ledger.refund("j-dup", {
      reason: "test",
      alongside: (trx) =>
        finishJobRecord(trx, "j-dup", { ...succeeded(0), status: "failed", priceCredits: null }),
    });
  });

  it("a refused hold never runs alongside", async () => {
    let ran = false;
    const error = await ledger
      .hold("j-poor", accountId, 10_000, {
        alongside: async () => {
          ran = true;
        },
      })
      .catch((e: unknown) => e);
    expect(LedgerError.isInstance(error) && error.code).toBe("insufficient_credits");
    expect(ran).toBe(false);
  });

  it("a failure while finishing the job leaves the capture undone and the job running", async () => {
    await ledger.hold("j-open", accountId, 20, { alongside: (trx) => insertJob(trx, newJob("j-open", 20)) });
    const injected = new Error("crash between the two halves");
    await expectNothingWritten(
      () =>
        ledger.capture("j-open", {
          credits: 7,
          workerId: "w",
          feeBps: 0,
          alongside: async (trx) => {
            await finishJobRecord(trx, "j-open", succeeded(7));
            throw injected;
          },
        }),
      injected,
    );
    expect((await store.jobs.getJob("j-open"))?.status).toBe("running");
    expect(await ledger.holdOf("j-open")).toMatchObject({ settlement: null, balance: 20 });
    // A job another replica already finished is not captured either.
    await store.jobs.finishJob("j-open", { ...succeeded(0), status: "cancelled", priceCredits: null });
    const error = await ledger
      .capture("j-open", {
        credits: 7,
        workerId: "w",
        feeBps: 0,
        alongside: (trx) => finishJobRecord(trx, "j-open", succeeded(7)),
      })
      .catch((e: unknown) => e);
    expect((error as { code?: unknown }).code).toBe("job_already_finished");
    expect(await ledger.holdOf("j-open")).toMatchObject({ settlement: null, balance: 20 });
    await ledger.refund("j-open", { reason: "cancelled" });
    expect(await checkLedger(ledger)).toEqual([]);
  });
});
