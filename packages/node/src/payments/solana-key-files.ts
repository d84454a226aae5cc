import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateWalletKey, type WalletKey, walletKeyFromSecret } from "../chain/keys.js";
import { PaymentError } from "./errors.js";

/** The wallets a node keeps, each as a Solana CLI key file under `<dataDir>/solana/`. */
export type NodeWallet = "treasury" | "fee-payer" | "dev-wallet";

/** Path of a wallet's key file: `<dataDir>/solana/<wallet>.json` (a JSON array of 64 bytes, mode 0600). */
export function walletKeyFile(dataDir: string, wallet: NodeWallet): string {
  return join(dataDir, "solana", `${wallet}.json`);
}

/** Reads a Solana CLI key file (JSON array of 64 numbers). */
export async function readWalletKeyFile(file: string): Promise<WalletKey> {
  let bytes: Uint8Array;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (!Array.isArray(parsed) || parsed.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
      throw new TypeError("not a JSON array of bytes");
    }
    bytes = Uint8Array.from(parsed as number[]);
  } catch (error) {
    throw new PaymentError("payment_argument_invalid", `${file}: not a Solana key file`, {
      cause: error,
      details: { argument: file },
    });
  }
  return walletKeyFromSecret(bytes, file);
}

/**
 * The wallet's key from its file, created (random, mode 0600) when missing and `create` is set, so a
 * node keeps the same treasury and fee payer across restarts.
 */
export async function loadOrCreateWalletKey(
  dataDir: string,
  wallet: NodeWallet,
  create: boolean,
): Promise<WalletKey | undefined> {
  const file = walletKeyFile(dataDir, wallet);
  if (existsSync(file)) return readWalletKeyFile(file);
  if (!create) return undefined;
  const key = await generateWalletKey();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify([...key.secretKey])}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  try {
    chmodSync(file, 0o600);
  } catch {}
  return key;
}

/** Where a running node's embedded chain can be reached (written at start, removed at close). */
export interface EmbeddedChainFile {
  readonly rpc_url: string;
  readonly network: string;
  readonly usdc_mint: string;
  readonly treasury: string;
  readonly pid: number;
}

export function embeddedChainFile(dataDir: string): string {
  return join(dataDir, "solana", "embedded-chain.json");
}
