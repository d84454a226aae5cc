import type { Address } from "@solana/kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type EmbeddedChain, generateWalletKey, startEmbeddedChain } from "../chain/index.js";
import { createLedger, type Ledger, workerEarningsAccount } from "../ledger/index.js";
import { createStore, openTestDatabase, type Store, type TestDatabase } from "../storage/index.js";
import {
  createPaymentState,
  type PaymentState,
  payoutAddressKey,
  payoutAttemptKey,
} from "./payment-state.js";
import { payWorkerEarnings } from "./worker-payouts.js";

let chain: EmbeddedChain;
let test: TestDatabase;
let store: Store;
let ledger: Ledger;
let state: PaymentState;

beforeEach(async () => {
  chain = await startEmbeddedChain({ devWalletUsdc: 0, rpcPort: false });
  await chain.fund(chain.treasury, 100);
  test = await openTestDatabase("sqlite");
  store = createStore(test.database);
  ledger = createLedger(test.database);
  state = createPaymentState(test.database);
});

afterEach(async () => {
  await test?.dispose();
  await chain?.close();
});

/** A worker with `credits` of earnings from one captured job (no fee), and a payout wallet. */
async function workerEarning(id: string, credits: number): Promise<Address> {
  await store.workers.upsertWorker({
    id,
    name: id,
    tier: "open",
    model: "peer-tiny",
    priceCredits: 1,
    signingPublicKey: "00".repeat(32),
  });
  const account = await store.accounts.createAccount({ name: `client of ${id}` });
  await ledger.grant(account.id, credits, { memo: "test" });
  await ledger.hold(`job-${id}`, account.id, credits);
  await ledger.capture(`job-${id}`, { credits, workerId: id, feeBps: 0 });
  const wallet = (await generateWalletKey()).signer.address;
  await state.set(payoutAddressKey(id), wallet);
  return wallet;
}

const base = () => ({ ledger, state, chain, treasury: chain.treasurySigner });

describe("payWorkerEarnings", () => {
  it("pays each worker at or above the minimum once, records against the signature, skips the rest", async () => {
    const rich = await workerEarning("w-rich", 300);
    await workerEarning("w-poor", 5);
    await store.workers.upsertWorker({
      id: "w-nowallet",
      name: "n",
      tier: "open",
      model: "peer-tiny",
      priceCredits: 1,
      signingPublicKey: "00".repeat(32),
    });
    const report = await payWorkerEarnings({ ...base(), minCredits: 10 });
    expect(report.ran).toBe(true);
    expect(report.paid.map((p) => [p.workerId, p.credits])).toEqual([["w-rich", 300]]);
    expect(report.skipped).toEqual([{ workerId: "w-poor", credits: 5, reason: "below_minimum" }]);
    expect(await chain.usdcBalance(rich)).toBe(3_000_000n);
    expect(await ledger.balance(workerEarningsAccount("w-rich"))).toBe(0);
    const [transfer] = await chain.incomingUsdcTransfers(rich);
    expect(transfer?.signature).toBe(report.paid[0]?.transaction);
    expect(transfer?.memo).toBe(`peercycles:payout:${report.paid[0]?.reference}`);

    const again = await payWorkerEarnings({ ...base(), minCredits: 10 });
    expect(again.paid).toEqual([]);
    expect(await chain.incomingUsdcTransfers(rich)).toHaveLength(1);
  });

  it("records a payout that landed before a crash exactly once, on the next run", async () => {
    const wallet = await workerEarning("w-crash", 120);
    let crashes = 2;
    const crashing: Ledger = {
      ...ledger,
      recordPayout: async (...args) => {
        if (crashes-- > 0) throw new Error("simulated crash after the transfer, before the ledger write");
        return ledger.recordPayout(...args);
      },
    };
    await expect(payWorkerEarnings({ ...base(), ledger: crashing })).rejects.toThrow(/simulated crash/);
    expect(await chain.usdcBalance(wallet)).toBe(1_200_000n);
    expect(await ledger.balance(workerEarningsAccount("w-crash"))).toBe(120);
    const attempt = JSON.parse((await state.get(payoutAttemptKey("w-crash"))) ?? "{}");
    expect(attempt.signature).toBeTruthy();

    const next = await payWorkerEarnings(base());
    expect(next.paid.map((p) => p.transaction)).toEqual([attempt.signature]);
    expect(await ledger.balance(workerEarningsAccount("w-crash"))).toBe(0);
    expect(await chain.usdcBalance(wallet)).toBe(1_200_000n);
    expect(await chain.incomingUsdcTransfers(wallet)).toHaveLength(1);
    expect(await state.get(payoutAttemptKey("w-crash"))).toBeUndefined();
  });

  it("sends a signed but unsent payout again, the same bytes, after a crash before sending", async () => {
    const wallet = await workerEarning("w-unsent", 40);
    const { payout } = await import("./payout.js");
    // Sign and record the attempt, then "die" before the transaction leaves the process.
    await payout({
      chain,
      from: chain.treasurySigner,
      to: wallet,
      credits: 40,
      reference: "w-unsent.crash",
      onSigned: async (signed) => {
        await state.set(
          payoutAttemptKey("w-unsent"),
          JSON.stringify({
            reference: "w-unsent.crash",
            workerId: "w-unsent",
            to: wallet,
            credits: 40,
            startedAt: Date.now(),
            ...signed,
          }),
        );
        throw new Error("simulated crash before sending");
      },
    }).catch(() => undefined);
    expect(await chain.usdcBalance(wallet)).toBe(0n);
    const report = await payWorkerEarnings(base());
    expect(report.paid).toHaveLength(1);
    expect(report.paid[0]?.reference).toBe("w-unsent.crash");
    expect(await chain.usdcBalance(wallet)).toBe(400_000n);
    expect(await ledger.balance(workerEarningsAccount("w-unsent"))).toBe(0);
  });

  it("drops an attempt whose blockhash expired unsent; the earnings stay owed and are paid afresh", async () => {
    const wallet = await workerEarning("w-expired", 30);
    const { payout } = await import("./payout.js");
    await payout({
      chain,
      from: chain.treasurySigner,
      to: wallet,
      credits: 30,
      onSigned: async (signed) => {
        await state.set(
          payoutAttemptKey("w-expired"),
          JSON.stringify({
            reference: "old",
            workerId: "w-expired",
            to: wallet,
            credits: 30,
            startedAt: 0,
            ...signed,
          }),
        );
        throw new Error("simulated crash before sending");
      },
    }).catch(() => undefined);
    chain.svm.expireBlockhash();
    const report = await payWorkerEarnings(base());
    expect(report.failed.map((f) => f.workerId)).toEqual(["w-expired"]);
    expect(report.paid.map((p) => [p.workerId, p.credits])).toEqual([["w-expired", 30]]);
    expect(report.paid[0]?.reference).not.toBe("old");
    expect(await chain.usdcBalance(wallet)).toBe(300_000n);
  });

  it("runs one payout at a time: a second run while the lock is held does nothing", async () => {
    await workerEarning("w-lock", 10);
    await state.set("payouts.lock", JSON.stringify({ owner: "other", until: Date.now() + 60_000 }));
    expect(await payWorkerEarnings(base())).toMatchObject({ ran: false, paid: [] });
    await state.set("payouts.lock", JSON.stringify({ owner: "dead", until: Date.now() - 1 }));
    expect((await payWorkerEarnings(base())).paid).toHaveLength(1);
    expect(await state.get("payouts.lock")).toBeUndefined();
  });
});
