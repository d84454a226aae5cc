import { outputHash } from "@peercycles/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPeerTiny } from "../model/peer-tiny.js";
import type { InferenceBackend } from "../model/types.js";
import { committedOutput } from "./generation.js";
import { startWorker, type WorkerHandle } from "./host.js";
import { type FakeOrchestrator, startFakeOrchestrator } from "./testing/fake-orchestrator.js";
import { INCONCLUSIVE_VERDICT_PREFIX, startValidator, type ValidatorHandle } from "./validator.js";

const body = (content: string) =>
  JSON.stringify({ model: "peer-tiny", messages: [{ role: "user", content }] });

describe("validator", () => {
  let orchestrator: FakeOrchestrator;
  let validator: ValidatorHandle;
  let honest: WorkerHandle;
  let cheater: WorkerHandle;

  beforeAll(async () => {
    orchestrator = await startFakeOrchestrator();
    validator = await startValidator({
      orchestrator: orchestrator.url,
      token: "pcw_val",
      name: "validator-1",
    });
    honest = await startWorker({ orchestrator: orchestrator.url, token: "pcw_h", tier: "verified" });
    cheater = await startWorker({
      orchestrator: orchestrator.url,
      token: "pcw_c",
      tier: "verified",
      cheatRate: 1,
    });
  });
  afterAll(async () => {
    await Promise.all([validator?.close(), honest?.close(), cheater?.close()]);
    await orchestrator?.close();
  });

  it("says hello as a deterministic peer-tiny validator", async () => {
    const connection = await orchestrator.connection(0);
    const local = await loadPeerTiny();
    expect(connection.hello).toMatchObject({
      role: "validator",
      model: "peer-tiny",
      deterministic: true,
      weights_digest: local.weightsDigest,
      backend: "builtin",
      name: "validator-1",
    });
    expect(validator.workerId).toBe("w-0");
    expect(validator.deterministic).toBe(true);
  });

  it("agrees with an honest worker's receipt and disagrees with a cheater's", async () => {
    const [validatorConnection, honestConnection, cheaterConnection] = await Promise.all([
      orchestrator.connection(0),
      orchestrator.connection(1),
      orchestrator.connection(2),
    ]);
    const request = body("Why would a validator re-execute a job?");
    for (const [connection, jobId] of [
      [honestConnection, "h1"],
      [cheaterConnection, "x1"],
    ] as const) {
      const outcome = await connection.job({ job_id: jobId, body: request, seed: 77, max_tokens: 20 });
      const workerHash = outputHash(committedOutput(outcome.result!.output!));
      validatorConnection.send({
        type: "reexecute",
        job_id: jobId,
        model: "peer-tiny",
        seed: 77,
        max_tokens: 20,
        body: request,
      });
      const verdict = await validatorConnection.waitFor((m) => m.type === "verdict" && m.job_id === jobId);
      if (jobId === "h1") expect(verdict).toMatchObject({ output_hash: workerHash });
      else expect((verdict as { output_hash?: string }).output_hash).not.toBe(workerHash);
    }
  });

  it("answers a verdict with an error, never a hash, for another model or a bad body, and refuses jobs", async () => {
    const connection = await orchestrator.connection(0);
    connection.send({
      type: "reexecute",
      job_id: "m1",
      model: "gpt-9",
      seed: 1,
      max_tokens: 5,
      body: body("x"),
    });
    const mismatch = await connection.waitFor((m) => m.type === "verdict" && m.job_id === "m1");
    expect(mismatch).toMatchObject({ error: expect.stringContaining("model_mismatch") });
    expect((mismatch as { output_hash?: string }).output_hash).toBeUndefined();
    connection.send({
      type: "reexecute",
      job_id: "m2",
      model: "peer-tiny",
      seed: 1,
      max_tokens: 5,
      body: "{oops",
    });
    const bad = await connection.waitFor((m) => m.type === "verdict" && m.job_id === "m2");
    expect(bad).toMatchObject({ error: expect.stringContaining("request_invalid") });
    connection.send({
      type: "job",
      job_id: "m3",
      tier: "verified",
      model: "peer-tiny",
      seed: 1,
      stream: false,
      max_tokens: 5,
      body: body("x"),
    });
    expect(await connection.outcome("m3")).toMatchObject({ error: { code: "request_invalid" } });
    expect(orchestrator.errors).toEqual([]);
  });
});

describe("validator on a non-deterministic backend", () => {
  it("says deterministic: false and answers inconclusive verdicts without a hash", async () => {
    const orchestrator = await startFakeOrchestrator();
    let calls = 0;
    const backend: InferenceBackend = {
      model: "upstream-model",
      weightsDigest: "",
      deterministic: false,
      async *generate() {
        calls++;
        yield { type: "text", text: "anything" };
        yield { type: "finish", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
      },
    };
    const validator = await startValidator({
      orchestrator: orchestrator.url,
      token: "pcw_v",
      inferenceBackend: backend,
    });
    try {
      const connection = await orchestrator.connection(0);
      expect(connection.hello).toMatchObject({
        deterministic: false,
        weights_digest: "",
        model: "upstream-model",
      });
      connection.send({
        type: "reexecute",
        job_id: "n1",
        model: "upstream-model",
        seed: 1,
        max_tokens: 5,
        body: JSON.stringify({ model: "upstream-model", messages: [{ role: "user", content: "x" }] }),
      });
      const verdict = await connection.waitFor((m) => m.type === "verdict" && m.job_id === "n1");
      expect((verdict as { error?: string }).error?.startsWith(INCONCLUSIVE_VERDICT_PREFIX)).toBe(true);
      expect((verdict as { output_hash?: string }).output_hash).toBeUndefined();
      expect(calls).toBe(0);
    } finally {
      await validator.close();
      await orchestrator.close();
    }
  });
});
