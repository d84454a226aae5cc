import { describe, expect, it } from "vitest";
import { generateWalletKey } from "./keys.js";
import { connectSolanaRpc } from "./solana-rpc-chain.js";
import { SOLANA_DEVNET, USDC_MINTS } from "./usdc.js";

// Offline: construction contacts nothing, so it can be checked here; transfers need a real cluster.
describe("connectSolanaRpc", () => {
  it("builds a chain over the stock x402 facilitator signer without contacting the cluster", async () => {
    const feePayer = await generateWalletKey();
    const treasury = await generateWalletKey();
    const chain = await connectSolanaRpc({
      rpcUrl: "http://127.0.0.1:9",
      network: SOLANA_DEVNET,
      feePayerSecret: feePayer.secretKey,
      treasurySecret: treasury.secretKey,
    });
    expect(chain.network).toBe(SOLANA_DEVNET);
    expect(chain.usdcMint).toBe(USDC_MINTS[SOLANA_DEVNET]);
    expect(chain.treasury).toBe(treasury.signer.address);
    expect(chain.facilitatorSigner.getAddresses()).toEqual([feePayer.signer.address]);
    // Nothing listens on port 9: a read is `chain_unavailable`, a retryable error.
    await expect(chain.usdcBalance(treasury.signer.address)).rejects.toMatchObject({
      code: "chain_unavailable",
    });
  });

  it("names the bad argument", async () => {
    const key = (await generateWalletKey()).secretKey;
    const base = {
      rpcUrl: "https://api.devnet.solana.com",
      network: SOLANA_DEVNET,
      feePayerSecret: key,
      treasurySecret: key,
    };
    const cases: [Partial<typeof base> & Record<string, unknown>, string][] = [
      [{ rpcUrl: "not a url" }, "rpcUrl"],
      [{ rpcUrl: "ftp://example.com" }, "rpcUrl"],
      [{ network: "solana:localnet" }, "network"],
      [{ feePayerSecret: new Uint8Array(10) }, "feePayerSecret"],
      [{ treasurySecret: new Uint8Array(64) }, "treasurySecret"],
      [{ usdcMint: "not-a-mint" }, "usdcMint"],
    ];
    for (const [override, argument] of cases) {
      await expect(connectSolanaRpc({ ...base, ...override } as never)).rejects.toMatchObject({
        code: "chain_argument_invalid",
        details: { argument },
      });
    }
  });
});
