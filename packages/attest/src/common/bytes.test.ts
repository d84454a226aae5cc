import { bytesToHex } from "@noble/hashes/utils.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytesKey, charCodesOf, copyBytes, fromBase64, toBase64, toHex } from "./bytes.js";
import { AttestError } from "./errors.js";

// Under Node these run the Buffer paths; each is compared with the portable path browsers take.
describe("bytesKey", () => {
  it("maps every byte value to its own UTF-16 unit, like the portable path", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const key = bytesKey(all);
    expect(key).toBe(charCodesOf(all));
    expect([...key].map((c) => c.charCodeAt(0))).toEqual([...all]);
  });

  it("reads exactly the view it is given (offset subarrays, Node Buffers, more than one chunk)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20_000 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        const view = bytes.subarray(start, end);
        expect(bytesKey(view)).toBe(charCodesOf(view));
        expect(bytesKey(Buffer.from(view))).toBe(charCodesOf(view));
      }),
      { numRuns: 200 },
    );
  });
});

describe("base64", () => {
  const reference = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

  it("decodes standard and URL-safe text, with whitespace and without padding, as atob does", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.boolean(),
        fc.boolean(),
        (bytes, urlSafe, unpadded) => {
          const standard = btoa(charCodesOf(bytes));
          let text = standard.replace(/(.{64})/g, "$1\n");
          if (urlSafe) text = text.replace(/\+/g, "-").replace(/\//g, "_");
          if (unpadded) text = text.replace(/=+$/, "");
          expect(fromBase64(text)).toEqual(reference(standard));
          expect(toBase64(bytes)).toBe(standard);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses what is not base64 with input_base64_invalid", () => {
    for (const text of ["A", "AAAAA", "A===", "QQ==QQ==", "QU@J", "QUJD\u00e9"]) {
      let code = "no error";
      try {
        fromBase64(text);
      } catch (error) {
        if (AttestError.isInstance(error)) code = error.code;
      }
      expect(code, text).toBe("input_base64_invalid");
    }
  });
});

describe("toHex", () => {
  it("gives noble's lowercase hex for any view", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), (bytes, a) => {
        const view = bytes.subarray(bytes.length === 0 ? 0 : a % bytes.length);
        expect(toHex(view)).toBe(bytesToHex(view));
      }),
      { numRuns: 200 },
    );
  });
});

describe("copyBytes", () => {
  it("copies a Node Buffer into memory of its own (Buffer.slice would share it)", () => {
    const buffer = Buffer.from([1, 2, 3, 4]);
    const copy = copyBytes(buffer.subarray(1, 3));
    buffer.fill(0);
    expect(copy).toEqual(new Uint8Array([2, 3]));
    expect(Object.getPrototypeOf(copy)).toBe(Uint8Array.prototype);
  });
});
