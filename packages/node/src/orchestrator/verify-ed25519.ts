import { createPublicKey, type KeyObject, verify } from "node:crypto";

/** SPKI DER prefix of an Ed25519 public key (RFC 8410): the raw 32 bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** Imported keys, per key array (a worker session keeps its key for its lifetime). */
const imported = new WeakMap<Uint8Array, KeyObject>();

/**
 * Verifies an Ed25519 signature with Node's OpenSSL (RFC 8032, strict: a non-canonical `S` is refused),
 * about 20× faster than a JavaScript verifier; the imported public key is kept per `publicKey` array.
 * Returns `false`, never throws, for a malformed key or signature.
 *
 * @example
 * ```ts
 * verifyEd25519(signature, receiptSigningMessage(body), session.signingKey); // true | false
 * ```
 */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    let key = imported.get(publicKey);
    if (key === undefined) {
      const der = Buffer.concat([ED25519_SPKI_PREFIX, publicKey]);
      key = createPublicKey({ key: der, format: "der", type: "spki" });
      imported.set(publicKey, key);
    }
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
