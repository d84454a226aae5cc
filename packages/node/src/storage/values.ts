/**
 * Argument checks at the storage boundary and conversions of values read back from either driver.
 *
 * @packageDocumentation
 */

import { StorageError } from "./errors.js";

/**
 * Reads an integer the driver returned as a number, bigint or numeric string (PostgreSQL returns
 * `SUM(bigint)` and `COUNT(*)` as strings) and checks it is a safe integer. `null` reads as 0, so an
 * empty sum is zero.
 *
 * @example
 * ```ts
 * readInteger("42", "balance"); // 42
 * ```
 */
export function readInteger(value: unknown, what: string): number {
  if (value === null || value === undefined) return 0;
  const parsed = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`${what} ${String(value)} is not a safe integer`);
  return parsed;
}

/**
 * Checks a non-empty string of at most `maxLength` characters; the error names the argument.
 *
 * @example
 * ```ts
 * requireText(input.name, "name");
 * ```
 */
export function requireText(value: unknown, name: string, maxLength = 1000): string {
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) {
    throw new StorageError(
      "invalid_argument",
      `${name} must be a non-empty string of at most ${maxLength} characters`,
      {
        details: { argument: name },
      },
    );
  }
  return value;
}

/**
 * Checks a safe integer within `[min, max]`; the error names the argument.
 *
 * @example
 * ```ts
 * requireInteger(input.maxCredits, "maxCredits", 0);
 * ```
 */
export function requireInteger(
  value: unknown,
  name: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new StorageError("invalid_argument", `${name} must be an integer in [${min}, ${max}]`, {
      details: { argument: name },
    });
  }
  return value;
}

/**
 * Checks that `value` is one of `allowed`.
 *
 * @example
 * ```ts
 * requireOneOf(input.tier, "tier", WORKER_TIERS);
 * ```
 */
export function requireOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new StorageError("invalid_argument", `${name} must be one of ${allowed.join(", ")}`, {
      details: { argument: name },
    });
  }
  return value as T;
}

/**
 * Checks that a string parses as JSON (columns documented as "JSON text").
 *
 * @example
 * ```ts
 * requireJsonText(input.receipt, "receipt");
 * ```
 */
export function requireJsonText(value: unknown, name: string): string {
  if (typeof value !== "string") {
    throw new StorageError("invalid_argument", `${name} must be JSON text`, { details: { argument: name } });
  }
  try {
    JSON.parse(value);
  } catch (error) {
    throw new StorageError("invalid_argument", `${name} must be JSON text`, {
      details: { argument: name },
      cause: error,
    });
  }
  return value;
}
