import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bindingKeyConfig, decodeBinding, decodeBundle } from "@peercycles/attest/bundle";
import { fromBase64Url } from "@peercycles/protocol";
import { createChunkedRequestEncapsulator, encapsulateRequest } from "@peercycles/seal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markerForms, memoryContains } from "../testing/process-memory.js";
import { resolveEnclaveEntry } from "./enclave-client.js";
import { type FakeOrchestrator, startFakeOrchestrator } from "./testing/fake-orchestrator.js";

/**
 * The confidential prompt never exists in the worker host's memory or logs: the host runs in its own
 * process, a confidential job carrying a unique marker goes through it, and the test searches every
 * readable mapping of the host process (`/proc/<pid>/mem`: V8 heap, buffers, malloc arenas), a V8
 * heap snapshot of it, and its logs. Controls: a marker the host does hold (its name) is found by the
 * same search, and the prompt marker is found in the enclave process's memory.
 */

const forms = markerForms;

describe.skipIf(process.platform !== "linux")("confidential prompts never reach the worker host", () => {
  let orchestrator: FakeOrchestrator;
  let host: ChildProcess;
  let started: { pid: number; enclavePid: number; workerId: string };
  let logs = "";
  const secret = `peer-secret-${randomBytes(12).toString("hex")}`;
  const control = `host-control-${randomBytes(12).toString("hex")}`;

  beforeAll(async () => {
    orchestrator = await startFakeOrchestrator();
    const tsx = resolveEnclaveEntry(import.meta.dirname);
    host = fork(
      join(import.meta.dirname, "testing", "host-fixture.ts"),
      [
        JSON.stringify({
          orchestrator: orchestrator.url,
          token: "pcw_mem",
          tier: "confidential",
          enclave: "simulated",
          name: control,
        }),
      ],
      {
        execArgv: [...tsx.execArgv],
        env: { ...process.env, ...tsx.env },
        serialization: "advanced",
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      },
    );
    host.stdout?.on("data", (chunk) => {
      logs += chunk.toString();
    });
    host.stderr?.on("data", (chunk) => {
      logs += chunk.toString();
    });
    started = await new Promise((resolve, reject) => {
      host.once("message", (message) => resolve(message as typeof started));
      host.once("exit", (code) => reject(new Error(`host fixture exited (${code}): ${logs}`)));
    });
  });
  afterAll(async () => {
    if (host && host.exitCode === null) {
      host.send({ type: "close" });
      await new Promise((resolve) => host.once("exit", resolve));
    }
    await orchestrator?.close();
  });

  it("relays sealed bytes only: the prompt is in the enclave process, never in the host's memory or logs", async () => {
    const connection = await orchestrator.connection(0);
    const binding = decodeBinding(decodeBundle(fromBase64Url(connection.hello.bundle!)).binding);
    const keyConfig = bindingKeyConfig(binding);
    const prompt = `Please keep this private: ${secret}. Again: ${secret}`;
    const body = JSON.stringify({ model: "peer-tiny", messages: [{ role: "user", content: prompt }] });

    const { encapsulatedRequest, context } = await encapsulateRequest(
      keyConfig,
      new TextEncoder().encode(body),
    );
    const json = await connection.job({
      job_id: "mem-json",
      tier: "confidential",
      sealed: Buffer.from(encapsulatedRequest).toString("base64url"),
    });
    expect(json.error).toBeUndefined();
    const answer = new TextDecoder().decode(await context.openResponse(fromBase64Url(json.result!.sealed!)));
    expect(JSON.parse(answer).object).toBe("chat.completion");

    const streamed = await createChunkedRequestEncapsulator(keyConfig);
    const writer = streamed.writable.getWriter();
    const writing = (async () => {
      await writer.write(new TextEncoder().encode(JSON.stringify({ ...JSON.parse(body), stream: true })));
      await writer.close();
    })();
    const parts: Uint8Array[] = [];
    const reader = streamed.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    await writing;
    const stream = await connection.job({
      job_id: "mem-stream",
      tier: "confidential",
      stream: true,
      sealed: Buffer.concat(parts).toString("base64url"),
    });
    expect(stream.error).toBeUndefined();
    expect(stream.sealedChunks.length).toBeGreaterThan(2);

    // the host's whole readable memory
    const [secretUtf8, secretUtf16, controlUtf8] = memoryContains(started.pid, [
      ...forms(secret),
      forms(control)[0]!,
    ]);
    expect(controlUtf8, "the search finds what the host does hold").toBe(true);
    expect(secretUtf8).toBe(false);
    expect(secretUtf16).toBe(false);

    // a V8 heap snapshot of the host
    const path = join(tmpdir(), `peer-host-${process.pid}-${Date.now()}.heapsnapshot`);
    host.send({ type: "snapshot", path });
    await new Promise((resolve) => host.once("message", resolve));
    try {
      const snapshot = readFileSync(path, "utf8");
      expect(snapshot.includes(control)).toBe(true);
      expect(snapshot.includes(secret)).toBe(false);
    } finally {
      rmSync(path, { force: true });
    }

    // the host's logs (debug level) say what happened, never the prompt
    expect(logs).toContain("worker: connected");
    expect(logs).toContain("mem-stream");
    expect(logs.includes(secret)).toBe(false);

    // control: the enclave process did hold the prompt
    const [inEnclave] = memoryContains(started.enclavePid, [Buffer.from(secret, "utf8")]);
    expect(inEnclave, "the prompt was opened in the enclave process").toBe(true);
  });
});
