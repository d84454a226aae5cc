/**
 * A Vercel AI SDK agent with one tool on the Peer Cycles provider, on each tier: `streamText` with
 * a tool and `stopWhen`, so the model asks for the tool, the AI SDK runs it and hands the result back,
 * and the model answers. Every step is verified by @peercycles/client, and the agent prints what
 * each step's verification says — a receipt on `verified`, an enclave attestation and receipt on
 * `confidential` — read from `providerMetadata.peercycles`.
 *
 *   PEER_URL=http://127.0.0.1:8787 PEER_API_KEY=pc_… pnpm --filter @peercycles/example-vercel-ai start
 *
 * (`pnpm start` at the repository root runs a development node and prints both values.) PEER_POLICY
 * names the attestation policy (default: docs/policies/development-simulated.json, which accepts the
 * dev node's simulated enclave). Exits non-zero when any step fails.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  createPeerCycles,
  PeerCyclesError,
  type PeerVerification,
  peerVerificationOfMetadata,
} from "@peercycles/ai-sdk";
import { stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const DEFAULT_POLICY = fileURLToPath(
  new URL("../../../docs/policies/development-simulated.json", import.meta.url),
);
const TIERS = ["open", "verified", "confidential"] as const;
type Tier = (typeof TIERS)[number];

/** What the agent did on one tier, for the test. */
export interface AgentRun {
  readonly tier: Tier;
  readonly toolCall: { readonly name: string; readonly input: unknown };
  readonly answer: string;
  /** One per step: the tool call, then the answer. */
  readonly verifications: readonly PeerVerification[];
}

const WEATHER: Record<string, { temperature: number; conditions: string }> = {
  Lisbon: { temperature: 24, conditions: "sunny" },
  Oslo: { temperature: 9, conditions: "rain" },
};

/** The agent's tool: the weather of a city, from a table. */
const getWeather = tool({
  description: "Get the current weather of a city",
  inputSchema: z.object({ city: z.string().describe("the city, e.g. Oslo") }),
  execute: async ({ city }) => WEATHER[city] ?? { temperature: 15, conditions: "unknown" },
});

function fail(message: string): never {
  throw new Error(`vercel-ai example: ${message}`);
}

function describeVerification(verification: PeerVerification, log: (line: string) => void): void {
  const parts = [`tier ${verification.tier}`, `worker ${verification.worker ?? "-"}`];
  if (verification.receipt) parts.push(`receipt ${verification.receipt.id.slice(0, 16)}…`);
  if (verification.attestation) {
    const attestation = verification.attestation;
    parts.push(`enclave ${attestation.tee}/${attestation.gpus.map((gpu) => gpu.architecture).join("+")}`);
    parts.push(`weights ${attestation.weightsDigest.slice(0, 16)}…`);
    if (attestation.simulated) parts.push("SIMULATED TEE");
  }
  log(`     verified: ${parts.join(", ")}`);
}

export async function main(
  env: Record<string, string | undefined> = process.env,
  log: (line: string) => void = console.log,
): Promise<AgentRun[]> {
  const baseURL = env.PEER_URL ?? fail("set PEER_URL to the node's URL (pnpm start prints it)");
  const apiKey = env.PEER_API_KEY ?? fail("set PEER_API_KEY (pnpm start prints the development key)");
  const policy = JSON.parse(readFileSync(env.PEER_POLICY ?? DEFAULT_POLICY, "utf8"));
  const runs: AgentRun[] = [];
  for (const tier of TIERS) {
    log(`${runs.length + 1}/3 ${tier} tier`);
    const peer = createPeerCycles({ baseURL, apiKey, tier, policy });
    const result = streamText({
      model: peer(env.PEER_MODEL ?? "peer-tiny"),
      prompt: "What is the weather in Oslo?",
      tools: { get_weather: getWeather },
      stopWhen: stepCountIs(3),
      onError: () => undefined, // errors arrive as `error` parts below, and end the run
    });
    const verifications: PeerVerification[] = [];
    let toolCall: AgentRun["toolCall"] | undefined;
    let answer = "";
    for await (const part of result.fullStream) {
      switch (part.type) {
        case "error":
          throw part.error;
        case "tool-call":
          toolCall = { name: part.toolName, input: part.input };
          log(`  the model calls ${part.toolName}(${JSON.stringify(part.input)})`);
          break;
        case "tool-result":
          log(`  the AI SDK runs it: ${JSON.stringify(part.output)}`);
          break;
        case "text-delta":
          answer += part.text;
          break;
        case "finish-step": {
          const verification =
            peerVerificationOfMetadata(part.providerMetadata) ?? fail(`${tier}: a step is not verified`);
          if (verification.tier !== tier) fail(`${tier}: served on ${verification.tier}`);
          verifications.push(verification);
          if (answer) log(`  the model answers (streamed): ${answer}`);
          describeVerification(verification, log);
          break;
        }
      }
    }
    if (!toolCall) fail(`${tier}: the model called no tool`);
    if (answer.length === 0) fail(`${tier}: no answer`);
    runs.push({ tier, toolCall, answer, verifications });
  }
  log("Done: every step was verified on its tier.");
  return runs;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    if (PeerCyclesError.isInstance(error)) {
      console.error(`${error.code}: ${error.message}`);
      console.error(`see ${error.docsUrl}`);
    } else console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
