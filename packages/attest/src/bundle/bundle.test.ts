import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { bundleToJson, decodeBundle, encodeBundle } from "./bundle.js";
import { realEvidenceBundle, realSnpCpu } from "./test-fixtures.js";

describe("bundle CBOR", () => {
  it("round-trips a bundle of real evidence byte for byte", () => {
    const bundle = realEvidenceBundle();
    const bytes = encodeBundle(bundle);
    const decoded = decodeBundle(bytes);
    expect(decoded).toEqual(bundle);
    expect(encodeBundle(decoded)).toEqual(bytes);
    const snp = {
      ...bundle,
      cpu: realSnpCpu(),
      eventLog: new Uint8Array([1, 2, 3]),
      developmentRoots: { nvidia: [new Uint8Array([9])] },
    };
    expect(decodeBundle(encodeBundle(snp))).toEqual(snp);
  });

  it("has a JSON view with the decoded binding and base64 evidence", () => {
    const json = bundleToJson(realEvidenceBundle());
    expect(json.binding.model).toBe("peer-mixtral");
    expect(json.binding.reportData).toHaveLength(128);
    expect(json.cpu.kind).toBe("tdx");
    expect(typeof json.cpu.evidence).toBe("string");
    expect(json.gpus[0]?.certificates).toHaveLength(5);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it("refuses to encode an unsupported version", () => {
    expect(() => encodeBundle({ ...realEvidenceBundle(), version: 2 as 1 })).toThrowError(
      expect.objectContaining({ code: "bundle_version_unsupported" }),
    );
  });

  it("arbitrary bytes and mutated real bundles only ever throw AttestError", () => {
    const real = encodeBundle(realEvidenceBundle());
    const check = (bytes: Uint8Array) => {
      try {
        decodeBundle(bytes);
      } catch (error) {
        expect(AttestError.isInstance(error)).toBe(true);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 200 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: real.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.nat(real.length),
        (at, xor, cut) => {
          const mutated = real.slice(0, Math.max(cut, at + 1));
          mutated[at]! ^= xor;
          check(mutated);
        },
      ),
      { numRuns: 200 },
    );
  });
});
