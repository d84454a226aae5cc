/**
 * `peer-cycles`: the reference node's command line. One subcommand per role:
 * node (orchestrator, `--dev` for the whole development network), worker, validator, ledger check.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { NODE_VERSION } from "./version.js";

const HELP = `peer-cycles ${NODE_VERSION}: the Peer Cycles reference node

Usage:
  peer-cycles node [--host 127.0.0.1] [--port 8787] [--data DIR] [--database URL] [--dev]
                   [--validation-rate 0.05] [--solana-rpc URL] [--no-payments]
  peer-cycles worker --orchestrator URL --token T --tier open|verified|confidential --model ID
                   [--backend builtin|openai-compatible --upstream URL --upstream-model NAME --upstream-key KEY]
                   [--enclave simulated|tsm] [--price N] [--bond N] [--name NAME] [--concurrency N]
  peer-cycles validator --orchestrator URL --token T [--model ID] [--name NAME]
  peer-cycles ledger check [--data DIR | --database URL]
  peer-cycles payout [--data DIR | --database URL] [--min-credits N] (pays worker earnings in USDC)
  peer-cycles --version | --help

node --dev starts, in one process, the orchestrator and a development network (an open worker,
two bonded verified workers one of which cheats, a confidential worker on the simulated enclave,
a validator, an embedded Solana chain for payments), on SQLite in --data (default ./.peercycles),
and prints the URL, an API key, the dashboard and a curl line. Ctrl-C stops it cleanly.

Docs: https://github.com/peercycles/peercycles/blob/main/docs/node.md`;

/** A usage error: printed with the help hint, exit code 2. */
class UsageError extends Error {}

function parse(args: string[], options: NonNullable<ParseArgsConfig["options"]>) {
  const result = parseArgs({ args, options, strict: true, allowPositionals: false, tokens: true });
  const seen = new Set<string>();
  for (const token of result.tokens ?? []) {
    if (token.kind !== "option") continue;
    if (seen.has(token.name) && options[token.name]?.multiple !== true) {
      throw new UsageError(`--${token.name} was given twice`);
    }
    seen.add(token.name);
  }
  return result.values as Record<string, string | boolean | undefined>;
}

function integer(
  value: string | boolean | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer in ${min}..${max}, not ${JSON.stringify(value)}`);
  }
  return n;
}

function fraction(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !(n >= 0 && n <= 1)) {
    throw new UsageError(`--${flag} must be a number in 0..1, not ${JSON.stringify(value)}`);
  }
  return n;
}

function required(values: Record<string, unknown>, flag: string): string {
  const value = values[flag];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${flag} is required`);
  return value;
}

function oneOf<T extends string>(
  value: string | boolean | undefined,
  flag: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}, not ${JSON.stringify(value)}`);
  }
  return value as T;
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = 0;
  const handler = (signal: NodeJS.Signals) => {
    // The same signal often arrives twice at once (a terminal signals the whole process group and a
    // wrapper such as `pnpm start` forwards it too): only a repeat after a second forces the exit.
    if (stopping !== 0 && Date.now() - stopping < 1000) return;
    if (stopping !== 0) {
      process.stderr.write(`\n${signal} again: exiting now\n`);
      process.exit(130);
    }
    stopping = Date.now();
    process.stderr.write(`\n${signal}: finishing jobs in flight, refunding the rest, stopping…\n`);
    stop().then(
      () => {
        process.stderr.write("peer-cycles: stopped cleanly\n");
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

async function runNode(args: string[]): Promise<void> {
  const values = parse(args, {
    host: { type: "string" },
    port: { type: "string" },
    data: { type: "string" },
    database: { type: "string" },
    dev: { type: "boolean" },
    "validation-rate": { type: "string" },
    "solana-rpc": { type: "string" },
    "no-payments": { type: "boolean" },
  });
  const port = integer(values.port, "port", 0, 65535) ?? 8787;
  const validationRate = fraction(values["validation-rate"], "validation-rate");
  const dev = values.dev === true;
  const { startNode } = await import("./start-node.js");
  const payments = values["no-payments"] === true ? undefined : await import("./payments-http.js");
  const node = await startNode({
    host: (values.host as string | undefined) ?? "127.0.0.1",
    port,
    dev,
    ...(values.data ? { dataDir: values.data as string } : {}),
    ...(values.database ? { database: values.database as string } : {}),
    ...(validationRate !== undefined ? { validationRate } : {}),
    ...(payments
      ? {
          payments: (context) =>
            payments.startPayments(context, {
              ...(values["solana-rpc"] ? { solanaRpc: values["solana-rpc"] as string } : {}),
            }),
        }
      : {}),
  });
  onSignals(() => node.close());
  const storage = values.database ? "PostgreSQL" : `SQLite in ${node.dataDir}`;
  console.log(`Peer Cycles node ${NODE_VERSION}${dev ? " with the development network" : ""} (${storage})`);
  console.log(`url: ${node.url}`);
  if (node.apiKey) console.log(`api key: ${node.apiKey}`);
  console.log(`dashboard: ${node.dashboardUrl}`);
  if (node.apiKey) {
    const body = JSON.stringify({
      model: "peer-tiny",
      messages: [{ role: "user", content: "Explain the confidential tier." }],
      peer_tier: "verified",
    });
    console.log(
      `curl -s ${node.url}/v1/chat/completions -H 'authorization: Bearer ${node.apiKey}' -H 'content-type: application/json' -d '${body}'`,
    );
  } else if (node.adminToken) {
    console.log(`admin token: ${node.adminToken} (also in ${node.dataDir}/admin-token)`);
    console.log(
      `create an account: curl -s -X POST ${node.url}/admin/accounts -H 'authorization: Bearer ${node.adminToken}' -d '{"name":"me","credits":1000}'`,
    );
  }
  console.log("Ctrl-C stops the node.");
}

async function runWorker(args: string[]): Promise<void> {
  const values = parse(args, {
    orchestrator: { type: "string" },
    token: { type: "string" },
    tier: { type: "string" },
    model: { type: "string" },
    backend: { type: "string" },
    upstream: { type: "string" },
    "upstream-model": { type: "string" },
    "upstream-key": { type: "string" },
    enclave: { type: "string" },
    price: { type: "string" },
    bond: { type: "string" },
    name: { type: "string" },
    concurrency: { type: "string" },
  });
  const orchestrator = required(values, "orchestrator");
  const token = required(values, "token");
  const tier = oneOf(values.tier, "tier", ["open", "verified", "confidential"] as const, "open");
  if (values.tier === undefined) throw new UsageError("--tier is required");
  const model = required(values, "model");
  const backendKind = oneOf(values.backend, "backend", ["builtin", "openai-compatible"] as const, "builtin");
  const backend =
    backendKind === "builtin"
      ? ({ kind: "builtin" } as const)
      : ({
          kind: "openai-compatible",
          upstream: required(values, "upstream"),
          upstreamModel: (values["upstream-model"] as string | undefined) ?? model,
          ...(values["upstream-key"] ? { upstreamKey: values["upstream-key"] as string } : {}),
        } as const);
  if (backendKind === "builtin" && (values.upstream || values["upstream-model"] || values["upstream-key"])) {
    throw new UsageError("--upstream, --upstream-model and --upstream-key need --backend openai-compatible");
  }
  const enclave = oneOf(values.enclave, "enclave", ["simulated", "tsm"] as const, "simulated");
  const { startWorker } = await import("./worker/index.js");
  const worker = await startWorker({
    orchestrator,
    token,
    tier,
    model,
    backend,
    enclave,
    pricePer1k: integer(values.price, "price", 0, 1_000_000) ?? 2,
    bond: integer(values.bond, "bond", 0, 1_000_000_000) ?? 0,
    ...(values.name ? { name: values.name as string } : {}),
    ...(values.concurrency
      ? { maxConcurrency: integer(values.concurrency, "concurrency", 1, 1024) as number }
      : {}),
  });
  console.log(`worker ${worker.workerId} (${tier}, ${model}) connected to ${orchestrator}`);
  onSignals(() => worker.close());
}

async function runValidator(args: string[]): Promise<void> {
  const values = parse(args, {
    orchestrator: { type: "string" },
    token: { type: "string" },
    model: { type: "string" },
    name: { type: "string" },
  });
  const orchestrator = required(values, "orchestrator");
  const { startValidator } = await import("./worker/index.js");
  const validator = await startValidator({
    orchestrator,
    token: required(values, "token"),
    model: (values.model as string | undefined) ?? "peer-tiny",
    ...(values.name ? { name: values.name as string } : {}),
  });
  console.log(`validator ${validator.workerId} connected to ${orchestrator}`);
  onSignals(() => validator.close());
}

async function runLedger(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "check")
    throw new UsageError(
      `unknown ledger command ${JSON.stringify(sub ?? "")}; try: peer-cycles ledger check`,
    );
  const values = parse(rest, { data: { type: "string" }, database: { type: "string" } });
  if (values.data && values.database) throw new UsageError("give --data or --database, not both");
  const { openDatabase } = await import("./storage/index.js");
  const { checkLedger, formatLedgerReport } = await import("./ledger/index.js");
  const database = await openDatabase(
    values.database
      ? { url: values.database as string }
      : { dataDir: (values.data as string | undefined) ?? ".peercycles" },
  );
  try {
    const violations = await checkLedger(database);
    console.log(formatLedgerReport(violations));
    return violations.length === 0 ? 0 : 1;
  } finally {
    await database.close();
  }
}

/** Runs the CLI; resolves to the exit code (long-running commands keep the process alive). */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "-h":
      case "--help":
      case "help":
        console.log(HELP);
        return 0;
      case "-v":
      case "--version":
        console.log(NODE_VERSION);
        return 0;
      case "node":
        await runNode(rest);
        return undefined;
      case "worker":
        await runWorker(rest);
        return undefined;
      case "validator":
        await runValidator(rest);
        return undefined;
      case "ledger":
        return await runLedger(rest);
      case "payout": {
        const payments = await import("./payments-http.js");
        return await payments.runPayoutCommand(rest);
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`peer-cycles: ${message}\nRun peer-cycles --help for usage.`);
      return 2;
    }
    const code = (error as { code?: unknown }).code;
    console.error(`peer-cycles: ${typeof code === "string" ? `${code}: ` : ""}${message}`);
    return 1;
  }
}
