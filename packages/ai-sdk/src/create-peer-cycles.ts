import { createOpenAICompatible, type OpenAICompatibleProviderSettings } from "@ai-sdk/openai-compatible";
import {
  type EmbeddingModelV4,
  type ImageModelV4,
  type LanguageModelV4,
  LoadSettingError,
  NoSuchModelError,
  type ProviderV4,
} from "@ai-sdk/provider";
import { type FetchFunction, type PeerFetch, type PeerFetchOptions, peerFetch } from "@peercycles/client";
import { PeerCyclesChatLanguageModel } from "./peer-cycles-chat-language-model.js";
import { peerMetadataExtractor } from "./peer-metadata-extractor.js";

/** Models of a Peer Cycles node; any id the node serves works. */
export type PeerCyclesModelId = "peer-tiny" | "peer-mixtral" | (string & {});

/**
 * Settings of {@link createPeerCycles}: `createOpenAICompatible`'s (same names), plus the tier, the
 * policy and the rest of `peerFetch`'s options.
 */
export interface PeerCyclesProviderSettings
  extends Omit<OpenAICompatibleProviderSettings, "baseURL" | "name" | "fetch" | "metadataExtractor">,
    Omit<PeerFetchOptions, "apiKey" | "fetch"> {
  /** The node, with or without `/v1`. Default: the `PEER_URL` environment variable. */
  baseURL?: string;
  /**
   * The account's key, sent as `Authorization: Bearer …`. Default: the `PEER_API_KEY` environment
   * variable; without either, no Authorization is sent.
   */
  apiKey?: OpenAICompatibleProviderSettings["apiKey"];
  /** The provider's name, and so the key of its `providerMetadata` and `providerOptions`. Default `peercycles`. */
  name?: string;
  /** The fetch under `peerFetch`. Default `globalThis.fetch`. */
  fetch?: FetchFunction;
}

/** A Peer Cycles provider: call it with a model id, as `peer("peer-tiny")`. */
export interface PeerCyclesProvider extends ProviderV4 {
  (modelId: PeerCyclesModelId): LanguageModelV4;
  languageModel(modelId: PeerCyclesModelId): LanguageModelV4;
  chatModel(modelId: PeerCyclesModelId): LanguageModelV4;
  /** A node serves chat models only: throws `NoSuchModelError`. */
  embeddingModel(modelId: string): EmbeddingModelV4;
  /** A node serves chat models only: throws `NoSuchModelError`. */
  imageModel(modelId: string): ImageModelV4;
  /** The verifying fetch every model of this provider calls through (its attestation cache included). */
  readonly peerFetch: PeerFetch;
}

function environment(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    name
  ];
  return value === "" ? undefined : value;
}

/** `…/v1` of a node URL given with or without it. */
function apiBaseURL(baseURL: string): string {
  const trimmed = baseURL.replace(/\/+$/, "");
  return trimmed.endsWith("/v1") ? trimmed : `${trimmed}/v1`;
}

/**
 * A Vercel AI SDK provider for a Peer Cycles node: `@ai-sdk/openai-compatible` with `peerFetch` as
 * its `fetch`. `generateText`, `streamText`, tools and structured output (`generateObject`,
 * `Output.object`) work unchanged; each request goes out in the provider's `tier` (sealed to an
 * attested enclave on `confidential`), each answer is verified by `@peercycles/client` before the
 * AI SDK reads it, and the `peer` object with its `verification` is in
 * `providerMetadata.peercycles` (of the result, of each step, and of a stream's `finish` part).
 * A failed check rejects with the client's `PeerCyclesError` (stable `code`, e.g.
 * `attestation_rejected`; in `streamText`, the `error` part and `onError`), never retried, never
 * wrapped in an `APICallError`.
 *
 * @example
 * ```ts
 * import { createPeerCycles, peerVerificationOfMetadata } from "@peercycles/ai-sdk";
 * import { generateText } from "ai";
 * import policy from "./policies/development-simulated.json" with { type: "json" };
 *
 * const peer = createPeerCycles({ baseURL: process.env.PEER_URL, apiKey: process.env.PEER_API_KEY,
 *   tier: "confidential", policy });
 * const { text, providerMetadata } = await generateText({ model: peer("peer-tiny"), prompt: "hi" });
 * console.log(peerVerificationOfMetadata(providerMetadata)?.attestation?.tee); // "tdx"
 * ```
 */
export function createPeerCycles(settings: PeerCyclesProviderSettings = {}): PeerCyclesProvider {
  const {
    baseURL: baseURLSetting,
    apiKey: apiKeySetting,
    name = "peercycles",
    fetch,
    tier,
    policy,
    now,
    cache,
    bundleTtlSeconds,
    offline,
    collateralFetch,
    attestationURL,
    includeUsage = true,
    supportsStructuredOutputs = true,
    ...compatibleSettings
  } = settings;
  const baseURL = baseURLSetting ?? environment("PEER_URL");
  if (!baseURL) {
    throw new LoadSettingError({
      message: "Peer Cycles node URL is missing: pass baseURL or set the PEER_URL environment variable.",
    });
  }
  const verifying = peerFetch({
    ...(tier !== undefined ? { tier } : {}),
    ...(policy !== undefined ? { policy } : {}),
    ...(fetch !== undefined ? { fetch } : {}),
    ...(now !== undefined ? { now } : {}),
    ...(cache !== undefined ? { cache } : {}),
    ...(bundleTtlSeconds !== undefined ? { bundleTtlSeconds } : {}),
    ...(offline !== undefined ? { offline } : {}),
    ...(collateralFetch !== undefined ? { collateralFetch } : {}),
    ...(attestationURL !== undefined ? { attestationURL } : {}),
  });
  const apiKey = apiKeySetting ?? environment("PEER_API_KEY");
  const compatible = createOpenAICompatible<PeerCyclesModelId, string, string, string>({
    ...compatibleSettings,
    name,
    baseURL: apiBaseURL(baseURL),
    ...(apiKey !== undefined ? { apiKey } : {}),
    fetch: verifying,
    includeUsage,
    supportsStructuredOutputs,
    metadataExtractor: peerMetadataExtractor(name),
  });
  const chatModel = (modelId: PeerCyclesModelId): LanguageModelV4 =>
    new PeerCyclesChatLanguageModel(compatible.chatModel(modelId));
  const provider = ((modelId: PeerCyclesModelId) => chatModel(modelId)) as PeerCyclesProvider;
  Object.assign(provider, {
    specificationVersion: "v4",
    languageModel: chatModel,
    chatModel,
    embeddingModel: (modelId: string): never => {
      throw new NoSuchModelError({ modelId, modelType: "embeddingModel" });
    },
    imageModel: (modelId: string): never => {
      throw new NoSuchModelError({ modelId, modelType: "imageModel" });
    },
  });
  Object.defineProperty(provider, "peerFetch", { value: verifying, enumerable: true });
  return provider;
}
