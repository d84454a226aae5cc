import { createKeyPairSignerFromBytes } from "@solana/kit";
import { x402Client } from "@x402/core/client";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedChain, startEmbeddedChain } from "../chain/index.js";
import { createPaymentGate, type PaymentGate, type PaymentSettlement } from "./payment-gate.js";
import { reconcileSettlements } from "./reconcile-settlements.js";
import { InMemoryLedgerDouble } from "./testing/in-memory-ledger-double.js";

let chain: EmbeddedChain;
let gate: PaymentGate;

beforeAll(async () => {
  chain = await startEmbeddedChain({ devWalletUsdc: 5 });
  gate = createPaymentGate({ chain });
});

afterAll(async () => {
  await chain?.close();
});

/** One real x402 payment of `credits`, settled by the gate (not recorded). */
async function settlePayment(credits: number): Promise<PaymentSettlement> {
  const buyer = await createKeyPairSignerFromBytes(chain.devWallet.secretKey);
  const challenge = await gate.requirementFor({
    priceCredits: credits,
    resourceUrl: "http://node.test/credits/buy",
  });
  const client = new x402Client().register("solana:*", new ExactSvmScheme(buyer, { rpcUrl: chain.rpcUrl }));
  const payload = await client.createPaymentPayload(challenge.paymentRequired);
  const result = await gate.settle(encodePaymentSignatureHeader(payload), challenge);
  if (!result.ok) throw result.error;
  return result;
}

describe("reconcileSettlements", () => {
  it("grants a payment settled before a crash exactly once, and only that one", async () => {
    const ledger = new InMemoryLedgerDouble();
    const recorded = await settlePayment(3);
    await ledger.recordPayment(recorded);
    // Crash: the transfer landed, the process died before the grant.
    const lost = await settlePayment(7);
    expect(ledger.payments.has(lost.transaction)).toBe(false);
    // USDC sent to the treasury outside x402 is not a settlement of ours.
    await chain.transferUsdc({ from: chain.devWallet.signer, to: chain.treasury, amount: 20_000n });

    const first = await reconcileSettlements(chain, ledger);
    expect(first.granted.map((payment) => payment.transaction)).toEqual([lost.transaction]);
    expect(first.granted[0]).toMatchObject({
      credits: 7,
      amountUsdcBaseUnits: 70_000n,
      payer: chain.devWallet.address,
    });
    expect(first).toMatchObject({ scanned: 2, alreadyRecorded: 1 });

    const second = await reconcileSettlements(chain, ledger);
    expect(second.granted).toEqual([]);
    expect(second.alreadyRecorded).toBe(2);
    expect(ledger.payments.size).toBe(2);
    expect(ledger.balanceOf(`wallet:${chain.devWallet.address}`)).toBe(10);

    const everything = await reconcileSettlements(chain, ledger, { onlyFacilitatorSettlements: false });
    expect(everything.granted.map((payment) => payment.credits)).toEqual([2]);
    expect(await chain.usdcBalance(chain.treasury)).toBe(ledger.recordedUsdc());
  });
});
