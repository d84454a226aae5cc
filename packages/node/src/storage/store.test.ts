import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError } from "./errors.js";
import type { NewJob } from "./jobs.js";
import { hashSecret } from "./secrets.js";
import { createStore, type Store } from "./store.js";
import { openTestDatabase, type TestDatabase } from "./test-database.js";

describe.each(["sqlite", "postgres"] as const)("store on %s", (dialect) => {
  let test: TestDatabase;
  let store: Store;
  let clock = 1_700_000_000_000;
  beforeAll(async () => {
    test = await openTestDatabase(dialect);
    store = createStore(test.database, { now: () => clock++ });
  });
  afterAll(async () => {
    await test?.dispose();
  });

  describe("accounts", () => {
    it("creates an account with a pc_ key stored only as its SHA-256 hash", async () => {
      const { id, apiKey } = await store.accounts.createAccount({ name: "alice" });
      expect(apiKey).toMatch(/^pc_[A-Za-z0-9_-]{43}$/);
      const rows = await test.database.db
        .selectFrom("api_keys")
        .selectAll()
        .where("account_id", "=", id)
        .execute();
      expect(rows.map((row) => row.key_hash)).toEqual([hashSecret(apiKey)]);
      expect(JSON.stringify(rows)).not.toContain(apiKey);
      expect(await store.accounts.findAccountByApiKey(apiKey)).toMatchObject({ id, name: "alice" });
      expect(await store.accounts.getAccount(id)).toMatchObject({ id, name: "alice" });
    });

    it("issues more keys for an account; unknown keys and accounts read as undefined", async () => {
      const { id } = await store.accounts.createAccount({ name: "bob" });
      const second = await store.accounts.createApiKey(id);
      expect((await store.accounts.findAccountByApiKey(second))?.id).toBe(id);
      expect(await store.accounts.findAccountByApiKey("pc_nope")).toBeUndefined();
      expect(await store.accounts.findAccountByApiKey("not-a-key")).toBeUndefined();
      expect(await store.accounts.getAccount("missing")).toBeUndefined();
      await expect(store.accounts.createApiKey("missing")).rejects.toMatchObject({ code: "not_found" });
    });

    it("lists accounts oldest first and rejects empty names", async () => {
      const names = (await store.accounts.listAccounts()).map((account) => account.name);
      expect(names.slice(0, 2)).toEqual(["alice", "bob"]);
      await expect(store.accounts.createAccount({ name: "" })).rejects.toMatchObject({
        code: "invalid_argument",
      });
    });
  });

  describe("settings", () => {
    it("inserts, replaces and reads", async () => {
      expect(await store.settings.getSetting("admin.tokenHash")).toBeUndefined();
      await store.settings.setSetting("admin.tokenHash", "a");
      await store.settings.setSetting("admin.tokenHash", "b");
      expect(await store.settings.getSetting("admin.tokenHash")).toBe("b");
    });
  });

  describe("workers", () => {
    const registration = {
      id: "w1",
      name: "box",
      tier: "verified",
      model: "tiny-1",
      priceCredits: 3,
      signingPublicKey: "02ab",
    } as const;

    it("upserts, keeping reputation and throughput across re-registration", async () => {
      const worker = await store.workers.upsertWorker(registration);
      expect(worker).toMatchObject({
        ...registration,
        attestation: null,
        reputation: 500,
        tokensPerSecond: null,
      });
      await store.workers.adjustReputation("w1", 25);
      await store.workers.recordThroughput("w1", 100);
      const updated = await store.workers.upsertWorker({
        ...registration,
        priceCredits: 4,
        attestation: '{"q":1}',
      });
      expect(updated).toMatchObject({
        priceCredits: 4,
        attestation: '{"q":1}',
        reputation: 525,
        tokensPerSecond: 100,
      });
      expect((await store.workers.listWorkers()).map((w) => w.id)).toContain("w1");
    });

    it("clamps reputation to 0..1000", async () => {
      await store.workers.upsertWorker({ ...registration, id: "w2" });
      expect(await store.workers.adjustReputation("w2", 900)).toBe(1000);
      expect(await store.workers.adjustReputation("w2", -1500)).toBe(0);
      expect(await store.workers.adjustReputation("w2", 7)).toBe(7);
      await expect(store.workers.adjustReputation("nobody", 1)).rejects.toMatchObject({ code: "not_found" });
      await expect(store.workers.adjustReputation("w2", 0.5)).rejects.toMatchObject({
        code: "invalid_argument",
      });
    });

    it("keeps an exponential moving average of throughput", async () => {
      await store.workers.upsertWorker({ ...registration, id: "w3" });
      expect(await store.workers.recordThroughput("w3", 50)).toBe(50);
      expect(await store.workers.recordThroughput("w3", 100)).toBeCloseTo(60);
      expect((await store.workers.getWorker("w3"))?.tokensPerSecond).toBeCloseTo(60);
      await expect(store.workers.recordThroughput("w3", Number.NaN)).rejects.toMatchObject({
        code: "invalid_argument",
      });
    });

    it("records a finished job's reputation and throughput in one update", async () => {
      await store.workers.upsertWorker({ ...registration, id: "w4" });
      expect(await store.workers.recordJobDone("w4", { reputationDelta: 1 })).toEqual({
        reputation: 501,
        tokensPerSecond: null,
      });
      expect(await store.workers.recordJobDone("w4", { reputationDelta: 1, tokensPerSecond: 50 })).toEqual({
        reputation: 502,
        tokensPerSecond: 50,
      });
      const second = await store.workers.recordJobDone("w4", { reputationDelta: 600, tokensPerSecond: 100 });
      expect(second.reputation).toBe(1000);
      expect(second.tokensPerSecond).toBeCloseTo(60);
      expect(await store.workers.getWorker("w4")).toMatchObject({ reputation: 1000 });
      await expect(store.workers.recordJobDone("nobody", { reputationDelta: 1 })).rejects.toMatchObject({
        code: "not_found",
      });
      await expect(
        store.workers.recordJobDone("w4", { reputationDelta: 1, tokensPerSecond: -1 }),
      ).rejects.toMatchObject({ code: "invalid_argument" });
      await expect(store.workers.recordJobDone("w4", { reputationDelta: 0.5 })).rejects.toMatchObject({
        code: "invalid_argument",
      });
    });

    it("rejects bad registrations", async () => {
      await expect(
        store.workers.upsertWorker({ ...registration, tier: "gold" as never }),
      ).rejects.toMatchObject({
        code: "invalid_argument",
      });
      await expect(
        store.workers.upsertWorker({ ...registration, signingPublicKey: "xyz" }),
      ).rejects.toMatchObject({
        code: "invalid_argument",
      });
      await expect(
        store.workers.upsertWorker({ ...registration, attestation: "{not json" }),
      ).rejects.toMatchObject({
        code: "invalid_argument",
      });
      await expect(store.workers.upsertWorker({ ...registration, priceCredits: -1 })).rejects.toMatchObject({
        code: "invalid_argument",
      });
    });

    it("issues worker tokens stored as hashes", async () => {
      const token = await store.workers.createWorkerToken({ name: "rack-1" });
      expect(token).toMatch(/^pcw_/);
      expect(await store.workers.findWorkerToken(token)).toMatchObject({ name: "rack-1" });
      expect(await store.workers.findWorkerToken(`${token}x`)).toBeUndefined();
      const rows = await test.database.db.selectFrom("worker_tokens").selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(token);
    });
  });

  describe("jobs", () => {
    let accountId: string;
    const job = (id: string, createdAt: number): NewJob => ({
      id,
      accountId,
      tier: "open",
      model: "tiny-1",
      workerId: "w1",
      maxCredits: 40,
      seed: 7,
      stream: true,
      requestHash: "ab".repeat(32),
      createdAt,
    });
    beforeAll(async () => {
      accountId = (await store.accounts.createAccount({ name: "jobs" })).id;
    });

    it("creates, lists open, finishes once", async () => {
      const created = await store.jobs.createJob(job("j1", 10));
      expect(created).toMatchObject({ id: "j1", status: "running", stream: true, seed: 7, validation: null });
      await store.jobs.createJob(job("j2", 20));
      expect((await store.jobs.listOpenJobs()).map((j) => j.id)).toEqual(["j1", "j2"]);
      const finished = await store.jobs.finishJob("j1", {
        status: "succeeded",
        priceCredits: 12,
        promptTokens: 30,
        completionTokens: 90,
        outputHash: "cd",
        receipt: '{"sig":"00"}',
        error: null,
        finishedAt: 30,
      });
      expect(finished).toMatchObject({
        status: "succeeded",
        priceCredits: 12,
        finishedAt: 30,
        receipt: '{"sig":"00"}',
      });
      expect((await store.jobs.listOpenJobs()).map((j) => j.id)).toEqual(["j2"]);
      const again = store.jobs.finishJob("j1", { ...finished, status: "failed", finishedAt: 31 });
      await expect(again).rejects.toMatchObject({
        code: "job_already_finished",
        details: { status: "succeeded" },
      });
      await expect(
        store.jobs.finishJob("nope", { ...finished, status: "failed", finishedAt: 31 }),
      ).rejects.toMatchObject({ code: "not_found" });
    });

    it("refuses duplicate ids, unknown accounts and bad input", async () => {
      await expect(store.jobs.createJob(job("j1", 10))).rejects.toMatchObject({ code: "already_exists" });
      await expect(store.jobs.createJob({ ...job("j9", 10), accountId: "ghost" })).rejects.toMatchObject({
        code: "not_found",
      });
      await expect(store.jobs.createJob({ ...job("j9", 10), maxCredits: 1.5 })).rejects.toMatchObject({
        code: "invalid_argument",
      });
      expect(await store.jobs.getJob("j9")).toBeUndefined();
    });

    it("lists newest first, per account, with a limit", async () => {
      const other = (await store.accounts.createAccount({ name: "other" })).id;
      await store.jobs.createJob({ ...job("j3", 40), accountId: other });
      expect((await store.jobs.listJobs({ limit: 10, accountId })).map((j) => j.id)).toEqual(["j2", "j1"]);
      expect((await store.jobs.listJobs({ limit: 1 })).map((j) => j.id)).toEqual(["j3"]);
      await expect(store.jobs.listJobs({ limit: 0 })).rejects.toBeInstanceOf(StorageError);
    });

    it("records a validator's verdict", async () => {
      const marked = await store.jobs.markValidation("j1", {
        status: "mismatch",
        validatorId: "v1",
        detail: "t17",
        at: 99,
      });
      expect(marked.validation).toEqual({ status: "mismatch", validatorId: "v1", detail: "t17", at: 99 });
      await expect(
        store.jobs.markValidation("nope", { status: "match", validatorId: "v1", detail: null }),
      ).rejects.toMatchObject({ code: "not_found" });
    });
  });

  describe("events", () => {
    it("appends and pages by id", async () => {
      const first = await store.events.appendEvent({
        type: "job.created",
        data: { jobId: "j1", n: 1 },
        at: 1,
      });
      const second = await store.events.appendEvent({ type: "job.finished", data: ["x", null, true], at: 2 });
      expect(second.id).toBeGreaterThan(first.id);
      expect(await store.events.listEvents({ limit: 10 })).toEqual([first, second]);
      expect(await store.events.listEvents({ afterId: first.id, limit: 10 })).toEqual([second]);
      expect(first.data).toEqual({ jobId: "j1", n: 1 });
      await expect(
        store.events.appendEvent({ type: "x", data: undefined as never, at: 1 }),
      ).rejects.toMatchObject({
        code: "invalid_argument",
      });
    });
  });
});
