import * as z from "zod/mini";

/** USDC base units per credit: 1 credit = $0.01 = 10,000 base units (USDC has 6 decimals). */
export const USDC_BASE_UNITS_PER_CREDIT = 10_000n;
/** Credits per US dollar. */
export const CREDITS_PER_USD = 100;

/**
 * Body of a `402 Payment Required` answer. The x402 v2 requirement itself travels in the
 * `PAYMENT-REQUIRED` header when the node accepts per-request payments.
 */
export const paymentRequiredBodySchema = z.looseObject({
  scheme: z.literal("x402"),
  price_credits: z.int().check(z.gte(0)),
  balance_credits: z.optional(z.int().check(z.gte(0))),
  error: z.optional(
    z.looseObject({ message: z.string(), type: z.string(), code: z.string(), param: z.nullable(z.string()) }),
  ),
});
export type PaymentRequiredBody = z.infer<typeof paymentRequiredBodySchema>;

/** `POST /credits/buy` request body. */
export const buyCreditsRequestSchema = z.object({ usdc: z.number().check(z.gt(0), z.lte(1_000_000)) });

/** `POST /credits/buy` answer. */
export const buyCreditsResponseSchema = z.looseObject({
  credits: z.int(),
  balance: z.int(),
  transaction: z.string(),
  api_key: z.optional(z.string()),
  account_id: z.optional(z.string()),
});

/** `GET /credits/balance` answer. */
export const balanceResponseSchema = z.looseObject({
  account_id: z.string(),
  balance: z.int(),
  held: z.int(),
});
