/**
 * How the worker sends a stream's chunks across each of its hops (enclave → host over IPC, host →
 * orchestrator over the WebSocket): a job's first chunk at once (time to first token), the chunks
 * queued after it until the end of this turn of the event loop, then all together. A stream is
 * otherwise one frame per token, each a write on one side and a wake-up and a parse on the other.
 * Whoever sends any other message calls `flush` first, so a job's chunks always precede its result.
 */
export interface ChunkBatcher<T> {
  /** Queues a chunk of `jobId`; the job's first one is sent at once with whatever is queued. */
  push(jobId: string, chunk: T): void;
  /** Sends the queued chunks now (one call of `send`), if there are any. */
  flush(): void;
  /** The job ended: forget it (a chunk of that id would count as a first again). */
  end(jobId: string): void;
}

/** A batcher that hands each batch (never empty, in queue order) to `send`. */
export function createChunkBatcher<T>(send: (chunks: T[]) => void): ChunkBatcher<T> {
  let pending: T[] = [];
  let flushing: NodeJS.Immediate | undefined;
  const started = new Set<string>();
  const flush = (): void => {
    clearImmediate(flushing);
    flushing = undefined;
    if (pending.length === 0) return;
    const chunks = pending;
    pending = [];
    send(chunks);
  };
  return {
    push(jobId, chunk) {
      pending.push(chunk);
      if (!started.has(jobId)) {
        started.add(jobId);
        flush();
        return;
      }
      flushing ??= setImmediate(flush);
    },
    flush,
    end(jobId) {
      started.delete(jobId);
    },
  };
}
