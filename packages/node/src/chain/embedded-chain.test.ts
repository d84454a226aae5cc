import {
  type Address,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  devnet,
  getBase64Decoder,
  getBase64EncodedWireTransaction,
} from "@solana/kit";
import { getMintDecoder } from "@solana-program/token";
import { TransactionOnchainFailureError } from "@x402/svm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedChain } from "./embedded-chain.js";
import { startEmbeddedChain } from "./embedded-chain.js";
import { ChainError } from "./errors.js";
import { generateWalletKey } from "./keys.js";
import { SOLANA_DEVNET, USDC_MINTS } from "./usdc.js";

let chain: EmbeddedChain;

beforeAll(async () => {
  chain = await startEmbeddedChain();
});

afterAll(async () => {
  await chain?.close();
});

describe("startEmbeddedChain", () => {
  it("forges USDC at the devnet address: 6 decimals, our own mint authority, supply = funds", async () => {
    expect(chain.network).toBe(SOLANA_DEVNET);
    expect(chain.usdcMint).toBe(USDC_MINTS[SOLANA_DEVNET]);
    const account = chain.svm.getAccount(chain.usdcMint);
    expect(account.exists).toBe(true);
    if (!account.exists) return;
    const mint = getMintDecoder().decode(account.data);
    expect(mint.decimals).toBe(6);
    expect(mint.mintAuthority).toEqual({ __option: "Some", value: chain.mintAuthority.address });
    expect(mint.supply).toBe(1_000_000_000n);
  });

  it("funds the development wallet and exposes a secret that is that wallet", async () => {
    expect(await chain.usdcBalance(chain.devWallet.address)).toBe(1_000_000_000n);
    expect(chain.devWallet.secretKey).toHaveLength(64);
    expect((await createKeyPairSignerFromBytes(chain.devWallet.secretKey)).address).toBe(
      chain.devWallet.address,
    );
    expect(await chain.usdcBalance(chain.treasury)).toBe(0n);
    expect(chain.svm.getAccount(await chain.usdcTokenAccount(chain.treasury)).exists).toBe(true);
  });

  it("funds, creates token accounts idempotently and reads balances", async () => {
    const owner = (await generateWalletKey()).signer.address;
    expect(await chain.usdcBalance(owner)).toBe(0n);
    const ata = await chain.createTokenAccount(owner);
    expect(await chain.createTokenAccount(owner)).toBe(ata);
    await chain.fund(owner, 1.5);
    await chain.fund(owner, "0.000001");
    expect(await chain.usdcBalance(owner)).toBe(1_500_001n);
    await expect(chain.fund(owner, 0.0000001)).rejects.toMatchObject({ code: "chain_argument_invalid" });
    await expect(chain.fund("nope" as Address, 1)).rejects.toMatchObject({ details: { argument: "owner" } });
  });

  it("serves the JSON-RPC reads an x402 client needs on loopback", async () => {
    expect(chain.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const rpc = createSolanaRpc(devnet(chain.rpcUrl));
    const { value: latest } = await rpc.getLatestBlockhash().send();
    expect(latest.blockhash).toBe(chain.svm.latestBlockhash());
    const { value: mint } = await rpc.getAccountInfo(chain.usdcMint, { encoding: "base64" }).send();
    expect(mint?.owner).toBe("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    const ata = await chain.usdcTokenAccount(chain.devWallet.address);
    const { value: balance } = await rpc.getTokenAccountBalance(ata).send();
    expect(balance.amount).toBe((await chain.usdcBalance(chain.devWallet.address)).toString());
    expect((await rpc.getBalance(chain.feePayer.address).send()).value).toBeGreaterThan(0n);
    const { value: missing } = await rpc.getAccountInfo((await generateWalletKey()).signer.address).send();
    expect(missing).toBeNull();
    const sent = await chain.transferUsdc({ from: chain.devWallet.signer, to: chain.treasury, amount: 1n });
    const { value: statuses } = await rpc.getSignatureStatuses([sent.signature as never]).send();
    expect(statuses[0]?.err).toBeNull();
    // Garbage signatures answer null; they must not reach LiteSVM's native lookup (it panics on them).
    const garbage = await fetch(chain.rpcUrl, {
      method: "POST",
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "getSignatureStatuses",
        params: [["abc", "0OIl", ata]],
      }),
    });
    expect(((await garbage.json()) as { result: { value: unknown[] } }).result.value).toEqual([
      null,
      null,
      null,
    ]);
    const unknown = await fetch(chain.rpcUrl, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getProgramAccounts", params: [] }),
    });
    expect(((await unknown.json()) as { error: { code: number } }).error.code).toBe(-32601);
  });

  it("keeps the history of transfers into an account, with memo and fee payer", async () => {
    const owner = (await generateWalletKey()).signer.address;
    const { signature } = await chain.transferUsdc({
      from: chain.devWallet.signer,
      to: owner,
      amount: 42n,
      memo: "hello",
    });
    const transfers = await chain.incomingUsdcTransfers(owner);
    expect(transfers).toEqual([
      expect.objectContaining({
        signature,
        amount: 42n,
        authority: chain.devWallet.address,
        feePayer: chain.devWallet.address,
        memo: "hello",
      }),
    ]);
    await expect(
      chain.transferUsdc({ from: chain.devWallet.signer, to: owner, amount: 10n ** 15n }),
    ).rejects.toSatisfy(
      (error: unknown) => ChainError.isInstance(error) && error.code === "chain_transaction_failed",
    );
    expect(await chain.incomingUsdcTransfers(owner)).toHaveLength(1);
  });

  it("accepts fixed secrets so wallets survive a restart, and refuses bad ones", async () => {
    const dev = await generateWalletKey();
    const again = await startEmbeddedChain({
      devWalletSecret: dev.secretKey,
      rpcPort: false,
      devWalletUsdc: 0,
    });
    expect(again.devWallet.address).toBe(dev.signer.address);
    expect(again.rpcUrl).toBe("");
    await again.close();
    await expect(startEmbeddedChain({ treasurySecret: new Uint8Array(32) })).rejects.toMatchObject({
      code: "chain_argument_invalid",
      details: { argument: "treasurySecret" },
    });
    const mismatched = new Uint8Array(dev.secretKey);
    mismatched[40] = (mismatched[40] ?? 0) ^ 1;
    await expect(startEmbeddedChain({ feePayerSecret: mismatched })).rejects.toMatchObject({
      details: { argument: "feePayerSecret" },
    });
  });
});

describe("the LiteSVM facilitator signer", () => {
  it("signs as fee payer, refuses other fee payers, and confirms only what landed", async () => {
    const signer = chain.facilitatorSigner;
    expect(signer.getAddresses()).toEqual([chain.feePayer.address]);
    const { signature } = await chain.transferUsdc({
      from: chain.devWallet.signer,
      to: chain.treasury,
      amount: 1n,
    });
    await expect(signer.confirmTransaction(signature, SOLANA_DEVNET)).resolves.toBeUndefined();
    const never = (await generateWalletKey()).signer.address;
    await expect(signer.confirmTransaction(never, SOLANA_DEVNET)).rejects.toBeInstanceOf(
      TransactionOnchainFailureError,
    );
    const [entry] = chain.transactions().slice(-1);
    const wire = getBase64EncodedWireTransaction(entry!.transaction);
    await expect(signer.signTransaction(wire, never, SOLANA_DEVNET)).rejects.toThrow(/no signer/);
    // Sending the same transaction again is refused by the chain (it already processed it).
    await expect(signer.sendTransaction(wire, SOLANA_DEVNET)).rejects.toThrow(
      /AlreadyProcessed|transaction failed/,
    );
    await expect(
      signer.simulateTransaction(getBase64Decoder().decode(new Uint8Array(3)), SOLANA_DEVNET),
    ).rejects.toThrow();
    expect(
      await signer.getTokenAccountBalance?.(await chain.usdcTokenAccount(chain.treasury), SOLANA_DEVNET),
    ).toBe(await chain.usdcBalance(chain.treasury));
  });
});
