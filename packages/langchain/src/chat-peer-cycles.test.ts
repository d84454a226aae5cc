/**
 * ChatPeerCycles against the reference node (`startNode({ dev: true })`: open, verified and
 * confidential workers, the last on the simulated enclave), through LangChain's own entry points.
 * Tampering runs through a fetch between the client and the real node.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AIMessageChunk } from "@langchain/core/messages";
import { ToolMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { type PeerCyclesErrorCode, PeerCyclesError as PeerCyclesErrorOfClient } from "@peercycles/client";
import { type RunningNode, startNode } from "@peercycles/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ChatPeerCycles,
  type ChatPeerCyclesFields,
  PeerCyclesError,
  peerVerificationOfMessage,
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
  dataDir = mkdtempSync(join(tmpdir(), "peercycles-langchain-"));
  // No cheating verified worker here: it appends a word to half its answers (caught later by the
  // validator, tested in packages/node), and these tests compare answers exactly.
  node = await startNode({ dev: true, port: 0, dataDir, cheatRate: 0 });
}, 120_000);
afterAll(async () => {
  await node?.close({ graceMs: 1000 });
  rmSync(dataDir, { recursive: true, force: true });
});

function chat(tier: Tier, fields: ChatPeerCyclesFields = {}): ChatPeerCycles {
  return new ChatPeerCycles({
    model: "peer-tiny",
    apiKey: node.apiKey,
    tier,
    policy,
    maxTokens: 24,
    ...fields,
    configuration: { baseURL: node.url, ...fields.configuration },
  });
}

function expectVerified(message: unknown, tier: Tier): void {
  const verification = peerVerificationOfMessage(message);
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

const getWeather = tool(async ({ city }) => JSON.stringify({ temperature: 21, conditions: "sunny", city }), {
  name: "get_weather",
  description: "Get the current weather of a city",
  schema: z.object({ city: z.string().describe("the city") }),
});

const Trip = z.object({ city: z.string(), days: z.number().int() });

describe.each(TIERS)(
  "ChatPeerCycles on the %s tier",
  (tier) => {
    it("invoke: the answer's response_metadata carries peer.verification", async () => {
      const message = await chat(tier).invoke("tell me about sealed prompts");
      expect(typeof message.content).toBe("string");
      expect((message.content as string).length).toBeGreaterThan(0);
      expect(message.response_metadata.peer).toMatchObject({ tier, model: "peer-tiny" });
      expectVerified(message, tier);
      expect(message.usage_metadata?.output_tokens).toBeGreaterThan(0);
    });

    it("stream: only the final chunk carries peer.verification, and so does the concatenation", async () => {
      const chunks: AIMessageChunk[] = [];
      // Greedy (temperature 0): this prompt gives a long answer.
      for await (const chunk of await chat(tier, { temperature: 0 }).stream(
        "Explain the attestation bundle",
      )) {
        chunks.push(chunk);
      }
      expect(chunks.filter((chunk) => chunk.content !== "").length).toBeGreaterThan(2);
      expectVerified(chunks.at(-1), tier);
      expect(chunks.slice(0, -1).filter((chunk) => peerVerificationOfMessage(chunk))).toHaveLength(0);
      const full = chunks.reduce((all, chunk) => all.concat(chunk));
      expect((full.content as string).length).toBeGreaterThan(0);
      expectVerified(full, tier);
    });

    it("streamEvents (content-block protocol): message-finish and the assembled message carry the verification", async () => {
      const events: Array<{ event: string; responseMetadata?: unknown }> = [];
      const stream = chat(tier, { temperature: 0 }).streamEvents("Explain the attestation bundle");
      for await (const event of stream) events.push(event as (typeof events)[number]);
      const finish = events.find((event) => event.event === "message-finish");
      expectVerified({ response_metadata: finish?.responseMetadata }, tier);
      expect(events.filter((event) => event.event === "content-block-delta").length).toBeGreaterThan(2);
      expectVerified(await stream, tier);
    });

    it("streaming: true: invoke streams underneath and the message still carries the verification", async () => {
      const tokens: string[] = [];
      const message = await chat(tier, { streaming: true }).invoke("tell me about receipts", {
        callbacks: [{ handleLLMNewToken: (token: string) => void tokens.push(token) }],
      });
      expect(tokens.join("")).toBe(message.content);
      expectVerified(message, tier);
      const receipt = peerVerificationOfMessage(message)?.receipt;
      if (receipt) expect(message.usage_metadata?.output_tokens).toBe(receipt.usage.completionTokens);
    });

    it("batch: each message verified on its own", async () => {
      const messages = await chat(tier).batch(["what is a worker?", "what is an enclave?"]);
      expect(messages).toHaveLength(2);
      for (const message of messages) expectVerified(message, tier);
      const jobs = messages.map((message) => (message.response_metadata.peer as { job_id: string }).job_id);
      expect(new Set(jobs).size).toBe(2);
    });

    it("bindTools: a tool call, then the tool's result answered, each verified", async () => {
      const model = chat(tier).bindTools([getWeather]);
      const question = "What is the weather in Paris?";
      const call = await model.invoke(question);
      expect(call.tool_calls).toEqual([
        {
          type: "tool_call",
          id: expect.stringMatching(/^call_/),
          name: "get_weather",
          args: { city: "Paris" },
        },
      ]);
      expectVerified(call, tier);
      const result = await getWeather.invoke(call.tool_calls![0]!);
      expect(result).toBeInstanceOf(ToolMessage);
      const answer = await model.invoke([{ role: "user", content: question }, call, result]);
      expect(answer.content).toBe(
        "According to get_weather, temperature is 21, conditions is sunny, city is Paris.",
      );
      expectVerified(answer, tier);
    });

    it("bindTools, streamed: the tool call chunks assemble and the final chunk is verified", async () => {
      let full: AIMessageChunk | undefined;
      for await (const chunk of await chat(tier).bindTools([getWeather]).stream("weather in Rome?")) {
        full = full ? full.concat(chunk) : chunk;
      }
      expect(full?.tool_calls?.[0]).toMatchObject({ name: "get_weather", args: { city: "Rome" } });
      expectVerified(full, tier);
    });

    it("withStructuredOutput (json_schema): parsed by zod, the raw message verified", async () => {
      const structured = chat(tier).withStructuredOutput(Trip, { name: "trip", includeRaw: true });
      const { parsed, raw } = await structured.invoke("Plan 3 days in Rome");
      expect(parsed).toEqual({ city: "Rome", days: 3 });
      expectVerified(raw, tier);
    });

    it("withStructuredOutput (functionCalling), streamed", async () => {
      const structured = chat(tier).withStructuredOutput(Trip, {
        name: "plan_trip",
        method: "functionCalling",
      });
      let last: unknown;
      for await (const partial of await structured.stream("Plan 4 days in Lisbon")) last = partial;
      expect(last).toEqual({ city: "Lisbon", days: 4 });
    });

    it("callbacks: handleLLMEnd sees the verified generation", async () => {
      let output: LLMResult | undefined;
      await chat(tier).invoke("hello", {
        callbacks: [
          {
            handleLLMEnd: (result: LLMResult) => {
              output = result;
            },
          },
        ],
      });
      const generation = output?.generations[0]?.[0] as { message?: unknown } | undefined;
      expectVerified(generation?.message, tier);
    });
  },
  60_000,
);

describe("refusals surface through LangChain's error path", () => {
  it("a tampered attestation bundle: invoke and stream reject with attestation_rejected, nothing sent, no retry", async () => {
    const tampering = new TamperingFetch();
    tampering.tampering = "bundle";
    const model = chat("confidential", { configuration: { fetch: tampering.fetch } });
    const error = await model.invoke("my medical notes").catch((e: unknown) => e);
    expect(PeerCyclesError.isInstance(error)).toBe(true);
    expect(PeerCyclesErrorOfClient.isInstance(error)).toBe(true);
    expect((error as PeerCyclesError).code).toBe("attestation_rejected");
    expect((error as PeerCyclesError).retryable).toBe(false);
    expect(tampering.attestations).toBe(1);
    expect(
      await codeOf(async () => {
        for await (const _ of await model.stream("my medical notes"));
      }),
    ).toBe("attestation_rejected");
    expect(await codeOf(() => model.bindTools([getWeather]).invoke("weather in Paris?"))).toBe(
      "attestation_rejected",
    );
    expect(await codeOf(() => model.withStructuredOutput(Trip).invoke("3 days in Rome"))).toBe(
      "attestation_rejected",
    );
    expect(tampering.posts).toBe(0);
  });

  it("a policy that refuses simulated enclaves: attestation_rejected, handleLLMError sees it", async () => {
    const errors: unknown[] = [];
    const model = chat("confidential", { policy: { ...policy, allowSimulated: false } });
    const error = await model
      .invoke("hello", { callbacks: [{ handleLLMError: (e: unknown) => void errors.push(e) }] })
      .catch((e: unknown) => e);
    expect((error as PeerCyclesError).code).toBe("attestation_rejected");
    expect((error as PeerCyclesError).details?.codes).toContain("bundle_simulated_not_allowed");
    expect(errors).toEqual([error]);
  });

  it("a tampered sealed answer and a tampered sealed stream are refused", async () => {
    const tampering = new TamperingFetch();
    const model = chat("confidential", { configuration: { fetch: tampering.fetch } });
    await model.invoke("hello");
    tampering.tampering = "sealed-answer";
    expect(await codeOf(() => model.invoke("hello"))).toBe("sealed_response_invalid");
    let verified = false;
    const code = await codeOf(async () => {
      for await (const chunk of await model.stream("hello")) verified ||= !!peerVerificationOfMessage(chunk);
    });
    expect(code).toBe("sealed_stream_invalid");
    expect(verified).toBe(false);
  });

  it("the node's own errors stay LangChain's (a wrong key: 401, not retried)", async () => {
    const model = chat("verified", { apiKey: "pc_wrong" });
    const error = (await model.invoke("hello").catch((e: unknown) => e)) as {
      status?: number;
      lc_error_code?: string;
    };
    expect(PeerCyclesError.isInstance(error)).toBe(false);
    expect(error.status).toBe(401);
    expect(error.lc_error_code).toBe("MODEL_AUTHENTICATION");
  });
});

describe("options", () => {
  it("needs the node's URL, and never falls back to OPENAI_BASE_URL or OPENAI_API_KEY", () => {
    const saved = { ...process.env };
    try {
      process.env.OPENAI_BASE_URL = "https://api.openai.com/v1";
      process.env.OPENAI_API_KEY = "sk-should-never-leave";
      delete process.env.PEER_URL;
      delete process.env.PEER_API_KEY;
      expect(() => new ChatPeerCycles()).toThrow(/configuration\.baseURL/);
      process.env.PEER_URL = node.url;
      const model = new ChatPeerCycles();
      expect(model.model).toBe("peer-tiny");
      expect(model.peerCycles.baseURL).toBe(`${node.url}/v1`);
      expect(model.peerCycles.apiKey).not.toBe("sk-should-never-leave");
      expect(model.apiKey).not.toBe("sk-should-never-leave");
    } finally {
      process.env = saved;
    }
  });

  it("takes the model first, as ChatOpenAI does; withConfig/bindTools copies stay ChatPeerCycles and share the attestation", async () => {
    const tampering = new TamperingFetch();
    const model = new ChatPeerCycles("peer-tiny", {
      apiKey: node.apiKey,
      tier: "confidential",
      policy,
      configuration: { baseURL: node.url, fetch: tampering.fetch },
    });
    expect(model.tier).toBe("confidential");
    const bound = model.bindTools([getWeather]);
    expect(bound).toBeInstanceOf(ChatPeerCycles);
    expect((bound as ChatPeerCycles).peerCycles).toBe(model.peerCycles);
    await model.invoke("hello");
    await bound.invoke("weather in Paris?");
    expect(tampering.attestations).toBe(1);
    expect(tampering.posts).toBe(2);
    expect(ChatPeerCycles.lc_name()).toBe("ChatPeerCycles");
    expect(model._llmType()).toBe("peercycles");
  });

  it("a bad tier is the client's argument_invalid", () => {
    expect(() => chat("nonsense" as Tier)).toThrow(expect.objectContaining({ code: "argument_invalid" }));
  });
});
