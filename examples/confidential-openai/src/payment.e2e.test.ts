/**
 * Pay per request: `PeerCycles` with a Solana payer and no API key against a dev node with payments
 * (embedded LiteSVM chain). The node answers 402 with an x402 requirement; the paying fetch
 * (outside) pays and retries through the verifying fetch (inside), which checks the paid answer's
 * receipt like any other. (The node takes x402 on the open and verified tiers; a confidential call
 * needs an account today: its attestation endpoint requires an API key. The client side of a paid
 * confidential retry — sealed afresh, payment header in clear — is tested in peer-fetch.test.ts.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PeerCycles, peerVerificationOf } from "@peercycles/client";
import {
  type EmbeddedChain,
  generateWalletKey,
  type PaymentService,
  type RunningNode,
  startNode,
  startPayments,
} from "@peercycles/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let node: RunningNode;
let payments: PaymentService;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "peercycles-client-pay-"));
  node = await startNode({
    dev: true,
    port: 0,
    dataDir,
    validationRate: 0,
    payments: async (context) => {
      payments = await startPayments(context, { payoutIntervalMs: 0 });
      return payments;
    },
  });
}, 120_000);
afterAll(async () => {
  await node?.close({ graceMs: 1000 });
  rmSync(dataDir, { recursive: true, force: true });
});

describe("pay per request", () => {
  it("pays the 402 and verifies the paid answer's receipt", async () => {
    const chain = payments.chain as EmbeddedChain;
    const { signer } = await generateWalletKey();
    await chain.fund(signer.address, 1);
    const attempts: Array<{ authorization: string | null; payment: string | null }> = [];
    const recording: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.method === "POST") {
        attempts.push({
          authorization: request.headers.get("authorization"),
          payment: request.headers.get("payment-signature"),
        });
      }
      return fetch(request);
    };
    const paid: unknown[] = [];
    const client = new PeerCycles({
      baseURL: node.url,
      tier: "verified",
      fetch: recording,
      payment: {
        signer,
        rpcUrl: chain.rpcUrl,
        maxPerRequestUsdc: 0.5,
        maxPerSessionUsdc: 1,
        onPayment: (event) => paid.push(event),
      },
    });
    const completion = await client.chat.completions.create({
      model: "peer-tiny",
      messages: [{ role: "user", content: "paid per request" }],
      max_tokens: 16,
    });
    const verification = peerVerificationOf(completion);
    expect(verification).toMatchObject({ ok: true, tier: "verified" });
    expect(verification?.receipt?.id).toMatch(/^[0-9a-f]{64}$/);
    expect((completion as { peer?: { payment?: unknown } }).peer?.payment).toBeDefined();
    expect(paid).toHaveLength(1);
    expect(client.spentUsdcBaseUnits).toBeGreaterThan(0n);
    // The first attempt (answered 402), then the paid retry; no Authorization on either.
    expect(attempts).toHaveLength(2);
    expect(attempts.map((attempt) => attempt.authorization)).toEqual([null, null]);
    expect(attempts[0]?.payment).toBeNull();
    expect(attempts[1]?.payment).toBeTruthy();
  }, 60_000);
});
