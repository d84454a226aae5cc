const EVENT_END = /\r\n\r\n|\n\n|\r\r/;

/**
 * Splits Server-Sent Events bytes, in any split, into whole event blocks (the text between blank
 * lines), so a stream can be passed on event by event and its `[DONE]` held back.
 */
export class SseSplitter {
  readonly #decoder = new TextDecoder();
  #buffer = "";

  /** Whole events completed by `bytes`, without their terminating blank line. */
  push(bytes: Uint8Array): string[] {
    this.#buffer += this.#decoder.decode(bytes, { stream: true });
    const events: string[] = [];
    for (;;) {
      const match = EVENT_END.exec(this.#buffer);
      if (!match) break;
      const event = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      if (event.trim() !== "") events.push(event);
    }
    return events;
  }

  /** Text after the last whole event (a stream should end with none). */
  rest(): string {
    return this.#buffer + this.#decoder.decode();
  }
}

/** The `data` of one event (its `data:` lines joined by `\n`), or undefined when it has none. */
export function sseData(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split(/\r\n|\n|\r/)) {
    if (!line.startsWith("data:")) continue;
    const value = line.slice(line.startsWith("data: ") ? 6 : 5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

const encoder = new TextEncoder();

/** The bytes of one SSE event carrying `data`. */
export function sseEvent(data: string): Uint8Array {
  return encoder.encode(`data: ${data}\n\n`);
}

/** The bytes of an event block as received, re-terminated. */
export function sseBlock(event: string): Uint8Array {
  return encoder.encode(`${event}\n\n`);
}

/** `data: [DONE]`. */
export const SSE_DONE = "[DONE]";

/** A `ReadableStream` pulling from an async generator; cancelling it returns the generator. */
export function streamFromGenerator(generator: AsyncGenerator<Uint8Array, void>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await generator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await generator.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
