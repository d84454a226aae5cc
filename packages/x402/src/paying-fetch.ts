import type { TransactionSigner } from "@solana/kit";
import { x402Client } from "@x402/core/client";
import { decodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentRequirements, SettleResponse } from "@x402/core/types";
import { wrapFetchWithPayment } from "@x402/fetch";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { invalidArgument, X402Error } from "./errors.js";
import { formatUsdc, USDC_MINTS, usdcToBaseUnits } from "./usdc.js";

/** The fetch a paying fetch wraps: called afresh, with the caller's own `init`, for every attempt. */
export type FetchFunction = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** What {@link PayingFetchOptions.onPayment} hears after a paid request. */
export interface PaymentEvent {
  /** The requirement that was paid (network, USDC mint, amount in base units, payTo). */
  readonly requirements: PaymentRequirements;
  readonly amountUsdcBaseUnits: bigint;
  /** The decoded `PAYMENT-RESPONSE` (`success`, `transaction`, `payer`), when the server sent one. */
  readonly receipt: SettleResponse | undefined;
  /** Status of the paid request's response. */
  readonly status: number;
}

/** Options of {@link createPayingFetch}. */
export interface PayingFetchOptions {
  /** The fetch to wrap (`globalThis.fetch`, or a sealing fetch). */
  readonly fetch: FetchFunction;
  /** The payer: a `@solana/kit` TransactionSigner (see {@link createSolanaSigner}). */
  readonly signer: TransactionSigner;
  /** Solana JSON-RPC URL for the two reads a payment needs (the USDC mint; a blockhash if the server sent none). */
  readonly rpcUrl: string;
  /** Most USDC one request may cost, as a decimal (`0.5`). Checked before signing. */
  readonly maxPerRequestUsdc: number | string;
  /** Most USDC this paying fetch may sign for in total. Checked before signing. */
  readonly maxPerSessionUsdc: number | string;
  /** Pay only on this CAIP-2 network. Default: any Solana network. */
  readonly network?: string;
  /** Called after every paid request, whatever its status. */
  readonly onPayment?: (event: PaymentEvent) => void;
}

/** A fetch that answers `402 Payment Required` by paying USDC over x402 v2, within its caps. */
export interface PayingFetch extends FetchFunction {
  /** USDC base units signed for so far (a signed payment counts, whatever the server answered). */
  readonly spentUsdcBaseUnits: bigint;
  /** The same, as a decimal USDC string. */
  readonly spentUsdc: string;
}

/**
 * Wraps `fetch` with `@x402/fetch`'s `wrapFetchWithPayment` and the `exact` Solana scheme. On a 402 it
 * reads the `PAYMENT-REQUIRED` challenge, checks the caps and that the asset is USDC (throwing
 * `spending_cap_exceeded` or `payment_asset_unsupported` before anything is signed), signs a USDC
 * transfer and retries with `PAYMENT-SIGNATURE`. Every attempt calls the inner fetch with the caller's
 * `(input, init)` plus the payment header, never a consumed `Request`, so a fetch that seals the body
 * per attempt seals it afresh. A stream body is read once up front so it can be sent twice.
 *
 * Caps count a payment once it is signed: a server can settle a signed payment and still answer an
 * error, so the session cap never trusts the answer.
 *
 * @example
 * ```ts
 * const payingFetch = createPayingFetch({
 *   fetch, signer: await createSolanaSigner(secret), rpcUrl,
 *   maxPerRequestUsdc: 0.1, maxPerSessionUsdc: 5,
 * });
 * const response = await payingFetch("http://127.0.0.1:8080/v1/chat/completions", { method: "POST", body });
 * console.log(readPaymentResponse(response)?.transaction);
 * ```
 */
export function createPayingFetch(options: PayingFetchOptions): PayingFetch {
  if (typeof options?.fetch !== "function") invalidArgument("fetch", "expected a fetch function");
  if (!options.signer || typeof options.signer.address !== "string") {
    invalidArgument("signer", "expected a @solana/kit TransactionSigner");
  }
  if (typeof options.rpcUrl !== "string" || !URL.canParse(options.rpcUrl))
    invalidArgument("rpcUrl", "expected a URL");
  const perRequest = usdcToBaseUnits(options.maxPerRequestUsdc, "maxPerRequestUsdc");
  const perSession = usdcToBaseUnits(options.maxPerSessionUsdc, "maxPerSessionUsdc");
  const inner = options.fetch;
  // One scheme for the session, so the mint metadata it reads is cached across requests.
  const scheme = new ExactSvmScheme(options.signer, { rpcUrl: options.rpcUrl });
  let spent = 0n;

  const payingFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const call = await replayable(input, init);
    const attempt: { refusal?: X402Error; reserved: bigint; requirements?: PaymentRequirements } = {
      reserved: 0n,
    };

    const client = new x402Client().register(
      (options.network ?? "solana:*") as `${string}:${string}`,
      scheme,
    );
    // Our caps replace x402's default spend controls ($1 per payment on known assets).
    client.setSpendControls(false);
    client.onBeforePaymentCreation(async ({ selectedRequirements: requirements }) => {
      const refusal = checkPayment(requirements, perRequest, perSession, spent);
      if (refusal) {
        attempt.refusal = refusal;
        return { abort: true, reason: refusal.code };
      }
      const amount = BigInt(requirements.amount);
      spent += amount;
      attempt.reserved = amount;
      attempt.requirements = requirements;
    });
    client.onPaymentCreationFailure(async () => {
      spent -= attempt.reserved;
      attempt.reserved = 0n;
    });

    const transport = (request: Request): Promise<Response> =>
      inner(call.input, withPaymentHeaders(call.init, request));
    let response: Response;
    try {
      response = await wrapFetchWithPayment(transport as typeof fetch, client)(call.input, call.init);
    } catch (error) {
      if (attempt.refusal) throw attempt.refusal;
      // @x402/fetch's own failures (challenge unreadable, payload not built); transport errors pass through.
      const message = error instanceof Error ? error.message : String(error);
      if (
        /^(Failed to (parse payment requirements|create payment payload)|Payment already attempted)/.test(
          message,
        )
      ) {
        throw new X402Error("payment_failed", message, { cause: error });
      }
      throw error;
    }
    if (attempt.requirements) {
      options.onPayment?.({
        requirements: attempt.requirements,
        amountUsdcBaseUnits: attempt.reserved,
        receipt: readPaymentResponse(response),
        status: response.status,
      });
    }
    return response;
  };

  Object.defineProperties(payingFetch, {
    spentUsdcBaseUnits: { get: () => spent, enumerable: true },
    spentUsdc: { get: () => formatUsdc(spent), enumerable: true },
  });
  return payingFetch as PayingFetch;
}

/**
 * The decoded `PAYMENT-RESPONSE` header of a paid response (`{ success, transaction, network, payer }`),
 * or undefined when there is none or it does not decode.
 */
export function readPaymentResponse(response: Response): SettleResponse | undefined {
  const header = response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
  if (!header) return undefined;
  try {
    return decodePaymentResponseHeader(header);
  } catch {
    return undefined;
  }
}

function checkPayment(
  requirements: PaymentRequirements,
  perRequest: bigint,
  perSession: bigint,
  spent: bigint,
): X402Error | undefined {
  const usdc = USDC_MINTS[requirements.network];
  if (usdc === undefined || requirements.asset !== usdc) {
    return new X402Error(
      "payment_asset_unsupported",
      `asked to pay ${requirements.asset}, which is not USDC`,
      {
        details: { asset: requirements.asset, network: requirements.network },
      },
    );
  }
  let amount: bigint;
  try {
    amount = BigInt(requirements.amount);
  } catch {
    return new X402Error("payment_failed", `the challenge amount is not an integer: ${requirements.amount}`);
  }
  if (amount > perRequest) {
    return new X402Error(
      "spending_cap_exceeded",
      `the request costs ${formatUsdc(amount)} USDC, over the per-request cap of ${formatUsdc(perRequest)}`,
      { details: { cap: "request", amount: formatUsdc(amount), limit: formatUsdc(perRequest) } },
    );
  }
  if (spent + amount > perSession) {
    return new X402Error(
      "spending_cap_exceeded",
      `paying ${formatUsdc(amount)} USDC would pass the session cap of ${formatUsdc(perSession)} (spent ${formatUsdc(spent)})`,
      {
        details: {
          cap: "session",
          amount: formatUsdc(amount),
          limit: formatUsdc(perSession),
          spent: formatUsdc(spent),
        },
      },
    );
  }
  return undefined;
}

/** The caller's `init` with only the x402 request headers of `request` added. */
function withPaymentHeaders(init: RequestInit | undefined, request: Request): RequestInit {
  const headers = new Headers(init?.headers);
  for (const name of ["PAYMENT-SIGNATURE", "X-PAYMENT"]) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return { ...init, headers };
}

/** `(input, init)` that can be sent more than once: a Request becomes URL + init, a stream becomes bytes. */
async function replayable(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
): Promise<{ input: string | URL; init: RequestInit | undefined }> {
  if (typeof Request !== "undefined" && input instanceof Request) {
    const body = input.body === null ? undefined : await input.arrayBuffer();
    const fromRequest: RequestInit = {
      method: input.method,
      headers: input.headers,
      ...(body === undefined ? {} : { body }),
      signal: input.signal,
      credentials: input.credentials,
      cache: input.cache,
      redirect: input.redirect,
      referrer: input.referrer,
      integrity: input.integrity,
      keepalive: input.keepalive,
      mode: input.mode,
    };
    return replayable(input.url, { ...fromRequest, ...init });
  }
  const url = typeof input === "string" || input instanceof URL ? input : String(input);
  if (init?.body && typeof ReadableStream !== "undefined" && init.body instanceof ReadableStream) {
    const bytes = await new Response(init.body).arrayBuffer();
    const { duplex: _duplex, ...rest } = init as RequestInit & { duplex?: string };
    return { input: url, init: { ...rest, body: bytes } };
  }
  return { input: url, init };
}
