/**
 * A confidential chat with the stock `openai` package, through `PeerCycles` (the OpenAI client
 * with `peerFetch` inside): the prompt is sealed to an attested enclave key, the answer is opened
 * on this machine, and the enclave-signed receipt is checked — for one JSON answer and a stream.
 *
 *   PEER_URL=http://127.0.0.1:8787 PEER_API_KEY=pc_… pnpm --filter @peercycles/example-confidential-openai start
 *
 * PEER_POLICY names the attestation policy (default: docs/policies/development-simulated.json,
 * which accepts the dev node's simulated enclave); PEER_MODEL the model (default peer-tiny).
 * Exits non-zero when any step fails.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PeerCycles, PeerCyclesError, type PeerVerification, peerVerificationOf } from "@peercycles/client";

const DEFAULT_POLICY = fileURLToPath(
  new URL("../../../docs/policies/development-simulated.json", import.meta.url),
);

/** What the example checked. */
export interface ConfidentialOpenAiSummary {
  readonly answer: string;
  readonly streamed: string;
  readonly verification: PeerVerification;
  readonly streamVerification: PeerVerification;
}

function describe(verification: PeerVerification, log: (line: string) => void): void {
  const attestation = verification.attestation;
  log(`  tier ${verification.tier}, worker ${verification.worker}, simulated TEE: ${verification.simulated}`);
  if (attestation) {
    log(
      `  attestation: ${attestation.tee} (TCB ${attestation.tcbStatus}), ${attestation.gpus.length} GPU(s)`,
    );
    for (const [name, value] of Object.entries(attestation.measurements)) log(`    ${name} ${value}`);
    log(`    model ${attestation.model}, weights ${attestation.weightsDigest}`);
    log(`    key id ${attestation.keyId}, bundle trusted until ${attestation.expiresAt}`);
  }
  const receipt = verification.receipt;
  if (receipt) {
    log(`  receipt ${receipt.id} signed by ${receipt.signingKey.slice(0, 16)}…`);
    log(`    request ${receipt.requestHash}`);
    log(`    response ${receipt.responseHash}`);
    log(
      `    usage ${receipt.usage.promptTokens} + ${receipt.usage.completionTokens} tokens, seed ${receipt.seed}`,
    );
  }
}

export async function main(
  env: Record<string, string | undefined> = process.env,
  log: (line: string) => void = console.log,
): Promise<ConfidentialOpenAiSummary> {
  const baseURL = env.PEER_URL;
  const apiKey = env.PEER_API_KEY;
  if (!baseURL || !apiKey)
    throw new Error("set PEER_URL and PEER_API_KEY (peer-cycles node --dev prints both)");
  const policy = JSON.parse(readFileSync(env.PEER_POLICY ?? DEFAULT_POLICY, "utf8"));
  const model = env.PEER_MODEL ?? "peer-tiny";
  const client = new PeerCycles({ baseURL, apiKey, tier: "confidential", policy });
  const messages = [{ role: "user" as const, content: "What does a confidential call guarantee?" }];

  log(`1. Confidential chat (JSON) with ${model} at ${baseURL}`);
  const completion = await client.chat.completions.create({ model, messages });
  const answer = completion.choices[0]?.message.content ?? "";
  const verification = peerVerificationOf(completion);
  if (!verification?.ok || verification.tier !== "confidential")
    throw new Error("the answer is not verified");
  log(`  answer: ${answer}`);
  describe(verification, log);

  log("2. Confidential chat (stream)");
  const stream = await client.chat.completions.create({ model, messages, stream: true });
  let streamed = "";
  let streamVerification: PeerVerification | undefined;
  for await (const chunk of stream) {
    streamed += chunk.choices[0]?.delta?.content ?? "";
    streamVerification ??= peerVerificationOf(chunk);
  }
  if (!streamVerification?.ok || streamVerification.tier !== "confidential") {
    throw new Error("the stream ended without a verified peer chunk");
  }
  log(`  streamed: ${streamed}`);
  describe(streamVerification, log);
  log("Done: both prompts were sealed to the attested enclave; both receipts verified.");
  return { answer, streamed, verification, streamVerification };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    if (PeerCyclesError.isInstance(error)) {
      console.error(`${error.code}: ${error.message}`);
      if (error.details) console.error(JSON.stringify(error.details, null, 2));
      console.error(`see ${error.docsUrl}`);
    } else console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
