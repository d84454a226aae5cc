import { invalidArgument } from "./errors.js";

/** Circle's USDC mints by CAIP-2 Solana network: the only assets a paying fetch pays in. */
export const USDC_MINTS: Readonly<Record<string, string>> = {
  "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
  "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1": "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
  "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z": "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
};

const BASE_UNITS = 1_000_000n;

/** A decimal USDC amount (`0.5`, `"2"`) to base units (6 decimals), exactly; more precision is refused. */
export function usdcToBaseUnits(usdc: number | string, name = "usdc"): bigint {
  let text: string;
  if (typeof usdc === "number") {
    if (!Number.isFinite(usdc) || usdc < 0)
      invalidArgument(name, `expected a finite non-negative number, got ${usdc}`);
    text = usdc.toFixed(6);
    if (Number(text) !== usdc) invalidArgument(name, `more than 6 decimals: ${usdc}`);
  } else if (typeof usdc === "string") {
    text = usdc.trim();
  } else {
    return invalidArgument(name, "expected a number or a decimal string");
  }
  const match = /^(\d+)(?:\.(\d{0,6}))?$/.exec(text);
  if (!match)
    return invalidArgument(name, `expected a non-negative USDC amount with at most 6 decimals, got ${text}`);
  return BigInt(match[1] ?? "0") * BASE_UNITS + BigInt((match[2] ?? "").padEnd(6, "0"));
}

/** Base units to a decimal USDC string (`10000n` → `"0.01"`). */
export function formatUsdc(baseUnits: bigint): string {
  const whole = baseUnits / BASE_UNITS;
  const fraction = (baseUnits % BASE_UNITS).toString().padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}
