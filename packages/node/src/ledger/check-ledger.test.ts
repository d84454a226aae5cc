import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore, type Store } from "../storage/store.js";
import { openTestDatabase, type TestDatabase } from "../storage/test-database.js";
import { checkLedger, formatLedgerReport, type LedgerViolation } from "./check-ledger.js";
import { createLedger, type Ledger } from "./ledger.js";

describe("formatLedgerReport", () => {
  it("says ok for no violations and groups the rest by code", () => {
    expect(formatLedgerReport([])).toBe("ledger check: ok, no violations");
    const violations: LedgerViolation[] = [
      { code: "negative_balance", message: "user:a has a balance of -5", detail: {} },
      { code: "open_hold", message: "job j is failed but its hold still has 3 credits", detail: {} },
      { code: "negative_balance", message: "burn has a balance of -1", detail: {} },
    ];
    expect(formatLedgerReport(violations)).toBe(
      [
        "ledger check: 3 violations",
        "  negative_balance (2)",
        "    - user:a has a balance of -5",
        "    - burn has a balance of -1",
        "  open_hold (1)",
        "    - job j is failed but its hold still has 3 credits",
      ].join("\n"),
    );
  });
});

/** Each corruption is written straight into the tables, bypassing the ledger, and must be named. */
describe.each(["sqlite", "postgres"] as const)("checkLedger on %s", (dialect) => {
  let test: TestDatabase;
  let store: Store;
  let ledger: Ledger;
  let accountId: string;
  beforeAll(async () => {
    test = await openTestDatabase(dialect);
    store = createStore(test.database);
    ledger = createLedger(test.database);
    accountId = (await store.accounts.createAccount({ name: "audited" })).id;
    await store.workers.upsertWorker({
      id: "w",
      name: "w",
      tier: "open",
      model: "m",
      priceCredits: 1,
      signingPublicKey: "00",
    });
    await ledger.purchase(accountId, 1000, { paymentReference: "fund" });
  });
  afterAll(async () => {
    await test?.dispose();
  });

  const newJob = (id: string, maxCredits = 100) =>
    store.jobs.createJob({
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
  const finish = (
    id: string,
    status: "succeeded" | "failed" | "cancelled" | "timed_out",
    priceCredits: number | null,
  ) =>
    store.jobs.finishJob(id, {
      status,
      priceCredits,
      promptTokens: null,
      completionTokens: null,
      outputHash: null,
      receipt: null,
      error: null,
      finishedAt: 2,
    });

  async function rawTransaction(
    postings: { account: string; amount: number }[],
    fields: { kind?: string; jobId?: string } = {},
  ) {
    const { db } = test.database;
    for (const { account } of postings) {
      await db
        .insertInto("ledger_accounts")
        .values({ name: account, kind: "raw", created_at: 0 })
        .onConflict((oc) => oc.column("name").doNothing())
        .execute();
    }
    const { id } = await db
      .insertInto("ledger_transactions")
      .values({
        kind: fields.kind ?? "grant",
        idempotency_key: null,
        job_id: fields.jobId ?? null,
        memo: "raw",
        created_at: 0,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    if (postings.length > 0) {
      await db
        .insertInto("ledger_postings")
        .values(postings.map((posting) => ({ transaction_id: Number(id), ...posting })))
        .execute();
    }
    return Number(id);
  }

  it("finds nothing in books kept by the ledger, across every job outcome", async () => {
    await newJob("ok-captured");
    await ledger.hold("ok-captured", accountId, 50);
    await ledger.capture("ok-captured", { credits: 20, workerId: "w", feeBps: 1000 });
    await finish("ok-captured", "succeeded", 20);
    for (const status of ["failed", "cancelled", "timed_out"] as const) {
      await newJob(`ok-${status}`);
      await ledger.hold(`ok-${status}`, accountId, 10);
      await ledger.refund(`ok-${status}`, { reason: status });
      await finish(`ok-${status}`, status, null);
    }
    await newJob("ok-never-held");
    await finish("ok-never-held", "failed", null); // refused before any hold: nothing to refund
    await newJob("ok-running");
    await ledger.hold("ok-running", accountId, 10);
    expect(await checkLedger(store)).toEqual([]);
  });

  it("names a running balance that is not the sum of its postings", async () => {
    const account = `user:${accountId}`;
    const drift = (by: number) =>
      test.database.db
        .updateTable("ledger_accounts")
        .set((eb) => ({ balance: eb("balance", "+", by) }))
        .where("name", "=", account)
        .execute();
    const posted = await ledger.balance(account);
    await drift(3);
    try {
      expect(await checkLedger(ledger)).toEqual([
        {
          code: "balance_mismatch",
          message: `${account} records a balance of ${posted + 3}, its postings sum to ${posted}`,
          detail: { account, balance: posted + 3, posted },
        },
      ]);
    } finally {
      await drift(-3);
    }
    expect(await checkLedger(ledger)).toEqual([]);
  });

  it("names every corruption", async () => {
    const unbalanced = await rawTransaction([
      { account: "user:x", amount: 5 },
      { account: "issuance", amount: -3 },
    ]);
    const short = await rawTransaction([]);
    const zero = await rawTransaction([
      { account: "issuance", amount: -2 },
      { account: "user:z", amount: 2 },
      { account: "burn", amount: 0 },
    ]);
    await rawTransaction([
      { account: "mystery", amount: 4 },
      { account: "issuance", amount: -4 },
    ]);
    await rawTransaction([
      { account: "user:neg", amount: -5 },
      { account: "issuance", amount: 5 },
    ]);
    if (dialect === "sqlite") {
      await rawTransaction([
        { account: "user:frac", amount: 1.5 },
        { account: "issuance", amount: -1.5 },
      ]);
    }

    await newJob("bad-open-hold");
    await ledger.hold("bad-open-hold", accountId, 10);
    await finish("bad-open-hold", "timed_out", null); // never refunded

    await newJob("bad-no-capture");
    await ledger.hold("bad-no-capture", accountId, 10);
    await ledger.refund("bad-no-capture", { reason: "oops" });
    await finish("bad-no-capture", "succeeded", 10); // succeeded, but refunded

    await newJob("bad-captured-failure");
    await ledger.hold("bad-captured-failure", accountId, 10);
    await ledger.capture("bad-captured-failure", { credits: 10, workerId: "w", feeBps: 0 });
    await finish("bad-captured-failure", "failed", null);

    await newJob("bad-price");
    await ledger.hold("bad-price", accountId, 30);
    await ledger.capture("bad-price", { credits: 12, workerId: "w", feeBps: 500 });
    await finish("bad-price", "succeeded", 13);

    await newJob("bad-twice");
    await ledger.hold("bad-twice", accountId, 10);
    await ledger.refund("bad-twice", { reason: "first" });
    await rawTransaction(
      [
        { account: "hold:bad-twice", amount: 0 },
        { account: `user:${accountId}`, amount: 0 },
      ],
      { kind: "refund", jobId: "bad-twice" },
    );
    await finish("bad-twice", "failed", null);

    await newJob("bad-over-max", 5);
    await ledger.hold("bad-over-max", accountId, 10);

    const violations = await checkLedger(ledger);
    const codes = (code: string) => violations.filter((violation) => violation.code === code);
    expect(codes("unbalanced_transaction").map((v) => v.detail.transactionId)).toEqual([unbalanced]);
    expect(codes("short_transaction").map((v) => v.detail.transactionId)).toEqual([short]);
    expect(codes("zero_posting").map((v) => v.detail.transactionId)).toContain(zero);
    expect(codes("non_integer_posting").map((v) => v.detail.account)).toEqual(
      dialect === "sqlite" ? ["user:frac", "issuance"] : [],
    );
    expect(codes("unknown_account_name").map((v) => v.detail.account)).toEqual(["mystery"]);
    expect(codes("negative_balance").map((v) => v.detail.account)).toEqual(["user:neg"]);
    expect(codes("open_hold").map((v) => v.detail.jobId)).toEqual(["bad-open-hold"]);
    expect(codes("missing_refund").map((v) => v.detail.jobId)).toEqual(["bad-open-hold"]);
    expect(codes("missing_capture").map((v) => v.detail.jobId)).toEqual(["bad-no-capture"]);
    expect(codes("settlement_mismatch").map((v) => v.detail.jobId)).toEqual([
      "bad-captured-failure",
      "bad-no-capture",
    ]);
    expect(codes("price_mismatch").map((v) => v.detail)).toEqual([
      { jobId: "bad-price", priceCredits: 13, captured: 12 },
    ]);
    expect(codes("settled_twice").map((v) => v.detail.jobId)).toEqual(["bad-twice"]);
    expect(codes("hold_exceeds_max_credits").map((v) => v.detail)).toEqual([
      { jobId: "bad-over-max", held: 10, maxCredits: 5 },
    ]);
    const report = formatLedgerReport(violations);
    expect(report).toMatch(/^ledger check: \d+ violations/);
    expect(report).toContain("job bad-price reports 13 credits, 12 were captured");
  });
});
