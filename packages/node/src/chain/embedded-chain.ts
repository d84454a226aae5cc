import {
  type Address,
  appendTransactionMessageInstructions,
  assertIsAddress,
  createTransactionMessage,
  getBase58Decoder,
  getBase64Decoder,
  getBase64EncodedWireTransaction,
  type Instruction,
  type KeyPairSigner,
  lamports,
  none,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  some,
  type Transaction,
  type TransactionSigner,
} from "@solana/kit";
import {
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstruction,
  getMintEncoder,
  getMintSize,
  getMintToCheckedInstruction,
  getTokenDecoder,
  getTransferCheckedInstruction,
  TOKEN_PROGRAM_ADDRESS,
} from "@solana-program/token";
import type { FacilitatorSvmSigner } from "@x402/svm";
import { FailedTransactionMetadata, LiteSVM } from "litesvm";
import { ChainError, invalidArgument } from "./errors.js";
import { generateWalletKey, type WalletKey, walletKeyFromSecret } from "./keys.js";
import {
  createLiteSvmFacilitatorSigner,
  decodeWireTransaction,
  describeFailure,
  liteSvmTransactionStatus,
} from "./litesvm-facilitator-signer.js";
import { RpcMethodError, type RpcShim, startRpcShim } from "./rpc-shim.js";
import type {
  SettlementChain,
  SignedTransfer,
  TransferUsdcArguments,
  UsdcTransfer,
  UsdcTransferReceipt,
} from "./settlement-chain.js";
import { MEMO_PROGRAM_ADDRESS, readUsdcTransfers, transactionSignature } from "./transfers.js";
import {
  isSolanaNetwork,
  SOLANA_DEVNET,
  type SolanaNetwork,
  USDC_DECIMALS,
  USDC_MINTS,
  usdcToBaseUnits,
} from "./usdc.js";

const LAMPORTS_PER_SOL = 1_000_000_000n;
const BLOCKHASH_VALIDITY_SLOTS = 150n;

/** Options of {@link startEmbeddedChain}. */
export interface EmbeddedChainOptions {
  /** CAIP-2 network to answer for (x402 knows only the three real clusters). Default: devnet. */
  readonly network?: SolanaNetwork;
  /** USDC given to the development wallet at start, as a decimal. Default: 1000. */
  readonly devWalletUsdc?: number | string;
  /** Fixed 64-byte secrets, so a dev node can keep its wallets across restarts. Default: fresh random keys. */
  readonly devWalletSecret?: Uint8Array;
  readonly treasurySecret?: Uint8Array;
  readonly feePayerSecret?: Uint8Array;
  readonly mintAuthoritySecret?: Uint8Array;
  /** Loopback JSON-RPC port; `false` for no RPC shim. Default: 0 (any free port). */
  readonly rpcPort?: number | false;
}

/** One transaction the embedded chain processed, in order. */
export interface ProcessedTransaction {
  readonly signature: string;
  readonly transaction: Transaction;
  readonly outcome: "succeeded" | "failed";
}

/** The in-process chain: a {@link SettlementChain} plus the development conveniences. */
export interface EmbeddedChain extends SettlementChain {
  /** The LiteSVM instance itself (tests use it to forge accounts or expire the blockhash). */
  readonly svm: LiteSVM;
  readonly mintAuthority: KeyPairSigner;
  /** Signs payouts from the treasury. */
  readonly treasurySigner: KeyPairSigner;
  /** The facilitator's fee payer (the x402 `extra.feePayer`). */
  readonly feePayer: KeyPairSigner;
  /** A funded wallet for local examples; `secretKey` is its 64-byte secret. */
  readonly devWallet: {
    readonly address: Address;
    readonly signer: KeyPairSigner;
    readonly secretKey: Uint8Array;
  };
  /** Mints `usdc` (decimal) to the owner's USDC account, creating it if needed. Returns the signature. */
  fund(owner: Address, usdc: number | string): Promise<string>;
  /** Creates the owner's USDC associated token account if missing and returns its address. */
  createTokenAccount(owner: Address): Promise<Address>;
  /** Address of the owner's USDC associated token account (which may not exist). */
  usdcTokenAccount(owner: Address): Promise<Address>;
  /** Gives the address SOL (for fees). */
  airdrop(owner: Address, sol: number): void;
  /** Every transaction processed through this chain object, oldest first. */
  transactions(): readonly ProcessedTransaction[];
  /** Stops the RPC shim. The LiteSVM state goes with the process. */
  close(): Promise<void>;
}

/**
 * Starts an in-process Solana (LiteSVM) with USDC: the mint account is forged at Circle's devnet USDC
 * address with our own mint authority (decimals 6), so x402 clients price `$0.01` and pass their default
 * spend controls unchanged. It creates a treasury and its USDC account, a fee payer for the facilitator,
 * a funded development wallet, and a loopback JSON-RPC shim for x402 clients (mint and blockhash reads).
 * Every payment is a real SPL TransferChecked executed by the real token program.
 *
 * @example
 * ```ts
 * const chain = await startEmbeddedChain();
 * const buyer = await createKeyPairSignerFromBytes(chain.devWallet.secretKey);
 * console.log(await chain.usdcBalance(buyer.address)); // 1_000_000_000n (1000 USDC)
 * await chain.close();
 * ```
 */
export async function startEmbeddedChain(options: EmbeddedChainOptions = {}): Promise<EmbeddedChain> {
  const network = options.network ?? SOLANA_DEVNET;
  if (!isSolanaNetwork(network))
    invalidArgument("network", `not a Solana CAIP-2 network: ${String(network)}`);
  const usdcMint = USDC_MINTS[network];
  const devWalletUsdc = usdcToBaseUnits(options.devWalletUsdc ?? 1000, "devWalletUsdc");
  const [mintAuthority, treasury, feePayer, devWallet] = await Promise.all([
    keyOrFresh(options.mintAuthoritySecret, "mintAuthoritySecret"),
    keyOrFresh(options.treasurySecret, "treasurySecret"),
    keyOrFresh(options.feePayerSecret, "feePayerSecret"),
    keyOrFresh(options.devWalletSecret, "devWalletSecret"),
  ]);

  const svm = new LiteSVM();
  const history: ProcessedTransaction[] = [];
  const outcomes = new Map<string, "succeeded" | "failed">();
  const observe = (transaction: Transaction, signature: string, outcome: "succeeded" | "failed") => {
    history.push({ signature, transaction, outcome });
    if (signature) outcomes.set(signature, outcome);
  };
  const status = (signature: string): "succeeded" | "failed" | "unknown" => {
    const known = outcomes.get(signature);
    return known ?? liteSvmTransactionStatus(svm, signature);
  };

  svm.airdrop(feePayer.signer.address, lamports(100n * LAMPORTS_PER_SOL));
  svm.airdrop(treasury.signer.address, lamports(10n * LAMPORTS_PER_SOL));
  svm.airdrop(devWallet.signer.address, lamports(1n * LAMPORTS_PER_SOL));
  const mintData = getMintEncoder().encode({
    mintAuthority: some(mintAuthority.signer.address),
    supply: 0n,
    decimals: USDC_DECIMALS,
    isInitialized: true,
    freezeAuthority: none(),
  });
  svm.setAccount({
    address: usdcMint,
    data: new Uint8Array(mintData),
    executable: false,
    lamports: lamports(svm.minimumBalanceForRentExemption(BigInt(getMintSize()))),
    programAddress: TOKEN_PROGRAM_ADDRESS,
    space: BigInt(getMintSize()),
  });

  const facilitatorSigner: FacilitatorSvmSigner = createLiteSvmFacilitatorSigner({
    svm,
    feePayers: [feePayer.signer],
    onTransaction: observe,
    transactionStatus: status,
  });

  const tokenAccount = async (owner: Address): Promise<Address> => {
    assertAddress(owner, "owner");
    const [ata] = await findAssociatedTokenPda({
      mint: usdcMint,
      owner,
      tokenProgram: TOKEN_PROGRAM_ADDRESS,
    });
    return ata;
  };

  const balance = async (owner: Address): Promise<bigint> => {
    const account = svm.getAccount(await tokenAccount(owner));
    return account.exists ? getTokenDecoder().decode(account.data).amount : 0n;
  };

  /** Signs with `payer` (plus the instructions' own signers) and executes; throws ChainError on failure. */
  const execute = async (
    payer: TransactionSigner,
    instructions: Instruction[],
    memo?: string,
    onSigned?: (signed: SignedTransfer) => Promise<void>,
  ): Promise<string> => {
    // LiteSVM keeps one blockhash until told otherwise, so two identical messages would be one
    // transaction: a memo nonce keeps every internal transaction distinct.
    const memoText =
      memo ?? `peercycles:${getBase58Decoder().decode(crypto.getRandomValues(new Uint8Array(12)))}`;
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(payer, m),
      (m) =>
        setTransactionMessageLifetimeUsingBlockhash(
          {
            blockhash: svm.latestBlockhash(),
            lastValidBlockHeight: svm.getClock().slot + BLOCKHASH_VALIDITY_SLOTS,
          },
          m,
        ),
      (m) =>
        appendTransactionMessageInstructions(
          [
            ...instructions,
            { programAddress: MEMO_PROGRAM_ADDRESS, data: new TextEncoder().encode(memoText) },
          ],
          m,
        ),
    );
    const transaction = await signTransactionMessageWithSigners(message);
    const signature = transactionSignature(transaction) ?? "";
    await onSigned?.({
      signature,
      wireTransaction: getBase64EncodedWireTransaction(transaction),
      blockhash: message.lifetimeConstraint.blockhash,
    });
    const result = svm.sendTransaction(transaction);
    if (result instanceof FailedTransactionMetadata) {
      observe(transaction, signature, "failed");
      const failure = describeFailure(result);
      throw new ChainError("chain_transaction_failed", `transaction failed: ${failure.error}`, {
        details: { signature, ...failure },
      });
    }
    observe(transaction, signature, "succeeded");
    return signature;
  };

  const createAtaInstruction = async (payer: TransactionSigner, owner: Address) =>
    getCreateAssociatedTokenIdempotentInstruction({
      payer,
      ata: await tokenAccount(owner),
      owner,
      mint: usdcMint,
      tokenProgram: TOKEN_PROGRAM_ADDRESS,
    });

  const fund = async (owner: Address, usdc: number | string): Promise<string> => {
    const amount = usdcToBaseUnits(usdc);
    return execute(feePayer.signer, [
      await createAtaInstruction(feePayer.signer, owner),
      getMintToCheckedInstruction({
        mint: usdcMint,
        token: await tokenAccount(owner),
        mintAuthority: mintAuthority.signer,
        amount,
        decimals: USDC_DECIMALS,
      }),
    ]);
  };

  const createTokenAccount = async (owner: Address): Promise<Address> => {
    const ata = await tokenAccount(owner);
    if (!svm.getAccount(ata).exists)
      await execute(feePayer.signer, [await createAtaInstruction(feePayer.signer, owner)]);
    return ata;
  };

  const transferUsdc = async (args: TransferUsdcArguments): Promise<UsdcTransferReceipt> => {
    assertAddress(args.to, "to");
    if (typeof args.amount !== "bigint" || args.amount <= 0n)
      invalidArgument("amount", "expected a positive bigint");
    const destination = await tokenAccount(args.to);
    const signature = await execute(
      args.from,
      [
        await createAtaInstruction(args.from, args.to),
        getTransferCheckedInstruction({
          source: await tokenAccount(args.from.address),
          mint: usdcMint,
          destination,
          authority: args.from,
          amount: args.amount,
          decimals: USDC_DECIMALS,
        }),
      ],
      args.memo,
      args.onSigned,
    );
    return { signature, amount: args.amount, destinationTokenAccount: destination };
  };

  const incomingUsdcTransfers = async (owner: Address): Promise<readonly UsdcTransfer[]> => {
    const ata = await tokenAccount(owner);
    const transfers: UsdcTransfer[] = [];
    for (const entry of history) {
      if (entry.outcome !== "succeeded") continue;
      for (const transfer of readUsdcTransfers(entry.transaction, entry.signature, usdcMint)) {
        if (transfer.destinationTokenAccount === ata) transfers.push(transfer);
      }
    }
    return transfers;
  };

  const latest = () => ({
    blockhash: svm.latestBlockhash() as string,
    lastValidBlockHeight: svm.getClock().slot + BLOCKHASH_VALIDITY_SLOTS,
  });

  // The treasury must hold a USDC account before anyone pays it: x402 clients do not create it.
  await createTokenAccount(treasury.signer.address);
  if (devWalletUsdc > 0n) {
    await fund(devWallet.signer.address, (Number(devWalletUsdc) / 1e6).toFixed(6));
  } else {
    await createTokenAccount(devWallet.signer.address);
  }

  let shim: RpcShim | undefined;
  if (options.rpcPort !== false) {
    shim = await startRpcShim(
      rpcMethods(svm, {
        latest,
        status,
        send: (base64) => facilitatorSigner.sendTransaction(base64, network),
      }),
      options.rpcPort ?? 0,
    );
  }
  let closed = false;

  return {
    network,
    usdcMint,
    treasury: treasury.signer.address,
    rpcUrl: shim?.url ?? "",
    facilitatorSigner,
    svm,
    mintAuthority: mintAuthority.signer,
    treasurySigner: treasury.signer,
    feePayer: feePayer.signer,
    devWallet: {
      address: devWallet.signer.address,
      signer: devWallet.signer,
      secretKey: devWallet.secretKey,
    },
    latestBlockhash: async () => latest(),
    isBlockhashValid: async (blockhash) => blockhash === svm.latestBlockhash(),
    signatureStatus: async (signature) => status(signature),
    usdcBalance: balance,
    transferUsdc,
    async resendTransaction(wireTransaction) {
      let signature: string;
      try {
        signature = transactionSignature(decodeWireTransaction(wireTransaction)) ?? "";
      } catch (error) {
        return invalidArgument("wireTransaction", "not a base64 wire transaction", error);
      }
      if (status(signature) === "succeeded") return "succeeded";
      try {
        await facilitatorSigner.sendTransaction(wireTransaction, network);
      } catch {
        // The outcome below says what happened.
      }
      return status(signature);
    },
    incomingUsdcTransfers,
    fund,
    createTokenAccount,
    usdcTokenAccount: tokenAccount,
    airdrop(owner, sol) {
      assertAddress(owner, "owner");
      if (!Number.isFinite(sol) || sol <= 0) invalidArgument("sol", "expected a positive number");
      svm.airdrop(owner, lamports(BigInt(Math.round(sol * 1e9))));
    },
    transactions: () => [...history],
    async close() {
      if (closed) return;
      closed = true;
      await shim?.close();
    },
  };
}

async function keyOrFresh(secret: Uint8Array | undefined, name: string): Promise<WalletKey> {
  return secret === undefined ? generateWalletKey() : walletKeyFromSecret(secret, name);
}

function assertAddress(value: unknown, name: string): asserts value is Address {
  try {
    assertIsAddress(value as string);
  } catch (error) {
    invalidArgument(name, `not a base58 Solana address: ${String(value)}`, error);
  }
}

interface RpcBackend {
  latest(): { blockhash: string; lastValidBlockHeight: bigint };
  status(signature: string): "succeeded" | "failed" | "unknown";
  send(base64: string): Promise<string>;
}

/** The JSON-RPC methods an x402 client (and a simple wallet) needs, answered from LiteSVM. */
function rpcMethods(svm: LiteSVM, backend: RpcBackend) {
  const context = () => ({ slot: svm.getClock().slot });
  const address = (value: unknown): Address => {
    try {
      assertIsAddress(value as string);
      return value as Address;
    } catch {
      throw new RpcMethodError(-32602, `invalid address: ${String(value)}`);
    }
  };
  return {
    getHealth: () => "ok",
    getVersion: () => ({ "solana-core": "litesvm", "feature-set": 0 }),
    getSlot: () => svm.getClock().slot,
    getBlockHeight: () => svm.getClock().slot,
    getLatestBlockhash: () => ({ context: context(), value: backend.latest() }),
    isBlockhashValid: ([hash]: readonly unknown[]) => ({
      context: context(),
      value: hash === svm.latestBlockhash(),
    }),
    getMinimumBalanceForRentExemption: ([size]: readonly unknown[]) =>
      svm.minimumBalanceForRentExemption(BigInt(Number(size ?? 0))),
    getBalance: ([owner]: readonly unknown[]) => ({
      context: context(),
      value: svm.getBalance(address(owner)) ?? 0n,
    }),
    getAccountInfo: ([target, config]: readonly unknown[]) => {
      const encoding = (config as { encoding?: string } | undefined)?.encoding ?? "base64";
      if (encoding !== "base64")
        throw new RpcMethodError(-32602, `only base64 encoding is served, not ${encoding}`);
      const account = svm.getAccount(address(target));
      return {
        context: context(),
        value: account.exists
          ? {
              data: [getBase64Decoder().decode(account.data), "base64"],
              executable: account.executable,
              lamports: account.lamports,
              owner: account.programAddress,
              rentEpoch: 0,
              space: account.data.length,
            }
          : null,
      };
    },
    getTokenAccountBalance: ([target]: readonly unknown[]) => {
      const account = svm.getAccount(address(target));
      if (!account.exists) throw new RpcMethodError(-32602, "Invalid param: could not find account");
      const amount = getTokenDecoder().decode(account.data).amount;
      return {
        context: context(),
        value: {
          amount: amount.toString(),
          decimals: USDC_DECIMALS,
          uiAmount: Number(amount) / 10 ** USDC_DECIMALS,
          uiAmountString: (Number(amount) / 10 ** USDC_DECIMALS).toString(),
        },
      };
    },
    getSignatureStatuses: ([signatures]: readonly unknown[]) => ({
      context: context(),
      value: (Array.isArray(signatures) ? signatures : []).map((signature) => {
        const outcome = backend.status(String(signature));
        if (outcome === "unknown") return null;
        return {
          slot: svm.getClock().slot,
          confirmations: null,
          err: outcome === "failed" ? { InstructionError: [0, "GenericError"] } : null,
          confirmationStatus: "finalized",
        };
      }),
    }),
    sendTransaction: async ([wire, config]: readonly unknown[]) => {
      const encoding = (config as { encoding?: string } | undefined)?.encoding ?? "base58";
      if (encoding !== "base64") throw new RpcMethodError(-32602, "send the transaction base64-encoded");
      try {
        decodeWireTransaction(String(wire));
        return await backend.send(String(wire));
      } catch (error) {
        throw new RpcMethodError(-32002, error instanceof Error ? error.message : String(error));
      }
    },
  };
}

/** Base64 wire form of a transaction (for tests that hand one to the facilitator signer). */
export function wireTransaction(transaction: Transaction): string {
  return getBase64EncodedWireTransaction(transaction);
}
