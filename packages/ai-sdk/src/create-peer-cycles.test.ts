/**
 * The Peer Cycles provider against the reference node (`startNode({ dev: true })`: open, verified
 * and confidential workers, the last on the simulated enclave), through the AI SDK's own functions.
 * Tampering runs through a fetch between the client and the real node.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APICallError, LoadSettingError, NoSuchModelError } from "@ai-sdk/provider";
import { type PeerCyclesErrorCode, PeerCyclesError as PeerCyclesErrorOfClient } from "@peercycles/client";
import { type RunningNode, startNode } from "@peercycles/node";
import { generateObject, generateText, Output, stepCountIs, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createPeerCycles,
  PeerCyclesError,
  type PeerCyclesProviderSettings,
  peerVerificationOfMetadata,
} from "./index.js";
import { TamperingFetch } from "./testing/tampering-fetch.js";

const policy = JSON.parse(
  readFileSync(new URL("../../../docs/policies/development-simulated.json", import.meta.url), "utf8"),
);
const TIERS = ["open", "verified", "confidential"] as const;
type Tier = (typeof TIERS)[number];

let node: RunningNode;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "peercycles-ai-sdk-"));
  // No cheating verified worker here: it appends a word to half its answers (caught later by the
  // validator, tested in packages/node), and these tests compare answers exactly.
  node = await startNode({ dev: true, port: 0, dataDir, cheatRate: 0 });
}, 120_000);
afterAll(async () => {
  await node?.close({ graceMs: 1000 });
  rmSync(dataDir, { recursive: true, force: true });
});

function provider(tier: Tier, settings: PeerCyclesProviderSettings = {}) {
  return createPeerCycles({ baseURL: node.url, apiKey: node.apiKey, tier, policy, ...settings });
}

function expectVerified(providerMetadata: unknown, tier: Tier): void {
  const verification = peerVerificationOfMetadata(providerMetadata);
  expect(verification).toMatchObject({ ok: true, tier });
  expect(verification?.receipt === null).toBe(tier === "open");
  expect(verification?.attestation === null).toBe(tier !== "confidential");
  if (tier === "confidential") {
    expect(verification?.simulated).toBe(true);
    expect(verification?.attestation?.model).toBe("peer-tiny");
  }
  if (tier !== "open") expect(verification?.receipt?.model).toBe("peer-tiny");
}

async function codeOf(run: () => Promise<unknown>): Promise<PeerCyclesErrorCode | string> {
  try {
    await run();
    return "no error";
  } catch (error) {
    return PeerCyclesError.isInstance(error) ? error.code : String(error);
  }
}

const getWeather = tool({
  description: "Get the current weather of a city",
  inputSchema: z.object({ city: z.string().describe("the city") }),
  execute: async ({ city }) => ({ temperature: 21, conditions: "sunny", city }),
});

const Trip = z.object({ city: z.string(), days: z.number().int() });

describe.each(TIERS)(
  "the provider on the %s tier",
  (tier) => {
    it("generateText: providerMetadata.peercycles carries peer.verification; usage is the receipt's", async () => {
      const result = await generateText({
        model: provider(tier)("peer-tiny"),
        prompt: "tell me about sealed prompts",
        maxOutputTokens: 24,
      });
      expect(result.text.length).toBeGreaterThan(0);
      expect(result.providerMetadata?.peercycles).toMatchObject({ tier, model: "peer-tiny" });
      expectVerified(result.providerMetadata, tier);
      const receipt = peerVerificationOfMetadata(result.providerMetadata)?.receipt;
      if (receipt) expect(result.usage.outputTokens).toBe(receipt.usage.completionTokens);
    });

    it("streamText: the text streams, and the finish part carries the verification", async () => {
      const result = streamText({
        model: provider(tier)("peer-tiny"),
        prompt: "Explain the attestation bundle",
        maxOutputTokens: 24,
        temperature: 0, // greedy: this prompt gives a long answer
      });
      const deltas: string[] = [];
      let finishMetadata: unknown;
      for await (const part of result.fullStream) {
        if (part.type === "text-delta") deltas.push(part.text);
        if (part.type === "finish-step") finishMetadata = part.providerMetadata;
        if (part.type === "error") throw part.error;
      }
      expect(deltas.length).toBeGreaterThan(2);
      expect(await result.text).toBe(deltas.join(""));
      expectVerified(finishMetadata, tier);
      expectVerified(await result.providerMetadata, tier);
      const receipt = peerVerificationOfMetadata(await result.providerMetadata)?.receipt;
      if (receipt) expect((await result.usage).outputTokens).toBe(receipt.usage.completionTokens);
    });

    it("tools: a tool call, its result answered, each step verified", async () => {
      const result = await generateText({
        model: provider(tier)("peer-tiny"),
        prompt: "What is the weather in Paris?",
        tools: { get_weather: getWeather },
        stopWhen: stepCountIs(3),
      });
      expect(result.steps).toHaveLength(2);
      expect(result.steps[0]?.toolCalls).toMatchObject([
        { toolName: "get_weather", input: { city: "Paris" } },
      ]);
      expect(result.text).toBe(
        "According to get_weather, temperature is 21, conditions is sunny, city is Paris.",
      );
      for (const step of result.steps) expectVerified(step.providerMetadata, tier);
    });

    it("tools, streamed: each step's finish carries its own verification", async () => {
      const result = streamText({
        model: provider(tier)("peer-tiny"),
        prompt: "What is the weather in Rome?",
        tools: { get_weather: getWeather },
        stopWhen: stepCountIs(3),
      });
      const stepMetadata: unknown[] = [];
      for await (const part of result.fullStream) {
        if (part.type === "finish-step") stepMetadata.push(part.providerMetadata);
        if (part.type === "error") throw part.error;
      }
      expect(await result.text).toBe(
        "According to get_weather, temperature is 21, conditions is sunny, city is Rome.",
      );
      expect(stepMetadata).toHaveLength(2);
      for (const metadata of stepMetadata) expectVerified(metadata, tier);
      const jobs = stepMetadata.map(
        (metadata) => (metadata as { peercycles: { job_id: string } }).peercycles.job_id,
      );
      expect(new Set(jobs).size).toBe(2);
    });

    it("generateObject (json_schema): the object parsed, the answer verified", async () => {
      const result = await generateObject({
        model: provider(tier)("peer-tiny"),
        schema: Trip,
        prompt: "Plan 3 days in Rome",
      });
      expect(result.object).toEqual({ city: "Rome", days: 3 });
      expectVerified(result.providerMetadata, tier);
    });

    it("Output.object, generated and streamed", async () => {
      const generated = await generateText({
        model: provider(tier)("peer-tiny"),
        output: Output.object({ schema: Trip }),
        prompt: "Plan 4 days in Lisbon",
      });
      expect(generated.output).toEqual({ city: "Lisbon", days: 4 });
      expectVerified(generated.providerMetadata, tier);
      const streamed = streamText({
        model: provider(tier)("peer-tiny"),
        output: Output.object({ schema: Trip }),
        prompt: "Plan 5 days in Oslo",
      });
      let partial: unknown;
      for await (const value of streamed.partialOutputStream) partial = value;
      expect(partial).toEqual({ city: "Oslo", days: 5 });
      expect(await streamed.output).toEqual({ city: "Oslo", days: 5 });
      expectVerified(await streamed.providerMetadata, tier);
    });
  },
  60_000,
);

describe("refusals surface through the AI SDK's error path", () => {
  it("a tampered attestation bundle: generateText, generateObject and streamText refuse with attestation_rejected, nothing sent, no retry", async () => {
    const tampering = new TamperingFetch();
    tampering.tampering = "bundle";
    const model = provider("confidential", { fetch: tampering.fetch })("peer-tiny");
    const error = await generateText({ model, prompt: "my medical notes" }).catch((e: unknown) => e);
    expect(PeerCyclesError.isInstance(error)).toBe(true);
    expect(PeerCyclesErrorOfClient.isInstance(error)).toBe(true);
    expect((error as PeerCyclesError).code).toBe("attestation_rejected");
    expect(tampering.attestations).toBe(1);
    expect(await codeOf(() => generateObject({ model, schema: Trip, prompt: "3 days in Rome" }))).toBe(
      "attestation_rejected",
    );
    const errors: unknown[] = [];
    const parts: unknown[] = [];
    const stream = streamText({
      model,
      prompt: "my medical notes",
      onError: ({ error }) => void errors.push(error),
    });
    for await (const part of stream.fullStream) if (part.type === "error") parts.push(part.error);
    expect(parts.map((e) => (e as PeerCyclesError).code)).toEqual(["attestation_rejected"]);
    expect(errors).toEqual(parts);
    expect(tampering.attestations).toBe(3);
    expect(tampering.posts).toBe(0);
  });

  it("a policy that refuses simulated enclaves: attestation_rejected", async () => {
    const model = provider("confidential", { policy: { ...policy, allowSimulated: false } })("peer-tiny");
    const error = (await generateText({ model, prompt: "hello" }).catch(
      (e: unknown) => e,
    )) as PeerCyclesError;
    expect(error.code).toBe("attestation_rejected");
    expect(error.details?.codes).toContain("bundle_simulated_not_allowed");
  });

  it("a tampered sealed answer and a tampered sealed stream: the client's codes, not an APICallError", async () => {
    const tampering = new TamperingFetch();
    const model = provider("confidential", { fetch: tampering.fetch })("peer-tiny");
    await generateText({ model, prompt: "hello" });
    tampering.tampering = "sealed-answer";
    expect(await codeOf(() => generateText({ model, prompt: "hello" }))).toBe("sealed_response_invalid");
    const errors: unknown[] = [];
    let verified = false;
    const stream = streamText({ model, prompt: "hello", onError: ({ error }) => void errors.push(error) });
    const thrown = await (async () => {
      for await (const part of stream.fullStream) {
        if (part.type === "error") errors.push(part.error);
        if (part.type === "finish-step") verified ||= !!peerVerificationOfMetadata(part.providerMetadata);
      }
    })().catch((e: unknown) => e);
    const codes = [...errors, ...(thrown ? [thrown] : [])].map((e) => (e as PeerCyclesError).code);
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(["sealed_stream_invalid"]));
    expect(verified).toBe(false);
  });

  it("the node's own errors stay the AI SDK's (a wrong key: APICallError 401)", async () => {
    const model = provider("verified", { apiKey: "pc_wrong" })("peer-tiny");
    const error = await generateText({ model, prompt: "hello", maxRetries: 0 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).statusCode).toBe(401);
  });
});

describe("settings", () => {
  it("needs the node's URL (LoadSettingError), reads PEER_URL and PEER_API_KEY, takes it with or without /v1", async () => {
    const saved = { ...process.env };
    try {
      delete process.env.PEER_URL;
      delete process.env.PEER_API_KEY;
      expect(() => createPeerCycles()).toThrow(LoadSettingError);
      process.env.PEER_URL = node.url;
      process.env.PEER_API_KEY = node.apiKey;
      const fromEnvironment = createPeerCycles({ tier: "open" });
      expect(
        (await generateText({ model: fromEnvironment("peer-tiny"), prompt: "hi" })).text.length,
      ).toBeGreaterThan(0);
      const withV1 = createPeerCycles({ baseURL: `${node.url}/v1/`, tier: "open" });
      expectVerified(
        (await generateText({ model: withV1("peer-tiny"), prompt: "hi" })).providerMetadata,
        "open",
      );
    } finally {
      process.env = saved;
    }
  });

  it("is a v4 provider of chat models: peer(id), languageModel, chatModel; no embedding or image models", () => {
    const peer = provider("verified");
    expect(peer.specificationVersion).toBe("v4");
    for (const model of [peer("peer-tiny"), peer.languageModel("peer-tiny"), peer.chatModel("peer-tiny")]) {
      expect(model).toMatchObject({
        specificationVersion: "v4",
        provider: "peercycles.chat",
        modelId: "peer-tiny",
      });
    }
    expect(() => peer.embeddingModel("peer-tiny")).toThrow(NoSuchModelError);
    expect(() => peer.imageModel("peer-tiny")).toThrow(NoSuchModelError);
  });

  it("name sets the providerMetadata key; models share the provider's attestation", async () => {
    const tampering = new TamperingFetch();
    const peer = provider("confidential", { name: "my-node", fetch: tampering.fetch });
    const first = await generateText({ model: peer("peer-tiny"), prompt: "hi" });
    const second = await generateText({ model: peer.chatModel("peer-tiny"), prompt: "hi" });
    expect(peerVerificationOfMetadata(first.providerMetadata)).toBeUndefined();
    for (const result of [first, second]) {
      expect(peerVerificationOfMetadata(result.providerMetadata, "my-node")?.tier).toBe("confidential");
    }
    expect(tampering.attestations).toBe(1);
    expect(peer.peerFetch.cache).toBeDefined();
  });

  it("a bad tier is the client's argument_invalid", () => {
    expect(() => provider("nonsense" as Tier)).toThrow(expect.objectContaining({ code: "argument_invalid" }));
  });
});
