import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type WorkerEvent } from "./host.js";
import { startFakeOrchestrator } from "./testing/fake-orchestrator.js";
import { type SlowUpstream, startSlowUpstream } from "./testing/slow-upstream.js";

const body = JSON.stringify({ model: "slow-model", messages: [{ role: "user", content: "go slowly" }] });
const until = async (check: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("worker host lifecycle (openai-compatible upstream that streams slowly)", () => {
  let upstream: SlowUpstream;
  beforeAll(async () => {
    upstream = await startSlowUpstream({ tokens: 30, delayMs: 50 });
  });
  afterAll(async () => {
    await upstream?.close();
  });

  const start = (orchestrator: string, extra: Partial<Parameters<typeof startWorker>[0]> = {}) =>
    startWorker({
      orchestrator,
      token: "pcw_slow",
      tier: "verified",
      model: "slow-model",
      backend: { kind: "openai-compatible", upstream: upstream.baseURL },
      maxConcurrency: 2,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      ...extra,
    });

  it("declares an upstream as non-deterministic with an unknown digest, and streams through it", async () => {
    const orchestrator = await startFakeOrchestrator();
    const worker = await start(orchestrator.url);
    try {
      const connection = await orchestrator.connection(0);
      expect(connection.hello).toMatchObject({
        backend: "openai-compatible",
        deterministic: false,
        weights_digest: "",
        model: "slow-model",
      });
      const outcome = await connection.job({ job_id: "s1", body, stream: true, max_tokens: 64 });
      expect(outcome.chunks).toHaveLength(30);
      expect(outcome.result?.output?.content).toBe(`word${" word".repeat(29)}`);
      expect(outcome.result?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 30 });
    } finally {
      await worker.close();
      await orchestrator.close();
    }
  });

  it("cancels a job in flight (job_error cancelled, upstream request dropped) and refuses work past maxConcurrency", async () => {
    const orchestrator = await startFakeOrchestrator();
    const worker = await start(orchestrator.url);
    try {
      const connection = await orchestrator.connection(0);
      const aborted = upstream.stats.aborted;
      connection.send({
        type: "job",
        job_id: "c1",
        tier: "verified",
        model: "slow-model",
        seed: 1,
        stream: true,
        max_tokens: 64,
        body,
      });
      connection.send({
        type: "job",
        job_id: "c2",
        tier: "verified",
        model: "slow-model",
        seed: 1,
        stream: false,
        max_tokens: 64,
        body,
      });
      const third = await connection.job({ job_id: "c3", body });
      expect(third.error).toMatchObject({ code: "overloaded" });
      await connection.waitFor((m) => m.type === "chunk" && m.job_id === "c1");
      connection.send({ type: "cancel", job_id: "c1" });
      const cancelled = await connection.outcome("c1");
      expect(cancelled.error).toMatchObject({ code: "cancelled" });
      expect(cancelled.result).toBeUndefined();
      await until(() => upstream.stats.aborted > aborted);
      const finished = await connection.outcome("c2");
      expect(finished.result?.output?.content.length).toBeGreaterThan(0);
      // exactly one terminal message per job
      const terminals = connection.messages.filter((m) => m.type === "result" || m.type === "job_error");
      expect(terminals.map((m) => (m as { job_id: string }).job_id).sort()).toEqual(["c1", "c2", "c3"]);
    } finally {
      await worker.close();
      await orchestrator.close();
    }
  });

  it("reconnects after the connection drops, loses the jobs in flight, and serves on the new connection", async () => {
    const orchestrator = await startFakeOrchestrator();
    const events: WorkerEvent[] = [];
    const worker = await start(orchestrator.url, { onEvent: (event) => events.push(event) });
    try {
      const first = await orchestrator.connection(0);
      first.send({
        type: "job",
        job_id: "d1",
        tier: "verified",
        model: "slow-model",
        seed: 1,
        stream: true,
        max_tokens: 64,
        body,
      });
      await first.waitFor((m) => m.type === "chunk" && m.job_id === "d1");
      const aborted = upstream.stats.aborted;
      worker.dropConnection();
      const second = await orchestrator.connection(1);
      expect(second.hello.signing_key).toBe(first.hello.signing_key);
      await until(() => worker.connected && worker.workerId === "w-1");
      expect(events).toContainEqual(expect.objectContaining({ type: "disconnected", jobsLost: 1 }));
      await until(() => upstream.stats.aborted > aborted);
      expect(worker.activeJobs).toBe(0);
      // the lost job is never answered on the new connection
      const fresh = await second.job({ job_id: "d2", body, max_tokens: 64 });
      expect(fresh.result?.output).toBeDefined();
      expect(second.messages.some((m) => "job_id" in m && m.job_id === "d1")).toBe(false);
      const receiptWorker = fresh.result!.receipt;
      expect(receiptWorker).toBeDefined();

      // the orchestrator side closing the socket works the same way
      second.socket.close(1012, "restarting");
      const third = await orchestrator.connection(2);
      expect((await third.job({ job_id: "d3", body, max_tokens: 64 })).result).toBeDefined();
    } finally {
      await worker.close();
      await orchestrator.close();
    }
  });

  it("close() drains: jobs in flight finish, new jobs are refused, then it disconnects and stops the enclave", async () => {
    const orchestrator = await startFakeOrchestrator();
    const worker = await start(orchestrator.url);
    const connection = await orchestrator.connection(0);
    connection.send({
      type: "job",
      job_id: "e1",
      tier: "verified",
      model: "slow-model",
      seed: 1,
      stream: true,
      max_tokens: 64,
      body,
    });
    await connection.waitFor((m) => m.type === "chunk" && m.job_id === "e1");
    const closing = worker.close({ drainTimeoutMs: 20_000 });
    const refused = await connection.job({ job_id: "e2", body });
    expect(refused.error).toMatchObject({ code: "overloaded" });
    const drained = await connection.outcome("e1");
    expect(drained.result?.output?.content).toBe(`word${" word".repeat(29)}`);
    await closing;
    expect((await connection.closed).code).toBe(1000);
    await expect(worker.done).resolves.toBeUndefined();
    expect(() => process.kill(worker.enclavePid!, 0)).toThrow();
    await orchestrator.close();
  });

  it("close() cancels what is still running after the drain timeout", async () => {
    const orchestrator = await startFakeOrchestrator();
    const worker = await start(orchestrator.url);
    const connection = await orchestrator.connection(0);
    connection.send({
      type: "job",
      job_id: "f1",
      tier: "verified",
      model: "slow-model",
      seed: 1,
      stream: true,
      max_tokens: 64,
      body,
    });
    await connection.waitFor((m) => m.type === "chunk" && m.job_id === "f1");
    await worker.close({ drainTimeoutMs: 100 });
    expect(connection.messages.find((m) => m.type === "job_error" && m.job_id === "f1")).toMatchObject({
      code: "cancelled",
    });
    await orchestrator.close();
  });

  it("stops with worker_rejected when a reconnection is rejected", async () => {
    const orchestrator = await startFakeOrchestrator({ rejectAfter: 1 });
    const worker = await start(orchestrator.url);
    worker.dropConnection();
    await expect(worker.done).rejects.toMatchObject({
      code: "worker_rejected",
      details: { code: "token_revoked" },
    });
    expect(worker.connected).toBe(false);
    await orchestrator.close();
  });

  it("stops with worker_enclave_exited when the enclave process dies, failing its jobs", async () => {
    const orchestrator = await startFakeOrchestrator();
    const worker = await start(orchestrator.url);
    const connection = await orchestrator.connection(0);
    connection.send({
      type: "job",
      job_id: "g1",
      tier: "verified",
      model: "slow-model",
      seed: 1,
      stream: true,
      max_tokens: 64,
      body,
    });
    await connection.waitFor((m) => m.type === "chunk" && m.job_id === "g1");
    process.kill(worker.enclavePid!, "SIGKILL");
    await expect(worker.done).rejects.toMatchObject({ code: "worker_enclave_exited" });
    expect(connection.messages.find((m) => m.type === "job_error" && m.job_id === "g1")).toMatchObject({
      code: "backend_failed",
    });
    await orchestrator.close();
  });
});
