import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../common/bytes.js";
import { AttestError } from "../common/errors.js";
import {
  type Binding,
  bindingGpuNonce,
  bindingReportData,
  bindingToJson,
  decodeBinding,
  encodeBinding,
} from "./binding.js";

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);

const sample: Binding = {
  hpkePublicKey: fill(32, 0x11),
  signingPublicKey: fill(32, 0x22),
  model: "m",
  weightsDigest: fill(32, 0x33),
  issuedAt: 1_700_000_000,
  clientNonce: fill(8, 0x44),
};

describe("binding", () => {
  it("encodes to the hand-computed deterministic CBOR (RFC 8949 §4.2)", () => {
    // a6                      map(6)
    // 01 5820 11..            1: bstr(32)   HPKE public key
    // 02 5820 22..            2: bstr(32)   signing public key
    // 03 61 6d                3: tstr "m"   model id
    // 04 5820 33..            4: bstr(32)   weights digest
    // 05 1a 6553f100          5: uint32     issued-at 1700000000 (shortest form for ≥ 2^16)
    // 06 48 44..              6: bstr(8)    client nonce
    const expected =
      `a6015820${"11".repeat(32)}025820${"22".repeat(32)}03616d045820${"33".repeat(32)}` +
      `051a6553f1000648${"44".repeat(8)}`;
    expect(toHex(encodeBinding(sample))).toBe(expected);
  });

  it("omits key 6 without a client nonce and uses shortest integers", () => {
    const { clientNonce: _omit, ...rest } = sample;
    const bytes = encodeBinding({ ...rest, issuedAt: 23 });
    expect(toHex(bytes)).toBe(
      `a5015820${"11".repeat(32)}025820${"22".repeat(32)}03616d045820${"33".repeat(32)}0517`,
    );
    expect(toHex(encodeBinding({ ...rest, issuedAt: 24 })).endsWith("051818")).toBe(true);
    expect(toHex(encodeBinding({ ...rest, issuedAt: 2 ** 32 })).endsWith("051b0000000100000000")).toBe(true);
  });

  it("round-trips", () => {
    const bytes = encodeBinding(sample);
    expect(decodeBinding(bytes)).toEqual(sample);
    expect(bindingToJson(bytes).issuedAt).toBe("2023-11-14T22:13:20.000Z");
  });

  it("derives report_data = SHA-512 and GPU nonce = SHA-256 of the bytes", () => {
    const bytes = encodeBinding(sample);
    expect(bindingReportData(bytes)).toHaveLength(64);
    expect(bindingGpuNonce(bytes)).toHaveLength(32);
    // SHA-256("abc") and SHA-512("abc") from FIPS 180-2, to pin the hash functions used.
    const abc = new TextEncoder().encode("abc");
    expect(toHex(bindingGpuNonce(abc))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(toHex(bindingReportData(abc)).slice(0, 32)).toBe("ddaf35a193617abacc417349ae204131");
  });

  it("rejects non-deterministic encodings of the same map", () => {
    const canonical = encodeBinding(sample);
    const hex = toHex(canonical);
    const variants = {
      // issued-at as uint64 instead of uint32
      longInteger: hex.replace("051a6553f100", "051b000000006553f100"),
      // map(6) as map with a 1-byte length
      longMapHeader: `b806${hex.slice(2)}`,
      // keys 5 and 6 swapped
      unsorted: hex.replace(`051a6553f1000648${"44".repeat(8)}`, `0648${"44".repeat(8)}051a6553f100`),
      // indefinite-length map
      indefinite: `bf${hex.slice(2)}ff`,
    };
    for (const [name, variant] of Object.entries(variants)) {
      const bytes = Uint8Array.from(variant.match(/../g)!.map((h) => Number.parseInt(h, 16)));
      expect(() => decodeBinding(bytes), name).toThrowError(
        expect.objectContaining({ code: "bundle_binding_not_canonical" }),
      );
    }
  });

  it("rejects unknown keys, missing keys and wrong sizes", () => {
    expect(() => encodeBinding({ ...sample, hpkePublicKey: fill(31, 1) })).toThrowError(
      expect.objectContaining({ code: "bundle_binding_invalid" }),
    );
    const withExtra = new Uint8Array([...encodeBinding(sample)]);
    withExtra[0] = 0xa7;
    const extra = new Uint8Array([...withExtra, 0x07, 0x00]);
    expect(() => decodeBinding(extra)).toThrowError(
      expect.objectContaining({ code: "bundle_binding_malformed" }),
    );
  });

  it("arbitrary bytes only ever throw AttestError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeBinding(bytes);
        } catch (error) {
          expect(AttestError.isInstance(error)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
