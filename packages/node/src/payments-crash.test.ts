import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buyCredits, createPayingFetch } from "@peercycles/x402";
import type { KeyPairSigner } from "@solana/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedChain, generateWalletKey, startEmbeddedChain } from "./chain/index.js";
import { userAccount } from "./ledger/index.js";
import { type PaymentService, type PaymentsChain, startPayments } from "./payments-http.js";
import { type RunningNode, startNode } from "./start-node.js";

// Restarts keep the chain (one LiteSVM for the whole file) and the data directory: only the node
// process "dies". The chain never fakes an outcome: every transfer below is a real SPL transfer.

let chain: EmbeddedChain;
let dir: string;

beforeAll(async () => {
  chain = await startEmbeddedChain({ devWalletUsdc: 0 });
  dir = mkdtempSync(join(tmpdir(), "peer-payments-crash-"));
});

afterAll(async () => {
  await chain?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(over: PaymentsChain = chain): Promise<{ node: RunningNode; payments: PaymentService }> {
  let payments: PaymentService | undefined;
  const node = await startNode({
    port: 0,
    dataDir: dir,
    payments: async (context) => {
      payments = await startPayments(context, { chain: over, payoutIntervalMs: 0 });
      return payments;
    },
  });
  return { node, payments: payments as PaymentService };
}

async function walletWith(usdc: number): Promise<KeyPairSigner> {
  const { signer } = await generateWalletKey();
  await chain.fund(signer.address, usdc);
  chain.airdrop(signer.address, 1);
  return signer;
}

const payingFetch = (signer: KeyPairSigner) =>
  createPayingFetch({ fetch, signer, rpcUrl: chain.rpcUrl, maxPerRequestUsdc: 5, maxPerSessionUsdc: 5 });

/** The chain, except that the process "dies" right after the facilitator's transfer lands. */
function crashingAfterSend(): PaymentsChain {
  return {
    ...chain,
    facilitatorSigner: {
      ...chain.facilitatorSigner,
      sendTransaction: async (transaction, network) => {
        await chain.facilitatorSigner.sendTransaction(transaction, network);
        throw new Error("simulated crash: the process died after the transfer landed");
      },
    },
  };
}

describe("a crash between settlement and the credit grant", () => {
  it("grants each settled payment exactly once on restart, to the account it was for", async () => {
    const first = await start();
    const account = await first.node.store.accounts.createAccount({ name: "alice" });
    await first.node.close();

    const crashing = await start(crashingAfterSend());
    const withKey = await walletWith(2);
    const withoutKey = await walletWith(2);
    const treasury = await chain.usdcBalance(chain.treasury);
    // Alice buys with her key; another wallet buys with none. Both transfers land, neither is granted.
    await expect(
      buyCredits({
        baseURL: crashing.node.url,
        usdc: 1,
        fetch: payingFetch(withKey),
        headers: { authorization: `Bearer ${account.apiKey}` },
      }),
    ).rejects.toMatchObject({ code: "credits_purchase_failed" });
    await expect(
      buyCredits({ baseURL: crashing.node.url, usdc: 0.5, fetch: payingFetch(withoutKey) }),
    ).rejects.toMatchObject({ code: "credits_purchase_failed" });
    expect(await chain.usdcBalance(chain.treasury)).toBe(treasury + 1_500_000n);
    expect(await crashing.node.ledger.balance(userAccount(account.id))).toBe(0);
    const purchases = async (node: RunningNode) =>
      (await node.ledger.listTransactions({ limit: 1000 })).filter((t) => t.kind === "purchase");
    expect(await purchases(crashing.node)).toHaveLength(0);
    await crashing.node.close();

    const restarted = await start();
    expect(restarted.payments.startReport.granted.map((p) => p.credits).sort()).toEqual([100, 50].sort());
    expect(await restarted.node.ledger.balance(userAccount(account.id))).toBe(100);
    const wallet = await restarted.payments.recorder.payerAccount(withoutKey.address);
    expect(await restarted.node.ledger.balance(userAccount(wallet))).toBe(50);
    expect(await purchases(restarted.node)).toHaveLength(2);
    await restarted.node.close();

    const again = await start();
    expect(again.payments.startReport.granted).toEqual([]);
    expect(again.payments.startReport.alreadyRecorded).toBe(2);
    expect(await again.node.ledger.balance(userAccount(account.id))).toBe(100);
    expect(await purchases(again.node)).toHaveLength(2);
    // A buy with the same wallet later hands out a key to the account that holds those credits.
    const later = await buyCredits({ baseURL: again.node.url, usdc: 0.01, fetch: payingFetch(withoutKey) });
    expect(later).toMatchObject({ accountId: wallet, balance: 51 });
    expect(later.apiKey).toMatch(/^pc_/);
    await again.node.close();
  });
});

describe("a settlement that fails after verification", () => {
  it("answers payment_settlement_failed, grants nothing and leaves nothing to reconcile", async () => {
    const racer = await walletWith(1);
    const sink = (await generateWalletKey()).signer.address;
    // The payer empties its account between verify and send: a real on-chain race.
    const racing: PaymentsChain = {
      ...chain,
      facilitatorSigner: {
        ...chain.facilitatorSigner,
        sendTransaction: async (transaction, network) => {
          await chain.transferUsdc({ from: racer, to: sink, amount: await chain.usdcBalance(racer.address) });
          return chain.facilitatorSigner.sendTransaction(transaction, network);
        },
      },
    };
    const { node } = await start(racing);
    const treasury = await chain.usdcBalance(chain.treasury);
    const before = (await node.ledger.listTransactions({ limit: 1000 })).length;
    const response = await payingFetch(racer)(`${node.url}/credits/buy`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ usdc: 0.5 }),
    });
    expect(response.status).toBe(502);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("payment_settlement_failed");
    expect(body.error.message).toMatch(/payment_settle_failed/);
    expect(response.headers.get("PAYMENT-RESPONSE")).toBeTruthy();
    expect(await chain.usdcBalance(chain.treasury)).toBe(treasury);
    expect((await node.ledger.listTransactions({ limit: 1000 })).length).toBe(before);
    await node.close();

    const restarted = await start();
    expect(restarted.payments.startReport.granted).toEqual([]);
    await restarted.node.close();
  });
});
