/** One server-sent event: its `event` name (default `"message"`) and its data lines joined by `\n`. */
export interface ServerSentEvent {
  event: string;
  data: string;
}

/**
 * Parses a `text/event-stream` body into events, per the WHATWG HTML "event stream" rules: lines end
 * in CR, LF or CRLF; `data:` lines accumulate; a blank line dispatches; comments (`:`) and `id`/`retry`
 * are ignored; an event without data is dropped; a final event without its blank line is dropped too.
 *
 * @example
 * ```ts
 * for await (const event of parseServerSentEvents(response.body)) console.log(event.data);
 * ```
 */
export async function* parseServerSentEvents(
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let sawData = false;
  const chunks = body as AsyncIterable<Uint8Array>;
  const lines = function* (final: boolean): Generator<string> {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (!match) return;
      // A CR at the very end may be the first half of CRLF: wait for the next chunk.
      if (match[0] === "\r" && match.index === buffer.length - 1 && !final) {
        return;
      }
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      yield line;
    }
  };
  const handle = (line: string): ServerSentEvent | undefined => {
    if (line === "") {
      const dispatched = sawData ? { event: event || "message", data: data.join("\n") } : undefined;
      data = [];
      event = "";
      sawData = false;
      return dispatched;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      data.push(value);
      sawData = true;
    } else if (field === "event") event = value;
    return undefined;
  };
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) {
      const dispatched = handle(line);
      if (dispatched) yield dispatched;
    }
  }
  buffer += decoder.decode();
  for (const line of lines(true)) {
    const dispatched = handle(line);
    if (dispatched) yield dispatched;
  }
}
