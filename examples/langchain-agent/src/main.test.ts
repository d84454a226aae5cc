import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PeerCyclesError } from "@peercycles/langchain";
import { type RunningNode, startNode } from "@peercycles/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "./main.js";

let node: RunningNode;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peer-example-langchain-"));
  // The dev node as `peer-cycles node --dev` runs it, cheating verified worker included.
  node = await startNode({ dev: true, port: 0, dataDir: dir });
}, 120_000);

afterAll(async () => {
  await node?.close({ graceMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
});

describe("example: a LangChain agent with a tool on ChatPeerCycles against peer-cycles node --dev", () => {
  it("calls the tool, answers from its result, and every turn is verified on each tier", async () => {
    const lines: string[] = [];
    const runs = await main({ PEER_URL: node.url, PEER_API_KEY: node.apiKey }, (line) => lines.push(line));
    expect(runs.map((run) => run.tier)).toEqual(["open", "verified", "confidential"]);
    for (const run of runs) {
      expect(run.toolCall).toEqual({ name: "get_weather", args: { city: "Lisbon" } });
      expect(run.answer).toContain("According to get_weather, temperature is 24, conditions is sunny");
      expect(run.verifications).toHaveLength(2);
      for (const verification of run.verifications) {
        expect(verification).toMatchObject({ ok: true, tier: run.tier });
        expect(verification.receipt === null).toBe(run.tier === "open");
        expect(verification.attestation === null).toBe(run.tier !== "confidential");
      }
    }
    expect(lines.join("\n")).toMatch(/enclave tdx\/hopper/);
  });

  it("fails with a clear error without a node, and with attestation_rejected under a policy that refuses the simulated enclave", async () => {
    await expect(main({}, () => undefined)).rejects.toThrow(/PEER_URL/);
    const policy = JSON.parse(
      readFileSync(new URL("../../../docs/policies/development-simulated.json", import.meta.url), "utf8"),
    );
    const path = join(dir, "strict-policy.json");
    writeFileSync(path, JSON.stringify({ ...policy, allowSimulated: false }));
    const error = await main(
      { PEER_URL: node.url, PEER_API_KEY: node.apiKey, PEER_POLICY: path },
      () => undefined,
    ).catch((e: unknown) => e);
    expect(PeerCyclesError.isInstance(error) && error.code).toBe("attestation_rejected");
  });
});
