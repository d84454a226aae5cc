import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { type Ledger, userAccount } from "./ledger/index.js";
import type { Orchestrator } from "./orchestrator/orchestrator.js";
import type { DevState } from "./start-node.js";
import type { Store } from "./storage/index.js";
import { startValidator, startWorker } from "./worker/index.js";

/** Credits the development account starts with (once; kept across restarts). */
export const DEV_WELCOME_CREDITS = 10_000;
/** Bond each development verified/confidential worker posts. */
export const DEV_BOND_CREDITS = 500;

interface DevFile {
  accountId: string;
  apiKey: string;
  tokens: Record<string, string>;
}

/** The development network: who runs, at what price. Documented in docs/node.md. */
export const DEV_WORKERS = [
  { key: "open", name: "open-1", tier: "open", pricePer1k: 1, bond: 0, cheatRate: 0 },
  {
    key: "verified",
    name: "verified-honest",
    tier: "verified",
    pricePer1k: 3,
    bond: DEV_BOND_CREDITS,
    cheatRate: 0,
  },
  {
    key: "cheater",
    name: "verified-cheater",
    tier: "verified",
    pricePer1k: 2,
    bond: DEV_BOND_CREDITS,
    cheatRate: -1,
  },
  {
    key: "confidential",
    name: "confidential-sim",
    tier: "confidential",
    pricePer1k: 4,
    bond: DEV_BOND_CREDITS,
    cheatRate: 0,
  },
] as const;

/**
 * Starts the development network against a running orchestrator: an account with credits, an
 * `open` worker, two bonded `verified` workers (one cheats on `cheatRate` of its jobs), a
 * `confidential` worker on the simulated enclave and a validator, all on the built-in model and
 * all real: separate enclave processes, the WebSocket protocol, the ledger.
 */
export async function startDevNetwork(input: {
  url: string;
  store: Store;
  ledger: Ledger;
  dataDir: string;
  orchestrator: Orchestrator;
  logger: Logger;
  cheatRate: number;
}): Promise<DevState> {
  const { store, ledger, dataDir } = input;
  const file = join(dataDir, "dev.json");
  let state: DevFile | undefined;
  if (existsSync(file)) {
    state = JSON.parse(readFileSync(file, "utf8")) as DevFile;
    if (!(await store.accounts.getAccount(state.accountId))) state = undefined;
  }
  if (!state) {
    const account = await store.accounts.createAccount({ name: "dev" });
    state = { accountId: account.id, apiKey: account.apiKey, tokens: {} };
  }
  for (const key of [...DEV_WORKERS.map((w) => w.key), "validator"]) {
    state.tokens[key] ??= await store.workers.createWorkerToken({ name: `dev-${key}` });
  }
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await ledger.grant(state.accountId, DEV_WELCOME_CREDITS, {
    memo: "development credits",
    idempotencyKey: `dev:welcome:${state.accountId}`,
  });
  const stops: Array<() => Promise<void>> = [];
  try {
    const validator = await startValidator({
      orchestrator: input.url,
      token: state.tokens.validator as string,
      name: "validator-1",
      model: "peer-tiny",
    });
    stops.push(() => validator.close());
    const workers = await Promise.all(
      DEV_WORKERS.map((spec) =>
        startWorker({
          orchestrator: input.url,
          token: (state as DevFile).tokens[spec.key] as string,
          name: spec.name,
          tier: spec.tier,
          model: "peer-tiny",
          backend: { kind: "builtin" },
          enclave: "simulated",
          pricePer1k: spec.pricePer1k,
          bond: spec.bond,
          ...(spec.cheatRate < 0 ? { cheatRate: input.cheatRate } : {}),
        }),
      ),
    );
    for (const worker of workers) stops.push(() => worker.close());
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
  input.logger.info(
    { balance: await ledger.balance(userAccount(state.accountId)) },
    "development network up",
  );
  return {
    apiKey: state.apiKey,
    accountId: state.accountId,
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
