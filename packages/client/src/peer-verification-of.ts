import type { PeerVerification } from "./verification.js";

/**
 * The `peer.verification` of a completion or of a stream's final chunk, typed; undefined when the
 * value carries none (a chunk before the last).
 *
 * @example
 * ```ts
 * for await (const chunk of stream) {
 *   const verification = peerVerificationOf(chunk);
 *   if (verification) console.log(verification.tier, verification.receipt?.id);
 * }
 * ```
 */
export function peerVerificationOf(value: unknown): PeerVerification | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const peer = (value as { peer?: unknown }).peer;
  if (typeof peer !== "object" || peer === null) return undefined;
  const verification = (peer as { verification?: unknown }).verification;
  return typeof verification === "object" && verification !== null
    ? (verification as PeerVerification)
    : undefined;
}
