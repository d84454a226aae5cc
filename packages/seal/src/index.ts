/**
 * `@peercycles/seal`: HPKE (RFC 9180), Oblivious HTTP request/response sealing (RFC 9458) and sealed
 * streams (draft-ietf-ohai-chunked-ohttp), on @noble with WebCrypto where it is faster.
 *
 * @example
 * ```ts
 * import { CipherSuite } from "@peercycles/seal";
 * const suite = new CipherSuite({ kem: 0x0020, kdf: 0x0001, aead: 0x0001 });
 * ```
 *
 * @packageDocumentation
 */
export type { Aead, AeadKey } from "./aead.js";
export { aeadFor } from "./aead.js";
export type { ChunkOpenerOptions } from "./chunked.js";
export {
  ChunkedRequestDecapsulator,
  ChunkedRequestEncapsulator,
  ChunkedResponseOpener,
  ChunkedResponseSealer,
  ChunkedServerContext,
  createChunkedRequestDecapsulator,
  createChunkedRequestEncapsulator,
  DEFAULT_MAX_CHUNK_LENGTH,
  OHTTP_CHUNKED_REQUEST_LABEL,
  OHTTP_CHUNKED_REQUEST_MEDIA_TYPE,
  OHTTP_CHUNKED_RESPONSE_LABEL,
  OHTTP_CHUNKED_RESPONSE_MEDIA_TYPE,
} from "./chunked.js";
export type { CipherSuiteIds, RecipientOptions, SealResult, SenderOptions } from "./cipher-suite.js";
export { CipherSuite } from "./cipher-suite.js";
export { Context, MAX_SEQUENCE, RecipientContext, SenderContext } from "./context.js";
export type { SealErrorCode, SealErrorOptions } from "./errors.js";
export {
  ERROR_DOCS_URL,
  HpkeError,
  OhttpError,
  SealArgumentError,
  SealError,
  SealedStreamError,
} from "./errors.js";
export { AeadId, HpkeMode, KdfId, KemId } from "./identifiers.js";
export type { Kdf } from "./kdf.js";
export { kdfFor } from "./kdf.js";
export type { Kem, KeyPair, PrivateKeyInput } from "./kem.js";
export { kemFor } from "./kem.js";
export type { KeyConfig, SymmetricAlgorithm } from "./key-config.js";
export {
  decodeKeyConfig,
  decodeKeyConfigList,
  encodeKeyConfig,
  encodeKeyConfigList,
  isSupportedSymmetricAlgorithm,
  validateKeyConfig,
} from "./key-config.js";
export type { EncapsulateOptions, GatewayKey, GatewayKeys } from "./ohttp.js";
export {
  decapsulateRequest,
  encapsulateRequest,
  OHTTP_KEYS_MEDIA_TYPE,
  OHTTP_REQUEST_LABEL,
  OHTTP_REQUEST_MEDIA_TYPE,
  OHTTP_RESPONSE_LABEL,
  OHTTP_RESPONSE_MEDIA_TYPE,
  OhttpClientContext,
  OhttpServerContext,
} from "./ohttp.js";
