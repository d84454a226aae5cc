/**
 * `@peercycles/ai-sdk`: a Vercel AI SDK provider for a Peer Cycles node ({@link createPeerCycles}),
 * `@ai-sdk/openai-compatible` with `@peercycles/client`'s `peerFetch` as its fetch: every answer is
 * verified (sealed to an attested enclave on the `confidential` tier) and its verification is in
 * `providerMetadata.peercycles.verification`.
 *
 * @example
 * ```ts
 * import { createPeerCycles, peerVerificationOfMetadata } from "@peercycles/ai-sdk";
 * import { generateText } from "ai";
 * const peer = createPeerCycles({ baseURL: process.env.PEER_URL, tier: "verified" });
 * const result = await generateText({ model: peer("peer-tiny"), prompt: "hello" });
 * console.log(peerVerificationOfMetadata(result.providerMetadata)?.receipt?.id);
 * ```
 *
 * @packageDocumentation
 */

export {
  PeerCyclesError,
  type PeerCyclesErrorCode,
  type PeerVerification,
} from "@peercycles/client";
export {
  createPeerCycles,
  type PeerCyclesModelId,
  type PeerCyclesProvider,
  type PeerCyclesProviderSettings,
} from "./create-peer-cycles.js";
export { PeerCyclesChatLanguageModel, unwrapPeerCyclesError } from "./peer-cycles-chat-language-model.js";
export { peerMetadataExtractor } from "./peer-metadata-extractor.js";
export { peerVerificationOfMetadata } from "./peer-verification-of-metadata.js";
