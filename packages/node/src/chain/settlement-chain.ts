import type { Address, TransactionSigner } from "@solana/kit";
import type { FacilitatorSvmSigner } from "@x402/svm";
import type { SolanaNetwork } from "./usdc.js";

/** One SPL `TransferChecked` of USDC found in a confirmed transaction. */
export interface UsdcTransfer {
  /** Base58 signature of the transaction that carried it (its first signature). */
  readonly signature: string;
  /** The wallet that signed the transfer (owner of the source token account): the payer. */
  readonly authority: Address;
  readonly sourceTokenAccount: Address;
  readonly destinationTokenAccount: Address;
  readonly mint: Address;
  /** Amount in base units (USDC: 6 decimals). */
  readonly amount: bigint;
  /** The transaction's fee payer (for x402 payments: the facilitator). */
  readonly feePayer: Address;
  /** UTF-8 text of the transaction's memo instruction, if any (x402 puts a random nonce there). */
  readonly memo: string | undefined;
}

/** A confirmed USDC transfer this chain adapter sent on behalf of a signer. */
export interface UsdcTransferReceipt {
  readonly signature: string;
  readonly amount: bigint;
  readonly destinationTokenAccount: Address;
}

/** Arguments of {@link SettlementChain.transferUsdc}. */
export interface TransferUsdcArguments {
  /** Owner of the source USDC account; signs the transfer. Pays the fee unless `feePayer` is given. */
  readonly from: TransactionSigner;
  /** Recipient wallet (owner); its USDC account is created if missing. */
  readonly to: Address;
  /** Amount in USDC base units, > 0. */
  readonly amount: bigint;
  /** Memo text written with the transfer (a payout reference). */
  readonly memo?: string;
  /**
   * Called with the signed transaction before it is sent, so a caller can record what it is about to
   * send (its signature names it) and, after a crash, find it or send the very same bytes again.
   * If it throws, nothing is sent.
   */
  readonly onSigned?: (signed: SignedTransfer) => Promise<void>;
}

/** A signed, not yet sent transfer (see {@link TransferUsdcArguments.onSigned}). */
export interface SignedTransfer {
  /** Base58 signature the transaction will have on chain. */
  readonly signature: string;
  /** Base64 wire transaction: can be sent again unchanged (the chain deduplicates by signature). */
  readonly wireTransaction: string;
  /** The blockhash it lives on; once that is no longer valid, an unsent transaction can never land. */
  readonly blockhash: string;
}

/**
 * What payments need from a Solana cluster: the in-process LiteSVM chain ({@link startEmbeddedChain})
 * and a real cluster over JSON-RPC ({@link connectSolanaRpc}) both implement it. Operations read and
 * write only USDC of {@link SettlementChain.usdcMint}.
 */
export interface SettlementChain {
  /** CAIP-2 network the chain answers for. */
  readonly network: SolanaNetwork;
  /** USDC mint address. */
  readonly usdcMint: Address;
  /** Owner wallet that receives payments (the x402 `payTo`). */
  readonly treasury: Address;
  /** JSON-RPC URL an x402 client can use for its two reads (mint, blockhash). */
  readonly rpcUrl: string;
  /** The seam between the x402 facilitator and this chain. */
  readonly facilitatorSigner: FacilitatorSvmSigner;
  /** A blockhash that payment transactions can use now. */
  latestBlockhash(): Promise<{ blockhash: string; lastValidBlockHeight: bigint }>;
  /** Whether a transaction built on `blockhash` can still land. */
  isBlockhashValid(blockhash: string): Promise<boolean>;
  /** Whether the chain has processed the transaction with this base58 signature. */
  signatureStatus(signature: string): Promise<"succeeded" | "failed" | "unknown">;
  /** USDC balance of the owner's associated token account, in base units (0 when it does not exist). */
  usdcBalance(owner: Address): Promise<bigint>;
  /** A TransferChecked of USDC, confirmed before it returns; throws `ChainError` on failure. */
  transferUsdc(args: TransferUsdcArguments): Promise<UsdcTransferReceipt>;
  /**
   * Sends a transaction signed earlier (a {@link SignedTransfer}'s `wireTransaction`) and waits for its
   * outcome: `succeeded` (also when it had already landed), `failed`, or `unknown` when it could not be
   * confirmed. Throws `chain_unavailable` when the chain cannot be reached.
   */
  resendTransaction(wireTransaction: string): Promise<"succeeded" | "failed" | "unknown">;
  /**
   * USDC transfers into the owner's associated token account that this chain can see, oldest first.
   * The embedded chain keeps every transaction it processed; an RPC chain pages through
   * `getSignaturesForAddress` (`limit` bounds how far back).
   */
  incomingUsdcTransfers(owner: Address, options?: { limit?: number }): Promise<readonly UsdcTransfer[]>;
}
