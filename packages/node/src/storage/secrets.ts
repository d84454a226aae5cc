/**
 * Bearer secrets (API keys, worker tokens): random, shown once, stored only as SHA-256 hashes.
 *
 * @packageDocumentation
 */

import { createHash, randomBytes } from "node:crypto";

/**
 * A fresh secret: `prefix` followed by 32 random bytes in base64url (256 bits; nothing to brute-force,
 * which is why an unsalted SHA-256 is an adequate hash for lookups).
 *
 * @example
 * ```ts
 * generateSecret("pc_"); // "pc_3q2-…"
 * ```
 */
export function generateSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/**
 * SHA-256 of the secret's UTF-8 bytes, lowercase hex: what the database stores and looks up.
 *
 * @example
 * ```ts
 * hashSecret("pc_abc"); // 64 hex digits
 * ```
 */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}
