import { type PeerVerification, peerVerificationOf } from "@peercycles/client";

/**
 * The `peer.verification` in the `providerMetadata` of an AI SDK result, step, stream part or
 * message (`providerMetadata.peercycles.verification`); undefined when it carries none.
 *
 * @example
 * ```ts
 * const { text, providerMetadata } = await generateText({ model: peer("peer-tiny"), prompt: "hi" });
 * console.log(peerVerificationOfMetadata(providerMetadata)?.receipt?.id);
 * ```
 */
export function peerVerificationOfMetadata(
  providerMetadata: unknown,
  name = "peercycles",
): PeerVerification | undefined {
  if (typeof providerMetadata !== "object" || providerMetadata === null) return undefined;
  return peerVerificationOf({ peer: (providerMetadata as Record<string, unknown>)[name] });
}
