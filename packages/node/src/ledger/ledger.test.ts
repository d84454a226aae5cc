import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore, type Store } from "../storage/store.js";
import { openTestDatabase, type TestDatabase } from "../storage/test-database.js";
import { checkLedger } from "./check-ledger.js";
import { LedgerError } from "./errors.js";
import { createLedger, type Ledger, splitCapture, splitSlash } from "./ledger.js";

describe("splitCapture / splitSlash", () => {
  it("round the fee and the reward down, and always sum to the whole", () => {
    expect(splitCapture(99, 500)).toEqual({ workerCredits: 95, feeCredits: 4 });
    expect(splitCapture(1, 500)).toEqual({ workerCredits: 1, feeCredits: 0 });
    expect(splitCapture(0, 500)).toEqual({ workerCredits: 0, feeCredits: 0 });
    expect(splitCapture(Number.MAX_SAFE_INTEGER, 10_000)).toEqual({
      workerCredits: 0,
      feeCredits: Number.MAX_SAFE_INTEGER,
    });
    expect(splitSlash(1001, 5000)).toEqual({ rewardCredits: 500, burnedCredits: 501 });
  });
});

describe.each(["sqlite", "postgres"] as const)("ledger on %s", (dialect) => {
  let test: TestDatabase;
  let store: Store;
  let ledger: Ledger;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    test = await openTestDatabase(dialect);
    store = createStore(test.database);
    ledger = createLedger(test.database);
    alice = (await store.accounts.createAccount({ name: "alice" })).id;
    bob = (await store.accounts.createAccount({ name: "bob" })).id;
    for (const id of ["w1", "w2"]) {
      await store.workers.upsertWorker({
        id,
        name: id,
        tier: "verified",
        model: "m",
        priceCredits: 1,
        signingPublicKey: "00",
      });
    }
  });
  afterAll(async () => {
    await test?.dispose();
  });

  async function snapshot() {
    return {
      balances: await ledger.accountBalances(),
      transactions: await ledger.listTransactions({ limit: 1000 }),
    };
  }

  async function expectNoWrite(action: () => Promise<unknown>, code: string) {
    const before = await snapshot();
    const error = await action().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(LedgerError.isInstance(error), String(error)).toBe(true);
    expect((error as LedgerError).code).toBe(code);
    expect(await snapshot()).toEqual(before);
    return error as LedgerError;
  }

  it("grants from issuance, idempotently with a key", async () => {
    const first = await ledger.grant(alice, 100, { memo: "welcome", idempotencyKey: `welcome-${alice}` });
    expect(first.postings).toEqual([
      { account: "issuance", amount: -100 },
      { account: `user:${alice}`, amount: 100 },
    ]);
    expect(await ledger.grant(alice, 100, { memo: "welcome", idempotencyKey: `welcome-${alice}` })).toEqual(
      first,
    );
    await expectNoWrite(
      () => ledger.grant(alice, 101, { memo: "welcome", idempotencyKey: `welcome-${alice}` }),
      "idempotency_conflict",
    );
    expect(await ledger.balance(`user:${alice}`)).toBe(100);
    expect(await ledger.balance("issuance")).toBe(-100);
  });

  it("purchases from external:usdc, idempotent on the payment reference", async () => {
    const first = await ledger.purchase(alice, 1000, { paymentReference: "sig-1" });
    const replay = await ledger.purchase(alice, 1000, { paymentReference: "sig-1" });
    expect(replay).toEqual(first);
    await expectNoWrite(
      () => ledger.purchase(bob, 1000, { paymentReference: "sig-1" }),
      "idempotency_conflict",
    );
    expect(await ledger.balance(`user:${alice}`)).toBe(1100);
    expect(await ledger.balance("external:usdc")).toBe(-1000);
  });

  it("rejects bad amounts and unknown accounts without writing", async () => {
    await expectNoWrite(() => ledger.grant(alice, -5, { memo: "x" }), "negative_amount");
    await expectNoWrite(() => ledger.grant(alice, 0, { memo: "x" }), "invalid_amount");
    await expectNoWrite(() => ledger.grant(alice, 1.5, { memo: "x" }), "invalid_amount");
    await expectNoWrite(() => ledger.grant(alice, 2 ** 53, { memo: "x" }), "invalid_amount");
    await expectNoWrite(
      () => ledger.purchase("ghost", 5, { paymentReference: "sig-ghost" }),
      "unknown_account",
    );
    await expectNoWrite(() => ledger.hold("j-ghost", "ghost", 5), "unknown_account");
    await expectNoWrite(() => ledger.depositBond("w-ghost", 5, { reference: "b-ghost" }), "unknown_account");
    await expectNoWrite(() => ledger.grant("has space", 5, { memo: "x" }), "invalid_argument");
    await expect(ledger.balance("nonsense")).rejects.toMatchObject({ code: "unknown_account" });
  });

  it("holds, then captures: worker earnings, treasury fee rounded down, the rest back to the user", async () => {
    await ledger.hold("job-1", alice, 40);
    expect(await ledger.balance(`user:${alice}`)).toBe(1060);
    expect(await ledger.holdOf("job-1")).toEqual({
      jobId: "job-1",
      accountId: alice,
      heldCredits: 40,
      balance: 40,
      settlement: null,
    });
    const capture = await ledger.capture("job-1", { credits: 21, workerId: "w1", feeBps: 1000 });
    expect(capture.postings).toEqual([
      { account: "hold:job-1", amount: -40 },
      { account: "worker:w1:earnings", amount: 19 },
      { account: "treasury:fees", amount: 2 },
      { account: `user:${alice}`, amount: 19 },
    ]);
    expect(await ledger.balance(`user:${alice}`)).toBe(1079);
    expect((await ledger.holdOf("job-1"))?.settlement).toBe("capture");
    await expectNoWrite(
      () => ledger.capture("job-1", { credits: 1, workerId: "w1", feeBps: 0 }),
      "job_already_settled",
    );
    await expectNoWrite(() => ledger.refund("job-1", { reason: "late" }), "job_already_settled");
  });

  it("refunds a failed job in full, exactly once", async () => {
    await ledger.hold("job-2", alice, 50);
    const refund = await ledger.refund("job-2", { reason: "timed_out" });
    expect(refund.memo).toBe("timed_out");
    expect(await ledger.balance("hold:job-2")).toBe(0);
    expect(await ledger.balance(`user:${alice}`)).toBe(1079);
    await expectNoWrite(() => ledger.refund("job-2", { reason: "again" }), "job_already_settled");
  });

  it("refuses a hold beyond the balance with available and required, and a second hold per job", async () => {
    const error = await expectNoWrite(() => ledger.hold("job-3", bob, 1), "insufficient_credits");
    expect(error.details).toMatchObject({ available: 0, required: 1, account: `user:${bob}` });
    await ledger.hold("job-4", alice, 10);
    await expectNoWrite(() => ledger.hold("job-4", alice, 10), "job_already_held");
    await expectNoWrite(
      () => ledger.capture("job-4", { credits: 11, workerId: "w1", feeBps: 0 }),
      "capture_exceeds_hold",
    );
    await expectNoWrite(
      () => ledger.capture("job-4", { credits: 5, workerId: "ghost", feeBps: 0 }),
      "unknown_account",
    );
    await expectNoWrite(
      () => ledger.capture("job-4", { credits: 5, workerId: "w1", feeBps: 10_001 }),
      "invalid_argument",
    );
    await expectNoWrite(
      () => ledger.capture("job-none", { credits: 0, workerId: "w1", feeBps: 0 }),
      "unknown_hold",
    );
    await expectNoWrite(() => ledger.refund("job-none", { reason: "x" }), "unknown_hold");
    // A zero capture is a full refund through the capture path: no zero postings are written.
    const zero = await ledger.capture("job-4", { credits: 0, workerId: "w1", feeBps: 500 });
    expect(zero.postings).toEqual([
      { account: "hold:job-4", amount: -10 },
      { account: `user:${alice}`, amount: 10 },
    ]);
  });

  it("deposits bonds and slashes the whole bond: reward to the challenger, the rest burned", async () => {
    await ledger.depositBond("w2", 1001, { reference: "bond-1" });
    expect(await ledger.depositBond("w2", 1001, { reference: "bond-1" })).toMatchObject({ kind: "bond" });
    expect(await ledger.balance("worker:w2:bond")).toBe(1001);
    const slash = await ledger.slash("w2", {
      jobId: "job-1",
      challengerAccount: `user:${bob}`,
      rewardBps: 5000,
    });
    expect(slash.postings).toEqual([
      { account: "worker:w2:bond", amount: -1001 },
      { account: `user:${bob}`, amount: 500 },
      { account: "burn", amount: 501 },
    ]);
    await expectNoWrite(
      () => ledger.slash("w2", { jobId: "job-1", challengerAccount: `user:${bob}`, rewardBps: 5000 }),
      "already_slashed",
    );
    await expectNoWrite(
      () => ledger.slash("w2", { jobId: "job-2", challengerAccount: `user:${bob}`, rewardBps: 5000 }),
      "no_bond",
    );
    await expectNoWrite(
      () => ledger.slash("w2", { jobId: "job-2", challengerAccount: "burn", rewardBps: 5000 }),
      "unknown_account",
    );
    await ledger.depositBond("w2", 10, { reference: "bond-2" });
    await ledger.slash("w2", { jobId: "job-2", challengerAccount: "worker:w1:earnings", rewardBps: 10_000 });
    expect(await ledger.balance("worker:w1:earnings")).toBe(29);
  });

  it("records payouts from earnings, idempotent on the signature", async () => {
    const payout = await ledger.recordPayout("w1", 29, { signature: "payout-sig-1" });
    expect(await ledger.balance("worker:w1:earnings")).toBe(0);
    // A replay after the earnings are gone still answers with the first transaction.
    expect(await ledger.recordPayout("w1", 29, { signature: "payout-sig-1" })).toEqual(payout);
    await expectNoWrite(
      () => ledger.recordPayout("w1", 1, { signature: "payout-sig-2" }),
      "insufficient_credits",
    );
    await expectNoWrite(
      () => ledger.recordPayout("w1", 28, { signature: "payout-sig-1" }),
      "idempotency_conflict",
    );
    expect(await ledger.balance("external:payouts")).toBe(29);
  });

  it("keeps the books: every account sums to zero and checkLedger finds nothing", async () => {
    const balances = await ledger.accountBalances();
    expect(balances.reduce((sum, { balance }) => sum + balance, 0)).toBe(0);
    expect(balances.find((b) => b.account === "treasury:fees")).toEqual({
      account: "treasury:fees",
      kind: "treasury",
      balance: 2,
    });
    expect(await checkLedger(ledger)).toEqual([]);
    const forJob = await ledger.listTransactions({ jobId: "job-1", limit: 10 });
    expect(forJob.map((t) => t.kind)).toEqual(["hold", "capture", "slash"]);
  });
});
