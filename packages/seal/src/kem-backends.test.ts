import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fromHex, toHex } from "./bytes.js";
import { SealError } from "./errors.js";
import { kemFor } from "./kem.js";
import { type Capabilities, capabilities, overrideCapabilities } from "./webcrypto.js";

/**
 * The X25519 and P-256 DHKEMs run on WebCrypto where the runtime has the curve and on @noble/curves
 * otherwise. These tests force each path through the internal switch and check that they compute the
 * same bytes and refuse the same inputs with the same errors.
 */

const WEB: Capabilities = { x25519: true, p256: true, aesGcm: true };
const BACKENDS = [
  ["WebCrypto", WEB],
  ["@noble", "none"],
] as const;
type Backend = (typeof BACKENDS)[number][1];

afterEach(() => overrideCapabilities(undefined));

async function on<T>(backend: Backend, run: () => Promise<T>): Promise<T> {
  overrideCapabilities(backend);
  try {
    return await run();
  } finally {
    overrideCapabilities(undefined);
  }
}

/** Fresh arrays each time, so no path is handed a key another path imported (the caches are per array). */
const fresh = (hex: string): Uint8Array => fromHex(hex);

/** What an operation did: its bytes, or its error's code, argument and message. */
async function outcome(run: () => Promise<Uint8Array>): Promise<string> {
  try {
    return `ok ${toHex(await run())}`;
  } catch (error) {
    if (!SealError.isInstance(error)) throw error;
    return `error ${error.code} ${String(error.details?.argument)} ${error.message}`;
  }
}

const x25519 = kemFor(0x0020);
const p256 = kemFor(0x0010);

describe("the DHKEM backends", () => {
  it("the runtime has X25519 and P-256 in WebCrypto (Node 20), so the WebCrypto path is tested for real", async () => {
    expect(await capabilities()).toEqual(WEB);
  });

  it.each([
    ["X25519", x25519],
    ["P-256", p256],
  ] as const)("%s: the WebCrypto path calls WebCrypto and the @noble path never does", async (_n, kem) => {
    const seed = new Uint8Array(kem.privateKeyLength).fill(7);
    const recipient = await kem.deriveKeyPair(seed);
    const deriveBits = vi.spyOn(globalThis.crypto.subtle, "deriveBits");
    try {
      await on("none", async () => {
        const { enc } = await kem.encap(fresh(toHex(recipient.publicKey)));
        await kem.decap(enc, { privateKey: fresh(toHex(recipient.privateKey)) });
      });
      expect(deriveBits).not.toHaveBeenCalled();
      await on(WEB, async () => {
        const { enc } = await kem.encap(fresh(toHex(recipient.publicKey)));
        await kem.decap(enc, { privateKey: fresh(toHex(recipient.privateKey)) });
      });
      expect(deriveBits).toHaveBeenCalled();
    } finally {
      deriveBits.mockRestore();
    }
  });

  it.each([
    ["X25519", x25519],
    ["P-256", p256],
  ] as const)(
    "%s: Encap/Decap and AuthEncap/AuthDecap give identical shared secrets on both paths",
    async (_n, kem) => {
      const ikm = fc.uint8Array({ minLength: 32, maxLength: 32 });
      await fc.assert(
        fc.asyncProperty(ikm, ikm, ikm, fc.boolean(), async (ikmR, ikmE, ikmS, auth) => {
          const recipient = await kem.deriveKeyPair(ikmR);
          const ephemeral = await kem.deriveKeyPair(ikmE);
          const sender = await kem.deriveKeyPair(ikmS);
          const results: string[] = [];
          for (const [, backend] of BACKENDS) {
            const { enc, sharedSecret } = await on(backend, () =>
              kem.encap(fresh(toHex(recipient.publicKey)), {
                ephemeralKeyPair: { privateKey: fresh(toHex(ephemeral.privateKey)) },
                ...(auth ? { senderKeyPair: { privateKey: fresh(toHex(sender.privateKey)) } } : {}),
              }),
            );
            expect(enc).toEqual(ephemeral.publicKey);
            const opened = await on(backend, () =>
              kem.decap(
                fresh(toHex(enc)),
                { privateKey: fresh(toHex(recipient.privateKey)) },
                auth ? fresh(toHex(sender.publicKey)) : undefined,
              ),
            );
            expect(opened).toEqual(sharedSecret);
            results.push(toHex(sharedSecret));
          }
          expect(results[0]).toBe(results[1]);
        }),
        { seed: 0x25519, numRuns: 12 },
      );
    },
  );

  it.each([
    ["X25519", x25519],
    ["P-256", p256],
  ] as const)("%s: a random ephemeral key on one path opens on the other", async (_n, kem) => {
    const recipient = await kem.generateKeyPair();
    for (const [[, from], [, to]] of [
      [BACKENDS[0], BACKENDS[1]],
      [BACKENDS[1], BACKENDS[0]],
    ] as const) {
      const { enc, sharedSecret } = await on(from, () => kem.encap(fresh(toHex(recipient.publicKey))));
      const opened = await on(to, () => kem.decap(enc, { privateKey: fresh(toHex(recipient.privateKey)) }));
      expect(opened).toEqual(sharedSecret);
    }
  });
});

/**
 * Low-order and non-canonical X25519 u-coordinates (libsodium's and Wycheproof's lists): 0, 1, the two
 * points of order 8, p − 1, p, p + 1, and non-canonical encodings (top bit set, or ≥ p). RFC 9180 §7.1.4
 * requires an all-zero DH output to abort; both paths must refuse exactly the same inputs, with the same
 * error, and agree on the bytes of the rest.
 */
const LOW_ORDER = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];
/** The same points with the (ignored) top bit set: still low order. */
const LOW_ORDER_TOP_BIT = LOW_ORDER.map((hex) => {
  const bytes = fromHex(hex);
  bytes[31]! |= 0x80;
  return toHex(bytes);
});
/** Non-canonical encodings that are not low order once reduced: both paths must give the same bytes. */
const NON_CANONICAL = [
  "cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
  "4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
  "d9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  "daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  "dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

describe("X25519 low-order and non-canonical points", () => {
  const recipientSeed = new Uint8Array(32).fill(0x42);

  it.each([...LOW_ORDER, ...LOW_ORDER_TOP_BIT])(
    "enc %s is refused as hpke_invalid_enc on both paths, identically",
    async (point) => {
      const recipient = await x25519.deriveKeyPair(recipientSeed);
      const results: string[] = [];
      for (const [, backend] of BACKENDS) {
        results.push(
          await on(backend, () =>
            outcome(() => x25519.decap(fresh(point), { privateKey: fresh(toHex(recipient.privateKey)) })),
          ),
        );
      }
      expect(results[0]).toMatch(/^error hpke_invalid_enc enc /);
      expect(results[1]).toBe(results[0]);
    },
  );

  it.each([...LOW_ORDER, ...LOW_ORDER_TOP_BIT])(
    "recipientPublicKey %s is refused as hpke_invalid_key on both paths, identically",
    async (point) => {
      const ephemeral = await x25519.deriveKeyPair(new Uint8Array(32).fill(0x43));
      const results: string[] = [];
      for (const [, backend] of BACKENDS) {
        results.push(
          await on(backend, async () => {
            const result = await outcome(async () => {
              const { sharedSecret } = await x25519.encap(fresh(point), {
                ephemeralKeyPair: { privateKey: fresh(toHex(ephemeral.privateKey)) },
              });
              return sharedSecret;
            });
            // And with a random ephemeral key, which on the WebCrypto path never leaves WebCrypto.
            expect(await outcome(async () => (await x25519.encap(fresh(point))).sharedSecret)).toBe(result);
            return result;
          }),
        );
      }
      expect(results[0]).toMatch(/^error hpke_invalid_key recipientPublicKey /);
      expect(results[1]).toBe(results[0]);
    },
  );

  it.each(NON_CANONICAL)("enc %s gives the same shared secret on both paths", async (point) => {
    const recipient = await x25519.deriveKeyPair(recipientSeed);
    const results: string[] = [];
    for (const [, backend] of BACKENDS) {
      results.push(
        await on(backend, () =>
          outcome(() => x25519.decap(fresh(point), { privateKey: fresh(toHex(recipient.privateKey)) })),
        ),
      );
    }
    expect(results[0]).toMatch(/^ok /);
    expect(results[1]).toBe(results[0]);
  });
});
