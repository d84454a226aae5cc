import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buyCredits, createPayingFetch, readPaymentResponse } from "@peercycles/x402";
import type { KeyPairSigner } from "@solana/kit";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateWalletKey, SOLANA_DEVNET, USDC_MINTS } from "./chain/index.js";
import { userAccount } from "./ledger/index.js";
import { type PaymentService, startPayments } from "./payments-http.js";
import { type RunningNode, startNode } from "./start-node.js";

let node: RunningNode;
let payments: PaymentService;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peer-payments-http-"));
  node = await startNode({
    dev: true,
    port: 0,
    dataDir: dir,
    validationRate: 0,
    payments: async (context) => {
      payments = await startPayments(context, { payoutIntervalMs: 0 });
      return payments;
    },
  });
}, 90_000);

afterAll(async () => {
  await node?.close({ graceMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
});

const chain = () => payments.chain as import("./chain/index.js").EmbeddedChain;
const chatBody = JSON.stringify({
  model: "peer-tiny",
  messages: [{ role: "user", content: "What does x402 do?" }],
  peer_tier: "open",
  max_tokens: 16,
});
const chatUrl = () => `${node.url}/v1/chat/completions`;
const post = (headers: Record<string, string> = {}) =>
  fetch(chatUrl(), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: chatBody,
  });

async function walletWith(usdc: number): Promise<KeyPairSigner> {
  const { signer } = await generateWalletKey();
  if (usdc > 0) await chain().fund(signer.address, usdc);
  else await chain().createTokenAccount(signer.address);
  return signer;
}

function payingFetchFor(signer: KeyPairSigner, maxPerRequestUsdc = 1) {
  return createPayingFetch({
    fetch,
    signer,
    rpcUrl: chain().rpcUrl,
    maxPerRequestUsdc,
    maxPerSessionUsdc: 5,
  });
}

/** A PAYMENT-SIGNATURE header from the real x402 client, optionally for altered terms. */
async function paymentHeader(
  signer: KeyPairSigner,
  challenge: PaymentRequired,
  alter?: (required: PaymentRequired) => void,
): Promise<string> {
  const client = new x402Client().register(
    "solana:*",
    new ExactSvmScheme(signer, { rpcUrl: chain().rpcUrl }),
  );
  client.setSpendControls(false);
  const terms = structuredClone(challenge);
  alter?.(terms);
  return encodePaymentSignatureHeader(await client.createPaymentPayload(terms));
}

async function challenge(): Promise<PaymentRequired> {
  const response = await post();
  expect(response.status).toBe(402);
  return decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED") ?? "");
}

async function refusal(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

describe("pay per request over HTTP (x402 v2, LiteSVM)", () => {
  it("answers a request with no Authorization with 402 and an exact USDC requirement to the treasury", async () => {
    const response = await post();
    expect(response.status).toBe(402);
    expect(await response.json()).toMatchObject({ scheme: "x402", price_credits: 1 });
    const required = decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED") ?? "");
    expect(required.x402Version).toBe(2);
    expect(required.resource.url).toBe(chatUrl());
    expect(required.accepts).toHaveLength(1);
    expect(required.accepts[0]).toMatchObject({
      scheme: "exact",
      network: SOLANA_DEVNET,
      asset: USDC_MINTS[SOLANA_DEVNET],
      amount: "10000",
      payTo: chain().treasury,
    });
    expect(required.accepts[0]?.extra.feePayer).toBe(chain().feePayer.address);
  });

  it("pays with createPayingFetch: the job runs, PAYMENT-RESPONSE and peer.payment name the transfer", async () => {
    const payer = await walletWith(1);
    const treasury = await chain().usdcBalance(chain().treasury);
    const response = await payingFetchFor(payer)(chatUrl(), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chatBody,
    });
    expect(response.status).toBe(200);
    const receipt = readPaymentResponse(response);
    expect(receipt).toMatchObject({ success: true, network: SOLANA_DEVNET, payer: payer.address });
    const body = (await response.json()) as {
      peer: { payment: unknown; tier: string; price_credits: number };
    };
    expect(body.peer.tier).toBe("open");
    expect(body.peer.payment).toEqual({
      transaction: receipt?.transaction,
      network: SOLANA_DEVNET,
      payer: payer.address,
    });
    expect(await chain().signatureStatus(receipt!.transaction)).toBe("succeeded");
    expect(await chain().usdcBalance(payer.address)).toBe(990_000n);
    expect(await chain().usdcBalance(chain().treasury)).toBe(treasury + 10_000n);
    // Credited once, to the payer wallet's own account, which the job then spent.
    const accountId = await payments.recorder.payerAccount(payer.address);
    const purchases = (await node.ledger.listTransactions({ limit: 1000 })).filter(
      (t) => t.kind === "purchase",
    );
    expect(purchases.filter((t) => t.idempotencyKey === `purchase:${receipt!.transaction}`)).toHaveLength(1);
    expect(await node.ledger.balance(userAccount(accountId))).toBe(1 - body.peer.price_credits);
  });

  it("shows the treasury's USDC on chain in /v1/network", async () => {
    const snapshot = (await (await fetch(`${node.url}/v1/network`)).json()) as {
      ledger: { treasuryUsdcOnChain?: string };
    };
    expect(snapshot.ledger.treasuryUsdcOnChain).toBe(
      (await chain().usdcBalance(chain().treasury)).toString(),
    );
  });

  it("refuses a replayed payment and moves no money", async () => {
    const payer = await walletWith(1);
    const header = await paymentHeader(payer, await challenge());
    expect((await post({ "PAYMENT-SIGNATURE": header })).status).toBe(200);
    const before = await chain().usdcBalance(payer.address);
    const again = await post({ "PAYMENT-SIGNATURE": header });
    expect(await refusal(again)).toMatchObject({ status: 402, code: "payment_invalid" });
    expect((await refusal(await post({ "PAYMENT-SIGNATURE": header }))).message).toMatch(/payment_replayed/);
    expect(await chain().usdcBalance(payer.address)).toBe(before);
  });

  it("refuses a payer without enough USDC (payment_insufficient_funds) with a fresh challenge", async () => {
    const poor = await walletWith(0.005);
    const response = await post({ "PAYMENT-SIGNATURE": await paymentHeader(poor, await challenge()) });
    expect(response.headers.get("PAYMENT-REQUIRED")).toBeTruthy();
    const answer = await refusal(response);
    expect(answer).toMatchObject({ status: 402, code: "payment_invalid" });
    expect(answer.message).toMatch(/payment_insufficient_funds/);
    expect(await chain().usdcBalance(poor.address)).toBe(5_000n);
  });

  it("refuses a payment of another amount or mint (payment_wrong_amount, payment_wrong_asset)", async () => {
    const payer = await walletWith(1);
    const asked = await challenge();
    const half = await post({
      "PAYMENT-SIGNATURE": await paymentHeader(payer, asked, (r) => {
        r.accepts[0]!.amount = "5000";
      }),
    });
    expect((await refusal(half)).message).toMatch(/payment_wrong_amount/);
    const otherMint = await post({
      "PAYMENT-SIGNATURE": await paymentHeader(payer, asked, (r) => {
        r.accepts[0]!.asset = USDC_MINTS["solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"];
      }).catch(async () => {
        // The client cannot even read a mint the chain lacks: claim USDC terms over a forged payload.
        const header = JSON.parse(atob(await paymentHeader(payer, asked)));
        header.accepted.asset = USDC_MINTS["solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"];
        return btoa(JSON.stringify(header));
      }),
    });
    expect((await refusal(otherMint)).message).toMatch(/payment_wrong_asset/);
    expect(await chain().usdcBalance(payer.address)).toBe(1_000_000n);
  });

  it("refuses a payment whose blockhash expired (payment_expired)", async () => {
    const payer = await walletWith(1);
    const header = await paymentHeader(payer, await challenge());
    chain().svm.expireBlockhash();
    const answer = await refusal(await post({ "PAYMENT-SIGNATURE": header }));
    expect(answer).toMatchObject({ status: 402, code: "payment_invalid" });
    expect(answer.message).toMatch(/payment_expired/);
  });

  it("refuses a payment made for another resource (payment_wrong_resource)", async () => {
    const payer = await walletWith(1);
    const buy = await fetch(`${node.url}/credits/buy`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ usdc: 0.01 }),
    });
    expect(buy.status).toBe(402);
    const forBuy = decodePaymentRequiredHeader(buy.headers.get("PAYMENT-REQUIRED") ?? "");
    const answer = await refusal(await post({ "PAYMENT-SIGNATURE": await paymentHeader(payer, forBuy) }));
    expect(answer.message).toMatch(/payment_wrong_resource/);
    expect(await chain().usdcBalance(payer.address)).toBe(1_000_000n);
  });
});

describe("POST /credits/buy over HTTP", () => {
  it("sells credits to a wallet with no key: a new key to the wallet's account, usable at once", async () => {
    const payer = await walletWith(2);
    const purchase = await buyCredits({ baseURL: node.url, usdc: 1.5, fetch: payingFetchFor(payer, 2) });
    expect(purchase).toMatchObject({ credits: 150, balance: 150 });
    expect(purchase.apiKey).toMatch(/^pc_/);
    expect(purchase.accountId).toBe(await payments.recorder.payerAccount(payer.address));
    expect(await chain().usdcBalance(payer.address)).toBe(500_000n);
    const paid = await post({ authorization: `Bearer ${purchase.apiKey}` });
    expect(paid.status).toBe(200);
  });

  it("credits the account of the Authorization key", async () => {
    const payer = await walletWith(1);
    const before = await node.ledger.balance(userAccount(node.accountId!));
    const purchase = await buyCredits({
      baseURL: node.url,
      usdc: 0.25,
      fetch: payingFetchFor(payer),
      headers: { authorization: `Bearer ${node.apiKey}` },
    });
    expect(purchase).toMatchObject({ credits: 25, accountId: node.accountId, apiKey: undefined });
    expect(await node.ledger.balance(userAccount(node.accountId!))).toBe(before + 25);
  });

  it("refuses amounts that are not whole cents", async () => {
    const response = await fetch(`${node.url}/credits/buy`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ usdc: 0.001 }),
    });
    expect(await refusal(response)).toMatchObject({ status: 400, code: "invalid_request" });
  });

  it("leaves the treasury holding exactly what the ledger sold", async () => {
    const sold = (await node.ledger.listTransactions({ limit: 1000 }))
      .filter((t) => t.kind === "purchase")
      .reduce((sum, t) => sum + (t.postings.find((p) => p.amount > 0)?.amount ?? 0), 0);
    expect(await chain().usdcBalance(chain().treasury)).toBe(BigInt(sold) * 10_000n);
  });
});

describe("the development wallet", () => {
  it("is served to loopback on a dev node, with its key file and the chain's RPC", async () => {
    const response = await fetch(`${node.url}/dev/wallet`);
    expect(response.status).toBe(200);
    const wallet = (await response.json()) as { address: string; secret_key: number[]; rpc_url: string };
    expect(wallet.address).toBe(chain().devWallet.address);
    expect(wallet.secret_key).toHaveLength(64);
    expect(wallet.rpc_url).toBe(chain().rpcUrl);
    expect(payments.devWallet?.keyFile).toBe(join(dir, "solana", "dev-wallet.json"));
  });

  it("is refused to a request that names another host (DNS rebinding)", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${node.url}/dev/wallet`);
      request(
        { host: url.hostname, port: url.port, path: url.pathname, headers: { host: "evil.example" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on("error", reject)
        .end();
    });
    expect(status).toBe(404);
  });
});

/** `peer-cycles …` in a child process (tsx over the sources). */
async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import("node:child_process");
  const bin = fileURLToPath(new URL("./bin.ts", import.meta.url));
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
  return new Promise((resolve) => {
    execFile(tsx, [bin, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("worker payouts over HTTP and the CLI", () => {
  const admin = () => ({ authorization: `Bearer ${node.adminToken}`, "content-type": "application/json" });

  it("pays a worker's earnings once, keeps them owed when the transfer fails, never pays twice", async () => {
    // Earnings from a few jobs paid with the dev account's credits.
    for (let i = 0; i < 3; i++)
      expect((await post({ authorization: `Bearer ${node.apiKey}` })).status).toBe(200);
    const open = node.orchestrator.registry.all().find((s) => s.role === "worker" && s.tier === "open")!;
    const earnings = `worker:${open.id}:earnings`;
    const owed = await node.ledger.balance(earnings);
    expect(owed).toBeGreaterThan(0);

    const skipped = await fetch(`${node.url}/admin/payouts`, {
      method: "POST",
      headers: admin(),
      body: "{}",
    });
    expect(((await skipped.json()) as { skipped: unknown[] }).skipped).toContainEqual({
      workerId: open.id,
      credits: owed,
      reason: "no_payout_address",
    });

    const wallet = (await generateWalletKey()).signer.address;
    const set = await fetch(`${node.url}/admin/workers/${open.id}/payout-address`, {
      method: "POST",
      headers: admin(),
      body: JSON.stringify({ address: wallet }),
    });
    expect(set.status).toBe(200);
    const refused = await fetch(`${node.url}/admin/workers/${open.id}/payout-address`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address: wallet }),
    });
    expect(refused.status).toBe(401);

    // A treasury without the USDC: the transfer fails on chain, nothing is recorded, the earnings stay owed.
    const sink = (await generateWalletKey()).signer.address;
    const treasuryUsdc = await chain().usdcBalance(chain().treasury);
    await chain().transferUsdc({ from: chain().treasurySigner, to: sink, amount: treasuryUsdc });
    const failed = await fetch(`${node.url}/admin/payouts`, {
      method: "POST",
      headers: admin(),
      body: JSON.stringify({ min_credits: 1 }),
    });
    expect(failed.status).toBe(502);
    const failedReport = (await failed.json()) as { failed: Array<{ workerId: string; code: string }> };
    expect(failedReport.failed.find((f) => f.workerId === open.id)?.code).toBe("payout_failed");
    expect(await node.ledger.balance(earnings)).toBe(owed);
    expect(await chain().usdcBalance(wallet)).toBe(0n);

    // Funded again: the CLI pays through the running node's embedded chain, then finds nothing owed.
    await chain().fund(chain().treasury, 1000);
    // A separate process, as an operator runs it (one SQLite handle per process).
    const cli = await runCli(["payout", "--data", dir, "--min-credits", "1"]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`paid ${open.id}: ${owed} credits to ${wallet}`);
    expect(await chain().usdcBalance(wallet)).toBe(BigInt(owed) * 10_000n);
    expect(await node.ledger.balance(earnings)).toBe(0);
    const payouts = (await node.ledger.listTransactions({ limit: 1000 })).filter((t) => t.kind === "payout");
    const [transfer] = await chain().incomingUsdcTransfers(wallet);
    expect(payouts.map((t) => t.idempotencyKey)).toContain(`payout:${transfer?.signature}`);

    const again = await payments.payOut({ minCredits: 1 });
    expect(again.paid.filter((p) => p.workerId === open.id)).toEqual([]);
    expect(await chain().incomingUsdcTransfers(wallet)).toHaveLength(1);
  });

  it("refuses bad CLI arguments with exit code 2", async () => {
    expect((await runCli(["payout", "--min-credits", "0", "--data", dir])).code).toBe(2);
    expect((await runCli(["payout", "--bogus"])).code).toBe(2);
    const unknown = await runCli(["payout", "--data", dir, "--set-address", "w_nope=x"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/not a base58 Solana address/);
  }, 60_000);
});
