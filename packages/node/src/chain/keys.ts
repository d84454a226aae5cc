import {
  createKeyPairSignerFromBytes,
  createKeyPairSignerFromPrivateKeyBytes,
  getAddressEncoder,
  type KeyPairSigner,
} from "@solana/kit";
import { invalidArgument } from "./errors.js";

/** A Solana wallet whose 64-byte secret (32-byte seed, then the public key) is known. */
export interface WalletKey {
  readonly signer: KeyPairSigner;
  /** Solana CLI layout: seed ‖ public key. Treat as a secret. */
  readonly secretKey: Uint8Array;
}

/** A fresh random wallet with an exportable secret. */
export async function generateWalletKey(): Promise<WalletKey> {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const probe = await createKeyPairSignerFromPrivateKeyBytes(seed);
  const secretKey = new Uint8Array(64);
  secretKey.set(seed, 0);
  secretKey.set(getAddressEncoder().encode(probe.address), 32);
  return { signer: await createKeyPairSignerFromBytes(secretKey), secretKey };
}

/** A wallet from a 64-byte secret; the public half must match the seed. */
export async function walletKeyFromSecret(secretKey: Uint8Array, name: string): Promise<WalletKey> {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 64) {
    invalidArgument(name, "expected a 64-byte Solana secret key (seed ‖ public key)");
  }
  try {
    return { signer: await createKeyPairSignerFromBytes(secretKey), secretKey: new Uint8Array(secretKey) };
  } catch (error) {
    return invalidArgument(name, "the public key does not match the seed", error);
  }
}
