import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { WorkerError } from "./errors.js";
import type { EnclaveConfig, EnclaveToHost, EnclaveToHostFrame, HostToEnclave } from "./ipc-messages.js";

/** Directory of this module: `src/worker/` from sources, `dist/` when built. */
function moduleDirectory(): string {
  const url: unknown = import.meta.url;
  // A CommonJS build has no import.meta.url; it has __dirname.
  return typeof url === "string" ? dirname(fileURLToPath(url)) : __dirname;
}

/** How to start the enclave process: its entry file and the Node flags it needs. */
export interface EnclaveEntry {
  readonly path: string;
  readonly execArgv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

function nearestTsconfig(directory: string): string | undefined {
  for (let current = directory; ; ) {
    const candidate = join(current, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * The enclave entry next to this module: `enclave-process.js` in a build, `enclave-process.ts` when
 * running from sources (tests, `tsx`), which then runs under `--import tsx` with the repository's
 * tsconfig (its `paths` map `@peercycles/*` to the sources).
 *
 * @throws WorkerError `worker_enclave_failed` when neither file exists
 */
export function resolveEnclaveEntry(directory = moduleDirectory()): EnclaveEntry {
  const built = join(directory, "enclave-process.js");
  if (existsSync(built)) return { path: built, execArgv: [], env: {} };
  const source = join(directory, "enclave-process.ts");
  if (existsSync(source)) {
    const require = createRequire(join(directory, "noop.js"));
    let tsx: string;
    try {
      tsx = pathToFileURL(require.resolve("tsx")).href;
    } catch (cause) {
      throw new WorkerError("worker_enclave_failed", "running from sources needs tsx installed", { cause });
    }
    const tsconfig = process.env.TSX_TSCONFIG_PATH ?? nearestTsconfig(directory);
    return {
      path: source,
      execArgv: ["--import", tsx],
      env: tsconfig ? { TSX_TSCONFIG_PATH: tsconfig } : {},
    };
  }
  throw new WorkerError("worker_enclave_failed", `no enclave-process entry in ${directory}`, {
    details: { directory },
  });
}

type Ready = Extract<EnclaveToHost, { type: "ready" }>;

/** The host's handle on its enclave process. */
export interface EnclaveProcess {
  readonly ready: Ready;
  readonly pid: number | undefined;
  /** Sends one message over the pipe (dropped once the process is gone). */
  send(message: HostToEnclave): void;
  /** Every message from the enclave after `ready`. */
  onMessage(listener: (message: EnclaveToHost) => void): void;
  /** Called once if the process exits without being asked to. */
  onExit(listener: (info: { code: number | null; signal: NodeJS.Signals | null }) => void): void;
  /** Asks the process to stop; kills it after `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Forks the enclave process and sets it up with `config`.
 *
 * @throws WorkerError `worker_enclave_failed` (no entry, the process died, `init_failed`, timeout)
 */
export async function forkEnclave(
  config: EnclaveConfig,
  options: { entry?: EnclaveEntry; startTimeoutMs?: number } = {},
): Promise<EnclaveProcess> {
  const entry = options.entry ?? resolveEnclaveEntry();
  const child: ChildProcess = fork(entry.path, [], {
    execArgv: [...entry.execArgv],
    env: { ...process.env, ...entry.env },
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const listeners: Array<(message: EnclaveToHost) => void> = [];
  const exitListeners: Array<(info: { code: number | null; signal: NodeJS.Signals | null }) => void> = [];
  let stopping = false;
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  child.on("error", () => undefined);

  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new WorkerError("worker_enclave_failed", "the enclave process did not become ready in time"));
    }, options.startTimeoutMs ?? 60_000);
    const onMessage = (raw: unknown) => {
      const message = raw as EnclaveToHost;
      if (message?.type === "ready") {
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(message);
      } else if (message?.type === "init_failed") {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(
          new WorkerError("worker_enclave_failed", `the enclave could not start: ${message.message}`, {
            details: { code: message.code },
          }),
        );
      }
    };
    child.on("message", onMessage);
    void exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new WorkerError(
          "worker_enclave_failed",
          `the enclave process exited while starting (${code ?? signal})`,
          {
            details: { code, signal },
          },
        ),
      );
    });
    child.send({ type: "init", config } satisfies HostToEnclave);
  });

  child.on("message", (raw: unknown) => {
    const frame = raw as EnclaveToHostFrame;
    const messages = frame?.type === "chunks" ? frame.messages : [frame];
    for (const message of messages) for (const listener of listeners) listener(message);
  });
  void exit.then((info) => {
    if (!stopping) for (const listener of exitListeners) listener(info);
  });

  return {
    ready,
    pid: child.pid,
    send(message) {
      if (!exited && child.connected) child.send(message);
    },
    onMessage(listener) {
      listeners.push(listener);
    },
    onExit(listener) {
      exitListeners.push(listener);
    },
    async shutdown(timeoutMs = 5000) {
      stopping = true;
      if (exited) return;
      if (child.connected) child.send({ type: "shutdown" } satisfies HostToEnclave);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
