import { AttestArgumentError } from "./errors.js";
import { nodeCrypto } from "./node-crypto.js";

/**
 * The Node build's stand-in for `@noble/hashes/sha2.js` (tsup aliases the import in dist/node only):
 * the same one-shot digests on node:crypto, which Node already carries, so that importing `/bundle`
 * does not load and compile @noble/hashes (~10 ms at start). Browsers and bundlers keep noble.
 * node:crypto is reached (through the signature backend's accessor) on the first digest, not at
 * import. A test holds both to the same output.
 */

type Digest = (data: Uint8Array) => Uint8Array;

function digest(algorithm: string): Digest {
  return (data) => {
    const crypto = nodeCrypto();
    if (!crypto)
      throw new AttestArgumentError(
        "signature_backend_unavailable",
        "node:crypto is not available here (process.getBuiltinModule is missing)",
      );
    const hash = crypto.createHash(algorithm);
    hash.update(data);
    const out = hash.digest();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  };
}

export const sha256: Digest = digest("sha256");
export const sha384: Digest = digest("sha384");
export const sha512: Digest = digest("sha512");
