/**
 * Checkpoints a SQLite write-ahead log from a worker thread, so that the event loop never waits on a
 * checkpoint's writes and fsyncs.
 *
 * @packageDocumentation
 */

import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * A checkpoint every {@link CHECKPOINT_INTERVAL_MS} keeps the log short (a few hundred pages under load)
 * and costs nothing when nothing was written: SQLite answers from the WAL index.
 */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * The pages the WAL may grow to before the writing connection checkpoints by itself (SQLite's own
 * automatic checkpoint, on the event loop). It only triggers if the thread falls far behind (a stalled
 * disk, a thread that died): it bounds the file, it is not the normal path.
 */
export const WAL_AUTOCHECKPOINT_BOUND_PAGES = 10_000;

/**
 * The thread's code: its own connection to the file, `PRAGMA wal_checkpoint(PASSIVE)` on a timer. A
 * passive checkpoint takes no lock that a writer waits on: the node's connection keeps committing while
 * pages are copied. Kept as source text (an `eval` worker) so that it runs the same from the sources
 * (tsx) and from the ESM build, with no second entry file.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const database = new Database(workerData.path, { fileMustExist: true });
database.pragma("busy_timeout = 5000");
const checkpoint = () => database.pragma("wal_checkpoint(PASSIVE)");
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  try { checkpoint(); } finally { database.close(); parentPort.close(); }
});
`;

/**
 * A running background checkpointer.
 *
 * @example
 * ```ts
 * const checkpointer = startWalCheckpointer("./data/peercycles.sqlite");
 * await checkpointer.close(); // a last checkpoint, then the thread ends
 * ```
 */
export interface WalCheckpointer {
  /** Stops the thread after a last checkpoint. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a worker thread that checkpoints the WAL of the SQLite file at `path` (which must exist, in WAL
 * mode). The caller's connection keeps `wal_autocheckpoint` at {@link WAL_AUTOCHECKPOINT_BOUND_PAGES}
 * as the bound on the log. An error in the thread is reported with `process.emitWarning` (the bound then
 * keeps the log in check); the thread never keeps the process alive.
 *
 * @example
 * ```ts
 * sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_BOUND_PAGES}`);
 * const checkpointer = startWalCheckpointer(path);
 * ```
 */
export function startWalCheckpointer(
  path: string,
  options: { readonly intervalMs?: number } = {},
): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: { driver, path, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS },
  });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  worker.on("error", (error) => {
    process.emitWarning(`SQLite WAL checkpoint thread failed: ${error.message}`, {
      code: "PEERCYCLES_WAL_CHECKPOINT",
      detail: `the connection's own checkpoint (every ${WAL_AUTOCHECKPOINT_BOUND_PAGES} pages) bounds the log`,
    });
  });
  let closed: Promise<void> | undefined;
  return {
    close() {
      closed ??= (async () => {
        // Held while it stops: an unreferenced thread would let the process exit mid-close.
        worker.ref();
        worker.postMessage("stop");
        await exited;
      })();
      return closed;
    },
  };
}
