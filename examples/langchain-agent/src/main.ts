/**
 * A LangChain agent with one tool on `ChatPeerCycles`, on each tier: the model asks for the tool,
 * the agent runs it and hands the result back, and the model answers (streamed). Every model turn
 * is verified by @peercycles/client, and the agent prints what each verification says — a receipt
 * on `verified`, an enclave attestation and receipt on `confidential` — read from the message's
 * `response_metadata`.
 *
 *   PEER_URL=http://127.0.0.1:8787 PEER_API_KEY=pc_… pnpm --filter @peercycles/example-langchain-agent start
 *
 * (`pnpm start` at the repository root runs a development node and prints both values.) PEER_POLICY
 * names the attestation policy (default: docs/policies/development-simulated.json, which accepts the
 * dev node's simulated enclave). Exits non-zero when any step fails.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type AIMessageChunk, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import {
  ChatPeerCycles,
  PeerCyclesError,
  type PeerVerification,
  peerVerificationOfMessage,
} from "@peercycles/langchain";
import { z } from "zod";

const DEFAULT_POLICY = fileURLToPath(
  new URL("../../../docs/policies/development-simulated.json", import.meta.url),
);
const TIERS = ["open", "verified", "confidential"] as const;
type Tier = (typeof TIERS)[number];

/** What the agent did on one tier, for the test. */
export interface AgentRun {
  readonly tier: Tier;
  readonly toolCall: { readonly name: string; readonly args: Record<string, unknown> };
  readonly answer: string;
  /** One per model turn: the tool call, then the answer. */
  readonly verifications: readonly PeerVerification[];
}

const WEATHER: Record<string, { temperature: number; conditions: string }> = {
  Lisbon: { temperature: 24, conditions: "sunny" },
  Oslo: { temperature: 9, conditions: "rain" },
};

/** The agent's tool: the weather of a city, from a table. */
const getWeather = tool(
  async ({ city }) => JSON.stringify(WEATHER[city] ?? { temperature: 15, conditions: "unknown" }),
  {
    name: "get_weather",
    description: "Get the current weather of a city",
    schema: z.object({ city: z.string().describe("the city, e.g. Lisbon") }),
  },
);

function fail(message: string): never {
  throw new Error(`langchain-agent example: ${message}`);
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

/** Runs the agent once: question → tool call → tool result → streamed answer. */
async function runAgent(model: ChatPeerCycles, tier: Tier, log: (line: string) => void): Promise<AgentRun> {
  const agent = model.bindTools([getWeather]);
  const messages: BaseMessage[] = [new HumanMessage("What is the weather in Lisbon?")];
  const verifications: PeerVerification[] = [];

  const call = await agent.invoke(messages);
  const toolCall = call.tool_calls?.[0] ?? fail(`${tier}: the model called no tool`);
  const callVerification = peerVerificationOfMessage(call) ?? fail(`${tier}: the tool call is not verified`);
  if (callVerification.tier !== tier) fail(`${tier}: served on ${callVerification.tier}`);
  verifications.push(callVerification);
  log(`  1. the model calls ${toolCall.name}(${JSON.stringify(toolCall.args)})`);
  describeVerification(callVerification, log);

  const result = await getWeather.invoke(toolCall);
  if (!(result instanceof ToolMessage)) fail(`${tier}: the tool returned no ToolMessage`);
  log(`  2. the agent runs it: ${result.content}`);
  messages.push(call, result);

  let answer: AIMessageChunk | undefined;
  for await (const chunk of await agent.stream(messages)) answer = answer ? answer.concat(chunk) : chunk;
  const text = typeof answer?.content === "string" ? answer.content : "";
  if (text.length === 0) fail(`${tier}: no answer`);
  const answerVerification = peerVerificationOfMessage(answer) ?? fail(`${tier}: the answer is not verified`);
  if (answerVerification.tier !== tier) fail(`${tier}: served on ${answerVerification.tier}`);
  verifications.push(answerVerification);
  log(`  3. the model answers (streamed): ${text}`);
  describeVerification(answerVerification, log);
  return { tier, toolCall: { name: toolCall.name, args: toolCall.args }, answer: text, verifications };
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
    const model = new ChatPeerCycles({
      model: env.PEER_MODEL ?? "peer-tiny",
      apiKey,
      configuration: { baseURL },
      tier,
      policy,
    });
    runs.push(await runAgent(model, tier, log));
  }
  log("Done: every model turn was verified on its tier.");
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
