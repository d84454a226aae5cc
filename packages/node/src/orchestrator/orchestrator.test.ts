import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLedger, userAccount, workerBondAccount, workerEarningsAccount } from "../ledger/index.js";
import { type RunningNode, startNode } from "../start-node.js";
import { honest, ScriptedWorker } from "./testing/scripted-worker.js";

let node: RunningNode;
let dir: string;
let apiKey: string;
let accountId: string;
let random = 1;

async function admin(path: string, body: unknown) {
  const response = await fetch(`${node.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${node.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as Record<string, string>;
}

async function worker(hello: Partial<ConstructorParameters<typeof ScriptedWorker>[1]> & { name: string }) {
  const { token } = await admin("/admin/worker-tokens", { name: hello.name });
  return new ScriptedWorker(node.url, {
    token: token as string,
    role: "worker",
    tier: "verified",
    model: "scripted",
    weights_digest: "ab".repeat(32),
    deterministic: true,
    backend: "builtin",
    price_per_1k: 10,
    bond_credits: 100,
    max_concurrency: 4,
    ...hello,
  }).connect();
}

function chat(body: Record<string, unknown>, init: RequestInit = {}) {
  return fetch(`${node.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "scripted", messages: [{ role: "user", content: "Say hello" }], ...body }),
    ...init,
  });
}

async function balance(): Promise<number> {
  return node.ledger.balance(userAccount(accountId));
}

async function expectNothingHeld(): Promise<void> {
  // Settlement of a failed job completes just after its answer: give it a moment.
  for (let i = 0; i < 50 && node.orchestrator.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(node.orchestrator.inFlight).toBe(0);
  expect(await node.store.jobs.listOpenJobs()).toEqual([]);
  expect(await checkLedger(node.store.database)).toEqual([]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "peer-orchestrator-"));
  node = await startNode({
    port: 0,
    dataDir: dir,
    logger: pino({ level: "silent" }),
    jobTimeoutMs: 1500,
    validationRate: 1,
    random: () => random,
  });
  const created = await admin("/admin/accounts", { name: "tester", credits: 1000 });
  apiKey = created.api_key as string;
  accountId = created.account_id as string;
});

afterAll(async () => {
  await node?.close({ graceMs: 100 });
  rmSync(dir, { recursive: true, force: true });
});

describe("orchestrator: bad input", () => {
  it("answers malformed JSON, unknown tier and model, oversize bodies and bad keys with OpenAI-shaped errors", async () => {
    const before = await balance();
    const bad = await fetch(`${node.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({
      code: "invalid_json",
      type: "invalid_request_error",
      param: null,
    });
    const tier = await chat({ peer_tier: "gold" });
    expect(tier.status).toBe(400);
    expect((await tier.json()).error).toMatchObject({ code: "tier_unknown", param: "peer_tier" });
    const model = await chat({ model: "no-such-model" });
    expect(model.status).toBe(404);
    expect((await model.json()).error.code).toBe("model_not_found");
    const big = await chat({ messages: [{ role: "user", content: "x".repeat(1024 * 1024 + 10) }] });
    expect(big.status).toBe(413);
    expect((await big.json()).error.code).toBe("body_too_large");
    const key = await fetch(`${node.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer pc_wrong", "content-type": "application/json" },
      body: "{}",
    });
    expect(key.status).toBe(401);
    expect((await key.json()).error.code).toBe("invalid_api_key");
    const shape = await chat({ messages: [{ role: "robot", content: "hi" }] });
    expect(shape.status).toBe(400);
    expect((await shape.json()).error).toMatchObject({ code: "invalid_request", param: "messages.0.role" });
    const plainConfidential = await chat({ peer_tier: "confidential" });
    expect(plainConfidential.status).toBe(400);
    expect(await balance()).toBe(before);
  });

  it("answers 402 with the x402 body when credits run out, holding nothing", async () => {
    const poor = await admin("/admin/accounts", { name: "poor", credits: 0 });
    const w = await worker({ name: "payer-test", tier: "open", bond_credits: 0 });
    const response = await fetch(`${node.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${poor.api_key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "scripted",
        peer_tier: "open",
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(response.status).toBe(402);
    const body = await response.json();
    expect(body).toMatchObject({ scheme: "x402", balance_credits: 0 });
    expect(body.price_credits).toBeGreaterThan(0);
    w.close();
    await expectNothingHeld();
  });
});

describe("orchestrator: jobs", () => {
  it("serves the stock openai client, JSON and streamed, with the peer object and a capture", async () => {
    const w = await worker({ name: "honest-a" });
    w.script = () => ({ kind: "answer", stream: ["Hello ", "from a ", "scripted worker."] });
    const client = new OpenAI({ baseURL: `${node.url}/v1`, apiKey });
    const before = await balance();
    const completion = await client.chat.completions.create({
      model: "scripted",
      messages: [{ role: "user", content: "Say hello" }],
      seed: 7,
    });
    expect(completion.choices[0]?.message.content).toBe(honest().content);
    const peer = (completion as unknown as { peer: Record<string, unknown> }).peer;
    expect(peer).toMatchObject({ tier: "verified", worker: w.workerId, seed: 7, price_credits: 1 });
    expect(w.jobs.at(-1)?.seed).toBe(7);
    expect(await balance()).toBe(before - 1);
    const stream = await client.chat.completions.create({
      model: "scripted",
      messages: [{ role: "user", content: "Say hello" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let last: Record<string, unknown> | undefined;
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
      last = chunk as unknown as Record<string, unknown>;
    }
    expect(text).toBe(honest().content);
    expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 3 });
    expect(last?.choices).toEqual([]);
    expect(last?.peer).toMatchObject({ tier: "verified", worker: w.workerId });
    w.close();
    await expectNothingHeld();
  });

  it("streams the chunks of a chunks frame one by one, in order", async () => {
    const w = await worker({ name: "batching" });
    const pieces = ["Hello ", "from a ", "scripted worker."];
    w.script = () => ({ kind: "answer", stream: pieces, batch: true });
    const response = await chat({ stream: true });
    expect(response.status).toBe(200);
    const deltas = (await response.text())
      .split("\n\n")
      .filter((event) => event.startsWith("data: {"))
      .map(
        (event) =>
          JSON.parse(event.slice("data: ".length)) as { choices: { delta?: { content?: string } }[] },
      )
      .map((chunk) => chunk.choices[0]?.delta?.content)
      .filter((content) => content !== undefined && content !== "");
    expect(deltas).toEqual(pieces);
    w.close();
    await expectNothingHeld();
  });

  it("refunds in full on every failure path", async () => {
    const scripts = [
      "error",
      "garbage",
      "garbage-chunks",
      "bad-receipt",
      "disconnect-mid-stream",
      "hang",
    ] as const;
    const expected = {
      error: [502, "worker_failed"],
      garbage: [502, "worker_failed"],
      "garbage-chunks": [502, "worker_failed"],
      "bad-receipt": [502, "worker_output_invalid"],
      "disconnect-mid-stream": [502, "worker_disconnected"],
      hang: [504, "job_timeout"],
    } as const;
    for (const kind of scripts) {
      const w = await worker({ name: `failing-${kind}` });
      w.script = () => ({ kind });
      const before = await balance();
      const response = await chat({ stream: kind === "disconnect-mid-stream" });
      if (kind === "disconnect-mid-stream") {
        expect(response.status).toBe(200);
        const text = await response.text();
        expect(text).toContain('"code":"worker_disconnected"');
        expect(text).not.toContain("[DONE]");
      } else {
        expect(response.status, kind).toBe(expected[kind][0]);
        expect((await response.json()).error.code, kind).toBe(expected[kind][1]);
      }
      await expectNothingHeld();
      expect(await balance(), kind).toBe(before);
      if (kind === "hang") expect(w.cancels).toHaveLength(1);
      w.close();
    }
  });

  it("refunds when the client goes away mid-job and tells the worker to stop", async () => {
    const w = await worker({ name: "slow" });
    w.script = () => ({ kind: "hang" });
    const before = await balance();
    const controller = new AbortController();
    const pending = chat({ stream: true }, { signal: controller.signal }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    await pending;
    for (let i = 0; i < 50 && w.cancels.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(w.cancels).toHaveLength(1);
    await expectNothingHeld();
    expect(await balance()).toBe(before);
    w.close();
  });
});

describe("orchestrator: routing", () => {
  it("routes by score: reputation, throughput and price, never at random", async () => {
    const cheap = await worker({
      name: "route-cheap",
      tier: "open",
      price_per_1k: 1,
      bond_credits: 0,
      model: "routing",
    });
    const dear = await worker({
      name: "route-dear",
      tier: "open",
      price_per_1k: 4,
      bond_credits: 0,
      model: "routing",
    });
    for (let i = 0; i < 3; i++) {
      const response = await chat({ model: "routing", peer_tier: "open" });
      expect(response.status).toBe(200);
      expect((await response.json()).peer.worker).toBe(cheap.workerId);
    }
    expect(dear.jobs).toHaveLength(0);
    cheap.close();
    dear.close();
    await expectNothingHeld();
  });

  it("refuses verified work to a worker without a bond", async () => {
    const unbonded = await worker({ name: "unbonded", bond_credits: 0, model: "bondless" });
    const response = await chat({ model: "bondless" });
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe("no_worker_available");
    expect(unbonded.jobs).toHaveLength(0);
    unbonded.close();
  });
});

describe("verified tier: re-execution", () => {
  it("catches a cheater: slashes the bond, pays the challenger, burns the rest, refunds the client", async () => {
    random = 0;
    const cheater = await worker({ name: "cheater", model: "checked" });
    const { token } = await admin("/admin/worker-tokens", { name: "validator" });
    const validator = await new ScriptedWorker(node.url, {
      token: token as string,
      role: "validator",
      tier: "verified",
      model: "checked",
      weights_digest: "ab".repeat(32),
      deterministic: true,
      backend: "builtin",
      price_per_1k: 0,
      bond_credits: 0,
      max_concurrency: 4,
    }).connect();
    cheater.script = () => ({ kind: "answer", output: { ...honest(), content: "A falsified answer." } });
    const before = await balance();
    const response = await chat({ model: "checked" });
    expect(response.status).toBe(200);
    const { peer } = await response.json();
    for (let i = 0; i < 100; i++) {
      if ((await node.ledger.balance(workerBondAccount(cheater.workerId))) === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await node.ledger.balance(workerBondAccount(cheater.workerId))).toBe(0);
    // The client is refunded the price from the bond; half the rest rewards the validator, the rest burns.
    expect(await balance()).toBe(before);
    expect(await node.ledger.balance(workerEarningsAccount(validator.workerId))).toBe(
      Math.floor((100 - peer.price_credits) / 2),
    );
    const job = await node.store.jobs.getJob(peer.job_id);
    expect(job?.validation?.status).toBe("mismatch");
    const stored = await node.store.workers.getWorker(cheater.workerId);
    expect(stored?.reputation).toBeLessThan(500);
    // Slashed: no bond, no more verified work.
    const next = await chat({ model: "checked" });
    expect(next.status).toBe(503);
    // Reconnecting does not post a fresh bond.
    cheater.close();
    await new Promise((r) => setTimeout(r, 50));
    const again = await new ScriptedWorker(node.url, cheater.hello).connect();
    expect(again.workerId).toBe(cheater.workerId);
    expect(await node.ledger.balance(workerBondAccount(again.workerId))).toBe(0);
    again.close();
    validator.close();
    random = 1;
    await expectNothingHeld();
  });
});
