import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@peercycles/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "./main.js";

let node: RunningNode;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peer-example-openai-"));
  node = await startNode({ dev: true, port: 0, dataDir: dir });
}, 60_000);

afterAll(async () => {
  await node?.close({ graceMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
});

describe("example: the stock openai package against peer-cycles node --dev", () => {
  it("runs JSON and streamed chats and sees the peer object on each", async () => {
    const lines: string[] = [];
    const summary = await main({ PEER_URL: node.url, PEER_API_KEY: node.apiKey }, (line) => lines.push(line));
    expect(summary.json.peer.tier).toBe("verified");
    expect(summary.stream.peer.tier).toBe("verified");
    expect(summary.stream.chunks).toBeGreaterThan(2);
    expect(summary.open.peer.tier).toBe("open");
    expect(lines.join("\n")).toContain("streamed");
  });

  it("exits with a clear error when the node is not configured", async () => {
    await expect(main({}, () => undefined)).rejects.toThrow(/PEER_URL/);
    await expect(main({ PEER_URL: node.url, PEER_API_KEY: "pc_wrong" }, () => undefined)).rejects.toThrow(
      /401|API key/i,
    );
  });
});
