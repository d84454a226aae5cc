import { x25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import { toBase64Url } from "./bytes.js";

/**
 * One-time detection of the WebCrypto algorithms HPKE can use. Each probe runs a real operation, because
 * several runtimes list an algorithm and then fail on first use. The answer is cached for the life of the
 * process, so a given process always takes the same path; both paths produce the same bytes (the tests
 * run every vector through each).
 */

/** Which WebCrypto algorithms work in this runtime. */
export interface Capabilities {
  readonly x25519: boolean;
  readonly p256: boolean;
  readonly aesGcm: boolean;
}

const NONE: Capabilities = Object.freeze({ x25519: false, p256: false, aesGcm: false });

/**
 * JWKs for the probes, which must exercise the JWK import that real private keys go through. Made from
 * a fixed test scalar with @noble, once, so they are valid by construction; they protect nothing.
 */
function probeJwk(curve: "X25519" | "P-256"): JsonWebKey {
  const d = new Uint8Array(32).fill(0x11);
  if (curve === "X25519") {
    return { kty: "OKP", crv: "X25519", d: toBase64Url(d), x: toBase64Url(x25519.getPublicKey(d)) };
  }
  const pub = p256.getPublicKey(d, false);
  return {
    kty: "EC",
    crv: "P-256",
    d: toBase64Url(d),
    x: toBase64Url(pub.subarray(1, 33)),
    y: toBase64Url(pub.subarray(33, 65)),
  };
}

let detected: Promise<Capabilities> | undefined;
let override: Capabilities | undefined;

/** The subtle crypto object, or undefined where there is none (old runtimes, insecure browser contexts). */
export function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: Crypto }).crypto?.subtle;
}

async function probe(run: (s: SubtleCrypto) => Promise<unknown>): Promise<boolean> {
  const s = subtle();
  if (!s) return false;
  try {
    await run(s);
    return true;
  } catch {
    return false;
  }
}

async function detect(): Promise<Capabilities> {
  const [x25519, p256, aesGcm] = await Promise.all([
    probe(async (s) => {
      const pair = (await s.generateKey({ name: "X25519" }, false, ["deriveBits"])) as CryptoKeyPair;
      const raw = await s.exportKey("raw", pair.publicKey);
      const peer = await s.importKey("raw", raw, { name: "X25519" }, false, []);
      const fixed = await s.importKey("jwk", probeJwk("X25519"), { name: "X25519" }, false, ["deriveBits"]);
      await s.deriveBits({ name: "X25519", public: peer }, fixed, 256);
    }),
    probe(async (s) => {
      const algorithm = { name: "ECDH", namedCurve: "P-256" };
      const pair = (await s.generateKey(algorithm, false, ["deriveBits"])) as CryptoKeyPair;
      const raw = await s.exportKey("raw", pair.publicKey);
      const peer = await s.importKey("raw", raw, algorithm, false, []);
      const fixed = await s.importKey("jwk", probeJwk("P-256"), algorithm, false, ["deriveBits"]);
      await s.deriveBits({ name: "ECDH", public: peer }, fixed, 256);
    }),
    probe(async (s) => {
      const key = await s.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt", "decrypt"]);
      const iv = new Uint8Array(12);
      const sealed = await s.encrypt({ name: "AES-GCM", iv }, key, new Uint8Array(1));
      await s.decrypt({ name: "AES-GCM", iv }, key, sealed);
    }),
  ]);
  return Object.freeze({ x25519, p256, aesGcm });
}

/** The runtime's capabilities, detected on first call. */
export function capabilities(): Promise<Capabilities> {
  if (override) return Promise.resolve(override);
  detected ??= detect();
  return detected;
}

/**
 * Test hook: force a capability set (`"none"` = pure @noble everywhere), or `undefined` to go back to
 * detection. Not exported from the package entry point.
 */
export function overrideCapabilities(value: Capabilities | "none" | undefined): void {
  override = value === "none" ? NONE : value;
}
