import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode, startPayments } from "@peercycles/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "./main.js";

let node: RunningNode;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peer-example-x402-"));
  node = await startNode({
    dev: true,
    port: 0,
    dataDir: dir,
    payments: (context) => startPayments(context, { payoutIntervalMs: 0 }),
  });
}, 90_000);

afterAll(async () => {
  await node?.close({ graceMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
});

describe("example: an x402 agent against peer-cycles node --dev", () => {
  it("pays two requests with no account, then buys credits and gets a key", async () => {
    const lines: string[] = [];
    const summary = await main({ PEER_URL: node.url }, (line) => lines.push(line));
    expect(summary.paid.map((p) => p.tier)).toEqual(["verified", "open"]);
    expect(summary.challenges).toBe(3);
    expect(summary.purchase).toMatchObject({ credits: 50 });
    expect(summary.purchase.balance).toBeGreaterThanOrEqual(50);
    const text = lines.join("\n");
    expect(text).toContain("402 Payment Required");
    expect(text).toContain("PAYMENT-RESPONSE: settled");
    expect(text).toMatch(/receipt [0-9a-zA-Z_-]{16}…/);
  });

  it("fails clearly without PEER_URL or a reachable dev wallet", async () => {
    await expect(main({}, () => undefined)).rejects.toThrow(/PEER_URL/);
    await expect(main({ PEER_URL: "http://127.0.0.1:9" }, () => undefined)).rejects.toThrow(/cannot reach/);
  });
});
