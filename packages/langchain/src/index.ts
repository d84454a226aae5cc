/**
 * `@peercycles/langchain`: {@link ChatPeerCycles}, LangChain's `ChatOpenAI` on a Peer Cycles node,
 * with every answer verified by `@peercycles/client` (sealed to an attested enclave on the
 * `confidential` tier) and the verification in each message's `response_metadata.peer`.
 *
 * @example
 * ```ts
 * import { ChatPeerCycles, peerVerificationOfMessage } from "@peercycles/langchain";
 * const model = new ChatPeerCycles({ model: "peer-tiny", configuration: { baseURL: process.env.PEER_URL }, tier: "verified" });
 * const message = await model.invoke("hello");
 * console.log(peerVerificationOfMessage(message)?.receipt?.id);
 * ```
 *
 * @packageDocumentation
 */

export {
  PeerCyclesError,
  type PeerCyclesErrorCode,
  type PeerVerification,
} from "@peercycles/client";
export { ChatPeerCycles, type ChatPeerCyclesFields, DEFAULT_MODEL } from "./chat-peer-cycles.js";
export { peerVerificationOfMessage } from "./peer-verification-of-message.js";
