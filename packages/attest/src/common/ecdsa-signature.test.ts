import { generateKeyPairSync, sign } from "node:crypto";
import { p256, p384 } from "@noble/curves/nist.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { derSignatureToRaw, isEcdsaScalarInRange } from "./ecdsa-signature.js";

const curves = [
  ["P-256", p256, "prime256v1"],
  ["P-384", p384, "secp384r1"],
] as const;

describe.each(curves)("derSignatureToRaw %s", (curve, noble, openssl) => {
  it("agrees with node:crypto's own ieee-p1363 form", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: openssl });
    for (let i = 0; i < 32; i++) {
      const data = Uint8Array.of(i);
      const der = sign("sha256", data, { key: privateKey, dsaEncoding: "der" });
      const raw = derSignatureToRaw(curve, der);
      expect(raw).not.toBeNull();
      expect(noble.Signature.fromBytes(raw!, "compact").toBytes("der")).toEqual(new Uint8Array(der));
    }
  });

  it("agrees with @noble/curves on arbitrary bytes (accepts exactly what it accepts)", () => {
    const reference = (der: Uint8Array) => {
      try {
        return noble.Signature.fromBytes(der, "der").toBytes("compact");
      } catch {
        return null;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 110 }), (bytes) => {
        expect(derSignatureToRaw(curve, bytes)).toEqual(reference(bytes));
      }),
    );
    // Structured near-misses: valid signatures with one byte changed or cut.
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: openssl });
    const der = new Uint8Array(sign("sha256", Uint8Array.of(1), { key: privateKey, dsaEncoding: "der" }));
    for (let at = 0; at < der.length; at++) {
      for (const value of [0x00, 0x01, 0x7f, 0x80, 0xff, der[at]! ^ 1]) {
        const changed = der.slice();
        changed[at] = value;
        expect(derSignatureToRaw(curve, changed)).toEqual(reference(changed));
      }
      expect(derSignatureToRaw(curve, der.subarray(0, at))).toEqual(reference(der.subarray(0, at)));
    }
  });

  it("refuses r or s of zero, n, or a non-minimal or negative INTEGER", () => {
    const n = noble.Point.CURVE().n;
    const size = curve === "P-256" ? 32 : 48;
    const int = (hex: string) => Uint8Array.of(0x02, hex.length / 2, ...Buffer.from(hex, "hex"));
    const seq = (...parts: Uint8Array[]) => {
      const body = Buffer.concat(parts);
      return Uint8Array.of(0x30, ...(body.length < 0x80 ? [body.length] : [0x81, body.length]), ...body);
    };
    const nHex = `00${n.toString(16).padStart(size * 2, "0")}`;
    expect(derSignatureToRaw(curve, seq(int("01"), int("01")))).not.toBeNull();
    expect(derSignatureToRaw(curve, seq(int("00"), int("01")))).toBeNull();
    expect(derSignatureToRaw(curve, seq(int("01"), int(nHex)))).toBeNull();
    expect(derSignatureToRaw(curve, seq(int("0001"), int("01")))).toBeNull();
    expect(derSignatureToRaw(curve, seq(int("81"), int("01")))).toBeNull();
    expect(derSignatureToRaw(curve, Uint8Array.of(...seq(int("01"), int("01")), 0))).toBeNull();
    // BER forms asn1js decodes (and its toBER() of the decoded tree repeats): refused as not DER.
    const hex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
    expect(derSignatureToRaw(curve, hex("3006020101020101"))).not.toBeNull();
    expect(derSignatureToRaw(curve, hex("308106020101020101"))).toBeNull(); // long-form length
    expect(derSignatureToRaw(curve, hex("30800201010201010000"))).toBeNull(); // indefinite length
    expect(derSignatureToRaw(curve, hex("300702810101020101"))).toBeNull(); // long-form INTEGER length
    // A SEQUENCE length one short of its INTEGERs: asn1js lets the last one run past it.
    expect(derSignatureToRaw(curve, hex("3005020101020101"))).toBeNull();
    expect(derSignatureToRaw(curve, hex("1e013b"))).toBeNull(); // odd BMPString: asn1js throws on it
    expect(isEcdsaScalarInRange(curve, Buffer.from((n - 1n).toString(16), "hex"))).toBe(true);
    expect(isEcdsaScalarInRange(curve, Buffer.from(n.toString(16), "hex"))).toBe(false);
  });
});
