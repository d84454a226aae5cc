import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedChain, generateWalletKey, startEmbeddedChain } from "../chain/index.js";
import { PaymentError } from "./errors.js";
import { payout } from "./payout.js";
import { InMemoryLedgerDouble } from "./testing/in-memory-ledger-double.js";

let chain: EmbeddedChain;

beforeAll(async () => {
  chain = await startEmbeddedChain({ devWalletUsdc: 0 });
  await chain.fund(chain.treasury, 3);
});

afterAll(async () => {
  await chain?.close();
});

describe("payout", () => {
  it("pays a worker with a real TransferChecked and records it after confirmation", async () => {
    const ledger = new InMemoryLedgerDouble();
    const worker = (await generateWalletKey()).signer.address;
    const result = await payout({
      chain,
      from: chain.treasurySigner,
      to: worker,
      credits: 250,
      reference: "job-42",
      recorder: ledger,
    });
    expect(result).toMatchObject({
      to: worker,
      credits: 250,
      amountUsdcBaseUnits: 2_500_000n,
      reference: "job-42",
    });
    expect(await chain.signatureStatus(result.transaction)).toBe("succeeded");
    expect(await chain.usdcBalance(worker)).toBe(2_500_000n);
    expect(await chain.usdcBalance(chain.treasury)).toBe(500_000n);
    expect([...ledger.payouts.keys()]).toEqual([result.transaction]);
    const [transfer] = await chain.incomingUsdcTransfers(worker);
    expect(transfer?.memo).toBe("peercycles:payout:job-42");
  });

  it("throws payout_failed and marks nothing paid when the transfer does not land", async () => {
    const ledger = new InMemoryLedgerDouble();
    const worker = (await generateWalletKey()).signer.address;
    const treasury = await chain.usdcBalance(chain.treasury);
    const error = await payout({
      chain,
      from: chain.treasurySigner,
      to: worker,
      credits: 1000,
      recorder: ledger,
    }).catch((caught: unknown) => caught);
    expect(PaymentError.isInstance(error) && error.code).toBe("payout_failed");
    expect(ledger.payouts.size).toBe(0);
    expect(await chain.usdcBalance(chain.treasury)).toBe(treasury);
    expect(await chain.usdcBalance(worker)).toBe(0n);
  });

  it("refuses bad arguments before touching the chain", async () => {
    const worker = (await generateWalletKey()).signer.address;
    for (const credits of [0, -1, 1.5]) {
      await expect(payout({ chain, from: chain.treasurySigner, to: worker, credits })).rejects.toMatchObject({
        code: "payment_argument_invalid",
      });
    }
    await expect(
      payout({ chain, from: chain.treasurySigner, to: worker, credits: 1, reference: "has spaces" }),
    ).rejects.toMatchObject({ details: { argument: "reference" } });
  });
});
