import { describe, expect, it } from "vitest";
import { readVector, vectorPath, vectorsDir } from "./index.js";

describe("vectors locator", () => {
  it("finds the shared vectors folder", () => {
    expect(vectorsDir()).toMatch(/vectors$/);
  });
  it("reads a real SNP report of the documented size", () => {
    expect(readVector("sev-snp/google-go-sev-guest/attestation.bin").length).toBe(1184);
  });
  it("fails loudly on a missing file", () => {
    expect(() => vectorPath("tdx/does-not-exist")).toThrow(/missing vector file/);
  });
});
