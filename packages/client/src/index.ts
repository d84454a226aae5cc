/**
 * `@peercycles/client`: the Peer Cycles SDK. {@link peerFetch} is a standard `fetch` that seals
 * requests to an attested enclave, verifies attestation bundles and receipts, opens sealed answers
 * and streams, and refuses — never falls back to plaintext — when a check fails. {@link PeerCycles}
 * is the `openai` package's client with that fetch inside.
 *
 * @example
 * ```ts
 * import { PeerCycles } from "@peercycles/client";
 * import policy from "./development-simulated.json" with { type: "json" };
 * const client = new PeerCycles({ baseURL: "http://127.0.0.1:8080", apiKey, tier: "confidential", policy });
 * const completion = await client.chat.completions.create({ model: "peer-tiny", messages: [{ role: "user", content: "hi" }] });
 * ```
 *
 * @packageDocumentation
 */
export { AttestationCache, type AttestedWorker } from "./attestation-cache.js";
export {
  CLIENT_ERRORS_DOCS,
  PEER_CYCLES_ERROR_CODES,
  PeerCyclesError,
  type PeerCyclesErrorCode,
  type PeerCyclesErrorOptions,
} from "./errors.js";
export { PeerCycles, type PeerCyclesOptions, type PeerCyclesPaymentOptions } from "./peer-cycles.js";
export { type FetchFunction, type PeerFetch, type PeerFetchOptions, peerFetch } from "./peer-fetch.js";
export { peerVerificationOf } from "./peer-verification-of.js";
export type { AttestationSummary, AttestedGpu, PeerVerification, ReceiptSummary } from "./verification.js";
