import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyEd25519 } from "./verify-ed25519.js";

/** The group order L of Ed25519. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function littleEndian(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

function readLittleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] as number);
  return value;
}

describe("verifyEd25519 (node:crypto)", () => {
  const secret = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secret);

  it("agrees with @noble/curves on signatures it made and on altered messages", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(299), (message, at) => {
        const signature = ed25519.sign(message, secret);
        expect(verifyEd25519(signature, message, publicKey)).toBe(true);
        if (message.length > 0) {
          const altered = message.slice();
          altered[at % message.length]! ^= 1;
          expect(verifyEd25519(signature, altered, publicKey)).toBe(false);
        }
      }),
      { numRuns: 50 },
    );
  });

  it("refuses another key, a flipped signature bit, wrong lengths and a non-canonical S (S + L)", () => {
    const message = new TextEncoder().encode("receipt");
    const signature = ed25519.sign(message, secret);
    const other = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    expect(verifyEd25519(signature, message, other)).toBe(false);
    const flipped = signature.slice();
    flipped[10]! ^= 0x40;
    expect(verifyEd25519(flipped, message, publicKey)).toBe(false);
    expect(verifyEd25519(signature.subarray(0, 63), message, publicKey)).toBe(false);
    expect(verifyEd25519(signature, message, publicKey.subarray(0, 31))).toBe(false);
    expect(verifyEd25519(signature, message, new Uint8Array(32).fill(0xff))).toBe(false);
    const s = readLittleEndian(signature.subarray(32));
    const malleated = Uint8Array.from([...signature.subarray(0, 32), ...littleEndian(s + L, 32)]);
    expect(verifyEd25519(malleated, message, publicKey)).toBe(false);
  });
});
