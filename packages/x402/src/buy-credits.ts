import { decodePaymentRequiredHeader } from "@x402/core/http";
import { invalidArgument, X402Error } from "./errors.js";
import type { FetchFunction } from "./paying-fetch.js";
import { readPaymentResponse } from "./paying-fetch.js";

/** Arguments of {@link buyCredits}. */
export interface BuyCreditsArguments {
  /** The node's base URL (`http://127.0.0.1:8080`). */
  readonly baseURL: string;
  /** USDC to spend, as a decimal (1 USDC buys 100 credits). */
  readonly usdc: number;
  /** A paying fetch ({@link createPayingFetch}); its caps apply to the purchase. */
  readonly fetch: FetchFunction;
  /** Extra request headers (an `Authorization` to credit an existing account). */
  readonly headers?: HeadersInit;
}

/** The node's answer to a paid `/credits/buy`. */
export interface CreditsPurchase {
  readonly credits: number;
  /** Credit balance of the account after the purchase, when the node says. */
  readonly balance: number | undefined;
  /** Base58 signature of the settled USDC transfer. */
  readonly transaction: string;
  readonly accountId: string | undefined;
  /** An API key for the account, when the node created one. Treat as a secret. */
  readonly apiKey: string | undefined;
}

/**
 * Buys credits with USDC: `POST ${baseURL}/credits/buy` with `{"usdc": n}`, paid over x402 by the given
 * paying fetch. Throws `credits_purchase_failed` (with `details.status` and the x402 reason when there is
 * one) unless the node answers 200 with the credits and the transaction.
 *
 * @example
 * ```ts
 * const { credits, apiKey } = await buyCredits({ baseURL, usdc: 1, fetch: payingFetch });
 * ```
 */
export async function buyCredits(args: BuyCreditsArguments): Promise<CreditsPurchase> {
  if (typeof args?.baseURL !== "string" || !URL.canParse(args.baseURL))
    invalidArgument("baseURL", "expected a URL");
  if (typeof args.usdc !== "number" || !Number.isFinite(args.usdc) || args.usdc <= 0) {
    invalidArgument("usdc", "expected a positive number of USDC");
  }
  if (typeof args.fetch !== "function") invalidArgument("fetch", "expected a (paying) fetch function");
  const headers = new Headers(args.headers);
  headers.set("content-type", "application/json");
  const url = `${args.baseURL.replace(/\/+$/, "")}/credits/buy`;
  const response = await args.fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ usdc: args.usdc }),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = {};
  }
  if (response.status !== 200) {
    throw new X402Error("credits_purchase_failed", `the node answered ${response.status} to /credits/buy`, {
      details: { status: response.status, reason: failureReason(response), body: text.slice(0, 500) },
    });
  }
  const transaction =
    typeof body.transaction === "string" ? body.transaction : readPaymentResponse(response)?.transaction;
  if (typeof body.credits !== "number" || !transaction) {
    throw new X402Error("credits_purchase_failed", "the node's answer carries no credits or transaction", {
      details: { status: response.status, body: text.slice(0, 500) },
    });
  }
  return {
    credits: body.credits,
    balance: typeof body.balance === "number" ? body.balance : undefined,
    transaction,
    accountId: typeof body.account_id === "string" ? body.account_id : undefined,
    apiKey: typeof body.api_key === "string" ? body.api_key : undefined,
  };
}

function failureReason(response: Response): string | undefined {
  const receipt = readPaymentResponse(response);
  if (receipt?.errorReason) return receipt.errorReason;
  const required = response.headers.get("PAYMENT-REQUIRED");
  if (!required) return undefined;
  try {
    return decodePaymentRequiredHeader(required).error;
  } catch {
    return undefined;
  }
}
