import type { PayingFetch, PayingFetchOptions } from "@peercycles/x402";
import OpenAI, { type APIError, type ClientOptions } from "openai";
import type { AttestationCache } from "./attestation-cache.js";
import { invalidArgument, PeerCyclesError } from "./errors.js";
import { type FetchFunction, type PeerFetch, type PeerFetchOptions, peerFetch } from "./peer-fetch.js";

/** x402 payment of `402 Payment Required` answers (see `@peercycles/x402` `createPayingFetch`). */
export type PeerCyclesPaymentOptions = Omit<PayingFetchOptions, "fetch">;

/** Options of {@link PeerCycles}: the OpenAI client's, plus what {@link peerFetch} needs. */
export interface PeerCyclesOptions
  extends Omit<ClientOptions, "fetch" | "baseURL" | "apiKey">,
    Omit<PeerFetchOptions, "apiKey" | "attestationURL"> {
  /** The node, e.g. `http://127.0.0.1:8080` (or `…/v1`). */
  readonly baseURL: string;
  /** The account's key. Without one no Authorization is sent: pair it with `payment` to pay per request. */
  readonly apiKey?: string;
  /** Pay 402s with USDC over x402; each paid retry is sealed afresh. Loaded on first use. */
  readonly payment?: PeerCyclesPaymentOptions;
}

const CARRIER_HEADER = "x-peercycles-client-error";
/** The OpenAI client needs some key; without one, no Authorization header goes out (pay per request). */
const NO_API_KEY = "peercycles-no-api-key";
const SHOULD_RETRY_HEADER = "x-should-retry";

/**
 * The `openai` package's client with {@link peerFetch} as its `fetch`: `chat.completions.create`
 * (JSON and stream) works unchanged, requests go out in the client's tier (`peer_tier`), and every
 * answer carries `peer.verification`. A failed check rejects with the {@link PeerCyclesError} itself
 * (not wrapped in a connection error, and never retried unless it is `attestation_unavailable`).
 *
 * @example
 * ```ts
 * const client = new PeerCycles({ baseURL: process.env.PEER_URL!, apiKey: process.env.PEER_API_KEY,
 *   tier: "confidential", policy });
 * const completion = await client.chat.completions.create({ model: "peer-tiny", messages: [{ role: "user", content: "hi" }] });
 * console.log((completion as { peer?: { verification?: unknown } }).peer?.verification);
 * ```
 */
export class PeerCycles extends OpenAI {
  /** The verifying fetch inside this client (without payment). */
  readonly peerFetch: PeerFetch;
  /** The default tier of this client's chat requests. */
  readonly tier: PeerFetchOptions["tier"];
  readonly #errors: Map<string, PeerCyclesError>;
  readonly #payment: { paying?: PayingFetch };

  constructor(options: PeerCyclesOptions) {
    if (typeof options !== "object" || options === null) invalidArgument("options", "expected an object");
    if (typeof options.baseURL !== "string" || !URL.canParse(options.baseURL)) {
      invalidArgument("baseURL", "expected the node's URL");
    }
    const {
      baseURL,
      apiKey,
      tier,
      policy,
      fetch,
      now,
      cache,
      bundleTtlSeconds,
      offline,
      collateralFetch,
      payment,
      ...openaiOptions
    } = options;
    const verifying = peerFetch({
      ...(tier !== undefined ? { tier } : {}),
      ...(policy !== undefined ? { policy } : {}),
      ...(fetch !== undefined ? { fetch } : {}),
      ...(now !== undefined ? { now } : {}),
      ...(cache !== undefined ? { cache: cache as AttestationCache } : {}),
      ...(bundleTtlSeconds !== undefined ? { bundleTtlSeconds } : {}),
      ...(offline !== undefined ? { offline } : {}),
      ...(collateralFetch !== undefined ? { collateralFetch } : {}),
    });
    const errors = new Map<string, PeerCyclesError>();
    let paying: Promise<PayingFetch> | undefined;
    const paymentState: { paying?: PayingFetch } = {};
    const outer: FetchFunction = payment
      ? async (input, init) => {
          paying ??= import("@peercycles/x402").then(({ createPayingFetch }) => {
            const created = createPayingFetch({ ...payment, fetch: verifying });
            paymentState.paying = created;
            return created;
          });
          return (await paying)(input, init);
        }
      : verifying;
    // The OpenAI client turns a throwing fetch into a retried APIConnectionError. A PeerCyclesError
    // travels instead as a marked error answer that makeStatusError turns back into the error itself.
    const authorized: FetchFunction =
      apiKey === undefined
        ? (input, init) => {
            const headers = new Headers(init?.headers);
            if (headers.get("authorization") === `Bearer ${NO_API_KEY}`) headers.delete("authorization");
            return outer(input, { ...init, headers });
          }
        : outer;
    const carrying: FetchFunction = async (input, init) => {
      try {
        return await authorized(input, init);
      } catch (error) {
        if (!PeerCyclesError.isInstance(error)) throw error;
        const token = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
        if (errors.size >= 64) errors.delete(errors.keys().next().value as string);
        errors.set(token, error);
        return new Response(
          JSON.stringify({ error: { message: error.message, type: "peer_cycles_error", code: error.code } }),
          {
            status: error.retryable ? 503 : 400,
            headers: {
              "content-type": "application/json",
              [CARRIER_HEADER]: token,
              [SHOULD_RETRY_HEADER]: error.retryable ? "true" : "false",
            },
          },
        );
      }
    };
    super({
      ...openaiOptions,
      baseURL: openaiBaseURL(baseURL),
      apiKey: apiKey ?? NO_API_KEY,
      fetch: carrying,
    });
    this.peerFetch = verifying;
    this.tier = tier;
    this.#errors = errors;
    this.#payment = paymentState;
  }

  /** USDC base units the payer signed for so far (0 without `payment`). */
  get spentUsdcBaseUnits(): bigint {
    return this.#payment.paying?.spentUsdcBaseUnits ?? 0n;
  }

  protected override makeStatusError(
    status: number,
    error: object,
    message: string | undefined,
    headers: Headers,
  ): APIError {
    const token = headers?.get?.(CARRIER_HEADER);
    const carried = token ? this.#errors.get(token) : undefined;
    if (token && carried) {
      this.#errors.delete(token);
      return carried as unknown as APIError;
    }
    return super.makeStatusError(status, error, message, headers);
  }
}

/** `…/v1` of a node URL given with or without it. */
function openaiBaseURL(baseURL: string): string {
  const trimmed = baseURL.replace(/\/+$/, "");
  return trimmed.endsWith("/v1") ? trimmed : `${trimmed}/v1`;
}
