import { stampRetryable } from "@langchain/core/errors";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import type { AIMessageChunk } from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import { getEnvironmentVariable } from "@langchain/core/utils/env";
import {
  ChatOpenAI,
  type ChatOpenAICallOptions,
  type ChatOpenAIFields,
  type ClientOptions,
} from "@langchain/openai";
import { type FetchFunction, PeerCycles, PeerCyclesError, type PeerCyclesOptions } from "@peercycles/client";
import { PeerCyclesCompletions } from "./peer-cycles-completions.js";

/** Options of {@link ChatPeerCycles}: `ChatOpenAI`'s, plus the tier, the policy and the rest of `peerFetch`'s. */
export interface ChatPeerCyclesFields
  extends Omit<ChatOpenAIFields, "configuration" | "apiKey" | "openAIApiKey" | "completions" | "responses">,
    Pick<
      PeerCyclesOptions,
      "tier" | "policy" | "now" | "bundleTtlSeconds" | "offline" | "collateralFetch" | "payment"
    > {
  /**
   * Verified attestation bundles to share between models (`@peercycles/client`'s `cache`; the name
   * `cache` stays LangChain's response cache). Default: one per model and its `withConfig` copies.
   */
  attestationCache?: PeerCyclesOptions["cache"];
  /** The account's key. Default: the `PEER_API_KEY` environment variable (never `OPENAI_API_KEY`). */
  apiKey?: string;
  /**
   * The OpenAI client's options. `baseURL` is the node (default: the `PEER_URL` environment variable,
   * never `OPENAI_BASE_URL`); `fetch` is the transport under `peerFetch`.
   */
  configuration?: Omit<ClientOptions, "fetch" | "apiKey"> & { fetch?: FetchFunction; apiKey?: string };
}

/** Carries the parent's completions (and so its client and attestation cache) into `withConfig` copies. */
const SHARED = Symbol.for("peercycles.langchain.shared-completions");

/** The model of a `ChatPeerCycles` that names none: the dev node's built-in model. */
export const DEFAULT_MODEL = "peer-tiny";

/** The OpenAI client of `ChatPeerCycles`: a failed check keeps LangChain's retry away unless it may pass on retry. */
class LangChainPeerCycles extends PeerCycles {
  protected override makeStatusError(
    status: number,
    error: object,
    message: string | undefined,
    headers: Headers,
  ): ReturnType<PeerCycles["makeStatusError"]> {
    const made = super.makeStatusError(status, error, message, headers);
    if (PeerCyclesError.isInstance(made)) stampRetryable(made, made.retryable);
    return made;
  }
}

function argumentInvalid(argument: string, message: string): never {
  throw new PeerCyclesError("argument_invalid", `${argument}: ${message}`, { details: { argument } });
}

/**
 * LangChain's `ChatOpenAI` on a Peer Cycles node: `invoke`, `stream`, `batch`, `bindTools`,
 * `withStructuredOutput` and callbacks work unchanged, every request goes out in the model's `tier`
 * (sealed to an attested enclave on `confidential`), and every answer is verified by
 * `@peercycles/client` before LangChain sees it. The verification result rides in
 * `response_metadata.peer.verification` of each message and of the final chunk of a stream (read it
 * with {@link peerVerificationOfMessage}). A failed check rejects with the client's
 * `PeerCyclesError` (stable `code`, e.g. `attestation_rejected`), which LangChain does not retry.
 *
 * The OpenAI client inside is `PeerCycles`, the `openai` client with `peerFetch` as its fetch: a
 * stock client would turn a throwing fetch into a connection error that LangChain retries.
 *
 * @example
 * ```ts
 * import { ChatPeerCycles, peerVerificationOfMessage } from "@peercycles/langchain";
 * import policy from "./policies/development-simulated.json" with { type: "json" };
 *
 * const model = new ChatPeerCycles({
 *   model: "peer-tiny",
 *   apiKey: process.env.PEER_API_KEY,
 *   configuration: { baseURL: process.env.PEER_URL },
 *   tier: "confidential",
 *   policy,
 * });
 * const message = await model.invoke("What does a sealed prompt protect?");
 * console.log(peerVerificationOfMessage(message)?.attestation?.tee); // "tdx"
 * ```
 */
export class ChatPeerCycles extends ChatOpenAI {
  /** The default tier of this model's requests (the node's default, `verified`, when unset). */
  readonly tier: PeerCyclesOptions["tier"];
  /** The `openai` client with `peerFetch` inside that this model calls through. */
  readonly peerCycles: PeerCycles;
  readonly #fields: ChatPeerCyclesFields;

  static override lc_name(): string {
    return "ChatPeerCycles";
  }

  override get lc_secrets(): { [key: string]: string } | undefined {
    return { apiKey: "PEER_API_KEY" };
  }

  override get lc_serializable_keys(): string[] {
    return [...super.lc_serializable_keys, "tier"];
  }

  constructor(model?: string, fields?: ChatPeerCyclesFields);
  constructor(fields?: ChatPeerCyclesFields);
  constructor(modelOrFields?: string | ChatPeerCyclesFields, fieldsArg?: ChatPeerCyclesFields) {
    const fields: ChatPeerCyclesFields =
      typeof modelOrFields === "string" ? { ...fieldsArg, model: modelOrFields } : (modelOrFields ?? {});
    if (typeof fields !== "object" || fields === null) argumentInvalid("fields", "expected an object");
    const {
      tier,
      policy,
      now,
      attestationCache,
      bundleTtlSeconds,
      offline,
      collateralFetch,
      payment,
      configuration = {},
      apiKey: apiKeyField,
      ...chatFields
    } = fields;
    const { baseURL: baseURLOption, fetch, apiKey: configurationKey, ...clientOptions } = configuration;
    const shared = (fields as { [SHARED]?: PeerCyclesCompletions })[SHARED];
    let completions: PeerCyclesCompletions;
    let client: PeerCycles;
    const model = chatFields.model ?? chatFields.modelName ?? DEFAULT_MODEL;
    if (shared) {
      completions = shared;
      client = shared.client as PeerCycles;
    } else {
      const baseURL = baseURLOption ?? getEnvironmentVariable("PEER_URL");
      if (!baseURL) argumentInvalid("configuration.baseURL", "the node's URL (or set PEER_URL)");
      const apiKey = apiKeyField ?? configurationKey ?? getEnvironmentVariable("PEER_API_KEY");
      client = new LangChainPeerCycles({
        ...clientOptions,
        baseURL,
        ...(apiKey !== undefined ? { apiKey } : {}),
        ...(tier !== undefined ? { tier } : {}),
        ...(policy !== undefined ? { policy } : {}),
        ...(fetch !== undefined ? { fetch } : {}),
        ...(now !== undefined ? { now } : {}),
        ...(attestationCache !== undefined ? { cache: attestationCache } : {}),
        ...(bundleTtlSeconds !== undefined ? { bundleTtlSeconds } : {}),
        ...(offline !== undefined ? { offline } : {}),
        ...(collateralFetch !== undefined ? { collateralFetch } : {}),
        ...(payment !== undefined ? { payment } : {}),
        ...(chatFields.timeout !== undefined ? { timeout: chatFields.timeout } : {}),
        // LangChain retries (maxRetries); the client must not retry underneath it.
        maxRetries: 0,
        dangerouslyAllowBrowser: true,
      });
      completions = new PeerCyclesCompletions(ChatPeerCycles.#openAIFields(chatFields, model, client));
      completions.client = client;
    }
    super({ ...ChatPeerCycles.#openAIFields(chatFields, model, client), completions });
    this.tier = tier;
    this.peerCycles = client;
    this.#fields = fields;
  }

  /** `ChatOpenAI`'s fields: the key and URL of the node (never `OPENAI_*`), chat completions only. */
  static #openAIFields(chatFields: ChatOpenAIFields, model: string, client: PeerCycles): ChatOpenAIFields {
    return {
      ...chatFields,
      model,
      apiKey: client.apiKey,
      configuration: { baseURL: client.baseURL, fetch: client.peerFetch },
      useResponsesApi: false,
    };
  }

  override _llmType(): string {
    return "peercycles";
  }

  override getLsParams(options: this["ParsedCallOptions"]): ReturnType<ChatOpenAI["getLsParams"]> {
    return { ...super.getLsParams(options), ls_provider: "peercycles" };
  }

  /** A node serves chat completions only: never the Responses API. */
  override _useResponsesApi(): boolean {
    return false;
  }

  override withConfig(
    config: Partial<ChatOpenAICallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, ChatOpenAICallOptions> {
    const copy = new ChatPeerCycles({ ...this.#fields, [SHARED]: this.completions } as ChatPeerCyclesFields);
    copy.defaultOptions = { ...this.defaultOptions, ...config };
    return copy;
  }
}
