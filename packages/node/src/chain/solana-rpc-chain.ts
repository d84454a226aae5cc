import {
  type Address,
  appendTransactionMessageInstructions,
  assertIsAddress,
  type Base64EncodedWireTransaction,
  createSolanaRpc,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  getBase64Encoder,
  getTransactionDecoder,
  type KeyPairSigner,
  pipe,
  type Signature,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from "@solana/kit";
import {
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstruction,
  getTokenDecoder,
  getTransferCheckedInstruction,
  TOKEN_PROGRAM_ADDRESS,
} from "@solana-program/token";
import { toFacilitatorSvmSigner } from "@x402/svm";
import { ChainError, invalidArgument } from "./errors.js";
import { walletKeyFromSecret } from "./keys.js";
import type {
  SettlementChain,
  TransferUsdcArguments,
  UsdcTransfer,
  UsdcTransferReceipt,
} from "./settlement-chain.js";
import { MEMO_PROGRAM_ADDRESS, readUsdcTransfers, transactionSignature } from "./transfers.js";
import { isSolanaNetwork, type SolanaNetwork, USDC_DECIMALS, USDC_MINTS } from "./usdc.js";

/** Options of {@link connectSolanaRpc}. */
export interface SolanaRpcChainOptions {
  /** JSON-RPC endpoint of the cluster (`--solana-rpc URL`). */
  readonly rpcUrl: string;
  /** CAIP-2 network of that cluster. */
  readonly network: SolanaNetwork;
  /** 64-byte secret of the facilitator's fee payer (holds SOL, signs every settlement as fee payer). */
  readonly feePayerSecret: Uint8Array;
  /** 64-byte secret of the treasury (receives payments, signs payouts). */
  readonly treasurySecret: Uint8Array;
  /** USDC mint. Default: Circle's USDC for the network. */
  readonly usdcMint?: Address;
  /** How long a sent transfer may take to confirm. Default: 60 s. */
  readonly confirmTimeoutMs?: number;
}

/** A real cluster behind the {@link SettlementChain} interface. */
export interface SolanaRpcChain extends SettlementChain {
  readonly feePayer: KeyPairSigner;
  readonly treasurySigner: KeyPairSigner;
}

/**
 * Connects payments to a real Solana cluster over JSON-RPC. The facilitator uses x402's stock
 * `toFacilitatorSvmSigner` (simulate, send, poll `getSignatureStatuses`); reads and payouts use the
 * same endpoint. Nothing is contacted until an operation runs.
 *
 * @example
 * ```ts
 * const chain = await connectSolanaRpc({
 *   rpcUrl: "https://api.devnet.solana.com", network: SOLANA_DEVNET, feePayerSecret, treasurySecret,
 * });
 * ```
 */
export async function connectSolanaRpc(options: SolanaRpcChainOptions): Promise<SolanaRpcChain> {
  if (typeof options?.rpcUrl !== "string" || !URL.canParse(options.rpcUrl))
    invalidArgument("rpcUrl", "expected a URL");
  const protocol = new URL(options.rpcUrl).protocol;
  if (protocol !== "http:" && protocol !== "https:") invalidArgument("rpcUrl", "expected an http(s) URL");
  if (!isSolanaNetwork(options.network)) {
    invalidArgument("network", `not a Solana CAIP-2 network: ${String(options.network)}`);
  }
  const network = options.network;
  const usdcMint = options.usdcMint ?? USDC_MINTS[network];
  try {
    assertIsAddress(usdcMint);
  } catch (error) {
    invalidArgument("usdcMint", "not a base58 address", error);
  }
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 60_000;
  const feePayer = (await walletKeyFromSecret(options.feePayerSecret, "feePayerSecret")).signer;
  const treasury = (await walletKeyFromSecret(options.treasurySecret, "treasurySecret")).signer;
  const rpc = createSolanaRpc(options.rpcUrl);
  const facilitatorSigner = toFacilitatorSvmSigner(feePayer, { defaultRpcUrl: options.rpcUrl });

  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (ChainError.isInstance(error)) throw error;
      throw new ChainError("chain_unavailable", `${what}: the Solana RPC did not answer`, { cause: error });
    }
  };
  const tokenAccount = async (owner: Address): Promise<Address> => {
    const [ata] = await findAssociatedTokenPda({
      mint: usdcMint,
      owner,
      tokenProgram: TOKEN_PROGRAM_ADDRESS,
    });
    return ata;
  };
  const signatureStatus = async (signature: string): Promise<"succeeded" | "failed" | "unknown"> => {
    const { value } = await call("getSignatureStatuses", () =>
      rpc.getSignatureStatuses([signature as Signature], { searchTransactionHistory: true }).send(),
    );
    const status = value[0];
    if (!status) return "unknown";
    if (status.err) return "failed";
    return status.confirmationStatus === "confirmed" || status.confirmationStatus === "finalized"
      ? "succeeded"
      : "unknown";
  };

  const transferUsdc = async (args: TransferUsdcArguments): Promise<UsdcTransferReceipt> => {
    if (typeof args.amount !== "bigint" || args.amount <= 0n)
      invalidArgument("amount", "expected a positive bigint");
    const destination = await tokenAccount(args.to);
    const source = await tokenAccount(args.from.address);
    const { value: latest } = await call("getLatestBlockhash", () =>
      rpc.getLatestBlockhash({ commitment: "confirmed" }).send(),
    );
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(args.from, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
      (m) =>
        appendTransactionMessageInstructions(
          [
            getCreateAssociatedTokenIdempotentInstruction({
              payer: args.from,
              ata: destination,
              owner: args.to,
              mint: usdcMint,
              tokenProgram: TOKEN_PROGRAM_ADDRESS,
            }),
            getTransferCheckedInstruction({
              source,
              mint: usdcMint,
              destination,
              authority: args.from,
              amount: args.amount,
              decimals: USDC_DECIMALS,
            }),
            ...(args.memo
              ? [{ programAddress: MEMO_PROGRAM_ADDRESS, data: new TextEncoder().encode(args.memo) }]
              : []),
          ],
          m,
        ),
    );
    const transaction = await signTransactionMessageWithSigners(message);
    const signature = transactionSignature(transaction) ?? "";
    const wire = getBase64EncodedWireTransaction(transaction);
    await args.onSigned?.({ signature, wireTransaction: wire, blockhash: latest.blockhash });
    await send(wire);
    const status = await confirm(signature);
    if (status === "succeeded")
      return { signature, amount: args.amount, destinationTokenAccount: destination };
    if (status === "failed") {
      throw new ChainError("chain_transaction_failed", `transfer ${signature} failed on chain`, {
        details: { signature },
      });
    }
    throw new ChainError("chain_unavailable", `transfer ${signature} not confirmed in time`, {
      details: { signature },
    });
  };
  const send = (wire: string) =>
    call("sendTransaction", () =>
      rpc
        .sendTransaction(wire as Base64EncodedWireTransaction, {
          encoding: "base64",
          preflightCommitment: "confirmed",
        })
        .send(),
    );
  /** Polls until the signature has a terminal outcome or the confirmation time is over. */
  const confirm = async (signature: string): Promise<"succeeded" | "failed" | "unknown"> => {
    const deadline = Date.now() + confirmTimeoutMs;
    for (;;) {
      const status = await signatureStatus(signature);
      if (status !== "unknown" || Date.now() > deadline) return status;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  const resendTransaction = async (wire: string): Promise<"succeeded" | "failed" | "unknown"> => {
    let signature: string;
    try {
      signature = transactionSignature(getTransactionDecoder().decode(getBase64Encoder().encode(wire))) ?? "";
    } catch (error) {
      return invalidArgument("wireTransaction", "not a base64 wire transaction", error);
    }
    const known = await signatureStatus(signature);
    if (known !== "unknown") return known;
    try {
      await send(wire);
    } catch {
      // A preflight refusal (expired blockhash, already processed) or an outage: the status tells
      // what the chain has; the caller decides from the blockhash whether it can still land.
      return signatureStatus(signature);
    }
    return confirm(signature);
  };
  const incomingUsdcTransfers = async (
    owner: Address,
    query?: { limit?: number },
  ): Promise<readonly UsdcTransfer[]> => {
    const ata = await tokenAccount(owner);
    const signatures = await call("getSignaturesForAddress", () =>
      rpc.getSignaturesForAddress(ata, { limit: query?.limit ?? 1000, commitment: "confirmed" }).send(),
    );
    const transfers: UsdcTransfer[] = [];
    for (const entry of [...signatures].reverse()) {
      if (entry.err) continue;
      const found = await call("getTransaction", () =>
        rpc
          .getTransaction(entry.signature, {
            encoding: "base64",
            maxSupportedTransactionVersion: 0,
            commitment: "confirmed",
          })
          .send(),
      );
      if (!found || found.meta?.err) continue;
      const transaction = getTransactionDecoder().decode(getBase64Encoder().encode(found.transaction[0]));
      for (const transfer of readUsdcTransfers(transaction, entry.signature, usdcMint)) {
        if (transfer.destinationTokenAccount === ata) transfers.push(transfer);
      }
    }
    return transfers;
  };

  return {
    network,
    usdcMint,
    treasury: treasury.address,
    rpcUrl: options.rpcUrl,
    facilitatorSigner,
    feePayer,
    treasurySigner: treasury,
    latestBlockhash: async () => {
      const { value } = await call("getLatestBlockhash", () =>
        rpc.getLatestBlockhash({ commitment: "confirmed" }).send(),
      );
      return { blockhash: value.blockhash, lastValidBlockHeight: value.lastValidBlockHeight };
    },
    isBlockhashValid: async (blockhash) => {
      const { value } = await call("isBlockhashValid", () =>
        rpc
          .isBlockhashValid(blockhash as Parameters<typeof rpc.isBlockhashValid>[0], {
            commitment: "confirmed",
          })
          .send(),
      );
      return value;
    },
    signatureStatus,
    resendTransaction,
    usdcBalance: async (owner) => {
      const ata = await tokenAccount(owner);
      const { value } = await call("getAccountInfo", () =>
        rpc.getAccountInfo(ata, { encoding: "base64" }).send(),
      );
      if (!value) return 0n;
      return getTokenDecoder().decode(getBase64Encoder().encode(value.data[0])).amount;
    },
    transferUsdc,
    incomingUsdcTransfers,
  };
}
