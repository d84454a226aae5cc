import { createKeyPairSignerFromBytes, type KeyPairSigner } from "@solana/kit";
import { X402Error } from "./errors.js";

/**
 * A `@solana/kit` signer from a 64-byte Solana secret key (seed ‖ public key, the Solana CLI's
 * `id.json` layout, as bytes or as the JSON array of numbers).
 *
 * @example
 * ```ts
 * const signer = await createSolanaSigner(devWalletSecret);
 * console.log(signer.address);
 * ```
 */
export async function createSolanaSigner(
  secretKey64: Uint8Array | readonly number[],
): Promise<KeyPairSigner> {
  const bytes = secretKey64 instanceof Uint8Array ? secretKey64 : Uint8Array.from(secretKey64 ?? []);
  if (bytes.length !== 64) {
    throw new X402Error("argument_invalid", "secretKey64: expected a 64-byte Solana secret key", {
      details: { argument: "secretKey64", length: bytes.length },
    });
  }
  try {
    return await createKeyPairSignerFromBytes(bytes);
  } catch (error) {
    throw new X402Error("argument_invalid", "secretKey64: the public key does not match the seed", {
      details: { argument: "secretKey64" },
      cause: error,
    });
  }
}
