import { p256, p384 } from "@noble/curves/nist.js";
import { AttestArgumentError } from "./errors.js";

/**
 * Signature checks go through WebCrypto (`globalThis.crypto.subtle`): it is in every browser and in
 * Node 20, and native ECDSA verification is an order of magnitude faster than pure-JS. Imported keys
 * are cached by their encoding, so a warm verifier never re-imports the same PCK or VCEK key.
 */
export type EcCurve = "P-256" | "P-384";
export type HashName = "SHA-256" | "SHA-384" | "SHA-512";

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s)
    throw new AttestArgumentError("webcrypto_unavailable", "WebCrypto (crypto.subtle) is not available");
  return s;
}

const COORDINATE_SIZE: Record<EcCurve, number> = { "P-256": 32, "P-384": 48 };
const KEY_CACHE_LIMIT = 512;
const ecKeyCache = new Map<string, Promise<CryptoKey>>();
const rsaKeyCache = new Map<string, Promise<CryptoKey>>();

function cacheKey(prefix: string, bytes: Uint8Array): string {
  let s = prefix;
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

function remember(cache: Map<string, Promise<CryptoKey>>, key: string, make: () => Promise<CryptoKey>) {
  let hit = cache.get(key);
  if (!hit) {
    if (cache.size >= KEY_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    hit = make();
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit;
}

/**
 * Normalises an EC public key to the uncompressed SEC1 point (0x04 || x || y). Accepts that form,
 * or bare x || y as TDX quotes carry it.
 */
export function uncompressedPoint(curve: EcCurve, key: Uint8Array): Uint8Array {
  const size = COORDINATE_SIZE[curve];
  if (key.length === 2 * size) {
    const out = new Uint8Array(1 + 2 * size);
    out[0] = 4;
    out.set(key, 1);
    return out;
  }
  if (key.length === 1 + 2 * size && key[0] === 4) return key;
  throw new AttestArgumentError(
    "ec_public_key_invalid",
    `${curve} public key must be ${2 * size} or ${2 * size + 1} bytes, got ${key.length}`,
  );
}

function importEcKey(curve: EcCurve, point: Uint8Array): Promise<CryptoKey> {
  return remember(ecKeyCache, cacheKey(curve, point), () =>
    subtle().importKey("raw", point as BufferSource, { name: "ECDSA", namedCurve: curve }, false, ["verify"]),
  );
}

/**
 * Converts a DER ECDSA signature (X.509, CRLs, OCSP) to the fixed-size r || s form WebCrypto expects.
 * Returns null for a malformed encoding so the caller reports "signature invalid", not a crash.
 */
export function derSignatureToRaw(curve: EcCurve, der: Uint8Array): Uint8Array | null {
  try {
    const impl = curve === "P-256" ? p256 : p384;
    return impl.Signature.fromBytes(der, "der").toBytes("compact");
  } catch {
    return null;
  }
}

/**
 * Verifies an ECDSA signature given as raw r || s over `data` hashed with `hash`.
 * Returns false (never throws) for a wrong signature, a malformed signature or an invalid key.
 */
export async function verifyEcdsa(
  curve: EcCurve,
  hash: HashName,
  publicKey: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  if (signature.length !== 2 * COORDINATE_SIZE[curve]) return false;
  let key: CryptoKey;
  try {
    key = await importEcKey(curve, uncompressedPoint(curve, publicKey));
  } catch {
    return false;
  }
  return subtle().verify({ name: "ECDSA", hash }, key, signature as BufferSource, data as BufferSource);
}

/** Verifies an RSASSA-PSS signature (AMD's ARK/ASK/VCEK chain uses PSS with SHA-384, salt 48). */
export async function verifyRsaPss(
  spki: Uint8Array,
  hash: HashName,
  saltLength: number,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  let key: CryptoKey;
  try {
    key = await remember(rsaKeyCache, cacheKey(`pss-${hash}`, spki), () =>
      subtle().importKey("spki", spki as BufferSource, { name: "RSA-PSS", hash }, false, ["verify"]),
    );
  } catch {
    return false;
  }
  return subtle().verify(
    { name: "RSA-PSS", saltLength },
    key,
    signature as BufferSource,
    data as BufferSource,
  );
}

/** Verifies an RSASSA-PKCS1-v1_5 signature. */
export async function verifyRsaPkcs1(
  spki: Uint8Array,
  hash: HashName,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  let key: CryptoKey;
  try {
    key = await remember(rsaKeyCache, cacheKey(`pkcs1-${hash}`, spki), () =>
      subtle().importKey("spki", spki as BufferSource, { name: "RSASSA-PKCS1-v1_5", hash }, false, [
        "verify",
      ]),
    );
  } catch {
    return false;
  }
  return subtle().verify({ name: "RSASSA-PKCS1-v1_5" }, key, signature as BufferSource, data as BufferSource);
}

/** Forgets every imported key (benchmarks use it to measure a cold verifier). */
export function clearKeyCaches(): void {
  ecKeyCache.clear();
  rsaKeyCache.clear();
}
