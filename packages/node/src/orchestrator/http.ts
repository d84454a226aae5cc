import { timingSafeEqual } from "node:crypto";
import {
  apiErrorBody,
  encodeSealedFrame,
  fromHex,
  type NetworkEvent,
  type PaymentRequiredBody,
  PEER_HEADERS,
  type PeerInfo,
  parseChatCompletionRequest,
  SEALED_FRAME,
  SEALED_REQUEST_MEDIA_TYPE,
  SEALED_RESPONSE_MEDIA_TYPE,
  SEALED_STREAM_MEDIA_TYPE,
  toBase64Url,
  utf8,
  type WireCompletionOutput,
} from "@peercycles/protocol";
import { Hono } from "hono";
import type { Ledger } from "../ledger/index.js";
import { userAccount } from "../ledger/index.js";
import { countPromptTokens } from "../model/index.js";
import type { Account, Store } from "../storage/index.js";
import { hashSecret } from "../storage/index.js";
import { NodeError } from "./errors.js";
import type { NodeMetrics } from "./metrics.js";
import type { NetworkFeed } from "./network-feed.js";
import type { JobEvent, Orchestrator, RunningJob } from "./orchestrator.js";

/** Decodes a whole body (no `stream` option, so it keeps no state between calls). */
const UTF8_STRICT = new TextDecoder("utf-8", { fatal: true });

/** Largest request body the node reads, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Hooks the payments layer plugs into the HTTP app (the x402 issue): what to answer when a request
 * has no key or not enough credits, and the `/credits/buy` route.
 */
export interface PaymentHooks {
  /** Headers to add to a 402 (the x402 `PAYMENT-REQUIRED` requirement) for `priceCredits` at `resource`. */
  paymentRequired(priceCredits: number, resource: string): Promise<Record<string, string>>;
  /**
   * A request carrying `PAYMENT-SIGNATURE`: settle it for `priceCredits`, credit a pay-per-request
   * account and return it (with the `PAYMENT-RESPONSE` header to send back), or throw a NodeError.
   */
  settleRequest(
    header: string,
    priceCredits: number,
    resource: string,
  ): Promise<{
    account: Account;
    headers: Record<string, string>;
    payment: NonNullable<PeerInfo["payment"]>;
  }>;
  /** Mounts `/credits/buy` and any other payment route. */
  mount(app: Hono): void;
}

export interface HttpAppOptions {
  readonly orchestrator: Orchestrator;
  readonly store: Store;
  readonly ledger: Ledger;
  readonly metrics: NodeMetrics;
  readonly feed: NetworkFeed;
  readonly version: string;
  /** SHA-256 of the admin token (hex), from the settings. */
  readonly adminTokenHash: string;
  /** Serves the dashboard (`/`, `/dashboard`, `/dashboard/*`); undefined answers 404. */
  readonly dashboard?: (request: Request) => Promise<Response | undefined>;
  readonly payments?: PaymentHooks;
  /** Price quoted in a 402 to a request without any key, before routing. Default 1 credit. */
  readonly minimumPriceCredits?: number;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

function errorResponse(error: NodeError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(error.toBody()), {
    status: error.status,
    headers: { ...JSON_HEADERS, ...extraHeaders },
  });
}

function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), { status, headers: { ...JSON_HEADERS, ...headers } });
}

function toNodeError(error: unknown): NodeError {
  if (NodeError.isInstance(error)) return error;
  return new NodeError("internal_error", "internal error", { cause: error });
}

function bearer(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? "";
}

async function readBody(request: Request): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) {
    throw new NodeError("body_too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
  }
  if (declared !== null && /^\d+$/.test(declared)) {
    // The declared length bounds the body (the HTTP parser refuses more), so it is read whole: on
    // @hono/node-server straight from the socket, with no web stream in between.
    return new Uint8Array(await request.arrayBuffer());
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new NodeError("body_too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The `peer` object of a finished job as the answer carries it. */
function completionChunkBase(jobId: string, created: number, model: string) {
  return { id: `chatcmpl-${jobId}`, object: "chat.completion.chunk", created, model };
}

function completionJson(
  jobId: string,
  created: number,
  model: string,
  output: WireCompletionOutput,
  peer: PeerInfo,
) {
  const toolCalls = output.tool_calls.map((call) => ({
    id: call.id,
    type: "function" as const,
    function: { name: call.name, arguments: call.arguments },
  }));
  return {
    id: `chatcmpl-${jobId}`,
    object: "chat.completion",
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: toolCalls.length > 0 && output.content === "" ? null : output.content,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: output.finish_reason,
      },
    ],
    usage: {
      prompt_tokens: peer.usage.prompt_tokens,
      completion_tokens: peer.usage.completion_tokens,
      total_tokens: peer.usage.prompt_tokens + peer.usage.completion_tokens,
    },
    peer,
  };
}

/** Waits for a job's first event, so failures before any output still get a proper HTTP status. */
async function firstEvent(
  job: RunningJob,
): Promise<{ first: IteratorResult<JobEvent>; rest: AsyncIterator<JobEvent> }> {
  const iterator = job.events[Symbol.asyncIterator]();
  const first = await iterator.next();
  return { first, rest: iterator };
}

const encoder = new TextEncoder();

function sseText(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

/** The Hono app of the orchestrator's HTTP API. */
export function createHttpApp(options: HttpAppOptions): Hono {
  const { orchestrator, store, ledger, metrics, feed } = options;
  const app = new Hono();
  const keyCache = new Map<string, { account: Account; until: number }>();

  async function authenticate(request: Request): Promise<Account | undefined> {
    const key = bearer(request);
    if (key === undefined) return undefined;
    const cached = keyCache.get(key);
    if (cached && cached.until > Date.now()) return cached.account;
    const account = key === "" ? undefined : await store.accounts.findAccountByApiKey(key);
    if (!account) throw new NodeError("invalid_api_key", "the API key is not valid");
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(key, { account, until: Date.now() + 30_000 });
    return account;
  }

  async function requireAccount(request: Request): Promise<Account> {
    const account = await authenticate(request);
    if (!account) throw new NodeError("invalid_api_key", "an Authorization: Bearer API key is required");
    return account;
  }

  function requireAdmin(request: Request): void {
    const token = bearer(request);
    const given = fromHex(hashSecret(token ?? ""));
    const expected = fromHex(options.adminTokenHash);
    if (!token || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new NodeError("admin_token_invalid");
    }
  }

  async function paymentRequired(
    priceCredits: number,
    balance: number | undefined,
    request: Request,
    message: string,
  ) {
    const body: PaymentRequiredBody = {
      scheme: "x402",
      price_credits: priceCredits,
      ...(balance !== undefined ? { balance_credits: balance } : {}),
      error: apiErrorBody("insufficient_credits", message).error as PaymentRequiredBody["error"],
    };
    const headers = options.payments ? await options.payments.paymentRequired(priceCredits, request.url) : {};
    return json(body, 402, headers);
  }

  app.use("*", async (c, next) => {
    await next();
    const route = c.req.routePath ?? "unknown";
    metrics.httpRequests.inc({ route, status: String(c.res.status) });
  });

  app.onError((error) => {
    const nodeError = toNodeError(error);
    return errorResponse(nodeError);
  });

  app.notFound(async (c) => {
    if (options.dashboard) {
      const response = await options.dashboard(c.req.raw);
      if (response) return response;
    }
    return errorResponse(
      new NodeError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`),
    );
  });

  app.get("/healthz", () => json({ ok: true, draining: orchestrator.draining }));

  app.get("/v1/models", () => {
    const workers = orchestrator.registry.all().filter((s) => s.role === "worker");
    const data = orchestrator.registry.models().map((id) => ({
      id,
      object: "model",
      created: Math.floor(orchestrator.startedAt.getTime() / 1000),
      owned_by: "peercycles",
      peer_tiers: [...new Set(workers.filter((w) => w.model === id).map((w) => w.tier))].sort(),
    }));
    return json({ object: "list", data });
  });

  app.post("/v1/chat/completions", async (c) => {
    const request = c.req.raw;
    const contentType = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    let account: Account | undefined;
    let paymentHeaders: Record<string, string> = {};
    let payment: PeerInfo["payment"];
    try {
      account = await authenticate(request);
    } catch (error) {
      return errorResponse(toNodeError(error));
    }
    if (contentType === SEALED_REQUEST_MEDIA_TYPE) return sealedCompletion(request, account);
    if (contentType !== "application/json" && contentType !== "") {
      return errorResponse(
        new NodeError(
          "unsupported_media_type",
          `content-type ${contentType} is not application/json or ${SEALED_REQUEST_MEDIA_TYPE}`,
        ),
      );
    }
    let bodyText: string;
    try {
      bodyText = UTF8_STRICT.decode(await readBody(request));
    } catch (error) {
      if (error instanceof TypeError)
        return errorResponse(new NodeError("invalid_json", "the body is not UTF-8"));
      return errorResponse(toNodeError(error));
    }
    let decoded: unknown;
    try {
      decoded = JSON.parse(bodyText);
    } catch (error) {
      return errorResponse(
        new NodeError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`),
      );
    }
    const parsed = parseChatCompletionRequest(decoded);
    if (!parsed.ok) return errorResponse(new NodeError(parsed.code, parsed.message, { param: parsed.param }));
    if (parsed.tier === "confidential") {
      return errorResponse(
        new NodeError(
          "invalid_request",
          "confidential requests must be sealed to an attested key (content-type message/peer-sealed); use @peercycles/client",
          { param: "peer_tier" },
        ),
      );
    }
    const promptTokens = countPromptTokens(
      parsed.request.messages as Parameters<typeof countPromptTokens>[0],
    );
    const paymentHeader = request.headers.get("payment-signature");
    if (!account && paymentHeader && options.payments) {
      try {
        const quote = await quotePlain(
          parsed.tier as "open" | "verified",
          parsed.request.model,
          promptTokens,
          parsed.maxTokens,
        );
        const settled = await options.payments.settleRequest(paymentHeader, quote, request.url);
        account = settled.account;
        paymentHeaders = settled.headers;
        payment = settled.payment;
      } catch (error) {
        // A refused payment carries its x402 headers (a fresh PAYMENT-REQUIRED, or PAYMENT-RESPONSE).
        const nodeError = toNodeError(error);
        return errorResponse(nodeError, (nodeError.details?.headers ?? {}) as Record<string, string>);
      }
    }
    if (!account) {
      let quote = options.minimumPriceCredits ?? 1;
      try {
        quote = await quotePlain(
          parsed.tier as "open" | "verified",
          parsed.request.model,
          promptTokens,
          parsed.maxTokens,
        );
      } catch (error) {
        return errorResponse(toNodeError(error));
      }
      return paymentRequired(quote, undefined, request, "an API key or a payment is required");
    }
    const controller = new AbortController();
    request.signal.addEventListener("abort", () => controller.abort(), { once: true });
    let job: RunningJob;
    try {
      job = await orchestrator.startPlainJob({
        account,
        body: bodyText,
        request: parsed.request,
        tier: parsed.tier as "open" | "verified",
        maxTokens: parsed.maxTokens,
        promptTokens,
        signal: controller.signal,
      });
    } catch (error) {
      const nodeError = toNodeError(error);
      if (nodeError.code === "insufficient_credits") {
        const details = nodeError.details as { priceCredits: number; balance: number };
        return paymentRequired(details.priceCredits, details.balance, request, nodeError.message);
      }
      return errorResponse(nodeError, paymentHeaders);
    }
    const created = Math.floor(job.created / 1000);
    const model = parsed.request.model;
    const headers = {
      [PEER_HEADERS.job]: job.id,
      [PEER_HEADERS.worker]: job.workerId,
      [PEER_HEADERS.tier]: parsed.tier,
      ...paymentHeaders,
    };
    const withPayment = (peer: PeerInfo): PeerInfo => (payment ? { ...peer, payment } : peer);
    if (parsed.request.stream !== true) {
      try {
        for await (const event of job.events) {
          if (event.type === "done" && event.output) {
            return json(completionJson(job.id, created, model, event.output, withPayment(event.peer)), 200, {
              ...headers,
              [PEER_HEADERS.price]: String(event.peer.price_credits),
            });
          }
        }
        throw new NodeError("worker_output_invalid", "the job ended without a result");
      } catch (error) {
        return errorResponse(toNodeError(error), paymentHeaders);
      }
    }
    const includeUsage = parsed.request.stream_options?.include_usage === true;
    let first: Awaited<ReturnType<typeof firstEvent>>;
    try {
      first = await firstEvent(job);
    } catch (error) {
      return errorResponse(toNodeError(error), paymentHeaders);
    }
    const base = completionChunkBase(job.id, created, model);
    let cancelFlush = () => {};
    const body = new ReadableStream<Uint8Array>({
      async start(stream) {
        // Events written in one turn of the event loop (a worker's chunks arrive in bursts) leave in one
        // write: the same events, in fewer TCP segments and syscalls.
        let pending = "";
        let flushing: NodeJS.Immediate | undefined;
        const flush = () => {
          flushing = undefined;
          if (pending === "") return;
          stream.enqueue(encoder.encode(pending));
          pending = "";
        };
        const emit = (data: unknown) => {
          pending += sseText(data);
          flushing ??= setImmediate(flush);
        };
        // The first chunk (with the role event before it) goes at once: time to first token.
        let firstSent = false;
        cancelFlush = () => clearImmediate(flushing);
        emit({
          ...base,
          choices: [
            { index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
          ],
        });
        const write = (event: JobEvent) => {
          if (event.type === "chunk") {
            const delta = event.toolCall
              ? {
                  tool_calls: [
                    {
                      index: event.toolCall.index,
                      id: event.toolCall.id,
                      type: "function",
                      function: { name: event.toolCall.name, arguments: event.toolCall.arguments },
                    },
                  ],
                }
              : { content: event.content ?? "" };
            emit({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] });
            if (!firstSent) {
              firstSent = true;
              clearImmediate(flushing);
              flush();
            }
          } else if (event.type === "done") {
            const peer = withPayment(event.peer);
            emit({
              ...base,
              choices: [
                {
                  index: 0,
                  delta: {},
                  logprobs: null,
                  finish_reason: event.output?.finish_reason ?? "stop",
                },
              ],
            });
            if (includeUsage) {
              emit({
                ...base,
                choices: [],
                usage: {
                  prompt_tokens: peer.usage.prompt_tokens,
                  completion_tokens: peer.usage.completion_tokens,
                  total_tokens: peer.usage.prompt_tokens + peer.usage.completion_tokens,
                },
              });
            }
            emit({ ...base, choices: [], peer });
            emit("[DONE]");
          }
        };
        try {
          if (!first.first.done) write(first.first.value);
          for (;;) {
            const next = await first.rest.next();
            if (next.done) break;
            write(next.value);
          }
        } catch (error) {
          emit(toNodeError(error).toBody());
        }
        clearImmediate(flushing);
        flush();
        stream.close();
      },
      cancel() {
        cancelFlush();
        job.cancel("the client closed the stream");
      },
    });
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        ...headers,
      },
    });
  });

  async function quotePlain(
    tier: "open" | "verified",
    model: string,
    promptTokens: number,
    maxTokens: number,
  ): Promise<number> {
    const { route, eligible } = orchestrator.registry.pick(tier, model);
    const candidate =
      route?.session ??
      orchestrator.registry.all().find((s) => s.role === "worker" && s.tier === tier && s.model === model);
    if (!candidate) {
      if (!orchestrator.registry.servesModel(model))
        throw new NodeError("model_not_found", `no worker serves the model ${JSON.stringify(model)}`, {
          param: "model",
        });
      if (eligible === 0)
        throw new NodeError("no_worker_available", `no eligible ${tier} worker is connected for ${model}`);
    }
    const price = candidate?.pricePer1k ?? 0;
    return Math.max(1, Math.ceil(((promptTokens + maxTokens) * price) / 1000));
  }

  async function sealedCompletion(request: Request, authenticated: Account | undefined): Promise<Response> {
    let account = authenticated;
    const header = (name: string) => request.headers.get(name) ?? undefined;
    const workerId = header(PEER_HEADERS.worker);
    const keyIdText = header(PEER_HEADERS.keyId);
    const model = header(PEER_HEADERS.model);
    const tier = header(PEER_HEADERS.tier);
    const streamHeader = header(PEER_HEADERS.stream) ?? "0";
    const missing = !workerId
      ? PEER_HEADERS.worker
      : !keyIdText
        ? PEER_HEADERS.keyId
        : !model
          ? PEER_HEADERS.model
          : undefined;
    if (missing)
      return errorResponse(
        new NodeError("sealed_request_invalid", `the sealed request lacks the ${missing} header`, {
          param: missing,
        }),
      );
    if (tier !== undefined && tier !== "confidential") {
      return errorResponse(
        new NodeError("sealed_request_invalid", `a sealed request is confidential; peer-tier says ${tier}`, {
          param: PEER_HEADERS.tier,
        }),
      );
    }
    const keyId = Number(keyIdText);
    if (!Number.isInteger(keyId) || keyId < 0 || keyId > 255) {
      return errorResponse(
        new NodeError("sealed_request_invalid", "peer-key-id must be 0..255", { param: PEER_HEADERS.keyId }),
      );
    }
    if (streamHeader !== "0" && streamHeader !== "1") {
      return errorResponse(
        new NodeError("sealed_request_invalid", "peer-stream must be 0 or 1", { param: PEER_HEADERS.stream }),
      );
    }
    let sealed: Uint8Array;
    try {
      sealed = await readBody(request);
    } catch (error) {
      return errorResponse(toNodeError(error));
    }
    if (sealed.length === 0)
      return errorResponse(new NodeError("sealed_request_invalid", "the sealed body is empty"));
    let paymentHeaders: Record<string, string> = {};
    let payment: PeerInfo["payment"];
    if (!account) {
      // Pay per request, with no account: the quote is the job's hold, as for a keyed request.
      let quote: number;
      try {
        quote = orchestrator.quoteSealed(workerId as string, model as string, sealed.length);
      } catch (error) {
        return errorResponse(toNodeError(error));
      }
      const paymentHeader = request.headers.get("payment-signature");
      if (!paymentHeader || !options.payments) {
        return paymentRequired(quote, undefined, request, "an API key or a payment is required");
      }
      try {
        const settled = await options.payments.settleRequest(paymentHeader, quote, request.url);
        account = settled.account;
        paymentHeaders = settled.headers;
        payment = settled.payment;
      } catch (error) {
        const nodeError = toNodeError(error);
        return errorResponse(
          nodeError,
          (nodeError.details?.headers as Record<string, string> | undefined) ?? {},
        );
      }
    }
    const withPayment = (peer: PeerInfo): PeerInfo => (payment ? { ...peer, payment } : peer);
    const controller = new AbortController();
    request.signal.addEventListener("abort", () => controller.abort(), { once: true });
    let job: RunningJob;
    try {
      job = await orchestrator.startSealedJob({
        account,
        sealed,
        workerId: workerId as string,
        keyId,
        model: model as string,
        stream: streamHeader === "1",
        signal: controller.signal,
      });
    } catch (error) {
      const nodeError = toNodeError(error);
      if (nodeError.code === "insufficient_credits") {
        const details = nodeError.details as { priceCredits: number; balance: number };
        return paymentRequired(details.priceCredits, details.balance, request, nodeError.message);
      }
      return errorResponse(nodeError);
    }
    const headers = {
      [PEER_HEADERS.job]: job.id,
      [PEER_HEADERS.worker]: job.workerId,
      [PEER_HEADERS.tier]: "confidential",
      ...paymentHeaders,
    };
    if (streamHeader === "0") {
      try {
        for await (const event of job.events) {
          if (event.type === "done" && event.sealed) {
            return new Response(event.sealed as Uint8Array<ArrayBuffer>, {
              status: 200,
              headers: {
                ...headers,
                "content-type": SEALED_RESPONSE_MEDIA_TYPE,
                [PEER_HEADERS.info]: toBase64Url(utf8(JSON.stringify(withPayment(event.peer)))),
                [PEER_HEADERS.price]: String(event.peer.price_credits),
              },
            });
          }
        }
        throw new NodeError("worker_output_invalid", "the job ended without a sealed answer");
      } catch (error) {
        return errorResponse(toNodeError(error));
      }
    }
    let first: Awaited<ReturnType<typeof firstEvent>>;
    try {
      first = await firstEvent(job);
    } catch (error) {
      return errorResponse(toNodeError(error));
    }
    const body = new ReadableStream<Uint8Array>({
      async start(stream) {
        const write = (event: JobEvent) => {
          if (event.type === "sealed") stream.enqueue(encodeSealedFrame(SEALED_FRAME.sealed, event.bytes));
          else if (event.type === "done")
            stream.enqueue(
              encodeSealedFrame(SEALED_FRAME.peer, utf8(JSON.stringify(withPayment(event.peer)))),
            );
        };
        try {
          if (!first.first.done) write(first.first.value);
          for (;;) {
            const next = await first.rest.next();
            if (next.done) break;
            write(next.value);
          }
          stream.close();
        } catch (error) {
          // The sealed stream ends without its peer frame: the client treats that as truncation.
          stream.error(toNodeError(error));
        }
      },
      cancel() {
        job.cancel("the client closed the stream");
      },
    });
    return new Response(body, {
      status: 200,
      headers: { ...headers, "content-type": SEALED_STREAM_MEDIA_TYPE, "cache-control": "no-cache" },
    });
  }

  app.get("/v1/attestation", async (c) => {
    const model = c.req.query("model");
    const nonce = c.req.query("nonce");
    if (!model)
      throw new NodeError("invalid_request", "the model query parameter is required", { param: "model" });
    if (nonce !== undefined && !/^([0-9a-f]{2}){8,64}$/.test(nonce)) {
      throw new NodeError("invalid_request", "nonce must be 8..64 bytes of lowercase hex", {
        param: "nonce",
      });
    }
    // Bundles are public: an agent paying per request has no key. A key that is given must be valid.
    await authenticate(c.req.raw);
    const { worker, bundle } = await orchestrator.attestation(model, nonce, c.req.raw.signal);
    return json({
      worker: worker.id,
      model: worker.model,
      key_id: worker.keyId,
      simulated: worker.attestation?.simulated ?? false,
      bundle: toBase64Url(bundle),
    });
  });

  app.get("/credits/balance", async (c) => {
    const account = await requireAccount(c.req.raw);
    const holds = await store.jobs.listJobs({ limit: 1000, accountId: account.id });
    let held = 0;
    for (const job of holds) if (job.status === "running") held += job.maxCredits;
    return json({ account_id: account.id, balance: await ledger.balance(userAccount(account.id)), held });
  });

  app.get("/v1/workers/:id", (c) => {
    const session = orchestrator.registry.get(c.req.param("id"));
    if (!session) throw new NodeError("not_found", `no connected worker ${c.req.param("id")}`);
    return json(orchestrator.registry.describe(session));
  });

  app.get("/v1/network", async () => json(await orchestrator.snapshot(options.version)));

  app.get("/v1/network/events", async (c) => {
    const snapshot = await orchestrator.snapshot(options.version);
    let unsubscribe: (() => void) | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(stream) {
        const send = (event: NetworkEvent) => {
          try {
            stream.enqueue(encoder.encode(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
          } catch {
            unsubscribe?.();
          }
        };
        send({ type: "snapshot", at: new Date().toISOString(), snapshot });
        let ledgerPending = false;
        unsubscribe = feed.subscribe((event) => {
          send(event);
          // Money moved: follow with the ledger's figures (coalesced), so charts never guess them.
          if (
            event.type === "job.finished" ||
            event.type === "worker.slashed" ||
            event.type === "payment.settled"
          ) {
            if (ledgerPending) return;
            ledgerPending = true;
            setTimeout(() => {
              ledgerPending = false;
              void orchestrator
                .ledgerFigures()
                .then((figures) => send({ type: "ledger", at: new Date().toISOString(), ledger: figures }));
            }, 100);
          }
        });
        heartbeat = setInterval(() => {
          try {
            stream.enqueue(encoder.encode(": heartbeat\n\n"));
          } catch {
            clearInterval(heartbeat);
          }
        }, 15_000);
        c.req.raw.signal.addEventListener("abort", () => {
          unsubscribe?.();
          clearInterval(heartbeat);
          try {
            stream.close();
          } catch {}
        });
      },
      cancel() {
        unsubscribe?.();
        clearInterval(heartbeat);
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
      },
    });
  });

  app.get("/metrics", async () => {
    return new Response(await metrics.registry.metrics(), {
      headers: { "content-type": metrics.registry.contentType },
    });
  });

  app.post("/admin/accounts", async (c) => {
    requireAdmin(c.req.raw);
    const body = await readJsonObject(c.req.raw);
    const name = typeof body.name === "string" && body.name.length > 0 ? body.name : "account";
    const credits = body.credits ?? 0;
    if (typeof credits !== "number" || !Number.isSafeInteger(credits) || credits < 0) {
      throw new NodeError("invalid_request", "credits must be a non-negative integer", { param: "credits" });
    }
    const created = await store.accounts.createAccount({ name });
    if (credits > 0) await ledger.grant(created.id, credits, { memo: "admin grant at account creation" });
    return json({ account_id: created.id, api_key: created.apiKey, balance: credits }, 201);
  });

  app.post("/admin/credits/grant", async (c) => {
    requireAdmin(c.req.raw);
    const body = await readJsonObject(c.req.raw);
    const { account_id: accountId, credits } = body;
    if (typeof accountId !== "string" || !(await store.accounts.getAccount(accountId))) {
      throw new NodeError("invalid_request", "account_id must name an account", { param: "account_id" });
    }
    if (typeof credits !== "number" || !Number.isSafeInteger(credits) || credits <= 0) {
      throw new NodeError("invalid_request", "credits must be a positive integer", { param: "credits" });
    }
    const memo = typeof body.memo === "string" ? body.memo : "admin grant";
    await ledger.grant(accountId, credits, {
      memo,
      ...(typeof body.idempotency_key === "string" ? { idempotencyKey: body.idempotency_key } : {}),
    });
    return json({ account_id: accountId, balance: await ledger.balance(userAccount(accountId)) });
  });

  app.post("/admin/worker-tokens", async (c) => {
    requireAdmin(c.req.raw);
    const body = await readJsonObject(c.req.raw);
    const name = typeof body.name === "string" && body.name.length > 0 ? body.name : "worker";
    return json({ name, token: await store.workers.createWorkerToken({ name }) }, 201);
  });

  options.payments?.mount(app);
  return app;
}

async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const text = new TextDecoder().decode(await readBody(request));
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new NodeError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new NodeError("invalid_request", "the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
