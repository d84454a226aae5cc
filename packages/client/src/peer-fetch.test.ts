import { beforeAll, describe, expect, it } from "vitest";
import { AttestationCache } from "./attestation-cache.js";
import { PeerCyclesError, type PeerCyclesErrorCode } from "./errors.js";
import { peerFetch } from "./peer-fetch.js";
import { FakeNode, type Tamper } from "./testing/fake-node.js";
import { developmentPolicy } from "./testing/policies.js";
import type { PeerVerification } from "./verification.js";

const CHAT = "http://node.test/v1/chat/completions";
const MESSAGES = [{ role: "user", content: "the secret prompt" }];

let node: FakeNode;
beforeAll(async () => {
  node = await FakeNode.create();
});

function client(options: Parameters<typeof peerFetch>[0] = {}) {
  return peerFetch({
    fetch: node.fetch,
    apiKey: node.apiKey,
    tier: "confidential",
    policy: developmentPolicy(),
    ...options,
  });
}

function chat(fetch: ReturnType<typeof peerFetch>, body: Record<string, unknown> = {}) {
  return fetch(CHAT, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "peer-mixtral", messages: MESSAGES, ...body }),
  });
}

/** Reads an SSE body; returns the data payloads read before the stream ended or errored. */
async function readEvents(response: Response): Promise<{ data: string[]; error: unknown }> {
  const data: string[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let at = buffer.indexOf("\n\n");
      while (at >= 0) {
        const event = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        for (const line of event.split("\n")) if (line.startsWith("data: ")) data.push(line.slice(6));
        at = buffer.indexOf("\n\n");
      }
    }
    return { data, error: undefined };
  } catch (error) {
    return { data, error };
  }
}

async function withTamper<T>(tamper: Tamper, run: () => Promise<T>): Promise<T> {
  node.tamper = tamper;
  try {
    return await run();
  } finally {
    node.tamper = "none";
  }
}

async function expectCode(promise: Promise<unknown>, code: PeerCyclesErrorCode): Promise<PeerCyclesError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(PeerCyclesError.isInstance(error), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as PeerCyclesError).code).toBe(code);
  return error as PeerCyclesError;
}

describe("peerFetch, confidential tier", () => {
  it("seals the request, opens the answer and verifies attestation and receipt", async () => {
    const fetch = client();
    const plaintextBefore = node.seen.plaintextBodies.length;
    const response = await chat(fetch);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const completion = (await response.json()) as {
      choices: Array<{ message: { content: string } }>;
      peer: { tier: string; verification: PeerVerification };
    };
    expect(completion.choices[0]?.message.content).toBe("You said: the secret prompt");
    const verification = completion.peer.verification;
    expect(verification).toMatchObject({
      ok: true,
      tier: "confidential",
      simulated: true,
      worker: node.worker,
    });
    expect(verification.attestation).toMatchObject({
      tee: "tdx",
      tcbStatus: "UpToDate",
      model: "peer-mixtral",
      keyId: node.keyId,
      simulated: true,
    });
    expect(verification.attestation?.measurements.mrTd).toMatch(/^[0-9a-f]{96}$/);
    expect(verification.attestation?.gpus).toHaveLength(1);
    expect(verification.attestation?.gpus[0]?.architecture).toBe("hopper");
    expect(verification.receipt).toMatchObject({ model: "peer-mixtral", worker: node.worker, seed: 42 });
    expect(verification.receipt?.usage.completionTokens).toBeGreaterThan(0);
    // The prompt never reached the node in clear.
    expect(node.seen.plaintextBodies.length).toBe(plaintextBefore);
  });

  it("opens a sealed stream event by event, then the verified peer chunk, then [DONE]", async () => {
    const response = await chat(client(), { stream: true });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { data, error } = await readEvents(response);
    expect(error).toBeUndefined();
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((item) => JSON.parse(item));
    const text = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe("You said: the secret prompt");
    const last = chunks.at(-1);
    expect(last).toMatchObject({
      object: "chat.completion.chunk",
      choices: [],
      peer: { tier: "confidential" },
    });
    expect(last.peer.verification).toMatchObject({ ok: true, tier: "confidential", simulated: true });
    expect(last.peer.verification.receipt.usage.completionTokens).toBeGreaterThan(0);
  });

  it("reuses a verified bundle until its TTL, then attests again", async () => {
    let clock = Date.now();
    const fetch = client({ now: () => new Date(clock), bundleTtlSeconds: 60 });
    const before = node.seen.attestations;
    await (await chat(fetch)).json();
    await (await chat(fetch, { stream: true })).text();
    expect(node.seen.attestations - before).toBe(1);
    clock += 61_000;
    await (await chat(fetch)).json();
    expect(node.seen.attestations - before).toBe(2);
  });

  it("shares one attestation between concurrent calls", async () => {
    const fetch = client();
    const before = node.seen.attestations;
    const answers = await Promise.all([chat(fetch), chat(fetch), chat(fetch)]);
    for (const answer of answers) expect(answer.status).toBe(200);
    expect(node.seen.attestations - before).toBe(1);
  });

  it("attests again and retries once when a cached worker's key changed", async () => {
    const fetch = client();
    await (await chat(fetch)).json();
    const before = node.seen.attestations;
    await node.rotateKeys();
    const response = await chat(fetch);
    expect(response.status).toBe(200);
    const completion = (await response.json()) as { peer: { verification: PeerVerification } };
    expect(completion.peer.verification.attestation?.keyId).toBe(node.keyId);
    expect(node.seen.attestations - before).toBe(1);
  });

  it("passes the node's own error answers through (bad API key)", async () => {
    const response = await chat(client({ apiKey: "pc_wrong" }));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_api_key" } });
  });

  it("refuses to send a body it cannot seal, and needs a policy", async () => {
    const chats = node.seen.chats;
    await expectCode(
      client()("http://node.test/v1/embeddings", {
        method: "POST",
        body: JSON.stringify({ model: "peer-mixtral", input: "secret" }),
      }),
      "request_unsupported",
    );
    await expectCode(chat(client({ policy: undefined })), "argument_invalid");
    await expectCode(client()(CHAT, { method: "POST", body: "not json" }), "request_unsupported");
    expect(node.seen.chats).toBe(chats);
  });

  it("passes bodiless requests (model list) through", async () => {
    const response = await client()("http://node.test/v1/nothing-here");
    expect(response.status).toBe(404);
  });
});

describe("peerFetch refuses a bad attestation before sending anything", () => {
  const cases: Array<[Tamper, string]> = [
    ["bundle-bitflip", "bundle_cpu_evidence_invalid"],
    ["bundle-other-model", "bundle_model_mismatch"],
    ["bundle-old", "bundle_stale"],
    ["bundle-key-id-lie", "bundle_key_id_mismatch"],
  ];
  for (const [tamper, code] of cases) {
    it(`${tamper}: attestation_rejected (${code})`, async () => {
      const chats = node.seen.chats;
      const error = await withTamper(tamper, () => expectCode(chat(client()), "attestation_rejected"));
      expect(error.details?.codes).toContain(code);
      expect(error.docsUrl).toMatch(/client-errors\.md#attestation_rejected$/);
      expect(node.seen.chats).toBe(chats);
    });
  }

  it("a replayed bundle (another client nonce): attestation_rejected", async () => {
    await (await chat(client())).json();
    const chats = node.seen.chats;
    const error = await withTamper("bundle-stale-nonce", () =>
      expectCode(chat(client()), "attestation_rejected"),
    );
    expect(error.details?.codes).toContain("bundle_client_nonce_mismatch");
    expect(node.seen.chats).toBe(chats);
  });

  it("a simulated bundle under a policy without allowSimulated: attestation_rejected", async () => {
    const chats = node.seen.chats;
    const error = await expectCode(
      chat(client({ policy: developmentPolicy({ allowSimulated: false }) })),
      "attestation_rejected",
    );
    expect(error.details?.codes).toContain("bundle_simulated_not_allowed");
    expect(node.seen.chats).toBe(chats);
  });

  it("evidence past its collateral: attestation_rejected", async () => {
    const chats = node.seen.chats;
    const later = new Date(Date.now() + 400 * 24 * 3600 * 1000);
    const error = await withTamper("none", () =>
      expectCode(
        chat(
          client({ now: () => later, policy: developmentPolicy({ maxAgeSeconds: 10 * 365 * 24 * 3600 }) }),
        ),
        "attestation_rejected",
      ),
    );
    expect(error.details?.codes).toContain("collateral_tcb_info_expired");
    expect(node.seen.chats).toBe(chats);
  });

  it("never caches a rejected bundle", async () => {
    const cache = new AttestationCache();
    await withTamper("bundle-bitflip", () => expectCode(chat(client({ cache })), "attestation_rejected"));
    expect(cache.size).toBe(0);
  });
});

describe("peerFetch refuses a bad confidential answer", () => {
  const jsonCases: Array<[Tamper, PeerCyclesErrorCode]> = [
    ["swap-keys", "key_mismatch"],
    ["plaintext-answer", "tier_downgrade"],
    ["other-worker", "tier_downgrade"],
    ["receipt-other-bytes", "receipt_mismatch"],
    ["receipt-wrong-key", "receipt_mismatch"],
    ["drop-peer", "receipt_missing"],
  ];
  for (const [tamper, code] of jsonCases) {
    it(`JSON, ${tamper}: ${code}`, async () => {
      const cache = new AttestationCache();
      await withTamper(tamper, () => expectCode(chat(client({ cache })), code));
      expect(cache.size).toBe(0);
    });
  }

  it("JSON, a replayed answer: sealed_response_invalid", async () => {
    const fetch = client();
    await (await chat(fetch)).json();
    await withTamper("replay-response", () => expectCode(chat(fetch), "sealed_response_invalid"));
  });

  const streamCases: Array<[Tamper, PeerCyclesErrorCode]> = [
    ["stream-truncate", "sealed_stream_invalid"],
    ["stream-reorder", "sealed_stream_invalid"],
    ["stream-bitflip", "sealed_stream_invalid"],
    ["stream-frame-after-peer", "sealed_stream_invalid"],
    ["drop-peer", "sealed_stream_invalid"],
    ["receipt-other-bytes", "receipt_mismatch"],
    ["receipt-wrong-key", "receipt_mismatch"],
    ["other-worker", "tier_downgrade"],
  ];
  for (const [tamper, code] of streamCases) {
    it(`stream, ${tamper}: ${code}, and never [DONE]`, async () => {
      const cache = new AttestationCache();
      const { data, error } = await withTamper(tamper, async () =>
        readEvents(await chat(client({ cache }), { stream: true })),
      );
      expect(PeerCyclesError.isInstance(error), String(error)).toBe(true);
      expect((error as PeerCyclesError).code).toBe(code);
      expect(data).not.toContain("[DONE]");
      expect(data.some((item) => item.includes('"peer"'))).toBe(false);
      expect(cache.size).toBe(0);
    });
  }

  for (const [tamper, code] of [
    ["swap-keys", "key_mismatch"],
    ["plaintext-answer", "tier_downgrade"],
  ] as Array<[Tamper, PeerCyclesErrorCode]>) {
    it(`stream, ${tamper}: ${code} before any byte`, async () => {
      await withTamper(tamper, () => expectCode(chat(client(), { stream: true }), code));
    });
  }

  it("stream, a replayed answer: sealed_stream_invalid", async () => {
    const fetch = client();
    await (await chat(fetch, { stream: true })).text();
    const { data, error } = await withTamper("replay-response", async () =>
      readEvents(await chat(fetch, { stream: true })),
    );
    expect((error as PeerCyclesError).code).toBe("sealed_stream_invalid");
    expect(data).toEqual([]);
  });
});

describe("peerFetch, verified and open tiers", () => {
  it("verified JSON: checks the worker's receipt over the request bytes and the output", async () => {
    const fetch = client({ tier: "verified" });
    const response = await chat(fetch);
    const completion = (await response.json()) as { peer: { verification: PeerVerification } };
    expect(completion.peer.verification).toMatchObject({
      ok: true,
      tier: "verified",
      simulated: false,
      worker: node.verifiedWorker,
      attestation: null,
    });
    expect(completion.peer.verification.receipt?.seed).toBe(7);
    expect(JSON.parse(node.seen.plaintextBodies.at(-1)!).peer_tier).toBe("verified");
  });

  it("verified stream: checks the receipt over the accumulated deltas", async () => {
    const { data, error } = await readEvents(await chat(client({ tier: "verified" }), { stream: true }));
    expect(error).toBeUndefined();
    expect(data.at(-1)).toBe("[DONE]");
    expect(JSON.parse(data.at(-2)!).peer.verification).toMatchObject({ ok: true, tier: "verified" });
  });

  it("the body's peer_tier wins over the option", async () => {
    const response = await chat(client({ tier: "confidential" }), { peer_tier: "verified" });
    expect(
      ((await response.json()) as { peer: { verification: PeerVerification } }).peer.verification.tier,
    ).toBe("verified");
  });

  for (const [tamper, code] of [
    ["strip-tier", "tier_downgrade"],
    ["drop-peer", "tier_downgrade"],
    ["receipt-wrong-key", "receipt_mismatch"],
    ["verified-output-changed", "receipt_mismatch"],
  ] as Array<[Tamper, PeerCyclesErrorCode]>) {
    it(`verified JSON, ${tamper}: ${code}`, async () => {
      await withTamper(tamper, () => expectCode(chat(client({ tier: "verified" })), code));
    });
    it(`verified stream, ${tamper}: ${code}, never [DONE]`, async () => {
      // A refusal may come at once (a header says so) or as the stream's error.
      const { data, error } = await withTamper(tamper, async () =>
        chat(client({ tier: "verified" }), { stream: true }).then(readEvents, (error: unknown) => ({
          data: [] as string[],
          error,
        })),
      );
      expect((error as PeerCyclesError).code).toBe(code);
      expect(data).not.toContain("[DONE]");
    });
  }

  it("open: passes through and adds verification", async () => {
    const response = await chat(client({ tier: "open" }));
    const completion = (await response.json()) as { peer: { verification: PeerVerification } };
    expect(completion.peer.verification).toMatchObject({
      ok: true,
      tier: "open",
      receipt: null,
      attestation: null,
    });
    const { data } = await readEvents(await chat(client({ tier: "open" }), { stream: true }));
    expect(JSON.parse(data.at(-2)!).peer.verification.tier).toBe("open");
  });
});

describe("peerFetch under a paying fetch", () => {
  it("seals every attempt afresh and forwards the payment header", async () => {
    const fetch = client();
    const sent: Array<{ body: Uint8Array; payment: string | null }> = [];
    const recording = peerFetch({
      fetch: async (input, init) => {
        const request = new Request(input, init);
        if (request.method === "POST") {
          sent.push({
            body: new Uint8Array(await request.clone().arrayBuffer()),
            payment: request.headers.get("payment-signature"),
          });
        }
        return node.fetch(request);
      },
      apiKey: node.apiKey,
      tier: "confidential",
      policy: developmentPolicy(),
      cache: fetch.cache,
    });
    const init = {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "peer-mixtral", messages: MESSAGES }),
    };
    expect((await recording(CHAT, init)).status).toBe(200);
    const paid = await recording(CHAT, {
      ...init,
      headers: { ...init.headers, "PAYMENT-SIGNATURE": "paid" },
    });
    expect(paid.status).toBe(200);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.payment).toBe("paid");
    expect(Buffer.from(sent[0]!.body).equals(Buffer.from(sent[1]!.body))).toBe(false);
  });
});
