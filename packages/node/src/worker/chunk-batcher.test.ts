import { describe, expect, it } from "vitest";
import { createChunkBatcher } from "./chunk-batcher.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("createChunkBatcher", () => {
  it("sends a job's first chunk at once and the rest of the turn together, in order", async () => {
    const sent: string[][] = [];
    const chunks = createChunkBatcher<string>((batch) => sent.push(batch));
    chunks.push("a", "a1");
    expect(sent).toEqual([["a1"]]);
    chunks.push("a", "a2");
    chunks.push("b", "b1"); // b's first: goes at once, with a2 queued before it
    chunks.push("a", "a3");
    chunks.push("b", "b2");
    expect(sent).toEqual([["a1"], ["a2", "b1"]]);
    await turn();
    expect(sent).toEqual([["a1"], ["a2", "b1"], ["a3", "b2"]]);
    await turn();
    expect(sent).toHaveLength(3);
  });

  it("flushes on demand, never sends an empty batch, and treats an ended job's id as new", async () => {
    const sent: string[][] = [];
    const chunks = createChunkBatcher<string>((batch) => sent.push(batch));
    chunks.flush();
    expect(sent).toEqual([]);
    chunks.push("a", "a1");
    chunks.push("a", "a2");
    chunks.flush();
    expect(sent).toEqual([["a1"], ["a2"]]);
    chunks.end("a");
    chunks.push("a", "again");
    expect(sent).toEqual([["a1"], ["a2"], ["again"]]);
    await turn();
    expect(sent).toHaveLength(3);
  });
});
