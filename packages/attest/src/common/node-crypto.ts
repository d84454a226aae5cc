/**
 * The one accessor of node:crypto, in a module of its own: the signature backends (signatures.ts) and
 * the Node build's SHA-2 (node-sha2.ts) share it, and a subpath that only hashes (`/bundle` at import)
 * reaches it without loading the signature code and asn1js behind it.
 */

/** The parts of `node:crypto` this package uses (typed here so no Node types leak into the API). */
export interface NodeKeyObject {
  readonly type: string;
}
export interface NodeCrypto {
  readonly KeyObject: { from(key: CryptoKey): NodeKeyObject };
  createHash(algorithm: string): { update(data: Uint8Array): unknown; digest(): Uint8Array };
  createPublicKey(input: { key: JsonWebKey; format: "jwk" }): NodeKeyObject;
  verify(
    algorithm: string,
    data: Uint8Array,
    key: { key: NodeKeyObject; dsaEncoding?: "ieee-p1363"; padding?: number; saltLength?: number },
    signature: Uint8Array,
  ): boolean;
  verify(
    algorithm: string,
    data: Uint8Array,
    key: { key: NodeKeyObject; padding?: number; saltLength?: number },
    signature: Uint8Array,
    callback: (error: Error | null, valid: boolean) => void,
  ): void;
  readonly constants: { readonly RSA_PKCS1_PSS_PADDING: number; readonly RSA_PKCS1_PADDING: number };
}

let nodeCryptoModule: NodeCrypto | null | undefined;

/**
 * node:crypto, loaded on the first signature check rather than at import: outside a CommonJS entry
 * point Node has not loaded it yet, and loading it (its internal modules compiled) costs 3–4 ms that
 * an app importing a subpath to seal, or to verify later, need not pay at start.
 */
export function nodeCrypto(): NodeCrypto | undefined {
  if (nodeCryptoModule === undefined) {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    try {
      nodeCryptoModule = (proc?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined) ?? null;
    } catch {
      nodeCryptoModule = null;
    }
  }
  return nodeCryptoModule ?? undefined;
}
