import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLedger, userAccount, workerBondAccount } from "./ledger/index.js";
import { type RunningNode, startNode } from "./start-node.js";

let node: RunningNode;
let dir: string;

function ask(tier: string, content = "What does the validator do?") {
  return fetch(`${node.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${node.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "peer-tiny",
      peer_tier: tier,
      max_tokens: 24,
      messages: [{ role: "user", content }],
    }),
  });
}

/** Waits for the validator's verdict on a job (validationRate is 1 here). */
async function validated(jobId: string): Promise<string | undefined> {
  for (let i = 0; i < 400; i++) {
    const job = await node.store.jobs.getJob(jobId);
    if (job?.validation) return job.validation.status;
    await new Promise((r) => setTimeout(r, 25));
  }
  return undefined;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peer-dev-network-"));
  node = await startNode({ dev: true, port: 0, dataDir: dir, validationRate: 1, cheatRate: 1 });
}, 60_000);

afterAll(async () => {
  await node?.close({ graceMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
});

describe("peer-cycles node --dev", () => {
  it("runs all the development workers, a validator and a verified confidential worker", async () => {
    const snapshot = await node.orchestrator.snapshot("test");
    const names = snapshot.workers.map((w) => w.name).sort();
    expect(names).toEqual([
      "confidential-sim",
      "open-1",
      "validator-1",
      "verified-cheater",
      "verified-honest",
    ]);
    const confidential = snapshot.workers.find((w) => w.tier === "confidential");
    expect(confidential?.attestation).toMatchObject({ ok: true, simulated: true, gpus: 1 });
    const open = await ask("open");
    expect(open.status).toBe(200);
    expect((await open.json()).peer.tier).toBe("open");
  });

  it("serves bundles without a key and quotes a sealed request from an agent without an account", async () => {
    const attestation = await fetch(`${node.url}/v1/attestation?model=peer-tiny&nonce=${"ab".repeat(16)}`);
    expect(attestation.status).toBe(200);
    const { worker, key_id: keyId, simulated } = await attestation.json();
    expect(simulated).toBe(true);
    const bad = await fetch(`${node.url}/v1/attestation?model=peer-tiny`, {
      headers: { authorization: "Bearer pc_wrong" },
    });
    expect(bad.status).toBe(401);
    const sealed = await fetch(`${node.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "message/peer-sealed",
        "peer-worker": worker,
        "peer-key-id": String(keyId),
        "peer-model": "peer-tiny",
        "peer-tier": "confidential",
      },
      body: new Uint8Array(300),
    });
    expect(sealed.status).toBe(402);
    expect(sealed.headers.get("payment-required")).toBeTruthy();
    const body = await sealed.json();
    expect(body).toMatchObject({ scheme: "x402" });
    expect(body.price_credits).toBeGreaterThan(0);
  });

  it("catches the cheater with the real validator and routes verified work to the honest worker after", async () => {
    const cheater = node.orchestrator.registry.all().find((s) => s.name === "verified-cheater");
    const honest = node.orchestrator.registry.all().find((s) => s.name === "verified-honest");
    expect(cheater && honest).toBeTruthy();
    const before = await node.ledger.balance(userAccount(node.accountId as string));
    // The cheater is cheaper, so it scores higher and takes the first verified job.
    const first = await ask("verified");
    expect(first.status).toBe(200);
    const firstPeer = (await first.json()).peer;
    expect(firstPeer.worker).toBe(cheater?.id);
    expect(await validated(firstPeer.job_id)).toBe("mismatch");
    for (
      let i = 0;
      i < 100 && (await node.ledger.balance(workerBondAccount(cheater?.id as string))) > 0;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await node.ledger.balance(workerBondAccount(cheater?.id as string))).toBe(0);
    // Refunded from the bond: the client paid nothing for the falsified answer.
    expect(await node.ledger.balance(userAccount(node.accountId as string))).toBe(before);
    const second = await ask("verified", "Where does the money go?");
    const secondPeer = (await second.json()).peer;
    expect(secondPeer.worker).toBe(honest?.id);
    expect(await validated(secondPeer.job_id)).toBe("match");
    expect(await node.ledger.balance(workerBondAccount(honest?.id as string))).toBe(500);
    expect(await checkLedger(node.store.database)).toEqual([]);
  });

  it("keeps its key, balance and history across a restart on the same data", async () => {
    const apiKey = node.apiKey;
    const balance = await node.ledger.balance(userAccount(node.accountId as string));
    const jobs = (await node.store.jobs.listJobs({ limit: 100 })).length;
    await node.close({ graceMs: 1000 });
    node = await startNode({ dev: true, port: 0, dataDir: dir });
    expect(node.apiKey).toBe(apiKey);
    expect(await node.ledger.balance(userAccount(node.accountId as string))).toBe(balance);
    expect((await node.store.jobs.listJobs({ limit: 100 })).length).toBe(jobs);
    const again = await ask("verified");
    expect(again.status).toBe(200);
  }, 60_000);
});
