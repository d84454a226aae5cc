export { MODEL_ERRORS_DOCS, ModelError, type ModelErrorCode, type ModelErrorOptions } from "./errors.js";
export {
  createOpenAICompatibleBackend,
  type OpenAICompatibleBackendOptions,
  toChatCompletionBody,
} from "./openai-compatible.js";
export {
  createPeerTinyBackend,
  loadPeerTiny,
  PEER_TINY_MODEL_ID,
  PEER_TINY_WEIGHTS_FILE,
  peerTinyWeightsPath,
} from "./peer-tiny.js";
export { type PeerTinyWeights, parsePeerTinyWeights } from "./peer-tiny-weights.js";
export { createPrng, type Prng } from "./prng.js";
export { type PromptFacts, promptFacts } from "./prompt-facts.js";
export { countPromptTokens, DEFAULT_MAX_TOKENS, messageText, validateRequest } from "./request.js";
export { type JsonValue, synthesizeFromSchema } from "./schema-synthesis.js";
export { parseServerSentEvents, type ServerSentEvent } from "./sse.js";
export { countTokens, tokenize } from "./tokenizer.js";
export { chooseTool, toolResultAnswer } from "./tool-choice.js";
export type {
  ChatMessage,
  GenerateEvent,
  GenerateRequest,
  InferenceBackend,
  ResponseFormat,
  ToolChoice,
  ToolDefinition,
} from "./types.js";
