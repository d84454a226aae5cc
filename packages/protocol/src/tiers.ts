/** The three service tiers, cheapest first. See the README for what each guarantees. */
export const TIERS = ["open", "verified", "confidential"] as const;

/** A service tier: `open` (no guarantee), `verified` (signed receipt, re-execution), `confidential` (TEE). */
export type Tier = (typeof TIERS)[number];

/** The tier a request gets when it names none. */
export const DEFAULT_TIER: Tier = "verified";

/** Whether `value` names a tier. */
export function isTier(value: unknown): value is Tier {
  return typeof value === "string" && (TIERS as readonly string[]).includes(value);
}
