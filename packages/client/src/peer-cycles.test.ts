import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PeerCyclesError } from "./errors.js";
import { PeerCycles } from "./peer-cycles.js";
import { peerVerificationOf } from "./peer-verification-of.js";
import { FakeNode } from "./testing/fake-node.js";
import { developmentPolicy } from "./testing/policies.js";
import { serveHandler } from "./testing/serve.js";

let node: FakeNode;
let server: { url: string; close: () => Promise<void> };
beforeAll(async () => {
  node = await FakeNode.create();
  server = await serveHandler(node.handle);
});
afterAll(async () => {
  await server.close();
});

function client(options: Partial<ConstructorParameters<typeof PeerCycles>[0]> = {}) {
  return new PeerCycles({
    baseURL: server.url,
    apiKey: node.apiKey,
    tier: "confidential",
    policy: developmentPolicy(),
    ...options,
  });
}

const messages = [{ role: "user" as const, content: "hello over http" }];

describe("PeerCycles (the openai client with peerFetch inside), over HTTP", () => {
  it("is an OpenAI client with the node's /v1 base URL", () => {
    const peer = client();
    expect(peer).toBeInstanceOf(OpenAI);
    expect(peer.baseURL).toBe(`${server.url}/v1`);
    expect(client({ baseURL: `${server.url}/v1/` }).baseURL).toBe(`${server.url}/v1`);
  });

  it("confidential chat.completions.create: sealed, opened, verified", async () => {
    const completion = await client().chat.completions.create({ model: "peer-mixtral", messages });
    expect(completion.choices[0]?.message.content).toBe("You said: hello over http");
    const verification = peerVerificationOf(completion);
    expect(verification).toMatchObject({
      ok: true,
      tier: "confidential",
      simulated: true,
      worker: node.worker,
    });
    expect(verification?.attestation?.tee).toBe("tdx");
  });

  it("confidential stream: ordinary chunks, then the final chunk with peer.verification", async () => {
    const stream = await client().chat.completions.create({ model: "peer-mixtral", messages, stream: true });
    let text = "";
    let verification: ReturnType<typeof peerVerificationOf>;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      verification ??= peerVerificationOf(chunk);
    }
    expect(text).toBe("You said: hello over http");
    expect(verification).toMatchObject({ ok: true, tier: "confidential" });
    expect(verification?.receipt?.usage.completionTokens).toBeGreaterThan(0);
  });

  it("verified and open tiers", async () => {
    const verified = await client({ tier: "verified" }).chat.completions.create({
      model: "peer-mixtral",
      messages,
    });
    expect(peerVerificationOf(verified)?.tier).toBe("verified");
    const open = await client({ tier: "open" }).chat.completions.create({ model: "peer-mixtral", messages });
    expect(peerVerificationOf(open)?.tier).toBe("open");
  });

  it("a failed check rejects with the PeerCyclesError itself, not retried", async () => {
    node.tamper = "receipt-wrong-key";
    try {
      const chats = node.seen.chats;
      const error = await client()
        .chat.completions.create({ model: "peer-mixtral", messages })
        .catch((e: unknown) => e);
      expect(PeerCyclesError.isInstance(error)).toBe(true);
      expect((error as PeerCyclesError).code).toBe("receipt_mismatch");
      expect(node.seen.chats - chats).toBe(1);
    } finally {
      node.tamper = "none";
    }
  });

  it("a failed stream check throws from the iterator before [DONE]", async () => {
    node.tamper = "stream-truncate";
    try {
      const stream = await client().chat.completions.create({
        model: "peer-mixtral",
        messages,
        stream: true,
      });
      let verified = false;
      const error = await (async () => {
        for await (const chunk of stream) if (peerVerificationOf(chunk)) verified = true;
      })().catch((e: unknown) => e);
      expect((error as PeerCyclesError).code).toBe("sealed_stream_invalid");
      expect(verified).toBe(false);
    } finally {
      node.tamper = "none";
    }
  });

  it("an attestation refused by the policy: attestation_rejected, no chat request sent", async () => {
    const chats = node.seen.chats;
    const error = await client({ policy: developmentPolicy({ allowSimulated: false }) })
      .chat.completions.create({ model: "peer-mixtral", messages })
      .catch((e: unknown) => e);
    expect((error as PeerCyclesError).code).toBe("attestation_rejected");
    expect(node.seen.chats).toBe(chats);
  });

  it("a node error answer is the openai client's APIError", async () => {
    const error = await client({ apiKey: "pc_wrong" })
      .chat.completions.create({ model: "peer-mixtral", messages })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("refuses bad options with argument_invalid", () => {
    expect(() => new PeerCycles({ baseURL: "not a url" })).toThrow(PeerCyclesError);
    expect(() => client({ tier: "secret" as never })).toThrow(/tier/);
    expect(() => client({ policy: { allowSimulated: "yes" } })).toThrow(/policy/);
  });
});
