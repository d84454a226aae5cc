import {
  type Address,
  getBase58Decoder,
  getBase58Encoder,
  getBase64Decoder,
  getBase64EncodedWireTransaction,
  getBase64Encoder,
  getTransactionDecoder,
  type KeyPairSigner,
  partiallySignTransaction,
  type ReadonlyUint8Array,
  type Signature,
  type Transaction,
} from "@solana/kit";
import { getTokenDecoder } from "@solana-program/token";
import type { FacilitatorSvmSigner } from "@x402/svm";
import { TransactionOnchainFailureError } from "@x402/svm";
import { FailedTransactionMetadata, type LiteSVM } from "litesvm";

/** Transactions stay valid this many slots after their blockhash (as on a real cluster). */
const BLOCKHASH_VALIDITY_SLOTS = 150n;

/** Names of LiteSVM's field-less transaction errors, by their numeric value. */
const TRANSACTION_ERRORS: readonly string[] = [
  "AccountInUse",
  "AccountLoadedTwice",
  "AccountNotFound",
  "ProgramAccountNotFound",
  "InsufficientFundsForFee",
  "InvalidAccountForFee",
  "AlreadyProcessed",
  "BlockhashNotFound",
  "CallChainTooDeep",
  "MissingSignatureForFee",
  "InvalidAccountIndex",
  "SignatureFailure",
  "InvalidProgramForExecution",
  "SanitizeFailure",
];

/** A failed LiteSVM run as one line: the transaction error, then the program logs. */
export function describeFailure(failure: FailedTransactionMetadata): { error: string; logs: string[] } {
  const error = failure.err();
  const name =
    typeof error === "number" ? (TRANSACTION_ERRORS[error] ?? `TransactionError(${error})`) : String(error);
  let logs: string[] = [];
  try {
    logs = failure.meta().logs();
  } catch {
    logs = [];
  }
  return { error: name, logs };
}

/**
 * LiteSVM's own lookup by signature, guarded: the native addon panics (and kills the process) on
 * anything but 64 bytes, and signatures can come from outside (the RPC shim).
 */
export function liteSvmTransactionStatus(
  svm: LiteSVM,
  signature: string,
): "succeeded" | "failed" | "unknown" {
  let bytes: ReadonlyUint8Array;
  try {
    bytes = getBase58Encoder().encode(signature);
  } catch {
    return "unknown";
  }
  if (bytes.length !== 64) return "unknown";
  const found = svm.getTransaction(signature as Signature);
  if (found === null) return "unknown";
  return found instanceof FailedTransactionMetadata ? "failed" : "succeeded";
}

/** Decodes a base64 wire transaction. */
export function decodeWireTransaction(base64: string): Transaction {
  return getTransactionDecoder().decode(getBase64Encoder().encode(base64));
}

/** What the LiteSVM signer reports to its owner (the embedded chain keeps a history from it). */
export type LiteSvmTransactionObserver = (
  transaction: Transaction,
  signature: string,
  outcome: "succeeded" | "failed",
) => void;

/** Options of {@link createLiteSvmFacilitatorSigner}. */
export interface LiteSvmFacilitatorSignerOptions {
  readonly svm: LiteSVM;
  /** Fee payers the facilitator may sign for (`extra.feePayer` of each requirement is one of them). */
  readonly feePayers: readonly KeyPairSigner[];
  /** Called after every transaction the signer sent, successful or not. */
  readonly onTransaction?: LiteSvmTransactionObserver;
  /** Looks up a transaction outcome by signature (the embedded chain's history); LiteSVM's own otherwise. */
  readonly transactionStatus?: (signature: string) => "succeeded" | "failed" | "unknown";
}

/**
 * An x402 `FacilitatorSvmSigner` over an in-process LiteSVM: the facilitator verifies, signs, sends and
 * confirms real transactions without any RPC. Simulation skips signature checks only for its own run
 * (the fee-payer slot is still empty at verify time); sending always checks them. Confirmation is
 * deterministic: LiteSVM executes a transaction synchronously, so a sent transaction is either in the
 * history or failed, never pending.
 *
 * @example
 * ```ts
 * const facilitator = new x402Facilitator();
 * registerExactSvmScheme(facilitator, {
 *   signer: createLiteSvmFacilitatorSigner({ svm, feePayers: [feePayer] }),
 *   networks: SOLANA_DEVNET,
 * });
 * ```
 */
export function createLiteSvmFacilitatorSigner(
  options: LiteSvmFacilitatorSignerOptions,
): FacilitatorSvmSigner {
  const { svm, feePayers } = options;
  if (feePayers.length === 0) throw new TypeError("feePayers: at least one fee payer is required");
  const byAddress = new Map<string, KeyPairSigner>(feePayers.map((signer) => [signer.address, signer]));
  const status =
    options.transactionStatus ?? ((signature: string) => liteSvmTransactionStatus(svm, signature));

  return {
    getAddresses: () => feePayers.map((signer) => signer.address),

    async signTransaction(transaction: string, feePayer: Address): Promise<string> {
      const signer = byAddress.get(feePayer);
      if (!signer) throw new Error(`no signer for fee payer ${feePayer}`);
      const signed = await partiallySignTransaction([signer.keyPair], decodeWireTransaction(transaction));
      return getBase64EncodedWireTransaction(signed);
    },

    async simulateTransaction(transaction: string, _network: string, simulation = {}): Promise<void> {
      const decoded = decodeWireTransaction(transaction);
      // Global LiteSVM state, toggled and restored with no await in between.
      svm.withSigverify(simulation.sigVerify === true);
      let result: ReturnType<LiteSVM["simulateTransaction"]>;
      try {
        result = svm.simulateTransaction(decoded);
      } finally {
        svm.withSigverify(true);
      }
      if (result instanceof FailedTransactionMetadata) {
        const { error, logs } = describeFailure(result);
        throw new Error(`simulation failed: ${error}${logs.length ? `\n${logs.join("\n")}` : ""}`);
      }
    },

    async sendTransaction(transaction: string): Promise<string> {
      const decoded = decodeWireTransaction(transaction);
      const first = Object.values(decoded.signatures)[0];
      const signature = first ? getBase58Decoder().decode(first) : "";
      const result = svm.sendTransaction(decoded);
      if (result instanceof FailedTransactionMetadata) {
        options.onTransaction?.(decoded, signature, "failed");
        const { error, logs } = describeFailure(result);
        throw new Error(`transaction failed: ${error}${logs.length ? `\n${logs.join("\n")}` : ""}`);
      }
      const sent = getBase58Decoder().decode(result.signature());
      options.onTransaction?.(decoded, sent, "succeeded");
      return sent;
    },

    async confirmTransaction(signature: string): Promise<void> {
      const outcome = status(signature);
      if (outcome === "failed") throw new TransactionOnchainFailureError(`transaction ${signature} failed`);
      // Sending is synchronous in LiteSVM: a signature it never saw was never sent, a terminal outcome.
      if (outcome === "unknown")
        throw new TransactionOnchainFailureError(`transaction ${signature} not found`);
    },

    async getLatestBlockhash(): Promise<{ blockhash: string; lastValidBlockHeight: bigint }> {
      return {
        blockhash: svm.latestBlockhash(),
        lastValidBlockHeight: svm.getClock().slot + BLOCKHASH_VALIDITY_SLOTS,
      };
    },

    async getSlot(): Promise<bigint> {
      return svm.getClock().slot;
    },

    async getTokenAccountBalance(tokenAccountAddress: string): Promise<bigint | null> {
      const account = svm.getAccount(tokenAccountAddress as Address);
      if (!account.exists) return null;
      return getTokenDecoder().decode(account.data).amount;
    },

    async getAccountInfo(accountAddress: string) {
      const account = svm.getAccount(accountAddress as Address);
      if (!account.exists) return null;
      return {
        data: [getBase64Decoder().decode(account.data), "base64"] as [string, string],
        owner: account.programAddress,
        lamports: account.lamports,
      };
    },
  };
}
