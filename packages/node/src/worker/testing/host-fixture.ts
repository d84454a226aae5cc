/**
 * A worker host in its own process, for the test that searches the host's memory and logs for a
 * confidential prompt (the test process itself holds the prompt, so the host must be elsewhere).
 * Started with `child_process.fork`; options come as JSON in argv[2]; logs go to stdout at debug
 * level; IPC: parent sends `snapshot` (answers with a heap snapshot path) and `close`.
 */
import { writeHeapSnapshot } from "node:v8";
import { pino } from "pino";
import { startWorker, type WorkerOptions } from "../host.js";

const options = JSON.parse(process.argv[2] ?? "{}") as WorkerOptions;
const logger = pino({ level: "debug" }, pino.destination({ fd: 1, sync: true }));
const worker = await startWorker({
  ...options,
  logger,
  onEvent: (event) => logger.info({ event }, "worker event"),
});
process.send?.({
  type: "started",
  pid: process.pid,
  enclavePid: worker.enclavePid,
  workerId: worker.workerId,
});
process.on("message", async (message: { type: string; path?: string }) => {
  if (message.type === "snapshot") {
    const path = writeHeapSnapshot(message.path);
    process.send?.({ type: "snapshot", path });
  } else if (message.type === "close") {
    await worker.close();
    process.exit(0);
  }
});
