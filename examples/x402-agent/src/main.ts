/**
 * An agent with a wallet and no account: every request is paid over x402 (USDC on Solana), then it
 * buys credits and gets an API key.
 *
 *   pnpm start                                   # a development node (prints its URL)
 *   PEER_URL=http://127.0.0.1:8787 pnpm --filter @peercycles/example-x402-agent start
 *
 * The wallet: a `--dev` node serves its funded development wallet to loopback at `GET /dev/wallet`
 * (play USDC on the node's embedded chain, never real money). Elsewhere, give the example a key file
 * (`PEER_WALLET_KEY=~/.config/solana/id.json`) and the cluster's RPC (`PEER_SOLANA_RPC`).
 * Each step checks what it got; the example exits non-zero when one fails.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  buyCredits,
  createPayingFetch,
  createSolanaSigner,
  type FetchFunction,
  formatUsdc,
  readPaymentResponse,
} from "@peercycles/x402";

/** What the example saw, for its test. */
export interface X402AgentSummary {
  readonly payer: string;
  readonly challenges: number;
  readonly paid: ReadonlyArray<{ tier: string; transaction: string; priceCredits: number; receipt: string }>;
  readonly purchase: { credits: number; balance: number; transaction: string; accountId: string };
  readonly spentUsdc: string;
}

function fail(message: string): never {
  throw new Error(`x402-agent example: ${message}`);
}

function decodeHeader(value: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(value, "base64").toString("utf8")) as Record<string, unknown>;
}

/** The payer's wallet: the dev node's development wallet, or a key file. */
async function wallet(
  baseURL: string,
  env: Record<string, string | undefined>,
): Promise<{ secretKey: number[]; rpcUrl: string }> {
  if (env.PEER_WALLET_KEY) {
    const rpcUrl = env.PEER_SOLANA_RPC ?? fail("set PEER_SOLANA_RPC with PEER_WALLET_KEY");
    return { secretKey: JSON.parse(readFileSync(env.PEER_WALLET_KEY, "utf8")) as number[], rpcUrl };
  }
  const response = await fetch(`${baseURL}/dev/wallet`).catch((error: unknown) =>
    fail(`cannot reach ${baseURL}: ${(error as Error).message}`),
  );
  if (response.status !== 200) {
    fail(`GET /dev/wallet answered ${response.status}: run the node with --dev (or set PEER_WALLET_KEY)`);
  }
  const body = (await response.json()) as { secret_key: number[]; rpc_url: string };
  return { secretKey: body.secret_key, rpcUrl: body.rpc_url };
}

export async function main(
  env: Record<string, string | undefined> = process.env,
  log: (line: string) => void = console.log,
): Promise<X402AgentSummary> {
  const baseURL = (env.PEER_URL ?? fail("set PEER_URL to the node's URL (pnpm start prints it)")).replace(
    /\/+$/,
    "",
  );
  const { secretKey, rpcUrl } = await wallet(baseURL, env);
  const signer = await createSolanaSigner(secretKey);
  log(`wallet ${signer.address} (no account, no API key), chain RPC ${rpcUrl}`);

  // The transport under the payer: it shows each 402 challenge and each payment as they pass.
  let challenges = 0;
  const transport: FetchFunction = async (input, init) => {
    const signature = new Headers(init?.headers).get("PAYMENT-SIGNATURE");
    if (signature) {
      const payment = decodeHeader(signature) as { accepted?: { amount?: string; payTo?: string } };
      log(
        `   → paying ${formatUsdc(BigInt(payment.accepted?.amount ?? "0"))} USDC to ${payment.accepted?.payTo} (PAYMENT-SIGNATURE, a signed USDC transfer)`,
      );
    }
    const response = await fetch(input, init);
    const required = response.headers.get("PAYMENT-REQUIRED");
    if (response.status === 402 && required) {
      challenges += 1;
      const challenge = decodeHeader(required) as {
        accepts: Array<{ scheme: string; network: string; amount: string; asset: string; payTo: string }>;
        error?: string;
      };
      const [accept] = challenge.accepts;
      const body = (await response.clone().json()) as { price_credits?: number };
      log(
        `   ← 402 Payment Required: ${body.price_credits} credits = ${formatUsdc(BigInt(accept?.amount ?? "0"))} USDC, scheme ${accept?.scheme} on ${accept?.network}, asset ${accept?.asset}${signature ? ` (refused: ${challenge.error})` : ""}`,
      );
    }
    return response;
  };
  const payingFetch = createPayingFetch({
    fetch: transport,
    signer,
    rpcUrl,
    maxPerRequestUsdc: 0.5,
    maxPerSessionUsdc: 2,
  });

  const paid: Array<{ tier: string; transaction: string; priceCredits: number; receipt: string }> = [];
  for (const [step, tier] of [
    [1, "verified"],
    [2, "open"],
  ] as const) {
    log(
      `${step}. ${tier === "open" ? "an" : "a"} ${tier} chat completion, paid per request (no Authorization header)`,
    );
    const response = await payingFetch(`${baseURL}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "peer-tiny",
        messages: [{ role: "user", content: "What does paying per request over x402 mean?" }],
        max_tokens: 32,
        peer_tier: tier,
      }),
    });
    if (response.status !== 200)
      fail(`the paid request answered ${response.status}: ${await response.text()}`);
    const settled = readPaymentResponse(response) ?? fail("the answer carries no PAYMENT-RESPONSE");
    if (!settled.success) fail(`the settlement failed: ${settled.errorReason}`);
    const answer = (await response.json()) as {
      choices: Array<{ message: { content: string } }>;
      peer: {
        tier: string;
        price_credits: number;
        receipt: { id: string };
        payment?: { transaction: string; payer: string };
      };
    };
    if (answer.peer.tier !== tier) fail(`served on tier ${answer.peer.tier}, asked ${tier}`);
    if (answer.peer.payment?.transaction !== settled.transaction) fail("peer.payment names another transfer");
    log(`   answer: ${answer.choices[0]?.message.content}`);
    log(`   PAYMENT-RESPONSE: settled ${settled.transaction} on ${settled.network}, payer ${settled.payer}`);
    log(`   receipt ${answer.peer.receipt.id.slice(0, 16)}…, charged ${answer.peer.price_credits} credits`);
    paid.push({
      tier,
      transaction: settled.transaction,
      priceCredits: answer.peer.price_credits,
      receipt: answer.peer.receipt.id,
    });
  }

  log("3. buy 0.50 USDC of credits (POST /credits/buy, paid over x402): an account and its key");
  const purchase = await buyCredits({ baseURL, usdc: 0.5, fetch: payingFetch });
  const apiKey = purchase.apiKey ?? fail("no API key came with the purchase");
  const accountId = purchase.accountId ?? fail("no account id came with the purchase");
  log(`   ${purchase.credits} credits, transaction ${purchase.transaction}`);
  log(`   account ${accountId}, API key ${apiKey.slice(0, 6)}… (keep it secret)`);
  const balance = await fetch(`${baseURL}/credits/balance`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  if (balance.status !== 200) fail(`GET /credits/balance answered ${balance.status}`);
  const { balance: credits } = (await balance.json()) as { balance: number };
  if (credits < purchase.credits) fail(`the balance ${credits} is below the ${purchase.credits} bought`);
  log(`   balance: ${credits} credits; spent ${payingFetch.spentUsdc} USDC this session`);
  return {
    payer: signer.address,
    challenges,
    paid,
    purchase: { credits: purchase.credits, balance: credits, transaction: purchase.transaction, accountId },
    spentUsdc: payingFetch.spentUsdc,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
