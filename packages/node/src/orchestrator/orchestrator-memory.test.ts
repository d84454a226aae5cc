import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PeerCycles, peerVerificationOf } from "@peercycles/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childPids, markerForms, memoryContains } from "../testing/process-memory.js";

/**
 * The orchestrator relays a confidential call without ever holding its prompt: `peer-cycles node
 * --dev` runs in its own process (the orchestrator and the worker hosts; each enclave is a child of
 * it), this test process seals prompts carrying a unique marker through `@peercycles/client`, and
 * then searches the node process's whole readable memory and its logs for the marker. Controls: the
 * same search finds the development API key in the node's memory, and the prompt marker in the
 * confidential enclave process.
 */

const policy = JSON.parse(
  readFileSync(new URL("../../../../docs/policies/development-simulated.json", import.meta.url), "utf8"),
);
const bin = new URL("../bin.ts", import.meta.url).pathname;

describe.skipIf(process.platform !== "linux")("confidential prompts never reach the orchestrator", () => {
  let node: ChildProcess;
  let dir: string;
  let logs = "";
  let url = "";
  let apiKey = "";
  const secret = `orchestrator-secret-${randomBytes(12).toString("hex")}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "peer-orchestrator-memory-"));
    node = spawn(process.execPath, ["--import", "tsx", bin, "node", "--dev", "--port", "0", "--data", dir], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: new URL("../../../../tsconfig.json", import.meta.url).pathname,
      },
    });
    node.stderr?.on("data", (chunk) => {
      logs += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      node.stdout?.on("data", (chunk) => {
        out += chunk.toString();
        logs += chunk.toString();
        const u = /^url: (\S+)$/m.exec(out);
        const k = /^api key: (\S+)$/m.exec(out);
        if (u && k && out.includes("curl ")) {
          url = u[1] as string;
          apiKey = k[1] as string;
          resolve();
        }
      });
      node.once("exit", (code) => reject(new Error(`node exited (${code}): ${logs}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (node && node.exitCode === null) {
      node.kill("SIGTERM");
      await new Promise((resolve) => node.once("exit", resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("relays ciphertext only: the prompt is in the enclave, never in the node's memory or logs", async () => {
    const client = new PeerCycles({ baseURL: url, apiKey, tier: "confidential", policy });
    const content = `Keep this between us: ${secret}. Once more: ${secret}`;
    const answer = await client.chat.completions.create({
      model: "peer-tiny",
      messages: [{ role: "user", content }],
    });
    expect(peerVerificationOf(answer)?.ok).toBe(true);
    const stream = await client.chat.completions.create({
      model: "peer-tiny",
      messages: [{ role: "user", content }],
      stream: true,
    });
    let last: unknown;
    for await (const chunk of stream) last = chunk;
    expect(peerVerificationOf(last)?.ok).toBe(true);

    const pid = node.pid as number;
    const [secretUtf8, secretUtf16, keyUtf8, keyUtf16] = memoryContains(pid, [
      ...markerForms(secret),
      ...markerForms(apiKey),
    ]);
    expect(keyUtf8 || keyUtf16, "control: the search finds what the node does hold").toBe(true);
    expect(secretUtf8, "the prompt in the node's memory (UTF-8)").toBe(false);
    expect(secretUtf16, "the prompt in the node's memory (UTF-16)").toBe(false);
    expect(logs).not.toContain(secret);
    const enclaves = childPids(pid);
    const inEnclave = enclaves.some((child) => memoryContains(child, markerForms(secret)).some(Boolean));
    expect(inEnclave, "control: the confidential enclave process did open the prompt").toBe(true);
  }, 60_000);
});
