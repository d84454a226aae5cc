import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseServerSentEvents, type ServerSentEvent } from "./sse.js";

async function parse(chunks: readonly string[]): Promise<ServerSentEvent[]> {
  const encoder = new TextEncoder();
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const chunk of chunks) yield encoder.encode(chunk);
  }
  const events: ServerSentEvent[] = [];
  for await (const event of parseServerSentEvents(body())) events.push(event);
  return events;
}

const stream =
  ": keep-alive\n\n" +
  'data: {"a":1}\n\n' +
  "event: error\r\ndata: line one\r\ndata:line two\r\n\r\n" +
  "id: 7\rretry: 10\rdata: é ü 🙂\r\r" +
  "data\n\n" +
  "event: empty\n\n" +
  "data: [DONE]\n\n" +
  "data: no blank line at the end";

const expected: ServerSentEvent[] = [
  { event: "message", data: '{"a":1}' },
  { event: "error", data: "line one\nline two" },
  { event: "message", data: "é ü 🙂" },
  { event: "message", data: "" },
  { event: "message", data: "[DONE]" },
];

describe("parseServerSentEvents", () => {
  it("parses fields, CR/LF/CRLF line ends, comments and multi-line data", async () => {
    expect(await parse([stream])).toEqual(expected);
  });

  it("gives the same events however the bytes are split (property)", async () => {
    const bytes = new TextEncoder().encode(stream);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
          async function* body(): AsyncGenerator<Uint8Array> {
            for (let i = 1; i < points.length; i++) yield bytes.subarray(points[i - 1], points[i]);
          }
          const events: ServerSentEvent[] = [];
          for await (const event of parseServerSentEvents(body())) events.push(event);
          expect(events).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
