/**
 * End to end against the reference node (`startNode({ dev: true })`: open, verified and
 * confidential workers, the last on the simulated enclave), through the stock openai client in
 * `PeerCycles`. The attacks run through a man-in-the-middle fetch that tampers with what the real
 * node sends, so every refusal is of bytes a real node produced.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  PeerCycles,
  PeerCyclesError,
  type PeerCyclesErrorCode,
  peerVerificationOf,
} from "@peercycles/client";
import { type RunningNode, startNode } from "@peercycles/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "./main.js";

const POLICY_PATH = new URL("../../../docs/policies/development-simulated.json", import.meta.url);
const policy = JSON.parse(readFileSync(POLICY_PATH, "utf8"));
const MODEL = "peer-tiny";
const messages = [{ role: "user" as const, content: "tell me about sealed prompts" }];

let node: RunningNode;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "peercycles-client-e2e-"));
  node = await startNode({ dev: true, port: 0, dataDir });
}, 120_000);
afterAll(async () => {
  await node?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

type Attack =
  | "none"
  | "bundle-bitflip"
  | "bundle-replay"
  | "key-id-lie"
  | "replay-answer"
  | "replay-stream"
  | "reorder"
  | "truncate"
  | "drop-peer-frame"
  | "foreign-peer-frame"
  | "strip-tier"
  | "plaintext-route";

/** Sealed-stream frames: kind (1) ‖ length (4, big-endian) ‖ payload. */
function splitFrames(bytes: Uint8Array): Array<{ kind: number; frame: Uint8Array }> {
  const frames: Array<{ kind: number; frame: Uint8Array }> = [];
  let offset = 0;
  while (offset < bytes.length) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + offset + 1, 4).getUint32(0);
    frames.push({ kind: bytes[offset] as number, frame: bytes.subarray(offset, offset + 5 + length) });
    offset += 5 + length;
  }
  return frames;
}

const join_ = (parts: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** A fetch between the client and the real node that tampers with what passes. */
class ManInTheMiddle {
  attack: Attack = "none";
  posts = 0;
  #lastAttestation: string | undefined;
  #lastAnswer: { body: Uint8Array; headers: Headers } | undefined;
  #lastStream: { body: Uint8Array; headers: Headers } | undefined;
  #lastPeerFrame: Uint8Array | undefined;

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/v1/attestation") {
      const response = await fetch(request);
      const text = await response.text();
      if (this.attack === "bundle-replay" && this.#lastAttestation) return json(this.#lastAttestation);
      this.#lastAttestation = text;
      const answer = JSON.parse(text);
      if (this.attack === "bundle-bitflip") {
        const bundle = Buffer.from(answer.bundle, "base64url");
        const at = Math.floor(bundle.length / 2);
        bundle[at] = (bundle[at] as number) ^ 0x01;
        answer.bundle = bundle.toString("base64url");
      }
      if (this.attack === "key-id-lie") answer.key_id = (answer.key_id + 1) % 256;
      return json(JSON.stringify(answer), response.status);
    }
    if (request.method !== "POST" || url.pathname !== "/v1/chat/completions") return fetch(request);
    this.posts++;
    const type = request.headers.get("content-type") ?? "";
    if (this.attack === "strip-tier" && type.startsWith("application/json")) {
      const body = await request.json();
      body.peer_tier = "open";
      return fetch(new Request(request, { body: JSON.stringify(body) }));
    }
    if (this.attack === "plaintext-route" && type === "message/peer-sealed") {
      // The orchestrator hands the call to a worker outside the TEE and answers in clear.
      return fetch(url, {
        method: "POST",
        headers: {
          authorization: request.headers.get("authorization") ?? "",
          "content-type": "application/json",
        },
        body: JSON.stringify({
          model: request.headers.get("peer-model"),
          messages,
          peer_tier: "open",
          stream: request.headers.get("peer-stream") === "1",
        }),
      });
    }
    const response = await fetch(request);
    const answerType = response.headers.get("content-type") ?? "";
    if (answerType.startsWith("message/peer-sealed-response")) {
      const body = new Uint8Array(await response.arrayBuffer());
      if (this.attack === "replay-answer" && this.#lastAnswer) {
        return new Response(this.#lastAnswer.body as BodyInit, { headers: this.#lastAnswer.headers });
      }
      this.#lastAnswer = { body, headers: response.headers };
      return new Response(body as BodyInit, { status: response.status, headers: response.headers });
    }
    if (answerType.startsWith("message/peer-sealed-stream")) {
      const body = new Uint8Array(await response.arrayBuffer());
      const headers = response.headers;
      if (this.attack === "replay-stream" && this.#lastStream) {
        return new Response(this.#lastStream.body as BodyInit, { headers: this.#lastStream.headers });
      }
      this.#lastStream = { body, headers };
      let frames = splitFrames(body);
      const peerFrame = frames.at(-1)?.frame;
      const previousPeer = this.#lastPeerFrame;
      this.#lastPeerFrame = peerFrame;
      if (this.attack === "reorder") frames = [frames[0]!, frames[2]!, frames[1]!, ...frames.slice(3)];
      if (this.attack === "truncate") frames = [...frames.slice(0, -2), frames.at(-1)!];
      if (this.attack === "drop-peer-frame") frames = frames.slice(0, -1);
      if (this.attack === "foreign-peer-frame" && previousPeer) {
        frames = [...frames.slice(0, -1), { kind: 1, frame: previousPeer }];
      }
      return new Response(join_(frames.map((f) => f.frame)) as BodyInit, { headers });
    }
    return response;
  };
}

function json(text: string, status = 200): Response {
  return new Response(text, { status, headers: { "content-type": "application/json" } });
}

function client(
  tier: "open" | "verified" | "confidential",
  options: { fetch?: typeof fetch; policy?: unknown } = {},
) {
  return new PeerCycles({
    baseURL: node.url,
    apiKey: node.apiKey!,
    tier,
    policy: options.policy ?? policy,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

async function streamOf(peer: PeerCycles) {
  const stream = await peer.chat.completions.create({ model: MODEL, messages, stream: true });
  let text = "";
  let verification: ReturnType<typeof peerVerificationOf>;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    verification ??= peerVerificationOf(chunk);
  }
  return { text, verification };
}

async function codeOf(run: () => Promise<unknown>): Promise<PeerCyclesErrorCode | string> {
  try {
    await run();
    return "no error";
  } catch (error) {
    return PeerCyclesError.isInstance(error) ? error.code : String(error);
  }
}

describe("examples/confidential-openai against the dev node", () => {
  it("runs the example: a confidential chat, JSON and streamed, verified", async () => {
    const lines: string[] = [];
    const summary = await main({ PEER_URL: node.url, PEER_API_KEY: node.apiKey }, (line) => lines.push(line));
    expect(summary.answer.length).toBeGreaterThan(0);
    expect(summary.streamed.length).toBeGreaterThan(0);
    for (const verification of [summary.verification, summary.streamVerification]) {
      expect(verification).toMatchObject({ ok: true, tier: "confidential", simulated: true });
      expect(verification.attestation?.model).toBe(MODEL);
      expect(verification.receipt?.model).toBe(MODEL);
    }
    expect(lines.join("\n")).toMatch(/receipt [0-9a-f]{64}/);
  });

  it("fails the example (non-zero) when the policy refuses the dev node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peercycles-policy-"));
    const path = join(dir, "strict.json");
    await import("node:fs").then((fs) =>
      fs.writeFileSync(path, JSON.stringify({ ...policy, allowSimulated: false })),
    );
    const code = await codeOf(() =>
      main({ PEER_URL: node.url, PEER_API_KEY: node.apiKey, PEER_POLICY: path }, () => undefined),
    );
    expect(code).toBe("attestation_rejected");
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("the three tiers against the dev node", () => {
  for (const tier of ["open", "verified", "confidential"] as const) {
    it(`${tier}: JSON and stream carry peer.verification`, async () => {
      const peer = client(tier);
      const completion = await peer.chat.completions.create({ model: MODEL, messages });
      expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
      const verification = peerVerificationOf(completion);
      expect(verification).toMatchObject({ ok: true, tier });
      expect(verification?.receipt === null).toBe(tier === "open");
      expect(verification?.attestation === null).toBe(tier !== "confidential");
      const streamed = await streamOf(peer);
      expect(streamed.text.length).toBeGreaterThan(0);
      expect(streamed.verification).toMatchObject({ ok: true, tier });
    });
  }

  it("docs/policies/development-simulated.json accepts the dev node's enclave; allowSimulated: false refuses it", async () => {
    const accepted = await client("confidential").chat.completions.create({ model: MODEL, messages });
    expect(peerVerificationOf(accepted)?.simulated).toBe(true);
    const mitm = new ManInTheMiddle();
    const error = await client("confidential", {
      fetch: mitm.fetch,
      policy: { ...policy, allowSimulated: false },
    })
      .chat.completions.create({ model: MODEL, messages })
      .catch((e: unknown) => e);
    expect((error as PeerCyclesError).code).toBe("attestation_rejected");
    expect((error as PeerCyclesError).details?.codes).toContain("bundle_simulated_not_allowed");
    expect(mitm.posts).toBe(0);
  });
});

describe("attacks on the dev node's answers are refused", () => {
  const attested: Array<[Attack, PeerCyclesErrorCode]> = [
    ["bundle-bitflip", "attestation_rejected"],
    ["key-id-lie", "attestation_rejected"],
  ];
  for (const [attack, code] of attested) {
    it(`${attack}: ${code}, no chat request sent`, async () => {
      const mitm = new ManInTheMiddle();
      mitm.attack = attack;
      expect(
        await codeOf(() =>
          client("confidential", { fetch: mitm.fetch }).chat.completions.create({ model: MODEL, messages }),
        ),
      ).toBe(code);
      expect(mitm.posts).toBe(0);
    });
  }

  it("bundle-replay (stale nonce): attestation_rejected", async () => {
    const mitm = new ManInTheMiddle();
    await client("confidential", { fetch: mitm.fetch }).chat.completions.create({ model: MODEL, messages });
    mitm.attack = "bundle-replay";
    const posts = mitm.posts;
    expect(
      await codeOf(() =>
        client("confidential", { fetch: mitm.fetch }).chat.completions.create({ model: MODEL, messages }),
      ),
    ).toBe("attestation_rejected");
    expect(mitm.posts).toBe(posts);
  });

  it("a replayed sealed answer: sealed_response_invalid", async () => {
    const mitm = new ManInTheMiddle();
    const peer = client("confidential", { fetch: mitm.fetch });
    await peer.chat.completions.create({ model: MODEL, messages });
    mitm.attack = "replay-answer";
    expect(await codeOf(() => peer.chat.completions.create({ model: MODEL, messages }))).toBe(
      "sealed_response_invalid",
    );
  });

  const streamAttacks: Array<[Attack, PeerCyclesErrorCode]> = [
    ["replay-stream", "sealed_stream_invalid"],
    ["reorder", "sealed_stream_invalid"],
    ["truncate", "sealed_stream_invalid"],
    ["drop-peer-frame", "sealed_stream_invalid"],
    ["foreign-peer-frame", "receipt_mismatch"],
  ];
  for (const [attack, code] of streamAttacks) {
    it(`stream, ${attack}: ${code}, no verified chunk`, async () => {
      const mitm = new ManInTheMiddle();
      const peer = client("confidential", { fetch: mitm.fetch });
      await streamOf(peer);
      mitm.attack = attack;
      let verified = false;
      const code_ = await codeOf(async () => {
        const result = await streamOf(peer);
        verified = result.verification !== undefined;
      });
      expect(code_).toBe(code);
      expect(verified).toBe(false);
    });
  }

  it("the orchestrator strips peer_tier on a verified call: tier_downgrade", async () => {
    const mitm = new ManInTheMiddle();
    mitm.attack = "strip-tier";
    const peer = client("verified", { fetch: mitm.fetch });
    expect(await codeOf(() => peer.chat.completions.create({ model: MODEL, messages }))).toBe(
      "tier_downgrade",
    );
    expect(await codeOf(() => streamOf(peer))).toBe("tier_downgrade");
  });

  it("the orchestrator routes a sealed call to a non-attested worker: tier_downgrade", async () => {
    const mitm = new ManInTheMiddle();
    mitm.attack = "plaintext-route";
    const peer = client("confidential", { fetch: mitm.fetch });
    expect(await codeOf(() => peer.chat.completions.create({ model: MODEL, messages }))).toBe(
      "tier_downgrade",
    );
    expect(await codeOf(() => streamOf(peer))).toBe("tier_downgrade");
  });
});
