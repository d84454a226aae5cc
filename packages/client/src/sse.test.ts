import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseSplitter, sseData } from "./sse.js";

const encoder = new TextEncoder();

function splitAll(text: string, cuts: number[]): string[] {
  const bytes = encoder.encode(text);
  const splitter = new SseSplitter();
  const events: string[] = [];
  let start = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    events.push(...splitter.push(bytes.subarray(start, Math.max(start, cut))));
    start = Math.max(start, cut);
  }
  events.push(...splitter.push(bytes.subarray(start)));
  return events;
}

describe("SseSplitter", () => {
  it("yields whole events however the bytes are split (LF, CRLF, multi-byte UTF-8)", () => {
    const text = 'data: {"a":"é€😀"}\n\ndata: two\r\n\r\n: comment\n\ndata: [DONE]\n\n';
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 8 }), (cuts) => {
        expect(splitAll(text, cuts).map(sseData)).toEqual(['{"a":"é€😀"}', "two", undefined, "[DONE]"]);
      }),
    );
  });

  it("keeps an unfinished event as the rest", () => {
    const splitter = new SseSplitter();
    expect(splitter.push(encoder.encode("data: 1\n\ndata: 2"))).toEqual(["data: 1"]);
    expect(splitter.rest()).toBe("data: 2");
  });

  it("joins multi-line data and takes data: with or without a space", () => {
    expect(sseData("event: x\ndata: a\ndata:b")).toBe("a\nb");
    expect(sseData("id: 1")).toBeUndefined();
  });
});
