import { assertBytes, assertObject, concat, EMPTY, utf8 } from "./bytes.js";
import { type CipherSuite, cachedSuite } from "./cipher-suite.js";
import type { Context, RecipientContext, SenderContext } from "./context.js";
import { OhttpError, SealArgumentError, type SealError } from "./errors.js";
import type { PrivateKeyInput } from "./kem.js";
import {
  isSupportedSymmetricAlgorithm,
  type KeyConfig,
  type SymmetricAlgorithm,
  validateKeyConfig,
} from "./key-config.js";

/**
 * Media type of an encapsulated request (RFC 9458 §9.2).
 *
 * @example
 * ```ts
 * headers.set("content-type", OHTTP_REQUEST_MEDIA_TYPE); // "message/ohttp-req"
 * ```
 */
export const OHTTP_REQUEST_MEDIA_TYPE = "message/ohttp-req";
/**
 * Media type of an encapsulated response (RFC 9458 §9.3).
 *
 * @example
 * ```ts
 * new Response(sealed, { headers: { "content-type": OHTTP_RESPONSE_MEDIA_TYPE } });
 * ```
 */
export const OHTTP_RESPONSE_MEDIA_TYPE = "message/ohttp-res";
/**
 * Media type of a key configuration list (RFC 9458 §9.1).
 *
 * @example
 * ```ts
 * new Response(encodeKeyConfigList([keyConfig]), { headers: { "content-type": OHTTP_KEYS_MEDIA_TYPE } });
 * ```
 */
export const OHTTP_KEYS_MEDIA_TYPE = "application/ohttp-keys";
/**
 * HPKE info label of a request (RFC 9458 §4.3).
 *
 * @example
 * ```ts
 * // info = "message/bhttp request" || 0x00 || key id || kem || kdf || aead
 * ```
 */
export const OHTTP_REQUEST_LABEL = "message/bhttp request";
/**
 * Exporter label of a response (RFC 9458 §4.4).
 *
 * @example
 * ```ts
 * const secret = await context.export(new TextEncoder().encode(OHTTP_RESPONSE_LABEL), 16);
 * ```
 */
export const OHTTP_RESPONSE_LABEL = "message/bhttp response";

const HEADER_LENGTH = 7;

/**
 * Options of {@link encapsulateRequest}.
 *
 * @example
 * ```ts
 * await encapsulateRequest(keyConfig, body, { kdfId: 0x0001, aeadId: 0x0003 });
 * ```
 */
export interface EncapsulateOptions {
  /** Fixed ephemeral key pair, for test vectors only. */
  readonly ephemeralKeyPair?: PrivateKeyInput;
  /** KDF to use; must be offered by the key configuration together with `aeadId`. */
  readonly kdfId?: number;
  /** AEAD to use; must be offered by the key configuration together with `kdfId`. */
  readonly aeadId?: number;
}

/**
 * The gateway's key: its configuration and the matching private key.
 *
 * @example
 * ```ts
 * const gateway: GatewayKey = { keyConfig, privateKey };
 * ```
 */
export interface GatewayKey {
  readonly keyConfig: KeyConfig;
  readonly privateKey: Uint8Array;
}

/**
 * The gateway keys a server accepts: one, or several while keys rotate. A request picks its key by the
 * key id in its header.
 *
 * @example
 * ```ts
 * const keys: GatewayKeys = [{ keyConfig: current, privateKey: currentKey }, { keyConfig: previous, privateKey: previousKey }];
 * await decapsulateRequest(keys, body);
 * ```
 */
export type GatewayKeys = GatewayKey | readonly GatewayKey[];

/** Checks one or several gateway keys; key ids must be distinct. Internal. */
export function checkGatewayKeys(keys: GatewayKeys): readonly GatewayKey[] {
  const list: readonly GatewayKey[] = Array.isArray(keys) ? keys : [keys as GatewayKey];
  if (list.length === 0) {
    throw new SealArgumentError("invalid_argument", "gatewayKey list must not be empty", {
      details: { argument: "gatewayKey" },
    });
  }
  const seen = new Set<number>();
  list.forEach((key, i) => {
    const name = Array.isArray(keys) ? `gatewayKey[${i}]` : "gatewayKey";
    assertObject(key, name);
    validateKeyConfig(key.keyConfig, `${name}.keyConfig`);
    assertBytes(key.privateKey, `${name}.privateKey`);
    if (seen.has(key.keyConfig.keyId)) {
      throw new SealArgumentError(
        "invalid_argument",
        `${name}.keyConfig.keyId ${key.keyConfig.keyId} is used twice`,
        {
          details: { argument: name },
        },
      );
    }
    seen.add(key.keyConfig.keyId);
  });
  return list;
}

/** The parsed request header, the suite it names and the gateway key it selects. Internal. */
export interface RequestHeader {
  readonly header: Uint8Array;
  readonly suite: CipherSuite;
  readonly gatewayKey: GatewayKey;
}

/** Picks the suite: the requested pair, or the first supported pair of the configuration. Internal. */
export function chooseSuite(
  keyConfig: KeyConfig,
  options: { kdfId?: number; aeadId?: number },
): { header: Uint8Array; suite: CipherSuite } {
  validateKeyConfig(keyConfig);
  let pair: SymmetricAlgorithm | undefined;
  if (options.kdfId !== undefined || options.aeadId !== undefined) {
    pair = keyConfig.symmetricAlgorithms.find(
      (p) => p.kdfId === options.kdfId && p.aeadId === options.aeadId,
    );
    if (!pair || !isSupportedSymmetricAlgorithm(pair)) {
      throw new OhttpError(
        "ohttp_suite_mismatch",
        "kdfId/aeadId is not a supported pair offered by keyConfig",
        {
          details: { kdfId: options.kdfId, aeadId: options.aeadId },
        },
      );
    }
  } else {
    pair = keyConfig.symmetricAlgorithms.find(isSupportedSymmetricAlgorithm);
    if (!pair)
      throw new OhttpError("ohttp_suite_mismatch", "keyConfig offers no supported (kdfId, aeadId) pair");
  }
  const header = Uint8Array.of(
    keyConfig.keyId,
    keyConfig.kemId >>> 8,
    keyConfig.kemId & 0xff,
    pair.kdfId >>> 8,
    pair.kdfId & 0xff,
    pair.aeadId >>> 8,
    pair.aeadId & 0xff,
  );
  return { header, suite: cachedSuite(keyConfig.kemId, pair.kdfId, pair.aeadId) };
}

/** Reads a request header, selects the gateway key by key id and checks the suite. Internal. */
export function parseRequestHeader(
  gatewayKeys: readonly GatewayKey[],
  bytes: Uint8Array,
  fail: (
    code: "ohttp_request_invalid" | "ohttp_key_id_mismatch" | "ohttp_suite_mismatch",
    message: string,
  ) => SealError,
): RequestHeader {
  if (bytes.length < HEADER_LENGTH)
    throw fail("ohttp_request_invalid", "request is shorter than its 7-byte header");
  const keyId = bytes[0]!;
  const kemId = (bytes[1]! << 8) | bytes[2]!;
  const kdfId = (bytes[3]! << 8) | bytes[4]!;
  const aeadId = (bytes[5]! << 8) | bytes[6]!;
  const gatewayKey = gatewayKeys.find((key) => key.keyConfig.keyId === keyId);
  if (!gatewayKey)
    throw fail("ohttp_key_id_mismatch", `request key id ${keyId} is not one of this gateway's`);
  const { keyConfig } = gatewayKey;
  if (kemId !== keyConfig.kemId)
    throw fail("ohttp_suite_mismatch", "request KEM does not match the key configuration");
  const offered = keyConfig.symmetricAlgorithms.some((p) => p.kdfId === kdfId && p.aeadId === aeadId);
  if (!offered || !isSupportedSymmetricAlgorithm({ kdfId, aeadId })) {
    throw fail("ohttp_suite_mismatch", "request (KDF, AEAD) is not offered by the key configuration");
  }
  return { header: bytes.slice(0, HEADER_LENGTH), suite: cachedSuite(kemId, kdfId, aeadId), gatewayKey };
}

const KEY_LABEL = utf8("key");
const NONCE_LABEL = utf8("nonce");

/** `label || 0x00 || header`, the HPKE info of a request. Internal. */
export function requestInfo(label: string, header: Uint8Array): Uint8Array {
  return concat(utf8(label), Uint8Array.of(0), header);
}

/** max(Nn, Nk): the response nonce length. Internal. */
export function responseNonceLength(suite: CipherSuite): number {
  return Math.max(suite.aead.nonceLength, suite.aead.keyLength);
}

/**
 * RFC 9458 §4.4 response keys: secret = Export(label, max(Nn, Nk)); salt = enc || response_nonce;
 * prk = Extract(salt, secret); key = Expand(prk, "key", Nk); nonce = Expand(prk, "nonce", Nn). Internal.
 */
export async function responseKeys(
  suite: CipherSuite,
  context: Context,
  enc: Uint8Array,
  responseNonce: Uint8Array,
  label: string,
): Promise<{ key: Uint8Array; nonce: Uint8Array }> {
  const secret = await context.export(utf8(label), responseNonceLength(suite));
  // One keyed HMAC for both expansions: the PRK's padded key is hashed once, not twice.
  const prk = suite.kdf.keyed(suite.kdf.extract(concat(enc, responseNonce), secret));
  return {
    key: suite.kdf.expand(prk, KEY_LABEL, suite.aead.keyLength),
    nonce: suite.kdf.expand(prk, NONCE_LABEL, suite.aead.nonceLength),
  };
}

/** A response nonce: the caller's (checked) or a fresh random one. Internal. */
export function responseNonceFor(suite: CipherSuite, given: Uint8Array | undefined): Uint8Array {
  const length = responseNonceLength(suite);
  if (given !== undefined) {
    assertBytes(given, "responseNonce", length);
    return given;
  }
  return crypto.getRandomValues(new Uint8Array(length));
}

/**
 * The client's state after sending a request: opens the matching response.
 *
 * @example
 * ```ts
 * const { encapsulatedRequest, context } = await encapsulateRequest(keyConfig, request);
 * const response = await context.openResponse(new Uint8Array(await res.arrayBuffer()));
 * ```
 */
export class OhttpClientContext {
  readonly #suite: CipherSuite;
  readonly #context: SenderContext;
  readonly #enc: Uint8Array;

  /** @internal */
  constructor(suite: CipherSuite, context: SenderContext, enc: Uint8Array) {
    this.#suite = suite;
    this.#context = context;
    this.#enc = enc;
  }

  /**
   * Decrypts an encapsulated response (`response_nonce || ciphertext`). A short message is
   * `ohttp_response_invalid`; a bad tag is `ohttp_response_open_failed`.
   *
   * @example
   * ```ts
   * const bhttpResponse = await context.openResponse(encapsulatedResponse);
   * ```
   */
  async openResponse(encapsulatedResponse: Uint8Array): Promise<Uint8Array> {
    if (!(encapsulatedResponse instanceof Uint8Array)) {
      throw new OhttpError("ohttp_response_invalid", "encapsulatedResponse must be a Uint8Array", {
        details: { argument: "encapsulatedResponse" },
      });
    }
    const suite = this.#suite;
    const nonceLength = responseNonceLength(suite);
    if (encapsulatedResponse.length < nonceLength + suite.aead.tagLength) {
      throw new OhttpError(
        "ohttp_response_invalid",
        "encapsulatedResponse is shorter than response nonce plus tag",
        {
          details: { length: encapsulatedResponse.length },
        },
      );
    }
    const responseNonce = encapsulatedResponse.subarray(0, nonceLength);
    const { key, nonce } = await responseKeys(
      suite,
      this.#context,
      this.#enc,
      responseNonce,
      OHTTP_RESPONSE_LABEL,
    );
    try {
      return await suite.aead.createKey(key).open(nonce, EMPTY, encapsulatedResponse.subarray(nonceLength));
    } catch (cause) {
      throw new OhttpError("ohttp_response_open_failed", "response authentication failed", { cause });
    }
  }
}

/**
 * The gateway's state after opening a request: seals the response.
 *
 * @example
 * ```ts
 * const { request, context } = await decapsulateRequest({ keyConfig, privateKey }, body);
 * const encapsulatedResponse = await context.sealResponse(handle(request));
 * ```
 */
export class OhttpServerContext {
  readonly #suite: CipherSuite;
  readonly #context: RecipientContext;
  readonly #enc: Uint8Array;

  /** @internal */
  constructor(suite: CipherSuite, context: RecipientContext, enc: Uint8Array) {
    this.#suite = suite;
    this.#context = context;
    this.#enc = enc;
  }

  /**
   * Encrypts a response: `response_nonce || Seal(key, nonce, "", response)`. The nonce is random unless
   * given (for test vectors; it must then be max(Nn, Nk) bytes and never reused).
   *
   * @example
   * ```ts
   * const encapsulatedResponse = await context.sealResponse(bhttpResponse);
   * ```
   */
  async sealResponse(
    response: Uint8Array,
    options: { responseNonce?: Uint8Array } = {},
  ): Promise<Uint8Array> {
    assertBytes(response, "response");
    assertObject(options, "options");
    const suite = this.#suite;
    const responseNonce = responseNonceFor(suite, options.responseNonce);
    const { key, nonce } = await responseKeys(
      suite,
      this.#context,
      this.#enc,
      responseNonce,
      OHTTP_RESPONSE_LABEL,
    );
    const sealed = await suite.aead.createKey(key).seal(nonce, EMPTY, response);
    return concat(responseNonce, sealed);
  }
}

/**
 * Encapsulates a request to a gateway (RFC 9458 §4.3): `header || enc || HPKE ciphertext`, with the
 * first supported (KDF, AEAD) pair of the configuration unless `kdfId`/`aeadId` pick another.
 *
 * @example
 * ```ts
 * import { encapsulateRequest, OHTTP_REQUEST_MEDIA_TYPE } from "@peercycles/seal";
 * const { encapsulatedRequest, context } = await encapsulateRequest(keyConfig, bhttpRequest);
 * const res = await fetch(relayUrl, { method: "POST", body: encapsulatedRequest, headers: { "content-type": OHTTP_REQUEST_MEDIA_TYPE } });
 * const response = await context.openResponse(new Uint8Array(await res.arrayBuffer()));
 * ```
 */
export async function encapsulateRequest(
  keyConfig: KeyConfig,
  request: Uint8Array,
  options: EncapsulateOptions = {},
): Promise<{ encapsulatedRequest: Uint8Array; context: OhttpClientContext }> {
  assertBytes(request, "request");
  assertObject(options, "options");
  const { header, suite } = chooseSuite(keyConfig, options);
  const { enc, context } = await suite.setupSender({
    recipientPublicKey: keyConfig.publicKey,
    info: requestInfo(OHTTP_REQUEST_LABEL, header),
    ephemeralKeyPair: options.ephemeralKeyPair,
  });
  const ciphertext = await context.seal(request);
  return {
    encapsulatedRequest: concat(header, enc, ciphertext),
    context: new OhttpClientContext(suite, context, enc),
  };
}

/**
 * Opens an encapsulated request at the gateway (RFC 9458 §4.3), with one gateway key or a list of them
 * (key rotation: the request's key id picks one). Any malformed or forged input raises a
 * {@link SealError}: `ohttp_request_invalid`, `ohttp_key_id_mismatch`, `ohttp_suite_mismatch`,
 * `hpke_invalid_enc` or `hpke_open_failed`.
 *
 * @example
 * ```ts
 * import { decapsulateRequest } from "@peercycles/seal";
 * const { request, context } = await decapsulateRequest({ keyConfig, privateKey }, body);
 * return new Response(await context.sealResponse(await handle(request)), { headers: { "content-type": "message/ohttp-res" } });
 * ```
 */
export async function decapsulateRequest(
  gatewayKey: GatewayKeys,
  encapsulatedRequest: Uint8Array,
): Promise<{ request: Uint8Array; context: OhttpServerContext }> {
  const gatewayKeys = checkGatewayKeys(gatewayKey);
  if (!(encapsulatedRequest instanceof Uint8Array)) {
    throw new OhttpError("ohttp_request_invalid", "encapsulatedRequest must be a Uint8Array", {
      details: { argument: "encapsulatedRequest" },
    });
  }
  const {
    header,
    suite,
    gatewayKey: selected,
  } = parseRequestHeader(gatewayKeys, encapsulatedRequest, (code, message) => new OhttpError(code, message));
  const { keyConfig, privateKey } = selected;
  const encEnd = HEADER_LENGTH + suite.kem.encLength;
  if (encapsulatedRequest.length < encEnd + suite.aead.tagLength) {
    throw new OhttpError("ohttp_request_invalid", "request is too short for its enc and tag", {
      details: { length: encapsulatedRequest.length },
    });
  }
  const enc = encapsulatedRequest.slice(HEADER_LENGTH, encEnd);
  const context = await suite.setupRecipient({
    recipientKeyPair: { privateKey, publicKey: keyConfig.publicKey },
    enc,
    info: requestInfo(OHTTP_REQUEST_LABEL, header),
  });
  const request = await context.open(encapsulatedRequest.subarray(encEnd));
  return { request, context: new OhttpServerContext(suite, context, enc) };
}
