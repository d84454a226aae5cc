import { generateKeyPairSigner, type KeyPairSigner } from "@solana/kit";
import { encodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { describe, expect, it } from "vitest";
import { X402Error } from "./errors.js";
import { createPayingFetch } from "./paying-fetch.js";

// These checks stop before any chain read or signature, so they need no chain; the paid flows run
// against LiteSVM in packages/node/src/payments/payment-gate.test.ts.

const DEVNET = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
const USDC_DEVNET = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";

function challenge(amount: string, asset = USDC_DEVNET): PaymentRequired {
  return {
    x402Version: 2,
    error: "Payment required",
    resource: { url: "http://node.test/paid", description: "", mimeType: "application/json" },
    accepts: [
      {
        scheme: "exact",
        network: DEVNET,
        asset,
        amount,
        payTo: "GHaE6Lj2aqB3J8cXdW5s9tTvR2kdYQXVXuJyB3Ca8BfR",
        maxTimeoutSeconds: 60,
        extra: { feePayer: "3AZu1bMv7KzT4QQ6DwCD55t9TttmCp83P9yB8MXiNz37" },
      },
    ],
  };
}

/** A server that always answers 402 with the given challenge, recording what it was sent. */
function alwaysPaymentRequired(required: PaymentRequired) {
  const calls: { input: RequestInfo | URL; init: RequestInit | undefined }[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ input, init });
    return new Response("{}", {
      status: 402,
      headers: { "PAYMENT-REQUIRED": encodePaymentRequiredHeader(required) },
    });
  };
  return { fetch, calls };
}

async function refusingSigner(): Promise<KeyPairSigner & { signed: () => number }> {
  const signer = await generateKeyPairSigner();
  let count = 0;
  return {
    ...signer,
    signTransactions: async (transactions, config) => {
      count += 1;
      return signer.signTransactions(transactions, config);
    },
    signed: () => count,
  };
}

describe("createPayingFetch caps", () => {
  it("throws spending_cap_exceeded for a price over the per-request cap, before any RPC or signature", async () => {
    const server = alwaysPaymentRequired(challenge("20000"));
    const signer = await refusingSigner();
    const payingFetch = createPayingFetch({
      fetch: server.fetch,
      signer,
      rpcUrl: "http://127.0.0.1:9",
      maxPerRequestUsdc: 0.01,
      maxPerSessionUsdc: 10,
    });
    const error = await payingFetch("http://node.test/paid").catch((caught: unknown) => caught);
    expect(X402Error.isInstance(error) && error.code).toBe("spending_cap_exceeded");
    expect(X402Error.isInstance(error) && error.details).toMatchObject({
      cap: "request",
      amount: "0.02",
      limit: "0.01",
    });
    expect(signer.signed()).toBe(0);
    expect(server.calls).toHaveLength(1);
    expect(payingFetch.spentUsdcBaseUnits).toBe(0n);
  });

  it("throws spending_cap_exceeded for a price over what is left of the session cap", async () => {
    const server = alwaysPaymentRequired(challenge("2000000"));
    const payingFetch = createPayingFetch({
      fetch: server.fetch,
      signer: await refusingSigner(),
      rpcUrl: "http://127.0.0.1:9",
      maxPerRequestUsdc: 5,
      maxPerSessionUsdc: 1,
    });
    await expect(payingFetch("http://node.test/paid")).rejects.toMatchObject({
      code: "spending_cap_exceeded",
      details: { cap: "session" },
    });
  });

  it("refuses to pay in anything but USDC", async () => {
    const server = alwaysPaymentRequired(challenge("1", "So11111111111111111111111111111111111111112"));
    const payingFetch = createPayingFetch({
      fetch: server.fetch,
      signer: await refusingSigner(),
      rpcUrl: "http://127.0.0.1:9",
      maxPerRequestUsdc: 5,
      maxPerSessionUsdc: 5,
    });
    await expect(payingFetch("http://node.test/paid")).rejects.toMatchObject({
      code: "payment_asset_unsupported",
    });
  });

  it("reports an unreadable challenge as payment_failed and passes other answers through", async () => {
    const broken = async () => new Response("{}", { status: 402, headers: { "PAYMENT-REQUIRED": "%%%" } });
    const signer = await refusingSigner();
    const options = { signer, rpcUrl: "http://127.0.0.1:9", maxPerRequestUsdc: 1, maxPerSessionUsdc: 1 };
    await expect(createPayingFetch({ ...options, fetch: broken })("http://node.test/")).rejects.toMatchObject(
      {
        code: "payment_failed",
      },
    );
    const ok = async () => new Response("fine", { status: 200 });
    const response = await createPayingFetch({ ...options, fetch: ok })("http://node.test/");
    expect(await response.text()).toBe("fine");
  });

  it("calls the inner fetch with (url, init), reading a Request or a stream body once", async () => {
    const server = alwaysPaymentRequired(challenge("20000"));
    const payingFetch = createPayingFetch({
      fetch: server.fetch,
      signer: await refusingSigner(),
      rpcUrl: "http://127.0.0.1:9",
      maxPerRequestUsdc: 0.01,
      maxPerSessionUsdc: 1,
    });
    const request = new Request("http://node.test/paid", {
      method: "POST",
      body: "hello",
      headers: { "x-a": "1" },
    });
    await payingFetch(request).catch(() => undefined);
    const [call] = server.calls;
    expect(call?.input).toBe("http://node.test/paid");
    expect(call?.init?.method).toBe("POST");
    expect(new TextDecoder().decode(call?.init?.body as ArrayBuffer)).toBe("hello");
    expect(new Headers(call?.init?.headers).get("x-a")).toBe("1");

    const stream = new Response("streamed").body!;
    await payingFetch("http://node.test/paid", {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit).catch(() => undefined);
    expect(new TextDecoder().decode(server.calls[1]?.init?.body as ArrayBuffer)).toBe("streamed");
  });

  it("names bad arguments", async () => {
    const signer = await generateKeyPairSigner();
    const base = { fetch, signer, rpcUrl: "http://127.0.0.1:9", maxPerRequestUsdc: 1, maxPerSessionUsdc: 1 };
    expect(() => createPayingFetch({ ...base, maxPerRequestUsdc: -1 })).toThrow(/maxPerRequestUsdc/);
    expect(() => createPayingFetch({ ...base, maxPerSessionUsdc: 0.0000001 })).toThrow(/maxPerSessionUsdc/);
    expect(() => createPayingFetch({ ...base, rpcUrl: "nope" })).toThrow(/rpcUrl/);
    expect(() => createPayingFetch({ ...base, fetch: undefined as never })).toThrow(/fetch/);
  });
});
