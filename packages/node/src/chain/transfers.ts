import {
  type Address,
  decompileTransactionMessage,
  getBase58Decoder,
  getCompiledTransactionMessageDecoder,
  type Transaction,
} from "@solana/kit";
import { TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import type { UsdcTransfer } from "./settlement-chain.js";

/** SPL Memo program v3 (the one x402 payments use). */
export const MEMO_PROGRAM_ADDRESS = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr" as Address;
const TOKEN_2022_PROGRAM_ADDRESS = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
const TRANSFER_CHECKED = 12;

/** Base58 of the transaction's first signature (the fee payer's), or undefined when unsigned. */
export function transactionSignature(transaction: Transaction): string | undefined {
  const first = Object.values(transaction.signatures)[0];
  return first ? getBase58Decoder().decode(first) : undefined;
}

/**
 * The `TransferChecked` instructions of `mint` in a transaction (top level only; no lookup tables),
 * with its fee payer and memo. Anything it cannot decode yields no transfer.
 */
export function readUsdcTransfers(
  transaction: Transaction,
  signature: string,
  mint: Address,
): UsdcTransfer[] {
  let instructions: ReturnType<typeof decompileTransactionMessage>["instructions"];
  let feePayer: Address;
  try {
    const compiled = getCompiledTransactionMessageDecoder().decode(transaction.messageBytes);
    const message = decompileTransactionMessage(compiled);
    instructions = message.instructions;
    feePayer = message.feePayer.address;
  } catch {
    return [];
  }
  let memo: string | undefined;
  for (const instruction of instructions) {
    if (instruction.programAddress === MEMO_PROGRAM_ADDRESS && instruction.data) {
      memo = new TextDecoder().decode(instruction.data);
    }
  }
  const transfers: UsdcTransfer[] = [];
  for (const instruction of instructions) {
    const program = instruction.programAddress as string;
    if (program !== TOKEN_PROGRAM_ADDRESS && program !== TOKEN_2022_PROGRAM_ADDRESS) continue;
    const data = instruction.data;
    const accounts = instruction.accounts ?? [];
    if (!data || data.length < 10 || data[0] !== TRANSFER_CHECKED || accounts.length < 4) continue;
    const [source, mintAccount, destination, authority] = accounts;
    if (!source || !mintAccount || !destination || !authority || mintAccount.address !== mint) continue;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    transfers.push({
      signature,
      authority: authority.address,
      sourceTokenAccount: source.address,
      destinationTokenAccount: destination.address,
      mint,
      amount: view.getBigUint64(1, true),
      feePayer,
      memo,
    });
  }
  return transfers;
}
