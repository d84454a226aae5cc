/**
 * The stock `openai` package against a Peer Cycles node: only the base URL changes.
 *
 *   PEER_URL=http://127.0.0.1:8787 PEER_API_KEY=pc_… pnpm --filter @peercycles/example-openai-sdk start
 *
 * (`pnpm start` at the repository root runs a development node and prints both values.) Each step
 * checks what it got and the example exits non-zero when one fails.
 */
import { fileURLToPath } from "node:url";
import OpenAI from "openai";

/** The `peer` object every answer carries (see @peercycles/protocol's PeerInfo). */
interface Peer {
  tier: string;
  worker: string;
  job_id: string;
  price_credits: number;
  receipt: { id: string };
}

/** What the example saw, for its test. */
export interface OpenAiSdkSummary {
  readonly json: { text: string; peer: Peer };
  readonly stream: { text: string; chunks: number; peer: Peer };
  readonly open: { peer: Peer };
}

function fail(message: string): never {
  throw new Error(`openai-sdk example: ${message}`);
}

export async function main(
  env: Record<string, string | undefined> = process.env,
  log: (line: string) => void = console.log,
): Promise<OpenAiSdkSummary> {
  const baseURL = env.PEER_URL ?? fail("set PEER_URL to the node's URL (pnpm start prints it)");
  const apiKey = env.PEER_API_KEY ?? fail("set PEER_API_KEY (pnpm start prints the development key)");
  const client = new OpenAI({ baseURL: `${baseURL.replace(/\/$/, "")}/v1`, apiKey });
  const messages = [{ role: "user" as const, content: "What does a verified receipt prove?" }];

  log("1. chat.completions.create on the verified tier (the default)");
  const completion = await client.chat.completions.create({ model: "peer-tiny", messages, max_tokens: 48 });
  const jsonText = completion.choices[0]?.message.content ?? fail("no message in the answer");
  const jsonPeer =
    (completion as unknown as { peer?: Peer }).peer ?? fail("the answer carries no peer object");
  if (jsonPeer.tier !== "verified") fail(`served on tier ${jsonPeer.tier}, asked verified`);
  log(`   answer: ${jsonText}`);
  log(
    `   peer: tier ${jsonPeer.tier}, worker ${jsonPeer.worker}, ${jsonPeer.price_credits} credits, receipt ${jsonPeer.receipt.id.slice(0, 16)}…`,
  );

  log("2. the same, streamed: the peer object rides on the last chunk");
  const stream = await client.chat.completions.create({
    model: "peer-tiny",
    messages,
    max_tokens: 48,
    stream: true,
    stream_options: { include_usage: true },
  });
  let streamText = "";
  let chunks = 0;
  let streamPeer: Peer | undefined;
  for await (const chunk of stream) {
    chunks += 1;
    streamText += chunk.choices[0]?.delta.content ?? "";
    const peer = (chunk as unknown as { peer?: Peer }).peer;
    if (peer) streamPeer = peer;
  }
  if (!streamPeer) fail("the stream ended without its peer chunk");
  if (streamText.length === 0) fail("the stream carried no text");
  log(`   streamed ${chunks} chunks: ${streamText}`);
  log(`   peer: tier ${streamPeer.tier}, job ${streamPeer.job_id}, ${streamPeer.price_credits} credits`);

  log("3. the open tier: cheapest, no guarantee (peer_tier is one extra body field)");
  const open = await client.chat.completions.create({
    model: "peer-tiny",
    messages,
    max_tokens: 24,
    peer_tier: "open",
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  const openPeer = (open as unknown as { peer?: Peer }).peer ?? fail("no peer object");
  if (openPeer.tier !== "open") fail(`served on tier ${openPeer.tier}, asked open`);
  log(`   answer: ${open.choices[0]?.message.content}`);
  log(`   peer: tier ${openPeer.tier}, ${openPeer.price_credits} credits`);
  return {
    json: { text: jsonText, peer: jsonPeer },
    stream: { text: streamText, chunks, peer: streamPeer },
    open: { peer: openPeer },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
