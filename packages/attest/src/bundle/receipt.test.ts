import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../common/bytes.js";
import { AttestError } from "../common/errors.js";
import {
  decodeReceiptBody,
  decodeSignedReceipt,
  encodeReceiptBody,
  encodeSignedReceipt,
  type Receipt,
  receiptSigningMessage,
  verifyReceipt,
} from "./receipt.js";

const receipt: Receipt = {
  requestHash: new Uint8Array(32).fill(1),
  responseHash: new Uint8Array(32).fill(2),
  model: "m",
  seed: 0,
  usage: { promptTokens: 1, completionTokens: 2 },
  worker: "w",
  time: 1_700_000_000,
};

function sign(body: Uint8Array, secret: Uint8Array) {
  return { body, signature: ed25519.sign(receiptSigningMessage(body), secret) };
}

describe("receipts", () => {
  it("encode to the hand-computed deterministic CBOR", () => {
    // a7 map(7); 1: bstr(32) request hash; 2: bstr(32) response hash; 3: "m"; 4: 0 (seed);
    // 5: {1: 1, 2: 2} (usage); 6: "w" (worker); 7: 1700000000 (time, uint32)
    expect(toHex(encodeReceiptBody(receipt))).toBe(
      `a7015820${"01".repeat(32)}025820${"02".repeat(32)}03616d040005a201010202066177071a6553f100`,
    );
  });

  it("round-trip, with 64-bit seeds in shortest form", () => {
    for (const seed of [0, 23, 24, 255, 65_536, 2 ** 32 - 1, 2n ** 32n, 2n ** 64n - 1n]) {
      const decoded = decodeReceiptBody(encodeReceiptBody({ ...receipt, seed }));
      expect(BigInt(decoded.seed)).toBe(BigInt(seed));
    }
  });

  it("verify with the enclave key; a tampered body, signature or wrong key fails", async () => {
    const secret = ed25519.utils.randomSecretKey();
    const publicKey = ed25519.getPublicKey(secret);
    const signed = sign(encodeReceiptBody(receipt), secret);
    expect(await verifyReceipt(signed, publicKey)).toMatchObject({ ok: true, errors: [] });
    expect((await verifyReceipt(decodeSignedReceipt(encodeSignedReceipt(signed)), publicKey)).ok).toBe(true);

    const body = encodeReceiptBody({ ...receipt, usage: { promptTokens: 1, completionTokens: 3 } });
    expect((await verifyReceipt({ body, signature: signed.signature }, publicKey)).errors[0]?.code).toBe(
      "receipt_signature_invalid",
    );
    const signature = signed.signature.slice();
    signature[10]! ^= 4;
    expect((await verifyReceipt({ body: signed.body, signature }, publicKey)).errors[0]?.code).toBe(
      "receipt_signature_invalid",
    );
    expect((await verifyReceipt(signed, ed25519.getPublicKey(ed25519.utils.randomSecretKey()))).ok).toBe(
      false,
    );
    // A signature over the bare body (without the receipt context) is not a receipt signature.
    expect(
      (await verifyReceipt({ body: signed.body, signature: ed25519.sign(signed.body, secret) }, publicKey))
        .ok,
    ).toBe(false);
  });

  it("reject non-canonical bodies even when validly signed", async () => {
    const secret = ed25519.utils.randomSecretKey();
    const canonical = toHex(encodeReceiptBody(receipt));
    const nonShortest = fromHex(canonical.replace("03616d0400", "03616d041800"));
    const result = await verifyReceipt(sign(nonShortest, secret), ed25519.getPublicKey(secret));
    expect(result.errors[0]?.code).toBe("receipt_not_canonical");
  });

  it("arbitrary bytes only ever throw AttestError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), (bytes) => {
        try {
          decodeReceiptBody(bytes);
          decodeSignedReceipt(bytes);
        } catch (error) {
          expect(AttestError.isInstance(error)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
