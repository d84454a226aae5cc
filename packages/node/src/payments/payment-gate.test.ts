import { createPayingFetch, readPaymentResponse, X402Error } from "@peercycles/x402";
import { createKeyPairSignerFromBytes, type KeyPairSigner, lamports, none, some } from "@solana/kit";
import { getMintEncoder, getMintSize, TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import { x402Client } from "@x402/core/client";
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  encodePaymentSignatureHeader,
} from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedChain, generateWalletKey, SOLANA_DEVNET, startEmbeddedChain } from "../chain/index.js";
import { createPaymentGate, type PaymentGate } from "./payment-gate.js";
import { InMemoryLedgerDouble } from "./testing/in-memory-ledger-double.js";
import { type PaidApp, startPaidApp } from "./testing/paid-app.js";

let chain: EmbeddedChain;
let gate: PaymentGate;
let ledger: InMemoryLedgerDouble;
let app: PaidApp;
let buyer: KeyPairSigner;

beforeAll(async () => {
  chain = await startEmbeddedChain({ devWalletUsdc: 10 });
  gate = createPaymentGate({
    chain,
    network: SOLANA_DEVNET,
    usdcMint: chain.usdcMint,
    treasury: chain.treasury,
  });
  ledger = new InMemoryLedgerDouble();
  app = await startPaidApp(gate, ledger);
  buyer = await createKeyPairSignerFromBytes(chain.devWallet.secretKey);
});

afterAll(async () => {
  await app?.close();
  await chain?.close();
});

/** A wallet with `usdc` USDC in its token account (and the account even at 0). */
async function walletWith(usdc: number): Promise<KeyPairSigner> {
  const { signer } = await generateWalletKey();
  if (usdc > 0) await chain.fund(signer.address, usdc);
  else await chain.createTokenAccount(signer.address);
  return signer;
}

function payingFetchFor(signer: KeyPairSigner, caps = { maxPerRequestUsdc: 1, maxPerSessionUsdc: 5 }) {
  return createPayingFetch({ fetch, signer, rpcUrl: chain.rpcUrl, ...caps });
}

/** The 402 challenge of a route, decoded. */
async function challengeOf(path: string): Promise<PaymentRequired> {
  const response = await fetch(`${app.baseURL}${path}`);
  expect(response.status).toBe(402);
  return decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED") ?? "");
}

/** A PAYMENT-SIGNATURE header built by the real x402 client, optionally for altered terms. */
async function paymentHeader(
  signer: KeyPairSigner,
  challenge: PaymentRequired,
  alter?: (required: PaymentRequired) => void,
  options: { claimOriginalTerms?: boolean } = {},
): Promise<string> {
  const client = new x402Client().register("solana:*", new ExactSvmScheme(signer, { rpcUrl: chain.rpcUrl }));
  client.setSpendControls(false);
  const terms = structuredClone(challenge);
  alter?.(terms);
  const payload = await client.createPaymentPayload(terms);
  if (options.claimOriginalTerms) payload.accepted = structuredClone(challenge.accepts[0]!);
  return encodePaymentSignatureHeader(payload);
}

async function send(path: string, header: string): Promise<Response> {
  return fetch(`${app.baseURL}${path}`, { headers: { "PAYMENT-SIGNATURE": header } });
}

function lastFailureCode(): string | undefined {
  return app.failures.at(-1)?.error.code;
}

describe("x402 payment over the embedded chain", () => {
  it("answers 402 with an x402 v2 challenge for USDC on Solana devnet", async () => {
    const response = await fetch(`${app.baseURL}/paid`);
    expect(response.status).toBe(402);
    expect(await response.json()).toEqual({ scheme: "x402", price_credits: 1 });
    const required = decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED") ?? "");
    expect(required.x402Version).toBe(2);
    expect(required.resource.url).toBe(`${app.baseURL}/paid`);
    expect(required.accepts).toHaveLength(1);
    const [accept] = required.accepts;
    expect(accept).toMatchObject({
      scheme: "exact",
      network: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
      asset: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
      amount: "10000",
      payTo: chain.treasury,
      maxTimeoutSeconds: 60,
    });
    expect(accept?.extra.feePayer).toBe(chain.feePayer.address);
    expect(accept?.extra.recentBlockhash).toBe(chain.svm.latestBlockhash());
  });

  it("pays through createPayingFetch: settled on chain, 200 with PAYMENT-RESPONSE, recorded once", async () => {
    const before = {
      buyer: await chain.usdcBalance(buyer.address),
      treasury: await chain.usdcBalance(chain.treasury),
    };
    const payments: unknown[] = [];
    const payingFetch = createPayingFetch({
      fetch,
      signer: buyer,
      rpcUrl: chain.rpcUrl,
      maxPerRequestUsdc: 0.5,
      maxPerSessionUsdc: 1,
      onPayment: (event) => payments.push(event),
    });
    const response = await payingFetch(`${app.baseURL}/paid`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ answer: 42 });
    const receipt = readPaymentResponse(response);
    expect(receipt).toMatchObject({ success: true, network: SOLANA_DEVNET, payer: buyer.address });
    expect(receipt?.transaction).toMatch(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/);
    expect(await chain.signatureStatus(receipt!.transaction)).toBe("succeeded");

    expect(await chain.usdcBalance(buyer.address)).toBe(before.buyer - 10_000n);
    expect(await chain.usdcBalance(chain.treasury)).toBe(before.treasury + 10_000n);
    expect(ledger.payments.get(receipt!.transaction)).toMatchObject({
      credits: 1,
      amountUsdcBaseUnits: 10_000n,
    });
    expect(payingFetch.spentUsdcBaseUnits).toBe(10_000n);
    expect(payingFetch.spentUsdc).toBe("0.01");
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({
      amountUsdcBaseUnits: 10_000n,
      status: 200,
      receipt: { success: true },
    });
  });

  it("buys credits: POST /credits/buy with the body sent again, intact, on the paid retry", async () => {
    const bodies: unknown[] = [];
    // A fetch that seals per attempt: it reads the caller's init afresh every time it is called.
    const sealingFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(init?.body);
      return fetch(input, init);
    };
    const payingFetch = createPayingFetch({
      fetch: sealingFetch,
      signer: buyer,
      rpcUrl: chain.rpcUrl,
      maxPerRequestUsdc: 1,
      maxPerSessionUsdc: 1,
    });
    const { buyCredits } = await import("@peercycles/x402");
    const purchase = await buyCredits({ baseURL: app.baseURL, usdc: 0.25, fetch: payingFetch });
    expect(purchase).toMatchObject({
      credits: 25,
      balance: 25,
      accountId: "account-1",
      apiKey: "pc_test_key",
    });
    expect(await chain.signatureStatus(purchase.transaction)).toBe("succeeded");
    expect(bodies).toEqual([JSON.stringify({ usdc: 0.25 }), JSON.stringify({ usdc: 0.25 })]);
    expect(ledger.balanceOf("account-1")).toBe(25);
  });

  it("refuses a replayed payment, also after a restart of the gate, and moves no money", async () => {
    const header = app.paymentHeaders.at(-1)!;
    const treasury = await chain.usdcBalance(chain.treasury);
    const again = await fetch(`${app.baseURL}/credits/buy`, {
      method: "POST",
      headers: { "PAYMENT-SIGNATURE": header, "content-type": "application/json" },
      body: JSON.stringify({ usdc: 0.25 }),
    });
    expect(again.status).toBe(402);
    expect(lastFailureCode()).toBe("payment_replayed");

    const restarted = createPaymentGate({ chain });
    const challenge = await restarted.requirementFor({
      priceCredits: 25,
      resourceUrl: `${app.baseURL}/credits/buy`,
    });
    const result = await restarted.settle(header, challenge);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe("payment_replayed");
    expect(await chain.usdcBalance(chain.treasury)).toBe(treasury);
  });

  it("refuses a payer without enough USDC (payment_insufficient_funds)", async () => {
    const poor = await walletWith(0.005);
    const response = await payingFetchFor(poor)(`${app.baseURL}/paid`);
    expect(response.status).toBe(402);
    expect(lastFailureCode()).toBe("payment_insufficient_funds");
    expect(await chain.usdcBalance(poor.address)).toBe(5_000n);
    const required = decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED") ?? "");
    expect(required.error).toBe("invalid_exact_svm_transaction_simulation_failed");
  });

  it("refuses a payment in another mint, whether or not it claims the asked terms (payment_wrong_asset)", async () => {
    const otherMint = (await generateWalletKey()).signer.address;
    chain.svm.setAccount({
      address: otherMint,
      data: new Uint8Array(
        getMintEncoder().encode({
          mintAuthority: some(chain.mintAuthority.address),
          supply: 0n,
          decimals: 6,
          isInitialized: true,
          freezeAuthority: none(),
        }),
      ),
      executable: false,
      lamports: lamports(10_000_000n),
      programAddress: TOKEN_PROGRAM_ADDRESS,
      space: BigInt(getMintSize()),
    });
    const challenge = await challengeOf("/paid");
    const toOtherMint = (required: PaymentRequired) => {
      required.accepts[0]!.asset = otherMint;
    };
    await send("/paid", await paymentHeader(buyer, challenge, toOtherMint));
    expect(lastFailureCode()).toBe("payment_wrong_asset");
    await send("/paid", await paymentHeader(buyer, challenge, toOtherMint, { claimOriginalTerms: true }));
    expect(lastFailureCode()).toBe("payment_wrong_asset");
    expect(app.failures.at(-1)?.x402Reason).toBe("invalid_exact_svm_payload_mint_mismatch");
  });

  it("refuses a payment of another amount, whether or not it claims the asked terms (payment_wrong_amount)", async () => {
    const treasury = await chain.usdcBalance(chain.treasury);
    const challenge = await challengeOf("/paid");
    const half = (required: PaymentRequired) => {
      required.accepts[0]!.amount = "5000";
    };
    await send("/paid", await paymentHeader(buyer, challenge, half));
    expect(lastFailureCode()).toBe("payment_wrong_amount");
    await send("/paid", await paymentHeader(buyer, challenge, half, { claimOriginalTerms: true }));
    expect(lastFailureCode()).toBe("payment_wrong_amount");
    expect(app.failures.at(-1)?.x402Reason).toBe("invalid_exact_svm_payload_amount_mismatch");
    expect(await chain.usdcBalance(chain.treasury)).toBe(treasury);
  });

  it("refuses a payment whose blockhash expired (payment_expired)", async () => {
    const challenge = await challengeOf("/paid");
    const header = await paymentHeader(buyer, challenge);
    chain.svm.expireBlockhash();
    const response = await send("/paid", header);
    expect(response.status).toBe(402);
    expect(lastFailureCode()).toBe("payment_expired");
  });

  it("refuses a payment made for another resource (payment_wrong_resource)", async () => {
    const header = await paymentHeader(buyer, await challengeOf("/paid"));
    const response = await send("/paid-too", header);
    expect(response.status).toBe(402);
    expect(lastFailureCode()).toBe("payment_wrong_resource");
    // The same payment is still good where it was meant to go.
    expect((await send("/paid", header)).status).toBe(200);
  });

  it("reports payment_settle_failed when the transfer fails after verification, and records nothing", async () => {
    const racer = await walletWith(1);
    chain.airdrop(racer.address, 1);
    const sink = (await generateWalletKey()).signer.address;
    // The payer empties its account between verify and send: a real on-chain race, not a mock.
    const racing = createPaymentGate({
      chain: {
        ...chain,
        facilitatorSigner: {
          ...chain.facilitatorSigner,
          sendTransaction: async (transaction, network) => {
            await chain.transferUsdc({
              from: racer,
              to: sink,
              amount: await chain.usdcBalance(racer.address),
            });
            return chain.facilitatorSigner.sendTransaction(transaction, network);
          },
        },
      },
    });
    const resourceUrl = `${app.baseURL}/paid`;
    const challenge = await racing.requirementFor({ priceCredits: 1, resourceUrl });
    const treasury = await chain.usdcBalance(chain.treasury);
    const recorded = ledger.payments.size;
    const result = await racing.settle(await paymentHeader(racer, challenge.paymentRequired), challenge);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("payment_settle_failed");
    expect(result.x402Reason).toBe("invalid_exact_svm_transaction_failed");
    expect(decodePaymentResponseHeader(result.paymentResponseHeader!)).toMatchObject({ success: false });
    expect(await chain.usdcBalance(chain.treasury)).toBe(treasury);
    expect(ledger.payments.size).toBe(recorded);
  });

  it("refuses malformed payment headers (payment_invalid)", async () => {
    const challenge = await gate.requirementFor({ priceCredits: 1, resourceUrl: `${app.baseURL}/paid` });
    for (const header of [
      undefined,
      "",
      "not base64!",
      btoa("{}"),
      btoa(JSON.stringify({ x402Version: 1 })),
    ]) {
      const result = await gate.settle(header, challenge);
      expect(result.ok ? "ok" : result.error.code).toBe("payment_invalid");
    }
  });

  it("enforces the spending caps before signing anything", async () => {
    let signed = 0;
    const counting: KeyPairSigner = {
      ...buyer,
      signTransactions: async (transactions, config) => {
        signed += 1;
        return buyer.signTransactions(transactions, config);
      },
    };
    const before = await chain.usdcBalance(buyer.address);
    const perRequest = payingFetchFor(counting, { maxPerRequestUsdc: 0.005, maxPerSessionUsdc: 1 });
    const refused = await perRequest(`${app.baseURL}/paid`).catch((error: unknown) => error);
    expect(X402Error.isInstance(refused) && refused.code).toBe("spending_cap_exceeded");
    expect(signed).toBe(0);

    const session = payingFetchFor(counting, { maxPerRequestUsdc: 0.01, maxPerSessionUsdc: 0.015 });
    expect((await session(`${app.baseURL}/paid`)).status).toBe(200);
    const second = await session(`${app.baseURL}/paid`).catch((error: unknown) => error);
    expect(X402Error.isInstance(second) && second.code).toBe("spending_cap_exceeded");
    expect(X402Error.isInstance(second) && second.details?.cap).toBe("session");
    expect(signed).toBe(1);
    expect(session.spentUsdcBaseUnits).toBe(10_000n);
    expect(await chain.usdcBalance(buyer.address)).toBe(before - 10_000n);
  });

  it("leaves the treasury holding exactly what the ledger recorded", async () => {
    expect(ledger.payments.size).toBeGreaterThanOrEqual(4);
    expect(await chain.usdcBalance(chain.treasury)).toBe(ledger.recordedUsdc());
    const recorded = [...ledger.payments.keys()].sort();
    const onChain = (await chain.incomingUsdcTransfers(chain.treasury))
      .map((transfer) => transfer.signature)
      .sort();
    expect(onChain).toEqual(recorded);
  });
});

describe("createPaymentGate arguments", () => {
  it("names the bad argument", async () => {
    expect(() => createPaymentGate({ chain, network: "eip155:8453" })).toThrow(/network/);
    expect(() => createPaymentGate({ chain, network: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" })).toThrow(
      /answers for/,
    );
    await expect(gate.requirementFor({ priceCredits: 0, resourceUrl: "http://x/" })).rejects.toMatchObject({
      code: "payment_argument_invalid",
      details: { argument: "priceCredits" },
    });
    await expect(gate.requirementFor({ priceCredits: 1, resourceUrl: "/relative" })).rejects.toMatchObject({
      details: { argument: "resourceUrl" },
    });
  });
});
