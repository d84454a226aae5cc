import { type BundlePolicy, parseBundlePolicy } from "@peercycles/attest/bundle";
import { DEFAULT_TIER, isTier, type Tier } from "@peercycles/protocol";
import { attestWorker } from "./attest-worker.js";
import { AttestationCache, type AttestedWorker } from "./attestation-cache.js";
import {
  checkSealedAnswerHeaders,
  openSealedAnswer,
  openSealedStream,
  sealedRequestHeaders,
  sealRequest,
} from "./confidential.js";
import { invalidArgument, PeerCyclesError } from "./errors.js";
import { checkPlainAnswer, checkPlainStream } from "./plain-tiers.js";
import { UpstreamResponse } from "./upstream-response.js";

/** A standard `fetch` signature. */
export type FetchFunction = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** Options of {@link peerFetch}. */
export interface PeerFetchOptions {
  /**
   * Tier of chat requests whose body names none (`peer_tier` in the body wins). Default `verified`,
   * the node's default. The tier is always written into the body, so the node cannot choose another.
   */
  readonly tier?: Tier;
  /**
   * Attestation bundle policy (a parsed policy or its JSON, e.g. `docs/policies/*.json`). Required
   * for the confidential tier; parsed strictly once, here.
   */
  readonly policy?: BundlePolicy | unknown;
  /** The fetch underneath. Default `globalThis.fetch`. */
  readonly fetch?: FetchFunction;
  /** Sent as `Authorization: Bearer …` when a request carries no Authorization header. */
  readonly apiKey?: string;
  /** The clock for verification and the cache. Default `() => new Date()`. */
  readonly now?: () => Date;
  /** Verified bundles; share one between instances to share attestations. Default: a new cache. */
  readonly cache?: AttestationCache;
  /** Most seconds a verified bundle is reused (never past the policy's age or the collateral). Default 300. */
  readonly bundleTtlSeconds?: number;
  /**
   * Verify bundles without reaching Intel PCS, AMD KDS or NVIDIA services (the bundle must carry its
   * collateral). Default false. Simulated bundles are always verified offline.
   */
  readonly offline?: boolean;
  /** Fetch for those collateral services. Default: {@link fetch}. */
  readonly collateralFetch?: FetchFunction;
  /** `GET` endpoint of attestation bundles. Default: the chat URL with `/chat/completions` → `/attestation`. */
  readonly attestationURL?: string;
}

/** A `fetch` that seals, verifies and opens; see {@link peerFetch}. */
export interface PeerFetch extends FetchFunction {
  /** The verified bundles this fetch uses. */
  readonly cache: AttestationCache;
}

const CHAT_PATH = /\/chat\/completions\/?$/;
const CREDITS_PATH = /\/credits\/[^/]*$/;
const STALE_KEY_CODES = new Set(["sealed_request_invalid", "no_worker_available", "worker_disconnected"]);

interface ChatRequest {
  readonly url: URL;
  readonly headers: Headers;
  readonly signal: AbortSignal | null | undefined;
  readonly json: Record<string, unknown>;
}

function baseHref(): string | undefined {
  const location = (globalThis as { location?: { href?: string } }).location;
  return typeof location?.href === "string" ? location.href : undefined;
}

function targetOf(input: RequestInfo | URL, init: RequestInit | undefined): { url: URL; method: string } {
  const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const method =
    (init?.method ?? (typeof input === "object" && "method" in input ? input.method : "GET")) || "GET";
  return { url: new URL(href, baseHref()), method: method.toUpperCase() };
}

function hasBody(input: RequestInfo | URL, init: RequestInit | undefined): boolean {
  if (init?.body !== undefined && init.body !== null) return true;
  return typeof Request !== "undefined" && input instanceof Request && input.body !== null;
}

async function bytesOf(body: BodyInit): Promise<Uint8Array> {
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return new Uint8Array(await new Response(body).arrayBuffer());
}

async function readChatRequest(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  url: URL,
): Promise<ChatRequest> {
  const request = typeof Request !== "undefined" && input instanceof Request ? input : undefined;
  const headers = new Headers(init?.headers ?? request?.headers);
  let bytes: Uint8Array | undefined;
  if (init?.body !== undefined && init.body !== null) bytes = await bytesOf(init.body);
  else if (request?.body) bytes = new Uint8Array(await request.clone().arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array()));
  } catch (error) {
    throw new PeerCyclesError("request_unsupported", "the chat request body is not JSON", { cause: error });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new PeerCyclesError("request_unsupported", "the chat request body is not a JSON object");
  }
  const model = (json as { model?: unknown }).model;
  if (typeof model !== "string" || model.length === 0) {
    throw new PeerCyclesError("request_unsupported", "the chat request names no model");
  }
  return {
    url,
    headers,
    signal: init?.signal ?? request?.signal,
    json: json as Record<string, unknown>,
  };
}

async function errorCodeOf(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } };
    return typeof body?.error?.code === "string" ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A standard `fetch` for a Peer Cycles node. On `POST …/chat/completions` it writes the tier into
 * the body as `peer_tier`, then:
 *
 * - `confidential`: fetches and verifies the worker's attestation bundle (fresh client nonce, the
 *   policy; cached until its TTL, the policy's age or its collateral ends), seals the body to the
 *   attested HPKE key (RFC 9458, or chunked OHTTP for a stream), opens the sealed answer or stream,
 *   and checks the enclave-signed receipt against the bundle's key and the bytes sent and received.
 * - `verified`: checks the worker's signed receipt against the request bytes and the output.
 * - `open`: passes through.
 *
 * Every answer gets `peer.verification` (the JSON completion's `peer`, or the final stream chunk's).
 * Any failed check throws (or errors the stream before `[DONE]`) a {@link PeerCyclesError}; there is
 * never a plaintext fallback. Error answers of the node (401, 402, 503…) are returned as they are.
 *
 * @example
 * ```ts
 * import policy from "./policies/confidential-tdx-h100.json" with { type: "json" };
 * const fetch = peerFetch({ tier: "confidential", policy, apiKey: process.env.PEER_API_KEY });
 * const openai = new OpenAI({ baseURL: "http://127.0.0.1:8080/v1", apiKey: "unused", fetch });
 * ```
 */
export function peerFetch(options: PeerFetchOptions = {}): PeerFetch {
  if (typeof options !== "object" || options === null) invalidArgument("options", "expected an object");
  const tierOption = options.tier ?? DEFAULT_TIER;
  if (!isTier(tierOption)) invalidArgument("tier", `expected open, verified or confidential`);
  const baseFetch: FetchFunction =
    options.fetch ??
    ((input, init) => {
      if (typeof globalThis.fetch !== "function") invalidArgument("fetch", "no global fetch: pass one");
      return globalThis.fetch(input, init);
    });
  if (typeof baseFetch !== "function") invalidArgument("fetch", "expected a fetch function");
  let policy: BundlePolicy | undefined;
  if (options.policy !== undefined) {
    try {
      policy = parseBundlePolicy(options.policy);
    } catch (error) {
      invalidArgument("policy", error instanceof Error ? error.message : "invalid policy", error);
    }
  }
  const now = options.now ?? (() => new Date());
  const cache = options.cache ?? new AttestationCache();
  const ttlSeconds = options.bundleTtlSeconds ?? 300;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0)
    invalidArgument("bundleTtlSeconds", "expected seconds ≥ 0");

  const confidential = async (request: ChatRequest, body: Uint8Array, stream: boolean): Promise<Response> => {
    if (!policy) invalidArgument("policy", "the confidential tier needs an attestation policy");
    const model = request.json.model as string;
    const attestationUrl = options.attestationURL
      ? new URL(options.attestationURL, request.url)
      : new URL(request.url.pathname.replace(CHAT_PATH, "/attestation"), request.url);
    const key = `${attestationUrl.href} ${model}`;
    const attestationHeaders = new Headers();
    const authorization = request.headers.get("authorization");
    if (authorization !== null) attestationHeaders.set("authorization", authorization);
    for (let attempt = 0; ; attempt++) {
      const cached = cache.get(key, now().getTime()) !== undefined;
      const attested: AttestedWorker = await cache.getOrAttest(key, now().getTime(), () =>
        attestWorker({
          url: attestationUrl.href,
          model,
          policy,
          fetch: baseFetch,
          now,
          headers: attestationHeaders,
          ttlSeconds,
          offline: options.offline ?? false,
          collateralFetch: options.collateralFetch,
          signal: request.signal,
        }),
      );
      const sealed = await sealRequest(attested, body, stream);
      const response = await baseFetch(request.url.href, {
        method: "POST",
        headers: sealedRequestHeaders(request.headers, attested, stream),
        body: sealed.bytes as BodyInit,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      if (!response.ok) {
        // A cached worker that went away or rotated its key: attest again, once.
        if (cached && attempt === 0 && STALE_KEY_CODES.has((await errorCodeOf(response)) ?? "")) {
          cache.delete(key, attested);
          await response.body?.cancel().catch(() => undefined);
          continue;
        }
        return response;
      }
      const forget = () => cache.delete(key, attested);
      try {
        checkSealedAnswerHeaders(response, attested, stream);
        if (sealed.stream) return openSealedStream(response, sealed, attested, forget);
        return await openSealedAnswer(response, sealed, attested);
      } catch (error) {
        forget();
        await response.body?.cancel().catch(() => undefined);
        throw error;
      }
    }
  };

  const call = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const { url, method } = targetOf(input, init);
    if (method !== "POST" || !CHAT_PATH.test(url.pathname)) {
      if (tierOption === "confidential" && hasBody(input, init) && !CREDITS_PATH.test(url.pathname)) {
        throw new PeerCyclesError(
          "request_unsupported",
          `${method} ${url.pathname} cannot be sealed; the confidential tier sends no plaintext body`,
          { details: { path: url.pathname } },
        );
      }
      if (options.apiKey === undefined) return baseFetch(input, init);
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      if (headers.has("authorization")) return baseFetch(input, init);
      headers.set("authorization", `Bearer ${options.apiKey}`);
      return baseFetch(input, { ...init, headers });
    }
    const request = await readChatRequest(input, init, url);
    if (options.apiKey !== undefined && !request.headers.has("authorization")) {
      request.headers.set("authorization", `Bearer ${options.apiKey}`);
    }
    const tier = request.json.peer_tier ?? tierOption;
    if (!isTier(tier)) {
      throw new PeerCyclesError("request_unsupported", `peer_tier must be open, verified or confidential`);
    }
    request.json.peer_tier = tier;
    const body = new TextEncoder().encode(JSON.stringify(request.json));
    const stream = request.json.stream === true;
    try {
      if (tier === "confidential") return await confidential(request, body, stream);
      const headers = new Headers(request.headers);
      headers.delete("content-length");
      headers.set("content-type", "application/json");
      const response = await baseFetch(url.href, {
        method: "POST",
        headers,
        body: body as BodyInit,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      if (!response.ok) return response;
      const plain = { tier, model: request.json.model as string, body };
      if (stream) return checkPlainStream(response, plain, () => undefined);
      return await checkPlainAnswer(response, plain);
    } catch (error) {
      if (error instanceof UpstreamResponse) return error.toResponse();
      throw error;
    }
  };
  Object.defineProperty(call, "cache", { value: cache, enumerable: true });
  return call as PeerFetch;
}
