import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { PaymentFailure, PaymentGate } from "../payment-gate.js";
import type { InMemoryLedgerDouble } from "./in-memory-ledger-double.js";

/** A small Hono app in front of a payment gate, as the node's routes will use it. For tests. */
export interface PaidApp {
  readonly baseURL: string;
  /** Every refusal the gate answered, newest last. */
  readonly failures: PaymentFailure[];
  /** PAYMENT-SIGNATURE headers the app received, newest last. */
  readonly paymentHeaders: string[];
  close(): Promise<void>;
}

/**
 * Routes: `GET /paid` and `GET /paid-too` (1 credit each), `POST /credits/buy` (`{"usdc": n}`, priced
 * n × 100 credits). A 402 carries `PAYMENT-REQUIRED` and the body `{"scheme":"x402","price_credits":N}`.
 */
export async function startPaidApp(gate: PaymentGate, ledger: InMemoryLedgerDouble): Promise<PaidApp> {
  const failures: PaymentFailure[] = [];
  const paymentHeaders: string[] = [];
  const app = new Hono();

  const charge = async (
    url: string,
    header: string | undefined,
    priceCredits: number,
    context: { accountId?: string },
  ): Promise<
    | { paid: false; status: 402; headers: Record<string, string>; body: unknown }
    | { paid: true; credits: number; transaction: string; headers: Record<string, string> }
  > => {
    const challenge = await gate.requirementFor({
      priceCredits,
      resourceUrl: url,
      description: "test resource",
    });
    const body = { scheme: "x402", price_credits: priceCredits };
    if (!header) {
      return {
        paid: false,
        status: 402,
        headers: { "PAYMENT-REQUIRED": challenge.header, "Cache-Control": "no-store" },
        body,
      };
    }
    paymentHeaders.push(header);
    const result = await gate.settle(header, challenge);
    if (!result.ok) {
      failures.push(result);
      const headers: Record<string, string> = result.paymentResponseHeader
        ? { "PAYMENT-RESPONSE": result.paymentResponseHeader }
        : {
            "PAYMENT-REQUIRED": (
              await gate.requirementFor({
                priceCredits,
                resourceUrl: url,
                error: result.x402Reason ?? result.error.code,
              })
            ).header,
          };
      return { paid: false, status: 402, headers, body: { ...body, error: result.error.code } };
    }
    await ledger.recordPayment(result, context);
    return {
      paid: true,
      credits: result.credits,
      transaction: result.transaction,
      headers: { "PAYMENT-RESPONSE": result.paymentResponseHeader },
    };
  };

  for (const path of ["/paid", "/paid-too"]) {
    app.get(path, async (c) => {
      const outcome = await charge(c.req.url, c.req.header("PAYMENT-SIGNATURE"), 1, {});
      if (!outcome.paid) return c.json(outcome.body, outcome.status, outcome.headers);
      return c.json({ answer: 42 }, 200, outcome.headers);
    });
  }
  app.post("/credits/buy", async (c) => {
    const { usdc } = await c.req.json<{ usdc: number }>();
    const accountId = "account-1";
    const outcome = await charge(c.req.url, c.req.header("PAYMENT-SIGNATURE"), Math.round(usdc * 100), {
      accountId,
    });
    if (!outcome.paid) return c.json(outcome.body, outcome.status, outcome.headers);
    return c.json(
      {
        credits: outcome.credits,
        balance: ledger.balanceOf(accountId),
        transaction: outcome.transaction,
        account_id: accountId,
        api_key: "pc_test_key",
      },
      200,
      outcome.headers,
    );
  });

  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}`,
    failures,
    paymentHeaders,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
