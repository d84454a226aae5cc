import { receiptSigningMessage, verifyReceipt } from "@peercycles/attest/bundle";

const importedKeys = new Map<string, Promise<CryptoKey | undefined>>();
const MAX_KEYS = 64;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The key as a WebCrypto Ed25519 key, or undefined where WebCrypto has no Ed25519 (older browsers). */
function importKey(publicKey: Uint8Array): Promise<CryptoKey | undefined> {
  const id = hex(publicKey);
  let key = importedKeys.get(id);
  if (!key) {
    const subtle = globalThis.crypto?.subtle;
    key = subtle
      ? subtle
          .importKey("raw", new Uint8Array(publicKey), { name: "Ed25519" }, false, ["verify"])
          .catch(() => undefined)
      : Promise.resolve(undefined);
    if (importedKeys.size >= MAX_KEYS) importedKeys.delete(importedKeys.keys().next().value as string);
    importedKeys.set(id, key);
  }
  return key;
}

/**
 * Whether `signature` is the Ed25519 signature of a receipt body under `publicKey`, in the
 * receipt's signing context. WebCrypto's Ed25519 where the platform has it (a third of noble's
 * time), else `@peercycles/attest`'s `verifyReceipt` (noble).
 */
export async function verifyReceiptSignature(
  body: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const key = await importKey(publicKey);
  if (key) {
    try {
      return await globalThis.crypto.subtle.verify(
        "Ed25519",
        key,
        new Uint8Array(signature),
        receiptSigningMessage(body) as BufferSource,
      );
    } catch {
      // Fall through to noble.
    }
  }
  return (await verifyReceipt({ body, signature }, publicKey)).ok;
}
