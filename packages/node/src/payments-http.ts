/**
 * Payments plugged into the node (issue 15): x402 v2 `exact` USDC payments on Solana for
 * pay-per-request and `POST /credits/buy`, reconciliation at start, worker payouts (an interval job
 * in the node and `peer-cycles payout`), and the development wallet of a `--dev` node.
 *
 * See docs/payments.md.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { buyCreditsRequestSchema, type PeerInfo } from "@peercycles/protocol";
import { assertIsAddress, type TransactionSigner } from "@solana/kit";
import { decodePaymentSignatureHeader } from "@x402/core/http";
import type { Hono } from "hono";
import { type EmbeddedChain, startEmbeddedChain } from "./chain/embedded-chain.js";
import type { SettlementChain } from "./chain/settlement-chain.js";
import { connectSolanaRpc, type SolanaRpcChain } from "./chain/solana-rpc-chain.js";
import {
  CREDIT_BASE_UNITS,
  isSolanaNetwork,
  SOLANA_DEVNET,
  type SolanaNetwork,
  usdcToBaseUnits,
} from "./chain/usdc.js";
import { userAccount } from "./ledger/index.js";
import { NodeError } from "./orchestrator/errors.js";
import type { PaymentHooks } from "./orchestrator/http.js";
import type { PaymentError } from "./payments/errors.js";
import {
  createLedgerPaymentRecorder,
  type LedgerPaymentRecorder,
} from "./payments/ledger-payment-recorder.js";
import { createPaymentGate, type PaymentGate, type PaymentSettlement } from "./payments/payment-gate.js";
import {
  createPaymentState,
  intentKey,
  type PaymentIntent,
  type PaymentState,
  payoutAddressKey,
} from "./payments/payment-state.js";
import { type ReconcileReport, reconcileSettlements } from "./payments/reconcile-settlements.js";
import {
  type EmbeddedChainFile,
  embeddedChainFile,
  loadOrCreateWalletKey,
  walletKeyFile,
} from "./payments/solana-key-files.js";
import { type PaidOut, type PayoutReport, payWorkerEarnings } from "./payments/worker-payouts.js";
import type { NodeContext } from "./start-node.js";
import { hashSecret, type Store } from "./storage/index.js";

/** A chain the node can settle on and pay out from. */
export type PaymentsChain = SettlementChain & { readonly treasurySigner: TransactionSigner };

/** Options of {@link startPayments}. */
export interface StartPaymentsOptions {
  /** `--solana-rpc URL`: settle on a real cluster. Default: an embedded LiteSVM chain in this process. */
  readonly solanaRpc?: string;
  /** CAIP-2 network of `solanaRpc`. Default: asked from the RPC (`getGenesisHash`). */
  readonly network?: SolanaNetwork;
  /** A chain to use as is (tests; a restart over the same chain). Not closed by `close()`. */
  readonly chain?: PaymentsChain;
  /** 64-byte secrets; default: the key files in `<dataDir>/solana/` (created on first start). */
  readonly treasurySecret?: Uint8Array;
  readonly feePayerSecret?: Uint8Array;
  /** Embedded chain: USDC minted to the development wallet at start. Default 1000. */
  readonly devWalletUsdc?: number;
  /** Serve `GET /dev/wallet` (loopback only). Default: a `--dev` node on the embedded chain. */
  readonly exposeDevWallet?: boolean;
  /** Automatic payouts: pay a worker once its earnings reach this. Default 1000 credits ($10). */
  readonly payoutMinCredits?: number;
  /** How often the automatic payout runs, in ms; 0 turns it off. Default 60 s. */
  readonly payoutIntervalMs?: number;
  /** How far back reconciliation looks on an RPC chain (signatures). Default 200. */
  readonly reconcileLimit?: number;
  /**
   * How often reconciliation runs after the one at start, in ms (it credits a payment whose
   * settlement was pending when its request was answered); 0 turns it off. Default: 60 s on the
   * embedded chain, 5 min on a real cluster.
   */
  readonly reconcileIntervalMs?: number;
}

/** The running payments layer: the hooks the HTTP app calls, and what tests and the CLI use. */
export interface PaymentService extends PaymentHooks {
  readonly chain: PaymentsChain;
  readonly gate: PaymentGate;
  readonly recorder: LedgerPaymentRecorder;
  readonly state: PaymentState;
  /** Embedded chain only: the funded development wallet. */
  readonly devWallet: DevWallet | undefined;
  /** What the reconciliation at start granted. */
  readonly startReport: ReconcileReport;
  /** Grants settled payments the ledger lacks (run at start; safe to run any time). */
  reconcile(): Promise<ReconcileReport>;
  /** Pays worker earnings now (what the interval job runs). */
  payOut(options?: { minCredits?: number; workerIds?: readonly string[] }): Promise<PayoutReport>;
  close(): Promise<void>;
}

/** The development wallet: a funded wallet on the embedded chain, for local examples. Not for real money. */
export interface DevWallet {
  readonly address: string;
  /** 64-byte secret (seed ‖ public key), the Solana CLI layout. */
  readonly secretKey: Uint8Array;
  /** Its key file, `<dataDir>/solana/dev-wallet.json`. */
  readonly keyFile: string;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Starts payments for a node: the chain (embedded LiteSVM by default, a real cluster with
 * `solanaRpc`), the x402 gate with its in-process facilitator, the ledger recorder, reconciliation of
 * payments settled before a crash, and the payout interval job.
 *
 * @example
 * ```ts
 * const node = await startNode({ port: 0, payments: (context) => startPayments(context, {}) });
 * ```
 */
export async function startPayments(
  context: NodeContext,
  options: StartPaymentsOptions = {},
): Promise<PaymentService> {
  const { store, ledger, feed, logger, dataDir } = context;
  const state = createPaymentState(ledger.database);
  let chain: PaymentsChain;
  let embedded: EmbeddedChain | undefined;
  let devWallet: DevWallet | undefined;
  const ownsChain = options.chain === undefined;
  if (options.chain) {
    chain = options.chain;
    if ("devWallet" in chain) embedded = chain as EmbeddedChain;
  } else if (options.solanaRpc) {
    const treasury =
      options.treasurySecret ?? (await loadOrCreateWalletKey(dataDir, "treasury", true))?.secretKey;
    const feePayer =
      options.feePayerSecret ?? (await loadOrCreateWalletKey(dataDir, "fee-payer", true))?.secretKey;
    chain = await connectSolanaRpc({
      rpcUrl: options.solanaRpc,
      network: options.network ?? (await detectNetwork(options.solanaRpc)),
      treasurySecret: treasury as Uint8Array,
      feePayerSecret: feePayer as Uint8Array,
    });
  } else {
    const [treasury, feePayer, dev] = await Promise.all([
      options.treasurySecret ?? loadOrCreateWalletKey(dataDir, "treasury", true).then((k) => k?.secretKey),
      options.feePayerSecret ?? loadOrCreateWalletKey(dataDir, "fee-payer", true).then((k) => k?.secretKey),
      loadOrCreateWalletKey(dataDir, "dev-wallet", true),
    ]);
    embedded = await startEmbeddedChain({
      network: options.network ?? SOLANA_DEVNET,
      devWalletUsdc: options.devWalletUsdc ?? 1000,
      ...(treasury ? { treasurySecret: treasury } : {}),
      ...(feePayer ? { feePayerSecret: feePayer } : {}),
      ...(dev ? { devWalletSecret: dev.secretKey } : {}),
    });
    chain = embedded;
    const file: EmbeddedChainFile = {
      rpc_url: embedded.rpcUrl,
      network: embedded.network,
      usdc_mint: embedded.usdcMint,
      treasury: embedded.treasury,
      pid: process.pid,
    };
    writeFileSync(embeddedChainFile(dataDir), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  }
  if (embedded) {
    devWallet = {
      address: embedded.devWallet.address,
      secretKey: embedded.devWallet.secretKey,
      keyFile: walletKeyFile(dataDir, "dev-wallet"),
    };
  }
  const exposeDevWallet = (options.exposeDevWallet ?? context.dev) && devWallet !== undefined;
  const gate = createPaymentGate({ chain });
  const recorder = createLedgerPaymentRecorder({ ledger, store, state });
  const at = () => new Date().toISOString();
  const emit = (kind: "buy" | "request" | "payout", credits: number, transaction: string, payer?: string) =>
    feed.emit({
      type: "payment.settled",
      at: at(),
      kind,
      credits,
      transaction,
      ...(payer ? { payer } : {}),
    });
  context.orchestrator.treasuryUsdcOnChain = () => chain.usdcBalance(chain.treasury);

  const reconcile = async (): Promise<ReconcileReport> => {
    const report = await reconcileSettlements(chain, recorder, { limit: options.reconcileLimit ?? 200 });
    for (const payment of report.granted) {
      const intent = await state.get(intentKey(payment.transaction));
      const kind = intent ? (JSON.parse(intent) as PaymentIntent).kind : "buy";
      emit(kind, payment.credits, payment.transaction, payment.payer);
    }
    if (report.granted.length > 0) {
      logger.warn(
        { granted: report.granted.map((p) => p.transaction) },
        "credited payments settled before a restart",
      );
    }
    return report;
  };
  const startReport = await reconcile();
  let reconciling: Promise<ReconcileReport> | undefined;
  const reconcileOnce = () => {
    reconciling ??= reconcile().finally(() => {
      reconciling = undefined;
    });
    return reconciling;
  };
  const reconcileEvery = options.reconcileIntervalMs ?? (embedded ? 60_000 : 300_000);
  const reconcileTimer =
    reconcileEvery > 0
      ? setInterval(() => {
          void reconcileOnce().catch((error: unknown) =>
            logger.warn({ err: error }, "reconciliation failed"),
          );
        }, reconcileEvery)
      : undefined;
  reconcileTimer?.unref();

  /** Verifies and settles, with the intent written first; throws the NodeError to answer. */
  const settle = async (
    header: string,
    priceCredits: number,
    resource: string,
    intent: Omit<PaymentIntent, "payer" | "at" | "credits" | "resource">,
  ): Promise<PaymentSettlement> => {
    const challenge = await gate.requirementFor({
      priceCredits,
      resourceUrl: resource,
      description: intent.kind === "buy" ? "Peer Cycles credits" : "Peer Cycles inference request",
    });
    const result = await gate.settle(header, challenge, {
      beforeSettle: async ({ signature, payer }) => {
        if (!signature) return;
        const record: PaymentIntent = { ...intent, payer, credits: priceCredits, resource, at: Date.now() };
        await state.set(intentKey(signature), JSON.stringify(record));
      },
    });
    if (result.ok) return result;
    const headers: Record<string, string> = result.paymentResponseHeader
      ? { "PAYMENT-RESPONSE": result.paymentResponseHeader }
      : {
          "PAYMENT-REQUIRED": (
            await gate.requirementFor({
              priceCredits,
              resourceUrl: resource,
              error: result.x402Reason ?? result.error.code,
            })
          ).header,
        };
    throw paymentNodeError(result.error, result.x402Reason, headers);
  };

  /** Records a settled payment; a failure here is healed by the next reconciliation. */
  const grant = async (settled: PaymentSettlement, accountId: string | undefined) => {
    try {
      return await recorder.grant(settled, accountId ? { accountId } : {});
    } catch (error) {
      logger.error(
        { err: error, transaction: settled.transaction },
        "a settled payment was not credited yet",
      );
      throw new NodeError(
        "payment_settlement_failed",
        `the payment ${settled.transaction} settled but could not be credited yet; it is credited when the node reconciles (at the latest on restart)`,
        { cause: error },
      );
    }
  };

  const paymentRequired: PaymentHooks["paymentRequired"] = async (priceCredits, resource) => {
    const challenge = await gate.requirementFor({
      priceCredits,
      resourceUrl: resource,
      description: "Peer Cycles inference request",
    });
    return { "PAYMENT-REQUIRED": challenge.header, "Cache-Control": "no-store" };
  };

  const settleRequest: PaymentHooks["settleRequest"] = async (header, priceCredits, resource) => {
    // A client may pay the amount it was quoted a moment ago when the quote has since gone down
    // (another worker was picked): accept any whole number of credits at or above the price.
    const paid = Math.max(priceCredits, acceptedCredits(header) ?? 0);
    const settled = await settle(header, paid, resource, { kind: "request" });
    const { accountId } = await grant(settled, undefined);
    const account = await store.accounts.getAccount(accountId);
    if (!account) throw new NodeError("internal_error", `the payer account ${accountId} is missing`);
    emit("request", settled.credits, settled.transaction, settled.payer);
    const payment: NonNullable<PeerInfo["payment"]> = {
      transaction: settled.transaction,
      network: settled.network,
      payer: settled.payer,
    };
    return { account, headers: { "PAYMENT-RESPONSE": settled.paymentResponseHeader }, payment };
  };

  let payoutRun: Promise<PayoutReport> | undefined;
  const payOut = (payoutOptions: { minCredits?: number; workerIds?: readonly string[] } = {}) => {
    payoutRun ??= payWorkerEarnings({
      ledger,
      state,
      chain,
      treasury: chain.treasurySigner,
      minCredits: payoutOptions.minCredits ?? 1,
      ...(payoutOptions.workerIds ? { workerIds: payoutOptions.workerIds } : {}),
      onPaid: (done: PaidOut) => {
        emit("payout", done.credits, done.transaction, done.to);
        const session = context.orchestrator.registry.get(done.workerId);
        if (session) session.earningsCredits = Math.max(0, session.earningsCredits - done.credits);
      },
    }).finally(() => {
      payoutRun = undefined;
    });
    return payoutRun;
  };
  const interval = options.payoutIntervalMs ?? 60_000;
  const payoutMinCredits = options.payoutMinCredits ?? 1000;
  const timer =
    interval > 0
      ? setInterval(() => {
          void payOut({ minCredits: payoutMinCredits }).then(
            (report) => {
              if (report.failed.length > 0) logger.warn({ failed: report.failed }, "worker payouts failed");
            },
            (error: unknown) => logger.warn({ err: error }, "the payout run failed"),
          );
        }, interval)
      : undefined;
  timer?.unref();

  const mount = (app: Hono) => {
    app.post("/credits/buy", async (c) => {
      const request = c.req.raw;
      const account = await authenticate(store, request);
      let body: unknown;
      try {
        body = await request.json();
      } catch {
        throw new NodeError("invalid_json", 'the body must be JSON: {"usdc": amount}');
      }
      const parsed = buyCreditsRequestSchema.safeParse(body);
      if (!parsed.success) {
        throw new NodeError("invalid_request", "usdc must be a positive number of at most 1,000,000", {
          param: "usdc",
        });
      }
      let baseUnits: bigint;
      try {
        baseUnits = usdcToBaseUnits(parsed.data.usdc, "usdc");
      } catch {
        throw new NodeError("invalid_request", "usdc has more than 6 decimals", { param: "usdc" });
      }
      if (baseUnits % CREDIT_BASE_UNITS !== 0n) {
        throw new NodeError("invalid_request", "usdc must be a whole number of cents (1 credit = $0.01)", {
          param: "usdc",
        });
      }
      const credits = Number(baseUnits / CREDIT_BASE_UNITS);
      const header = request.headers.get("payment-signature");
      if (!header) {
        return c.json(
          { scheme: "x402", price_credits: credits },
          402,
          await paymentRequired(credits, request.url),
        );
      }
      let settled: PaymentSettlement;
      try {
        settled = await settle(header, credits, request.url, {
          kind: "buy",
          ...(account ? { accountId: account.id } : {}),
        });
      } catch (error) {
        if (!NodeError.isInstance(error)) throw error;
        const headers = (error.details?.headers ?? {}) as Record<string, string>;
        return c.json(error.toBody(), error.status as 402, headers);
      }
      const granted = await grant(settled, account?.id);
      emit("buy", settled.credits, settled.transaction, settled.payer);
      // Without a key the credits go to the payer wallet's own account, and the buyer gets a key to it.
      const apiKey = account ? undefined : await store.accounts.createApiKey(granted.accountId);
      return c.json(
        {
          credits: settled.credits,
          balance: await ledger.balance(userAccount(granted.accountId)),
          transaction: settled.transaction,
          account_id: granted.accountId,
          ...(apiKey ? { api_key: apiKey } : {}),
        },
        200,
        { "PAYMENT-RESPONSE": settled.paymentResponseHeader },
      );
    });

    app.post("/admin/workers/:id/payout-address", async (c) => {
      await requireAdmin(store, c.req.raw);
      const workerId = c.req.param("id");
      if (!(await store.workers.getWorker(workerId)))
        throw new NodeError("not_found", `no worker ${workerId}`);
      const body = (await c.req.json().catch(() => ({}))) as { address?: unknown };
      const address = requireAddress(body.address);
      await state.set(payoutAddressKey(workerId), address);
      return c.json({ worker_id: workerId, payout_address: address });
    });

    app.get("/admin/workers/:id/payout-address", async (c) => {
      await requireAdmin(store, c.req.raw);
      const address = await state.get(payoutAddressKey(c.req.param("id")));
      if (!address) throw new NodeError("not_found", "no payout address for this worker");
      return c.json({ worker_id: c.req.param("id"), payout_address: address });
    });

    app.post("/admin/payouts", async (c) => {
      await requireAdmin(store, c.req.raw);
      const body = (await c.req.json().catch(() => ({}))) as { min_credits?: unknown };
      const minCredits = body.min_credits ?? 1;
      if (typeof minCredits !== "number" || !Number.isSafeInteger(minCredits) || minCredits < 1) {
        throw new NodeError("invalid_request", "min_credits must be a positive integer", {
          param: "min_credits",
        });
      }
      const report = await payOut({ minCredits });
      return c.json(report, report.failed.length > 0 ? 502 : 200);
    });

    if (exposeDevWallet && devWallet) {
      const wallet = devWallet;
      // DEVELOPMENT ONLY: hands out the secret key of a wallet that holds play USDC on the embedded
      // chain, to local examples. Served only on a --dev node, only to loopback, never with CORS.
      app.get("/dev/wallet", async (c) => {
        const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
          ?.socket?.remoteAddress;
        const host = new URL(c.req.url).hostname;
        if (!remote || !LOOPBACK.has(remote) || !LOOPBACK_HOSTS.has(host === "::1" ? "[::1]" : host)) {
          throw new NodeError("not_found", "the development wallet is served to loopback only");
        }
        return c.json(
          {
            warning: "development wallet of an embedded test chain: play USDC, never real funds",
            address: wallet.address,
            secret_key: [...wallet.secretKey],
            key_file: wallet.keyFile,
            rpc_url: chain.rpcUrl,
            network: chain.network,
            usdc_mint: chain.usdcMint,
            usdc_base_units: (await chain.usdcBalance(wallet.address as never)).toString(),
          },
          200,
          { "cache-control": "no-store" },
        );
      });
    }
  };

  let closed = false;
  return {
    chain,
    gate,
    recorder,
    state,
    devWallet,
    startReport,
    reconcile: reconcileOnce,
    payOut,
    paymentRequired,
    settleRequest,
    mount,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      if (reconcileTimer) clearInterval(reconcileTimer);
      await payoutRun?.catch(() => undefined);
      await reconciling?.catch(() => undefined);
      if (context.orchestrator.treasuryUsdcOnChain) context.orchestrator.treasuryUsdcOnChain = undefined;
      if (ownsChain && embedded) {
        rmSync(embeddedChainFile(dataDir), { force: true });
        await embedded.close();
      }
    },
  };
}

/** The x402 failure as the node's API error: `payment_invalid` (402) or `payment_settlement_failed`. */
function paymentNodeError(
  error: PaymentError,
  x402Reason: string | undefined,
  headers: Record<string, string>,
): NodeError {
  const settlement =
    error.code === "payment_settle_failed" ||
    error.code === "payment_settle_pending" ||
    error.code === "payment_unavailable";
  const reason = x402Reason ? ` (x402: ${x402Reason})` : "";
  return new NodeError(
    settlement ? "payment_settlement_failed" : "payment_invalid",
    `${error.code}: ${error.message}${reason}`,
    { cause: error, details: { payment_code: error.code, x402_reason: x402Reason, headers } },
  );
}

/** Credits of the amount the payment's `accepted` terms name, when it is a whole number of credits. */
function acceptedCredits(header: string): number | undefined {
  try {
    const amount = BigInt(decodePaymentSignatureHeader(header).accepted.amount);
    if (amount <= 0n || amount % CREDIT_BASE_UNITS !== 0n) return undefined;
    const credits = amount / CREDIT_BASE_UNITS;
    return credits <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(credits) : undefined;
  } catch {
    return undefined;
  }
}

async function authenticate(store: Store, request: Request) {
  const header = request.headers.get("authorization");
  if (!header) return undefined;
  const key = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const account = key ? await store.accounts.findAccountByApiKey(key) : undefined;
  if (!account) throw new NodeError("invalid_api_key", "the API key is not valid");
  return account;
}

async function requireAdmin(store: Store, request: Request): Promise<void> {
  const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  const expected = await store.settings.getSetting("admin.tokenHash");
  if (!token || !expected || hashSecret(token) !== expected) throw new NodeError("admin_token_invalid");
}

function requireAddress(value: unknown): string {
  try {
    assertIsAddress(value as string);
    return value as string;
  } catch {
    throw new NodeError("invalid_request", "address must be a base58 Solana address", { param: "address" });
  }
}

/** The CAIP-2 network of a cluster, from its genesis hash (the CAIP-2 reference is its first 32 characters). */
async function detectNetwork(rpcUrl: string): Promise<SolanaNetwork> {
  let genesis: unknown;
  try {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getGenesisHash" }),
      signal: AbortSignal.timeout(10_000),
    });
    genesis = ((await response.json()) as { result?: unknown }).result;
  } catch (error) {
    throw new Error(`--solana-rpc ${rpcUrl}: getGenesisHash did not answer (${(error as Error).message})`);
  }
  const network = `solana:${String(genesis).slice(0, 32)}`;
  if (!isSolanaNetwork(network)) {
    throw new Error(`--solana-rpc ${rpcUrl}: genesis ${String(genesis)} is not mainnet, devnet or testnet`);
  }
  return network;
}

/** A usage error of `peer-cycles payout` (exit 2). */
class PayoutUsageError extends Error {
  readonly code = "usage";
}

const PAYOUT_HELP = `peer-cycles payout: pays worker earnings in USDC from the treasury

Usage:
  peer-cycles payout [--data DIR] [--database URL] [--min-credits N] [--solana-rpc URL]
  peer-cycles payout [--data DIR] [--database URL] --set-address WORKER_ID=ADDRESS

--data DIR        the node's data directory: SQLite (unless --database) and the key files in DIR/solana/
--database URL    PostgreSQL shared by the node's replicas
--min-credits N   pay only workers whose earnings reach N credits (default 1)
--solana-rpc URL  the cluster the node settles on; default: the running node's embedded chain
--set-address     sets the Solana address a worker is paid to, and pays nothing

Exit codes: 0 every due payout landed, 1 a payout failed (its earnings stay owed), 2 usage,
3 another payout run holds the lock.`;

/**
 * `peer-cycles payout`: pays every worker whose earnings reach `--min-credits` and that has a payout
 * address. Resolves to the exit code.
 */
export async function runPayoutCommand(args: string[]): Promise<number> {
  const config: ParseArgsConfig = {
    args,
    options: {
      data: { type: "string" },
      database: { type: "string" },
      "min-credits": { type: "string" },
      "solana-rpc": { type: "string" },
      network: { type: "string" },
      "set-address": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  };
  let values: Record<string, unknown>;
  try {
    values = parseArgs(config).values as Record<string, unknown>;
  } catch (error) {
    console.error(`peer-cycles payout: ${(error as Error).message}\n\n${PAYOUT_HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(PAYOUT_HELP);
    return 0;
  }
  try {
    return await payoutCommand(values);
  } catch (error) {
    if (error instanceof PayoutUsageError) {
      console.error(`peer-cycles payout: ${error.message}\nRun peer-cycles payout --help for usage.`);
      return 2;
    }
    throw error;
  }
}

async function payoutCommand(values: Record<string, unknown>): Promise<number> {
  const dataDir = (values.data as string | undefined) ?? ".peercycles";
  const minText = values["min-credits"] as string | undefined;
  const minCredits = minText === undefined ? 1 : Number(minText);
  if (
    minText !== undefined &&
    (!/^\d+$/.test(minText) || minCredits < 1 || !Number.isSafeInteger(minCredits))
  ) {
    throw new PayoutUsageError(`--min-credits must be a positive integer, not ${JSON.stringify(minText)}`);
  }
  const { openDatabase, createStore } = await import("./storage/index.js");
  const { createLedger } = await import("./ledger/index.js");
  const database = await openDatabase(
    values.database ? { url: values.database as string, dataDir } : { dataDir },
  );
  try {
    const state = createPaymentState(database);
    const settings = values["set-address"] as string[] | undefined;
    if (settings && settings.length > 0) {
      const store = createStore(database);
      for (const entry of settings) {
        const [workerId, address] = entry.split("=", 2);
        if (!workerId || !address)
          throw new PayoutUsageError(`--set-address wants WORKER_ID=ADDRESS, not ${entry}`);
        try {
          assertIsAddress(address);
        } catch {
          throw new PayoutUsageError(`--set-address: ${address} is not a base58 Solana address`);
        }
        if (!(await store.workers.getWorker(workerId))) throw new PayoutUsageError(`no worker ${workerId}`);
        await state.set(payoutAddressKey(workerId), address);
        console.log(`worker ${workerId} is paid to ${address}`);
      }
      return 0;
    }
    const chain = await payoutChain(dataDir, values);
    const report = await payWorkerEarnings({
      ledger: createLedger(database),
      state,
      chain,
      treasury: chain.treasurySigner,
      minCredits,
    });
    if (!report.ran) {
      console.error("peer-cycles payout: another payout run holds the lock; try again later");
      return 3;
    }
    for (const paid of report.paid) {
      console.log(
        `paid ${paid.workerId}: ${paid.credits} credits to ${paid.to}, transaction ${paid.transaction}`,
      );
    }
    for (const skip of report.skipped) {
      console.log(`skipped ${skip.workerId}: ${skip.credits} credits owed (${skip.reason})`);
    }
    for (const failure of report.failed) {
      console.error(
        `FAILED ${failure.workerId}: ${failure.credits} credits stay owed: ${failure.code}: ${failure.message}`,
      );
    }
    if (report.paid.length + report.skipped.length + report.failed.length === 0)
      console.log("nothing is owed");
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    await database.close();
  }
}

/** The chain a payout command pays on: the given cluster, or the running node's embedded chain. */
async function payoutChain(dataDir: string, values: Record<string, unknown>): Promise<SolanaRpcChain> {
  const treasury = await loadOrCreateWalletKey(dataDir, "treasury", false);
  const feePayer = await loadOrCreateWalletKey(dataDir, "fee-payer", false);
  if (!treasury || !feePayer) {
    throw new PayoutUsageError(
      `no treasury key in ${walletKeyFile(dataDir, "treasury")}: run the node once, or pass --data`,
    );
  }
  let rpcUrl = values["solana-rpc"] as string | undefined;
  let network = values.network as string | undefined;
  if (!rpcUrl) {
    const file = embeddedChainFile(dataDir);
    if (!existsSync(file)) {
      throw new PayoutUsageError(
        `no running node with an embedded chain in ${dataDir} (no ${file}); start it, or pass --solana-rpc`,
      );
    }
    const running = JSON.parse(readFileSync(file, "utf8")) as EmbeddedChainFile;
    rpcUrl = running.rpc_url;
    network ??= running.network;
  }
  if (network !== undefined && !isSolanaNetwork(network))
    throw new PayoutUsageError(`--network ${network} is not a Solana CAIP-2 network`);
  return connectSolanaRpc({
    rpcUrl,
    network: (network as SolanaNetwork | undefined) ?? (await detectNetwork(rpcUrl)),
    treasurySecret: treasury.secretKey,
    feePayerSecret: feePayer.secretKey,
    confirmTimeoutMs: 30_000,
  });
}
