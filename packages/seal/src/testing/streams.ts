import { concat } from "../bytes.js";

/** A readable stream that yields `parts` one by one. */
export function readableOf(parts: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < parts.length) controller.enqueue(parts[i++]!);
      else controller.close();
    },
  });
}

/** Reads every chunk of a stream. */
export async function collect(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

/** Pipes `parts` through `transform` and returns the output chunks. */
export async function run(
  transform: ReadableWritablePair<Uint8Array, Uint8Array>,
  parts: readonly Uint8Array[],
): Promise<Uint8Array[]> {
  return collect(readableOf(parts).pipeThrough(transform));
}

/** Pipes `parts` through `transform`; returns what came out before the stream ended or failed, and the failure. */
export async function runSettled(
  transform: ReadableWritablePair<Uint8Array, Uint8Array>,
  parts: readonly Uint8Array[],
): Promise<{ output: Uint8Array[]; error: unknown }> {
  const output: Uint8Array[] = [];
  const reader = readableOf(parts).pipeThrough(transform).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { output, error: undefined };
      output.push(value);
    }
  } catch (error) {
    return { output, error };
  }
}

/** Splits `bytes` at the given offsets (sorted, within range). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(bytes.slice(from, cut));
    from = cut;
  }
  out.push(bytes.slice(from));
  return out;
}

/** One byte per read: the harshest re-chunking a network can do. */
export function byteByByte(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b));
}

export const join = (parts: readonly Uint8Array[]): Uint8Array => concat(...parts);
