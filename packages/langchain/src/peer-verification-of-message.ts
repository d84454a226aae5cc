import { type PeerVerification, peerVerificationOf } from "@peercycles/client";

/**
 * The `peer.verification` that `ChatPeerCycles` puts in a message's `response_metadata` (a
 * message from `invoke`, the final chunk of a stream, or a stream's chunks concatenated); undefined
 * when the message carries none (a stream chunk before the last).
 *
 * @example
 * ```ts
 * const message = await model.invoke("hello");
 * const verification = peerVerificationOfMessage(message);
 * console.log(verification?.tier, verification?.receipt?.id);
 * ```
 */
export function peerVerificationOfMessage(message: unknown): PeerVerification | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  return peerVerificationOf((message as { response_metadata?: unknown }).response_metadata);
}
