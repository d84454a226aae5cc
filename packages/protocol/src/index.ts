/**
 * `@peercycles/protocol`: the wire types shared by the client and the node — tiers, headers,
 * the chat request schema, the `peer` object and its receipt, output commitments, OpenAI-shaped
 * errors, the worker WebSocket messages and the live network events. Depends on nothing of ours.
 *
 * @example
 * ```ts
 * import { parseChatCompletionRequest, outputHash, completionOutputOf } from "@peercycles/protocol";
 * const parsed = parseChatCompletionRequest(JSON.parse(body));
 * if (!parsed.ok) throw new Error(parsed.message);
 * const hash = outputHash(completionOutputOf(completion));
 * ```
 */
export {
  type ChatCompletionRequest,
  type ChatMessage,
  chatCompletionRequestSchema,
  chatMessageSchema,
  DEFAULT_MAX_COMPLETION_TOKENS,
  type ParsedChatRequest,
  parseChatCompletionRequest,
  responseFormatSchema,
  toolChoiceSchema,
  toolDefinitionSchema,
} from "./chat.js";
export {
  canonicalJson,
  fromBase64Url,
  fromHex,
  sha256Bytes,
  sha256Hex,
  toBase64Url,
  toHex,
  utf8,
} from "./encoding.js";
export {
  API_ERRORS,
  type ApiErrorBody,
  type ApiErrorCode,
  apiErrorBody,
  apiErrorBodySchema,
  isApiErrorCode,
  ProtocolError,
} from "./errors.js";
export {
  API_KEY_PREFIX,
  PEER_HEADERS,
  SEALED_REQUEST_MEDIA_TYPE,
  SEALED_RESPONSE_MEDIA_TYPE,
  SEALED_STREAM_MEDIA_TYPE,
  WORKER_ENDPOINT_PATH,
  WORKER_PROTOCOL_VERSION,
  WORKER_TOKEN_PREFIX,
} from "./headers.js";
export type { AttestationSummary, NetworkEvent, NetworkSnapshot, NetworkWorker } from "./network.js";
export {
  balanceResponseSchema,
  buyCreditsRequestSchema,
  buyCreditsResponseSchema,
  CREDITS_PER_USD,
  type PaymentRequiredBody,
  paymentRequiredBodySchema,
  USDC_BASE_UNITS_PER_CREDIT,
} from "./payments.js";
export {
  type CommittedToolCall,
  CompletionAccumulator,
  type CompletionOutput,
  completionOutputOf,
  outputCommitment,
  outputHash,
  type PeerInfo,
  peerInfoSchema,
  type Usage,
  usageSchema,
  type WireReceipt,
  wireReceiptSchema,
} from "./peer.js";
export { maxPriceCredits, priceCredits } from "./pricing.js";
export {
  encodeSealedFrame,
  MAX_SEALED_FRAME_LENGTH,
  SEALED_FRAME,
  type SealedFrame,
  SealedFrameReader,
} from "./sealed-stream-frames.js";
export { DEFAULT_TIER, isTier, TIERS, type Tier } from "./tiers.js";
export {
  attestationSchema,
  attestSchema,
  cancelSchema,
  chunkSchema,
  chunksSchema,
  completionOutputSchema,
  helloSchema,
  type JobMessage,
  jobErrorSchema,
  jobSchema,
  MAX_CHUNKS_PER_FRAME,
  type OrchestratorMessage,
  orchestratorMessageSchema,
  parseOrchestratorMessage,
  parseWorkerMessage,
  type ResultMessage,
  reexecuteSchema,
  rejectedSchema,
  resultSchema,
  sealedChunkSchema,
  toolCallDeltaSchema,
  verdictSchema,
  type WireCompletionOutput,
  WORKER_JOB_ERROR_CODES,
  type WorkerHello,
  type WorkerMessage,
  welcomeSchema,
  workerMessageSchema,
} from "./worker-messages.js";
