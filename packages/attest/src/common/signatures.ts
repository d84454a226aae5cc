import { bytesKey, concatBytes, toBase64 } from "./bytes.js";
import { AttestArgumentError } from "./errors.js";
import { type NodeCrypto, nodeCrypto } from "./node-crypto.js";

/**
 * Signature checks (ECDSA P-256/P-384, RSASSA-PSS, RSASSA-PKCS1-v1_5) on the platform's native
 * crypto, through one of two backends:
 *
 * - `node:crypto` where Node provides it (reached with `process.getBuiltinModule`, so bundlers and
 *   browsers never see an import of it). Verification is synchronous: one P-384 verify costs what
 *   OpenSSL costs, with no hop to the thread pool and no lock contention between pool threads.
 * - WebCrypto (`crypto.subtle`) everywhere else: browsers, Deno, workers.
 *
 * Both are OpenSSL (or the browser's BoringSSL/NSS) underneath; neither is hand-rolled. Which one is
 * in use is reported by {@link signatureBackend}; the test suite runs the real vectors through both.
 * Imported keys are cached by their encoding, so a warm verifier never re-imports a PCK or VCEK key.
 */
export type EcCurve = "P-256" | "P-384";
export type HashName = "SHA-256" | "SHA-384" | "SHA-512";
export type SignatureBackend = "node:crypto" | "webcrypto";

let chosenBackend: SignatureBackend | undefined;

/** The process's default backend: node:crypto where Node provides it, WebCrypto elsewhere. */
function defaultBackend(): SignatureBackend {
  chosenBackend ??= nodeCrypto() ? "node:crypto" : "webcrypto";
  return chosenBackend;
}

/** The backend signature checks use in this process. */
export function signatureBackend(): SignatureBackend {
  return defaultBackend();
}

/**
 * Chooses the process's default backend (tests run the real vectors through both). A verifier made
 * with `createVerifier({ backend })` uses its own and leaves this one alone. `node:crypto` is
 * refused where Node does not provide it.
 * @throws AttestArgumentError `signature_backend_invalid`, `signature_backend_unavailable`
 */
export function useSignatureBackend(choice: SignatureBackend): void {
  chosenBackend = checkSignatureBackend(choice);
}

/**
 * Checks a backend choice: `node:crypto` is refused where Node does not provide it.
 * @throws AttestArgumentError `signature_backend_invalid`, `signature_backend_unavailable`
 */
export function checkSignatureBackend(choice: SignatureBackend): SignatureBackend {
  if (choice !== "node:crypto" && choice !== "webcrypto") {
    throw new AttestArgumentError(
      "signature_backend_invalid",
      `signature backend must be "node:crypto" or "webcrypto", got ${JSON.stringify(choice)}`,
    );
  }
  if (choice === "node:crypto" && !nodeCrypto()) {
    throw new AttestArgumentError(
      "signature_backend_unavailable",
      "node:crypto is not available here (process.getBuiltinModule is missing)",
    );
  }
  return choice;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s)
    throw new AttestArgumentError("webcrypto_unavailable", "WebCrypto (crypto.subtle) is not available");
  return s;
}

const NODE_HASH: Record<HashName, string> = { "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };
const COORDINATE_SIZE: Record<EcCurve, number> = { "P-256": 32, "P-384": 48 };

/**
 * SHA-256 of the concatenated parts on the platform's crypto: node:crypto's hash (synchronous, no
 * module to load) with the node:crypto backend, WebCrypto's digest otherwise. A verifier that hashes
 * a few hundred bytes need not import a JavaScript SHA-2 at start.
 */
export async function sha256Digest(
  parts: readonly Uint8Array[],
  choice: SignatureBackend = defaultBackend(),
): Promise<Uint8Array> {
  const crypto = choice === "node:crypto" ? nodeCrypto() : undefined;
  if (crypto) {
    const hash = crypto.createHash("sha256");
    for (const part of parts) hash.update(part);
    return new Uint8Array(hash.digest());
  }
  return new Uint8Array(await subtle().digest("SHA-256", concatBytes(...parts) as BufferSource));
}

// ---------------------------------------------------------------------------------------------
// Key caches: one per backend, keyed by algorithm and exact key material. Keys of pinned roots live
// for the process, like the parsed roots themselves; `clearKeyCaches()` leaves them.

const KEY_CACHE_LIMIT = 512;
const keyCache = new Map<string, unknown>();
const pinnedKeys = new Map<string, unknown>();
/** Key material (EC point or RSA SPKI, as `bytesKey`) of the pinned roots. */
const pinnedMaterial = new Set<string>();

/** Marks a pinned root's public key (EC point or RSA SPKI) so its imports outlive `clearKeyCaches()`. */
export function pinPublicKey(material: Uint8Array): void {
  pinnedMaterial.add(bytesKey(material));
}

/** The cached key for (backend, algorithm, material), made by `make` on a miss. */
function remember<T>(prefix: string, material: Uint8Array, make: () => T): T {
  const materialKey = bytesKey(material);
  const key = `${prefix}\u0000${materialKey}`;
  const store = pinnedMaterial.has(materialKey) ? pinnedKeys : keyCache;
  if (store.has(key)) return store.get(key) as T;
  if (store === keyCache && keyCache.size >= KEY_CACHE_LIMIT)
    keyCache.delete(keyCache.keys().next().value as string);
  const made = make();
  store.set(key, made);
  if (made instanceof Promise) made.catch(() => store.delete(key));
  return made;
}

/** Forgets every imported key but the pinned roots' (benchmarks use it to measure a cold verifier). */
export function clearKeyCaches(): void {
  keyCache.clear();
}

function base64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A JWK integer: big-endian without leading zero bytes (RFC 7518 §6.3.1). */
function base64UrlUnsigned(bytes: Uint8Array): string {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return base64Url(bytes.subarray(start));
}

// ---------------------------------------------------------------------------------------------
// ECDSA

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

export { derSignatureToRaw } from "./ecdsa-signature.js";

/**
 * A started signature check. `valid` settles with the verdict. With WebCrypto, `started` settles once
 * the key is imported and the job is on WebCrypto's threads: a caller with synchronous work to do
 * (parsing the rest of the evidence) awaits it first, since until it yields the verification runs
 * nowhere (the import and the hand-over complete in promise callbacks). With node:crypto the check
 * runs on this thread in a promise callback, and `started` settles once it is done.
 */
export interface SignatureCheck {
  readonly started: Promise<void>;
  readonly valid: Promise<boolean>;
}

const STARTED = Promise.resolve();
const REJECTED: SignatureCheck = { started: STARTED, valid: Promise.resolve(false) };

function noop(): void {}

/**
 * node:crypto, P-256: the key from its JWK coordinates (OpenSSL checks the point is on the curve)
 * and a synchronous verify, about 0.07 ms: less than a hand-over to the thread pool would cost.
 */
function nodeP256Verify(
  crypto: NodeCrypto,
  hash: HashName,
  point: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
): SignatureCheck {
  try {
    const key = remember("node-P-256", point, () =>
      crypto.createPublicKey({
        key: {
          kty: "EC",
          crv: "P-256",
          x: base64Url(point.subarray(1, 33)),
          y: base64Url(point.subarray(33)),
        },
        format: "jwk",
      }),
    );
    const valid = crypto.verify(NODE_HASH[hash], data, { key, dsaEncoding: "ieee-p1363" }, signature);
    return { started: STARTED, valid: Promise.resolve(valid) };
  } catch {
    return REJECTED;
  }
}

/**
 * node:crypto, P-384: the key through WebCrypto's raw import (which checks the point is on the
 * curve; a P-384 JWK import in node:crypto runs OpenSSL's full key check, about ten times slower),
 * then a synchronous verify (about 0.65 ms) once the key is there.
 */
function nodeP384Verify(
  crypto: NodeCrypto,
  hash: HashName,
  point: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
  importRaw: () => Promise<CryptoKey>,
): SignatureCheck {
  const key = remember("node-P-384", point, async () => crypto.KeyObject.from(await importRaw()));
  const valid = key.then(
    (k) => crypto.verify(NODE_HASH[hash], data, { key: k, dsaEncoding: "ieee-p1363" }, signature),
    () => false,
  );
  return { started: valid.then(noop, noop), valid };
}

/**
 * Starts an ECDSA verification of a raw r || s signature over `data` hashed with `hash`. The
 * verdict is false (never a rejection) for a wrong signature, a malformed signature or an invalid key.
 */
export function startEcdsaVerify(
  curve: EcCurve,
  hash: HashName,
  publicKey: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
  choice: SignatureBackend = defaultBackend(),
): SignatureCheck {
  if (signature.length !== 2 * COORDINATE_SIZE[curve]) return REJECTED;
  let point: Uint8Array;
  try {
    point = uncompressedPoint(curve, publicKey);
  } catch {
    return REJECTED;
  }
  const importRaw = () =>
    subtle().importKey("raw", point as BufferSource, { name: "ECDSA", namedCurve: curve }, false, ["verify"]);
  const crypto = choice === "node:crypto" ? nodeCrypto() : undefined;
  if (crypto) {
    return curve === "P-256"
      ? nodeP256Verify(crypto, hash, point, signature, data)
      : nodeP384Verify(crypto, hash, point, signature, data, importRaw);
  }
  const key = remember(`ec-${curve}`, point, importRaw);
  // Registered before `started`'s callback, so the job is handed over by the time `started` settles.
  const valid = key.then(
    (k) => subtle().verify({ name: "ECDSA", hash }, k, signature as BufferSource, data as BufferSource),
    () => false,
  );
  return { started: key.then(noop, noop), valid };
}

/**
 * Verifies an ECDSA signature given as raw r || s over `data` hashed with `hash`.
 * Returns false (never throws) for a wrong signature, a malformed signature or an invalid key.
 */
export function verifyEcdsa(
  curve: EcCurve,
  hash: HashName,
  publicKey: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
  choice: SignatureBackend = defaultBackend(),
): Promise<boolean> {
  return startEcdsaVerify(curve, hash, publicKey, signature, data, choice).valid;
}

// ---------------------------------------------------------------------------------------------
// RSA

/** An RSA public key as its big-endian modulus and exponent (from the SPKI's RSAPublicKey). */
export interface RsaPublicKey {
  readonly modulus: Uint8Array;
  readonly exponent: Uint8Array;
  /** The SubjectPublicKeyInfo it came from: the cache key. */
  readonly spki: Uint8Array;
}

type RsaScheme = "RSA-PSS" | "RSASSA-PKCS1-v1_5";

/**
 * RSA keys are imported as JWK (n, e) on both backends: an SPKI goes through OpenSSL's generic
 * decoders, about six times slower than building the key from its two integers.
 */
function rsaJwk(key: RsaPublicKey): JsonWebKey {
  return { kty: "RSA", n: base64UrlUnsigned(key.modulus), e: base64UrlUnsigned(key.exponent), ext: true };
}

async function verifyRsa(
  scheme: RsaScheme,
  publicKey: RsaPublicKey,
  hash: HashName,
  saltLength: number,
  signature: Uint8Array,
  data: Uint8Array,
  choice: SignatureBackend,
): Promise<boolean> {
  const crypto = choice === "node:crypto" ? nodeCrypto() : undefined;
  if (crypto) {
    try {
      const key = remember("rsa", publicKey.spki, () =>
        crypto.createPublicKey({ key: rsaJwk(publicKey), format: "jwk" }),
      );
      const padding =
        scheme === "RSA-PSS" ? crypto.constants.RSA_PKCS1_PSS_PADDING : crypto.constants.RSA_PKCS1_PADDING;
      // Chain links go to the thread pool (node:crypto's callback form): a verifier hands them
      // over first and checks the evidence's own signature on this thread meanwhile.
      return await new Promise<boolean>((resolve) =>
        crypto.verify(
          NODE_HASH[hash],
          data,
          scheme === "RSA-PSS" ? { key, padding, saltLength } : { key, padding },
          signature,
          (error, ok) => resolve(error === null && ok === true),
        ),
      );
    } catch {
      return false;
    }
  }
  let key: CryptoKey;
  try {
    key = await remember(`${scheme}-${hash}`, publicKey.spki, () =>
      subtle().importKey("jwk", rsaJwk(publicKey), { name: scheme, hash }, false, ["verify"]),
    );
  } catch {
    return false;
  }
  return subtle().verify(
    scheme === "RSA-PSS" ? { name: scheme, saltLength } : { name: scheme },
    key,
    signature as BufferSource,
    data as BufferSource,
  );
}

/** Verifies an RSASSA-PSS signature (AMD's ARK/ASK/VCEK chain uses PSS with SHA-384, salt 48). */
export function verifyRsaPss(
  publicKey: RsaPublicKey,
  hash: HashName,
  saltLength: number,
  signature: Uint8Array,
  data: Uint8Array,
  choice: SignatureBackend = defaultBackend(),
): Promise<boolean> {
  return verifyRsa("RSA-PSS", publicKey, hash, saltLength, signature, data, choice);
}

/** Verifies an RSASSA-PKCS1-v1_5 signature. */
export function verifyRsaPkcs1(
  publicKey: RsaPublicKey,
  hash: HashName,
  signature: Uint8Array,
  data: Uint8Array,
  choice: SignatureBackend = defaultBackend(),
): Promise<boolean> {
  return verifyRsa("RSASSA-PKCS1-v1_5", publicKey, hash, 0, signature, data, choice);
}
