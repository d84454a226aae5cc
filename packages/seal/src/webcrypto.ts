import { equalBytes, fromHex, toBase64Url } from "./bytes.js";

/**
 * One-time detection of the WebCrypto algorithms HPKE can use. Each probe runs a real operation, because
 * several runtimes list an algorithm and then fail on first use, and the key-agreement probes check a
 * known answer, so a runtime whose WebCrypto computes something else is never used: the results of
 * the two paths cannot differ silently. The answer is cached for the life of the process, so a given
 * process always takes the same path; both paths produce the same bytes (the tests run every vector
 * and the interop suite through each, and compare them directly).
 */

/** Which WebCrypto algorithms work in this runtime. */
export interface Capabilities {
  readonly x25519: boolean;
  readonly p256: boolean;
  readonly aesGcm: boolean;
}

const NONE: Capabilities = Object.freeze({ x25519: false, p256: false, aesGcm: false });

/**
 * Known answers for the probes, from the RFCs rather than computed at start-up (which cost a
 * millisecond of @noble scalar multiplication on the first sealed message). The private keys go
 * through the same JWK import as real keys; the base-point DH is the one `kem.ts` uses to check a
 * key pair.
 */
interface KnownAnswer {
  readonly algorithm: { name: string; namedCurve?: string };
  readonly privateJwk: JsonWebKey;
  /** Raw public key of the peer. */
  readonly peer: Uint8Array;
  /** Raw base point, and the DH of the private key with it (the public key, or its x-coordinate). */
  readonly base: Uint8Array;
  readonly publicCheck: Uint8Array;
  readonly shared: Uint8Array;
}

/** RFC 7748 §6.1: Alice's private key, Bob's public key, their shared secret. */
function x25519KnownAnswer(): KnownAnswer {
  const d = fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const publicKey = fromHex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const base = new Uint8Array(32);
  base[0] = 9;
  return {
    algorithm: { name: "X25519" },
    privateJwk: { kty: "OKP", crv: "X25519", d: toBase64Url(d), x: toBase64Url(publicKey) },
    peer: fromHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
    base,
    publicCheck: publicKey,
    shared: fromHex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
  };
}

/** RFC 5903 §8.1 (ECDH P-256): i, g^i, g^r and the x-coordinate of g^ir. */
function p256KnownAnswer(): KnownAnswer {
  const gix = fromHex("dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180");
  const giy = fromHex("5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3");
  return {
    algorithm: { name: "ECDH", namedCurve: "P-256" },
    privateJwk: {
      kty: "EC",
      crv: "P-256",
      d: toBase64Url(fromHex("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433")),
      x: toBase64Url(gix),
      y: toBase64Url(giy),
    },
    peer: fromHex(
      "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63" +
        "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
    ),
    base: fromHex(
      "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" +
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    ),
    publicCheck: gix,
    shared: fromHex("d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"),
  };
}

/** Key generation, raw export and import, JWK import, and both DHs against their known answers. */
async function probeKeyAgreement(s: SubtleCrypto, known: KnownAnswer): Promise<void> {
  const { algorithm } = known;
  const pair = (await s.generateKey(algorithm, false, ["deriveBits"])) as CryptoKeyPair;
  const raw = await s.exportKey("raw", pair.publicKey);
  await s.importKey("raw", raw, algorithm, false, []);
  const fixed = await s.importKey("jwk", known.privateJwk, algorithm, false, ["deriveBits"]);
  const [peer, base] = await Promise.all([
    s.importKey("raw", new Uint8Array(known.peer), algorithm, false, []),
    s.importKey("raw", new Uint8Array(known.base), algorithm, false, []),
  ]);
  const [shared, check] = await Promise.all([
    s.deriveBits({ name: algorithm.name, public: peer }, fixed, 256),
    s.deriveBits({ name: algorithm.name, public: base }, fixed, 256),
  ]);
  if (
    !equalBytes(new Uint8Array(shared), known.shared) ||
    !equalBytes(new Uint8Array(check), known.publicCheck)
  ) {
    throw new Error(`${algorithm.name}: WebCrypto disagrees with the known answer`);
  }
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
    probe((s) => probeKeyAgreement(s, x25519KnownAnswer())),
    probe((s) => probeKeyAgreement(s, p256KnownAnswer())),
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
