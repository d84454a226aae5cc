import type { Address } from "@solana/kit";
import { invalidArgument } from "./errors.js";

/** CAIP-2 identifiers of the Solana clusters x402 v2 knows (there is no localnet identifier). */
export const SOLANA_MAINNET = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";
export const SOLANA_DEVNET = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
export const SOLANA_TESTNET = "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z";

/** A Solana cluster as a CAIP-2 network identifier. */
export type SolanaNetwork = typeof SOLANA_MAINNET | typeof SOLANA_DEVNET | typeof SOLANA_TESTNET;

/** Circle's USDC mint on each cluster. The embedded chain forges the devnet one. */
export const USDC_MINTS: Readonly<Record<SolanaNetwork, Address>> = {
  [SOLANA_MAINNET]: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v" as Address,
  [SOLANA_DEVNET]: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU" as Address,
  [SOLANA_TESTNET]: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU" as Address,
};

/** USDC has 6 decimals. */
export const USDC_DECIMALS = 6;
/** One USDC in base units. */
export const USDC_BASE_UNITS = 1_000_000n;
/** One credit is $0.01 of USDC: 10,000 base units. */
export const CREDIT_BASE_UNITS = 10_000n;

/** Whether `value` is one of the three CAIP-2 Solana networks. */
export function isSolanaNetwork(value: unknown): value is SolanaNetwork {
  return value === SOLANA_MAINNET || value === SOLANA_DEVNET || value === SOLANA_TESTNET;
}

/**
 * USDC as a decimal (`5`, `0.01`, `"1.5"`) to base units, exactly: more than 6 decimals, negative or
 * non-finite amounts are refused, never rounded.
 *
 * @example
 * ```ts
 * usdcToBaseUnits(0.01); // 10_000n
 * ```
 */
export function usdcToBaseUnits(usdc: number | string, name = "usdc"): bigint {
  const text = typeof usdc === "number" ? numberText(usdc, name) : usdc.trim();
  const match = /^(\d+)(?:\.(\d{0,6}))?$/.exec(text);
  if (!match)
    invalidArgument(name, `expected a non-negative USDC amount with at most 6 decimals, got ${text}`);
  const whole = match[1] ?? "0";
  const fraction = (match[2] ?? "").padEnd(6, "0");
  return BigInt(whole) * USDC_BASE_UNITS + BigInt(fraction);
}

function numberText(value: number, name: string): string {
  if (!Number.isFinite(value) || value < 0)
    invalidArgument(name, `expected a finite non-negative number, got ${value}`);
  // Up to 6 decimals survive toFixed(6) exactly when the number was written with at most 6.
  const fixed = value.toFixed(6);
  if (Number(fixed) !== value) invalidArgument(name, `more than 6 decimals: ${value}`);
  return fixed;
}

/** Base units to a decimal USDC string (`10000n` → `"0.01"`). */
export function formatUsdc(baseUnits: bigint): string {
  const negative = baseUnits < 0n;
  const abs = negative ? -baseUnits : baseUnits;
  const whole = abs / USDC_BASE_UNITS;
  const fraction = (abs % USDC_BASE_UNITS).toString().padStart(6, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Credits to USDC base units (1 credit = 10,000). */
export function creditsToBaseUnits(credits: number, name = "credits"): bigint {
  if (!Number.isSafeInteger(credits) || credits < 0) {
    invalidArgument(name, `expected a non-negative integer number of credits, got ${credits}`);
  }
  return BigInt(credits) * CREDIT_BASE_UNITS;
}

/** USDC base units to whole credits, rounding down (a remainder below one credit buys nothing). */
export function baseUnitsToCredits(baseUnits: bigint): number {
  return Number(baseUnits / CREDIT_BASE_UNITS);
}
