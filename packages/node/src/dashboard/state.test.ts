import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { NetworkEvent, NetworkSnapshot, NetworkWorker } from "@peercycles/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { dashboardAssetsDir } from "./assets-dir.js";

// The page's state module is plain JavaScript (type-checked through JSDoc by tsconfig.page.json);
// these are the parts of its API the tests use.
interface JobView {
  jobId: string;
  tier: string;
  workerId: string;
  status: "running" | "ok" | "failed";
  sealedBytes?: number;
  sealedResponseBytes?: number;
  priceCredits?: number;
  refundedCredits?: number;
  reexecution?: { validatorId: string; match: boolean };
  slashed?: boolean;
  score?: number;
  receiptId?: string;
}
interface DashboardState {
  workers: Map<string, NetworkWorker>;
  totals: NetworkSnapshot["jobs"] | undefined;
  ledger: NetworkSnapshot["ledger"] | undefined;
  series: NetworkSnapshot["series"];
  jobs: Map<string, JobView>;
  proofs: Array<{ kind: string; match?: boolean }>;
  slashes: NetworkEvent[];
  payments: NetworkEvent[];
  samples: Array<{ t: number; latencyMs: number; tps: number; tier: string }>;
  events: number;
}
interface PageState {
  createState(): DashboardState;
  applyEvent(state: DashboardState, event: NetworkEvent): void;
  parseNetworkEvent(type: string, data: string): NetworkEvent | undefined;
  recentJobs(state: DashboardState): JobView[];
  workersByTier(
    state: DashboardState,
  ): Record<"open" | "verified" | "confidential" | "validators", NetworkWorker[]>;
  LIMITS: { jobs: number; proofs: number };
}

let page: PageState;
beforeAll(async () => {
  page = (await import(pathToFileURL(join(dashboardAssetsDir(), "state.js")).href)) as PageState;
});

const AT = "2025-01-01T12:00:00.000Z";

function worker(overrides: Partial<NetworkWorker> & Pick<NetworkWorker, "id" | "tier">): NetworkWorker {
  return {
    name: overrides.id,
    role: "worker",
    model: "peer-tiny",
    backend: "builtin",
    connected: true,
    busy: 0,
    maxConcurrency: 4,
    reputation: 500,
    throughputTps: 0,
    pricePer1k: 10,
    bondCredits: 0,
    earningsCredits: 0,
    jobsDone: 0,
    slashed: 0,
    signingKey: "key",
    ...overrides,
  };
}

function snapshot(workers: NetworkWorker[], total = 0): NetworkSnapshot {
  return {
    node: { version: "0.0.0", startedAt: AT, validationRate: 1 },
    workers,
    jobs: { total, succeeded: total, failed: 0, inFlight: 0, reexecuted: 0, mismatches: 0 },
    ledger: { creditsInCirculation: 10_000, treasuryFees: 0, burned: 0, workerEarnings: 0, bonds: 2_000 },
    series: [{ t: Date.parse(AT), tps: 40, latencyMs: 120, jobs: total }],
  };
}

describe("dashboard state", () => {
  it("takes workers, totals, ledger and series from a snapshot and keeps the job history", () => {
    const state = page.createState();
    page.applyEvent(state, {
      type: "snapshot",
      at: AT,
      snapshot: snapshot([worker({ id: "w1", tier: "open" })]),
    });
    page.applyEvent(state, {
      type: "job.routed",
      at: AT,
      jobId: "j1",
      tier: "open",
      model: "peer-tiny",
      workerId: "w1",
      score: 0.8,
      holdCredits: 5,
      stream: false,
    });
    page.applyEvent(state, {
      type: "snapshot",
      at: AT,
      snapshot: snapshot([worker({ id: "w2", tier: "verified", bondCredits: 1000 })], 1),
    });
    expect([...state.workers.keys()]).toEqual(["w2"]);
    expect(state.totals?.total).toBe(1);
    expect(state.ledger?.bonds).toBe(2_000);
    expect(state.series).toHaveLength(1);
    expect(state.jobs.get("j1")?.status).toBe("running");
  });

  it("follows a confidential job from routing to receipt, keeping only ciphertext sizes", () => {
    const state = page.createState();
    page.applyEvent(state, {
      type: "job.routed",
      at: AT,
      jobId: "j1",
      tier: "confidential",
      model: "peer-tiny",
      workerId: "tee",
      score: 0.9,
      holdCredits: 40,
      stream: true,
      sealedBytes: 412,
    });
    page.applyEvent(state, {
      type: "job.finished",
      at: "2025-01-01T12:00:01.000Z",
      jobId: "j1",
      tier: "confidential",
      workerId: "tee",
      ok: true,
      priceCredits: 12,
      refundedCredits: 28,
      latencyMs: 500,
      ttftMs: 40,
      tokens: 50,
      receiptId: "ab".repeat(32),
      sealedResponseBytes: 2048,
    });
    const [job] = page.recentJobs(state);
    expect(job).toMatchObject({
      jobId: "j1",
      status: "ok",
      score: 0.9,
      sealedBytes: 412,
      sealedResponseBytes: 2048,
      priceCredits: 12,
      refundedCredits: 28,
    });
    expect(state.samples).toEqual([
      { t: Date.parse("2025-01-01T12:00:01.000Z"), latencyMs: 500, tps: 100, tier: "confidential" },
    ]);
    expect(state.proofs.map((proof) => proof.kind)).toEqual(["receipt"]);
  });

  it("marks a mismatched re-execution and the slash, and takes the reputation the node reports", () => {
    const state = page.createState();
    page.applyEvent(state, {
      type: "snapshot",
      at: AT,
      snapshot: snapshot([worker({ id: "cheat", tier: "verified", reputation: 520 })]),
    });
    page.applyEvent(state, {
      type: "job.routed",
      at: AT,
      jobId: "j9",
      tier: "verified",
      model: "peer-tiny",
      workerId: "cheat",
      score: 0.5,
      holdCredits: 5,
      stream: false,
    });
    page.applyEvent(state, {
      type: "job.reexecuted",
      at: AT,
      jobId: "j9",
      workerId: "cheat",
      validatorId: "v",
      match: false,
    });
    page.applyEvent(state, {
      type: "worker.slashed",
      at: AT,
      workerId: "cheat",
      jobId: "j9",
      bondCredits: 1000,
      challengerReward: 500,
      burned: 500,
      refundedCredits: 5,
      reputation: 120,
    });
    expect(state.jobs.get("j9")).toMatchObject({
      reexecution: { validatorId: "v", match: false },
      slashed: true,
    });
    expect(state.workers.get("cheat")?.reputation).toBe(120);
    expect(state.slashes).toHaveLength(1);
    expect(state.proofs).toEqual([expect.objectContaining({ kind: "reexecution", match: false })]);
  });

  it("keeps settlements and takes the ledger's figures as the node sends them", () => {
    const state = page.createState();
    page.applyEvent(state, {
      type: "payment.settled",
      at: AT,
      kind: "buy",
      credits: 500,
      transaction: "5xTransaction",
      payer: "Payer111",
    });
    const ledger = {
      creditsInCirculation: 10_500,
      treasuryFees: 3,
      burned: 0,
      workerEarnings: 9,
      bonds: 1_500,
    };
    page.applyEvent(state, { type: "ledger", at: AT, ledger: { ...ledger, treasuryUsdcOnChain: "5000000" } });
    expect(state.payments).toEqual([expect.objectContaining({ kind: "buy", credits: 500 })]);
    expect(state.ledger).toEqual({ ...ledger, treasuryUsdcOnChain: "5000000" });
  });

  it("groups workers by tier, validators apart", () => {
    const state = page.createState();
    page.applyEvent(state, {
      type: "snapshot",
      at: AT,
      snapshot: snapshot([
        worker({ id: "a", tier: "verified", reputation: 300 }),
        worker({ id: "b", tier: "verified", reputation: 700 }),
        worker({ id: "c", tier: "confidential" }),
        worker({ id: "v", tier: "verified", role: "validator" }),
      ]),
    });
    const groups = page.workersByTier(state);
    expect(groups.verified.map((item) => item.id)).toEqual(["b", "a"]);
    expect(groups.confidential.map((item) => item.id)).toEqual(["c"]);
    expect(groups.validators.map((item) => item.id)).toEqual(["v"]);
    expect(groups.open).toEqual([]);
  });

  it("keeps a bounded history", () => {
    const state = page.createState();
    for (let index = 0; index < page.LIMITS.jobs + 25; index++) {
      page.applyEvent(state, {
        type: "job.finished",
        at: AT,
        jobId: `j${index}`,
        tier: "open",
        workerId: "w",
        ok: true,
        priceCredits: 1,
        refundedCredits: 0,
        latencyMs: 10,
        tokens: 1,
        receiptId: `r${index}`,
      });
    }
    expect(state.jobs.size).toBe(page.LIMITS.jobs);
    expect(page.recentJobs(state)[0]?.jobId).toBe(`j${page.LIMITS.jobs + 24}`);
    expect(state.proofs).toHaveLength(page.LIMITS.proofs);
  });

  it("parses SSE data only when it is a JSON object of the named type", () => {
    expect(page.parseNetworkEvent("ledger", "not json")).toBeUndefined();
    expect(page.parseNetworkEvent("ledger", "[1]")).toBeUndefined();
    expect(page.parseNetworkEvent("ledger", JSON.stringify({ type: "snapshot", at: AT }))).toBeUndefined();
    expect(page.parseNetworkEvent("ledger", JSON.stringify({ type: "ledger" }))).toBeUndefined();
    const ledger = { creditsInCirculation: 1, treasuryFees: 2, burned: 3, workerEarnings: 4, bonds: 5 };
    expect(page.parseNetworkEvent("ledger", JSON.stringify({ at: AT, ledger }))).toEqual({
      type: "ledger",
      at: AT,
      ledger,
    });
  });

  it("counts events of types it does not know and changes nothing else", () => {
    const state = page.createState();
    page.applyEvent(state, { type: "future.event", at: AT } as unknown as NetworkEvent);
    expect(state.events).toBe(1);
    expect(state.jobs.size).toBe(0);
  });
});
