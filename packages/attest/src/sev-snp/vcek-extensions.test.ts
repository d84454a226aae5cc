import { readVector } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { toHex } from "../common/bytes.js";
import { parseCertificate, parseCertificates } from "../common/x509.js";
import { AMD_ASK_MILAN_PEM } from "./roots.js";
import { readSevSnpKeyExtensions } from "./vcek-extensions.js";

const SEQUENTIAL = toHex(Uint8Array.from({ length: 64 }, (_, i) => i));

describe("readSevSnpKeyExtensions", () => {
  it.each([
    [
      "sev-snp/google-go-sev-guest/vcek.testcer",
      { productName: "Milan-B0", bootloader: 2, tee: 0, snp: 5, microcode: 68 },
      "3ac3fe21e13fb099",
    ],
    [
      "sev-snp/virtee-sev/vcek_milan.der",
      { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
      "d49554ec717f4e5b",
    ],
    ["sev-snp/trustee/test-vcek.der", { bootloader: 3, tee: 0, snp: 8, microcode: 115 }, "c38427a30d4c7af9"],
    [
      "sev-snp/trustee/e2e_vcek.der",
      { productName: "Genoa", bootloader: 10, tee: 0, snp: 23, microcode: 25 },
      "371c55d6d15cb50f",
    ],
    [
      "sev-snp/virtee-sev/vcek_turin.der",
      { productName: "Turin", bootloader: 0, tee: 0, snp: 0, microcode: 9, fmc: 0 },
      "1e550a8ee5cf9f4d",
    ],
  ])("%s", (file, expected, hwidPrefix) => {
    const ext = readSevSnpKeyExtensions(parseCertificate(readVector(file)));
    expect(ext).toMatchObject(expected);
    expect(toHex(ext.hwid as Uint8Array).startsWith(hwidPrefix)).toBe(true);
  });

  it("VLEK: SPLs (microcode as a two-byte INTEGER), no hwID, CSP ID", () => {
    const ext = readSevSnpKeyExtensions(parseCertificate(readVector("sev-snp/trustee/test-vlek.der")));
    expect(ext).toMatchObject({
      productName: "Milan",
      bootloader: 4,
      tee: 0,
      snp: 24,
      microcode: 217,
      hwid: undefined,
      cspId: "CN=cc-us-east-2.amazonaws.com",
    });
  });

  it("trustee legacy encoding: raw 64-byte hwID", () => {
    const ext = readSevSnpKeyExtensions(
      parseCertificate(readVector("sev-snp/trustee/test-vcek-invalid-legacy.der")),
    );
    expect(toHex(ext.hwid as Uint8Array)).toBe(SEQUENTIAL);
    expect(ext).toMatchObject({ productName: "Milan-B0", bootloader: 3, snp: 10, microcode: 169 });
  });

  it("trustee new encoding: hwID wrapped in an OCTET STRING", () => {
    const ext = readSevSnpKeyExtensions(
      parseCertificate(readVector("sev-snp/trustee/test-vcek-invalid-new.der")),
    );
    expect(toHex(ext.hwid as Uint8Array)).toBe(SEQUENTIAL);
    expect(ext).toMatchObject({ bootloader: 0, snp: 0, microcode: 30 });
  });

  it("a certificate without the SPL extensions is rejected", () => {
    const [ask] = parseCertificates(AMD_ASK_MILAN_PEM);
    expect(() => readSevSnpKeyExtensions(ask as NonNullable<typeof ask>)).toThrowError(
      expect.objectContaining({ code: "snp_vcek_extension_invalid" }),
    );
  });
});
