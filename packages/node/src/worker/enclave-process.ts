/**
 * Entry of the worker's enclave process (`child_process.fork`, IPC with `serialization: "advanced"`).
 * It owns the keys, opens sealed requests, runs the model, seals answers and signs receipts; the host
 * process only relays bytes. It exits when the host goes away (the IPC channel closes) or says
 * `shutdown`.
 */
import { createChunkBatcher } from "./chunk-batcher.js";
import { createEnclaveRuntime, type EnclaveRuntime } from "./enclave-runtime.js";
import type { EnclaveToHost, EnclaveToHostFrame, HostToEnclave } from "./ipc-messages.js";

type Chunk = Extract<EnclaveToHost, { type: "chunk" | "sealed_chunk" }>;

function write(frame: EnclaveToHostFrame): void {
  if (process.connected) process.send?.(frame);
}

/** A turn's chunks cross the pipe as one message, or one `chunks` frame for several. */
const chunks = createChunkBatcher<Chunk>((batch) =>
  write(batch.length === 1 ? (batch[0] as Chunk) : { type: "chunks", messages: batch }),
);

function send(message: EnclaveToHost): void {
  if (message.type === "chunk" || message.type === "sealed_chunk") {
    chunks.push(message.jobId, message);
    return;
  }
  if (message.type === "result" || message.type === "job_error") chunks.end(message.jobId);
  chunks.flush();
  write(message);
}

let runtime: EnclaveRuntime | undefined;
let initializing = false;

async function shutdown(code: number): Promise<void> {
  await runtime?.close().catch(() => undefined);
  chunks.flush();
  process.disconnect?.();
  process.exit(code);
}

process.on("message", (raw: unknown) => {
  const message = raw as HostToEnclave;
  if (message?.type === "init") {
    if (runtime || initializing) return;
    initializing = true;
    createEnclaveRuntime(message.config, send).then(
      (created) => {
        runtime = created;
        send(created.ready);
      },
      (error: unknown) => {
        const code = (error as { code?: unknown })?.code;
        send({
          type: "init_failed",
          code: typeof code === "string" ? code : "enclave_setup_failed",
          message: String((error as Error)?.message ?? error),
        });
      },
    );
    return;
  }
  if (message?.type === "shutdown") {
    void shutdown(0);
    return;
  }
  runtime?.handle(message);
});

process.on("disconnect", () => {
  void shutdown(0);
});

if (!process.send) {
  console.error("enclave-process: start it with child_process.fork (it talks over the IPC channel)");
  process.exit(2);
}
