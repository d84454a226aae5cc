import { encodePaymentResponseHeader } from "@x402/core/http";
import { describe, expect, it } from "vitest";
import { buyCredits } from "./buy-credits.js";
import { X402Error } from "./errors.js";
import { createSolanaSigner } from "./solana-signer.js";
import { formatUsdc, usdcToBaseUnits } from "./usdc.js";

describe("buyCredits", () => {
  it("posts {usdc} to /credits/buy and returns what the node answered", async () => {
    const seen: { url: string; body: unknown }[] = [];
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push({ url: String(input), body: JSON.parse(String(init?.body)) });
      return Response.json({
        credits: 100,
        balance: 130,
        transaction: "5sig",
        api_key: "pc_key",
        account_id: "acc",
      });
    };
    const purchase = await buyCredits({ baseURL: "http://node.test/", usdc: 1, fetch });
    expect(seen).toEqual([{ url: "http://node.test/credits/buy", body: { usdc: 1 } }]);
    expect(purchase).toEqual({
      credits: 100,
      balance: 130,
      transaction: "5sig",
      apiKey: "pc_key",
      accountId: "acc",
    });
  });

  it("throws credits_purchase_failed with the status and x402 reason otherwise", async () => {
    const refused = async () =>
      new Response("{}", {
        status: 402,
        headers: {
          "PAYMENT-RESPONSE": encodePaymentResponseHeader({
            success: false,
            errorReason: "duplicate_settlement",
            transaction: "",
            network: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
          }),
        },
      });
    const error = await buyCredits({ baseURL: "http://node.test", usdc: 1, fetch: refused }).catch(
      (e: unknown) => e,
    );
    expect(X402Error.isInstance(error) && error.code).toBe("credits_purchase_failed");
    expect(X402Error.isInstance(error) && error.details).toMatchObject({
      status: 402,
      reason: "duplicate_settlement",
    });
    const empty = async () => Response.json({});
    await expect(buyCredits({ baseURL: "http://node.test", usdc: 1, fetch: empty })).rejects.toMatchObject({
      code: "credits_purchase_failed",
    });
    await expect(buyCredits({ baseURL: "http://node.test", usdc: 0, fetch: empty })).rejects.toMatchObject({
      code: "argument_invalid",
      details: { argument: "usdc" },
    });
  });
});

describe("createSolanaSigner and USDC amounts", () => {
  it("accepts a 64-byte secret and refuses anything else", async () => {
    await expect(createSolanaSigner(new Uint8Array(32))).rejects.toMatchObject({ code: "argument_invalid" });
    await expect(createSolanaSigner(new Uint8Array(64))).rejects.toMatchObject({ code: "argument_invalid" });
  });

  it("converts decimals exactly", () => {
    expect(usdcToBaseUnits(0.01)).toBe(10_000n);
    expect(usdcToBaseUnits("1.5")).toBe(1_500_000n);
    expect(formatUsdc(10_000n)).toBe("0.01");
    expect(formatUsdc(2_000_000n)).toBe("2");
    expect(() => usdcToBaseUnits(0.0000001)).toThrow(X402Error);
    expect(() => usdcToBaseUnits("-1")).toThrow(X402Error);
  });
});
