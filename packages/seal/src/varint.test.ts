import { describe, expect, it } from "vitest";
import { toHex } from "./bytes.js";
import { hex } from "./testing/vectors.js";
import { decodeVarint, encodeVarint, varintLength } from "./varint.js";

describe("QUIC variable-length integers (RFC 9000 §16 and Appendix A.1 examples)", () => {
  it.each([
    ["25", 37],
    ["7bbd", 15293],
    ["9d7f3e7d", 494878333],
    ["4025", 37], // non-minimal encodings decode to the same value
  ])("decodes %s as %i", (encoded, value) => {
    const bytes = hex(encoded);
    expect(varintLength(bytes[0]!)).toBe(bytes.length);
    expect(decodeVarint(bytes)).toBe(value);
  });

  it("encodes minimally", () => {
    expect(toHex(encodeVarint(37))).toBe("25");
    expect(toHex(encodeVarint(15293))).toBe("7bbd");
    expect(toHex(encodeVarint(494878333))).toBe("9d7f3e7d");
    expect(toHex(encodeVarint(0x4000_0000))).toBe("c000000040000000");
    expect(toHex(encodeVarint(Number.MAX_SAFE_INTEGER))).toBe("c01fffffffffffff");
  });

  it("maps values past 2^53 - 1 to Infinity, so they fail any length limit", () => {
    expect(decodeVarint(hex("c2197c5eff14e88c"))).toBe(Number.POSITIVE_INFINITY);
  });

  it("refuses values it cannot encode", () => {
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
      expect(() => encodeVarint(bad)).toThrowError(expect.objectContaining({ code: "invalid_argument" }));
    }
  });
});
