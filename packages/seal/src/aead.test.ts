import { gcm } from "@noble/ciphers/aes.js";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { aeadFor, SYNC_AES_GCM_FIRST_LIMIT, SYNC_AES_GCM_LIMIT } from "./aead.js";
import { toHex } from "./bytes.js";
import { overrideCapabilities } from "./webcrypto.js";

const params = { seed: 0xae5, numRuns: 150 };

describe("AES-GCM agrees with WebCrypto", () => {
  it("on random keys, nonces, aad and plaintext (AES-128 and AES-256), on both of our paths", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 70 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (short, nonce, aad, plaintext, keyBytes) => {
          const key = short ? keyBytes.subarray(0, 16) : keyBytes;
          const ours = await aeadFor(short ? 1 : 2)
            .createKey(key)
            .seal(nonce, aad, plaintext);
          const web = await crypto.subtle.importKey("raw", key.slice(), "AES-GCM", false, ["encrypt"]);
          const viaWeb = await crypto.subtle.encrypt(
            { name: "AES-GCM", iv: nonce.slice(), additionalData: aad.slice() },
            web,
            plaintext.slice(),
          );
          expect(toHex(ours)).toBe(toHex(new Uint8Array(viaWeb)));
          expect(toHex(ours)).toBe(toHex(gcm(key, nonce, aad).encrypt(plaintext)));
        },
      ),
      params,
    );
  });

  it("rejects any single flipped bit and short input", async () => {
    const key = aeadFor(1).createKey(new Uint8Array(16).fill(1));
    const nonce = new Uint8Array(12).fill(2);
    const sealed = await key.seal(nonce, new Uint8Array(3), new Uint8Array(40));
    for (let i = 0; i < sealed.length * 8; i++) {
      const copy = sealed.slice();
      copy[i >>> 3]! ^= 1 << (i & 7);
      await expect(key.open(nonce, new Uint8Array(3), copy)).rejects.toMatchObject({
        code: "hpke_open_failed",
      });
    }
    await expect(key.open(nonce, new Uint8Array(0), sealed.subarray(0, 15))).rejects.toMatchObject({
      code: "hpke_open_failed",
    });
  });
});

describe("AEAD keys give the same bytes on every path", () => {
  it.each([1, 2, 3])(
    "aead %i, below and above the synchronous size limit, with and without WebCrypto",
    async (id) => {
      const aead = aeadFor(id);
      const key = new Uint8Array(aead.keyLength).fill(5);
      const nonce = new Uint8Array(12).fill(6);
      for (const size of [
        0,
        20,
        SYNC_AES_GCM_LIMIT,
        SYNC_AES_GCM_LIMIT + 1,
        SYNC_AES_GCM_FIRST_LIMIT,
        SYNC_AES_GCM_FIRST_LIMIT + 1,
        70_000,
      ]) {
        const plaintext = new Uint8Array(size).fill(7);
        const results: string[] = [];
        for (const backend of [undefined, "none"] as const) {
          overrideCapabilities(backend);
          try {
            const sealed = await aead.createKey(key).seal(nonce, new Uint8Array(2), plaintext);
            results.push(toHex(sealed));
            expect(await aead.createKey(key).open(nonce, new Uint8Array(2), sealed)).toEqual(plaintext);
            const bad = sealed.slice();
            bad[0]! ^= 1;
            await expect(aead.createKey(key).open(nonce, new Uint8Array(2), bad)).rejects.toMatchObject({
              code: "hpke_open_failed",
            });
          } finally {
            overrideCapabilities(undefined);
          }
        }
        expect(results[0]).toBe(results[1]);
      }
    },
  );

  it("a key's first message pays the import only above the first-use limit; later ones use the lower limit", async () => {
    const aead = aeadFor(1);
    const raw = new Uint8Array(16).fill(9);
    const nonce = new Uint8Array(12);
    const encrypt = vi.spyOn(globalThis.crypto.subtle, "encrypt");
    try {
      const small = new Uint8Array(SYNC_AES_GCM_LIMIT + 1).fill(1);
      const key = aead.createKey(raw);
      const first = await key.seal(nonce, new Uint8Array(0), small);
      expect(encrypt).not.toHaveBeenCalled(); // fresh key, below the first-use limit: @noble
      await key.seal(nonce, new Uint8Array(0), new Uint8Array(SYNC_AES_GCM_FIRST_LIMIT + 1));
      expect(encrypt).toHaveBeenCalledTimes(1);
      const again = await key.seal(nonce, new Uint8Array(0), small);
      expect(encrypt).toHaveBeenCalledTimes(2); // the key is imported now: WebCrypto from the lower limit
      expect(again).toEqual(first);
    } finally {
      encrypt.mockRestore();
    }
  });

  it("the export-only AEAD has no key", () => {
    expect(() => aeadFor(0xffff).createKey(new Uint8Array(0))).toThrowError(
      expect.objectContaining({ code: "hpke_export_only" }),
    );
  });
});
