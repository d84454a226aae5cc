import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { type BundlePolicy, parseBundlePolicy } from "@peercycles/attest/bundle";
import { WORKER_ENDPOINT_PATH } from "@peercycles/protocol";
import pino, { type Logger } from "pino";
import { WebSocketServer } from "ws";
import { createLedger, type Ledger } from "./ledger/index.js";
import { createHttpApp, type PaymentHooks } from "./orchestrator/http.js";
import { createNodeMetrics } from "./orchestrator/metrics.js";
import { NetworkFeed } from "./orchestrator/network-feed.js";
import { Orchestrator } from "./orchestrator/orchestrator.js";
import {
  createStore,
  generateSecret,
  hashSecret,
  type NodeDatabase,
  openDatabase,
  type Store,
} from "./storage/index.js";
import { NODE_VERSION } from "./version.js";

/** Options of {@link startNode}. */
export interface StartNodeOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port; 0 picks a free one. Default 8787. */
  readonly port?: number;
  /** Directory for SQLite and the node's files. Default `./.peercycles`. */
  readonly dataDir?: string;
  /** `postgres://…` to share state between replicas; default SQLite in `dataDir`. */
  readonly database?: string;
  /** PostgreSQL schema (tests isolate themselves with one). */
  readonly postgresSchema?: string;
  /** Start the development network in-process (workers, a cheater, a simulated enclave, a validator). */
  readonly dev?: boolean;
  /** Share of verified jobs re-executed. Default 0.05. */
  readonly validationRate?: number;
  /** Dev only: share of jobs the cheating worker falsifies. Default 0.5. */
  readonly cheatRate?: number;
  readonly feeBps?: number;
  readonly jobTimeoutMs?: number;
  /** Policy (JSON value or parsed) confidential workers must meet. Dev default: docs/policies/development-simulated.json. */
  readonly attestationPolicy?: unknown;
  /** Logger; default pino to stderr at `info` (`warn` in dev, whose output is the printed lines). */
  readonly logger?: Logger;
  /**
   * Plugs in payments (see startPayments). Default: with `dev`, x402 over the embedded LiteSVM chain;
   * otherwise none. `false` turns them off.
   */
  readonly payments?: false | ((context: NodeContext) => Promise<PaymentHooks & { close(): Promise<void> }>);
  /** Random source for the validation sample. */
  readonly random?: () => number;
}

/** What the payments layer and dev helpers get to work with. */
export interface NodeContext {
  readonly store: Store;
  readonly ledger: Ledger;
  readonly orchestrator: Orchestrator;
  readonly feed: NetworkFeed;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly dev: boolean;
}

/** A running node. */
export interface RunningNode {
  readonly url: string;
  readonly dashboardUrl: string;
  readonly dataDir: string;
  /** The admin token, when this start created it (or it was read from the data directory). */
  readonly adminToken: string | undefined;
  /** Dev: the development account's API key and id. */
  readonly apiKey: string | undefined;
  readonly accountId: string | undefined;
  readonly orchestrator: Orchestrator;
  readonly store: Store;
  readonly ledger: Ledger;
  readonly context: NodeContext;
  /** Stops taking requests, lets in-flight jobs finish (or refunds them), stops workers, closes the database. */
  close(options?: { graceMs?: number }): Promise<void>;
}

const DEV_POLICY_FILE = fileURLToPath(new URL("../policies/development-simulated.json", import.meta.url));

/** The development policy shipped with the package (accepts the simulated enclave only). */
export function developmentAttestationPolicy(): BundlePolicy {
  return parseBundlePolicy(stripSchema(JSON.parse(readFileSync(DEV_POLICY_FILE, "utf8"))));
}

function stripSchema(value: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _schema, ...rest } = value;
  return rest;
}

async function ensureAdminToken(store: Store, dataDir: string): Promise<string | undefined> {
  const file = join(dataDir, "admin-token");
  const fromEnv = process.env.PEER_ADMIN_TOKEN;
  const stored = await store.settings.getSetting("admin.tokenHash");
  if (fromEnv) {
    if (!stored) await store.settings.setSetting("admin.tokenHash", hashSecret(fromEnv));
    return fromEnv;
  }
  if (stored) return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
  const token = generateSecret("pca_");
  await store.settings.setSetting("admin.tokenHash", hashSecret(token));
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * Starts the orchestrator (and, with `dev`, the development network) and resolves once it listens.
 *
 * @example
 * ```ts
 * const node = await startNode({ dev: true, port: 0, dataDir: "./.peercycles" });
 * console.log(node.url, node.apiKey);
 * await node.close();
 * ```
 */
export async function startNode(options: StartNodeOptions = {}): Promise<RunningNode> {
  const dev = options.dev === true;
  const dataDir = resolve(options.dataDir ?? ".peercycles");
  mkdirSync(dataDir, { recursive: true });
  try {
    chmodSync(dataDir, 0o700);
  } catch {}
  const logger = options.logger ?? pino({ level: dev ? "warn" : "info" }, pino.destination(2));
  const database: NodeDatabase = await openDatabase({
    dataDir,
    ...(options.database ? { url: options.database } : {}),
    ...(options.postgresSchema ? { postgresSchema: options.postgresSchema } : {}),
  });
  const store = createStore(database);
  const ledger = createLedger(database);
  const metrics = createNodeMetrics();
  const feed = new NetworkFeed();
  const policy =
    options.attestationPolicy !== undefined
      ? parseBundlePolicy(options.attestationPolicy)
      : dev
        ? developmentAttestationPolicy()
        : undefined;
  const orchestrator = new Orchestrator({
    store,
    ledger,
    logger,
    metrics,
    feed,
    ...(options.validationRate !== undefined ? { validationRate: options.validationRate } : {}),
    ...(options.feeBps !== undefined ? { feeBps: options.feeBps } : {}),
    ...(options.jobTimeoutMs !== undefined ? { jobTimeoutMs: options.jobTimeoutMs } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(policy ? { attestationPolicy: policy } : {}),
  });
  const recovered = await orchestrator.recover();
  if (recovered > 0) logger.warn({ jobs: recovered }, "refunded jobs left running by a previous run");
  const adminToken = await ensureAdminToken(store, dataDir);
  const adminTokenHash = (await store.settings.getSetting("admin.tokenHash")) as string;
  const context: NodeContext = { store, ledger, orchestrator, feed, logger, dataDir, dev };
  const paymentsFactory =
    options.payments === false
      ? undefined
      : (options.payments ??
        (dev
          ? async (ctx: NodeContext) => (await import("./payments-http.js")).startPayments(ctx, {})
          : undefined));
  const payments = paymentsFactory ? await paymentsFactory(context) : undefined;

  let devState: DevState | undefined;
  const host = options.host ?? "127.0.0.1";
  // The dashboard's try-it panel gets the development key only from a node bound to loopback.
  const loopback = host === "127.0.0.1" || host === "::1" || host === "localhost";
  const dashboard = await loadDashboard(dev && loopback, () => devState);
  const app = createHttpApp({
    orchestrator,
    store,
    ledger,
    metrics,
    feed,
    version: NODE_VERSION,
    adminTokenHash,
    ...(dashboard ? { dashboard } : {}),
    ...(payments ? { payments } : {}),
  });
  const server = await new Promise<Server>((resolveServer, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: host }, () =>
      resolveServer(s as Server),
    );
    (s as Server).once("error", reject);
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 32 * 1024 * 1024 });
  server.on("upgrade", (request, socket, head) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    if (path !== WORKER_ENDPOINT_PATH) {
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => orchestrator.handleConnection(ws));
  });
  const address = server.address() as AddressInfo;
  const shownHost =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${shownHost}:${address.port}`;

  const stopDev: Array<() => Promise<void>> = [];
  if (dev) {
    const { startDevNetwork } = await import("./dev-network.js");
    devState = await startDevNetwork({
      url,
      store,
      ledger,
      dataDir,
      orchestrator,
      logger,
      cheatRate: options.cheatRate ?? 0.5,
    });
    stopDev.push(() => (devState as DevState).stop());
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    dashboardUrl: `${url}/dashboard`,
    dataDir,
    adminToken,
    apiKey: devState?.apiKey,
    accountId: devState?.accountId,
    orchestrator,
    store,
    ledger,
    context,
    close(closeOptions = {}) {
      closing ??= (async () => {
        await orchestrator.drain(closeOptions.graceMs ?? 10_000);
        for (const stop of stopDev)
          await stop().catch((error: unknown) => logger.warn({ err: error }, "stopping a dev worker failed"));
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections?.();
        });
        await payments?.close();
        await database.close();
      })();
      return closing;
    },
  };
}

/** What the dev network exposes to the node. */
export interface DevState {
  readonly apiKey: string;
  readonly accountId: string;
  stop(): Promise<void>;
}

async function loadDashboard(
  dev: boolean,
  devState: () => DevState | undefined,
): Promise<((request: Request) => Promise<Response | undefined>) | undefined> {
  let module: Record<string, unknown>;
  try {
    module = (await import("./dashboard/index.js")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const create = module.createDashboardHandler as
    | ((options: {
        devConfig?: () => Record<string, unknown> | undefined;
      }) => (request: Request) => Promise<Response | undefined>)
    | undefined;
  if (!create) return undefined;
  return create(
    dev
      ? {
          devConfig: () => {
            const state = devState();
            if (!state) return undefined;
            return {
              apiKey: state.apiKey,
              policy: stripSchema(JSON.parse(readFileSync(DEV_POLICY_FILE, "utf8"))),
            };
          },
        }
      : {},
  );
}
