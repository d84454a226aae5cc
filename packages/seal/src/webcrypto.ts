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
      const pair = (await s.generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair;
      const raw = await s.exportKey("raw", pair.publicKey);
      const peer = await s.importKey("raw", raw, { name: "X25519" }, false, []);
      await s.exportKey("jwk", pair.privateKey);
      await s.deriveBits({ name: "X25519", public: peer }, pair.privateKey, 256);
    }),
    probe(async (s) => {
      const pair = (await s.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
        "deriveBits",
      ])) as CryptoKeyPair;
      const raw = await s.exportKey("raw", pair.publicKey);
      const peer = await s.importKey("raw", raw, { name: "ECDH", namedCurve: "P-256" }, false, []);
      await s.exportKey("jwk", pair.privateKey);
      await s.deriveBits({ name: "ECDH", public: peer }, pair.privateKey, 256);
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
