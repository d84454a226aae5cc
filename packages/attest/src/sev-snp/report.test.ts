import { readVector } from "@peercycles/internal-vectors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../common/bytes.js";
import { AttestError } from "../common/errors.js";
import { parseSevSnpReport, SEV_SNP_REPORT_SIZE } from "./report.js";

/** Reference values from the vectors README, table B1 (independently checked by parsing). */
const REPORTS = [
  {
    file: "sev-snp/google-go-sev-guest/attestation.bin",
    version: 2,
    policy: "00000000000b0000",
    vmpl: 0,
    signingKey: "vcek",
    reportedTcb: 0x4405000000000002n,
    currentTcb: 0x4405000000000002n,
    committedTcb: 0x4405000000000002n,
    launchTcb: 0x4405000000000002n,
    firmware: { major: 1, minor: 49, build: 3 },
    platformInfo: "0000000000000001",
    guestSvn: 0,
    cpuid: undefined,
    measurement:
      "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
    reportId: "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a",
    chipId:
      "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d",
    reportData: `0102030405${"00".repeat(59)}`,
  },
  {
    file: "sev-snp/virtee-sev/report_milan.bin",
    version: 2,
    policy: "0000000000030000",
    vmpl: 0,
    signingKey: "vcek",
    reportedTcb: 0x7308000000000003n,
    currentTcb: 0x7308000000000003n,
    committedTcb: 0x7308000000000003n,
    launchTcb: 0x7308000000000003n,
    firmware: { major: 1, minor: 52, build: 4 },
    platformInfo: "0000000000000001",
    guestSvn: 0,
    cpuid: undefined,
    measurement:
      "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
    reportId: "92b3b47d59f0a2a10a74c5678868a80238cf593c01a82f3cffb878e904c28d5b",
    chipId:
      "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6",
    reportData:
      "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd",
  },
  {
    file: "sev-snp/trustee/test-report.bin",
    version: 2,
    policy: "000000000003001f",
    vmpl: 0,
    signingKey: "vcek",
    reportedTcb: 0x7308000000000003n,
    currentTcb: 0xce08000000000003n,
    committedTcb: 0x7308000000000003n,
    launchTcb: 0x7308000000000003n,
    firmware: { major: 1, minor: 52, build: 4 },
    platformInfo: "0000000000000001",
    guestSvn: 4,
    cpuid: undefined,
    measurement:
      "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c",
    reportId: "385eba81216de4776548fcb86f8ead03c1ebc92b6207f3210d9ccebb89c99005",
    chipId:
      "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e",
    reportData: `ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2${"00".repeat(32)}`,
  },
  {
    file: "sev-snp/trustee/test-vlek-report.bin",
    version: 3,
    policy: "0000000000030000",
    vmpl: 1,
    signingKey: "vlek",
    reportedTcb: 0xd918000000000004n,
    currentTcb: 0xdc18000000000004n,
    committedTcb: 0xdb18000000000004n,
    launchTcb: 0xdb18000000000004n,
    firmware: { major: 1, minor: 55, build: 29 },
    platformInfo: "0000000000000027",
    guestSvn: 0,
    cpuid: { family: 0x19, model: 0x01, stepping: 0x01 },
    measurement:
      "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
    reportId: "62e04fba700afd93b3a0cc0649b633ee36587fa8a8c2eb5d9b7cd7bc5f4bb057",
    chipId: "00".repeat(64),
    reportData:
      "819770b7e6ea6df8dd8fd4dd146b073c0bf4f3ce5b0977ecac486e3a05ed1bd54e2a7ac1f5d1ca02e7d7d5ef9f73b8574fd9359e3a480d741a4478e8a7bc27ca",
  },
  {
    file: "sev-snp/trustee/e2e_report.reconstructed.bin",
    version: 3,
    policy: "0000000000030000",
    vmpl: 0,
    signingKey: "vcek",
    reportedTcb: 0x191700000000000an,
    currentTcb: 0x191700000000000an,
    committedTcb: 0x191700000000000an,
    launchTcb: 0x191700000000000an,
    firmware: { major: 1, minor: 55, build: 40 },
    platformInfo: "0000000000000025",
    guestSvn: 0,
    cpuid: { family: 0x19, model: 0xa0, stepping: 0x02 },
    measurement:
      "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315506e73e",
    reportId: "b34cb907a31ad237beb02efd236ab9899a7ddd66ff5beed2636765183a84e44f",
    chipId:
      "371c55d6d15cb50f16dc31d39a24e300caaabff4431e841111429b73ec45ad67ea6e687ffae7bf84b54a5d0e6d79b3ef6ff0bd8b4cff94c2163af5c5de8718e8",
    reportData:
      "7e7320889600c7ac133aea7b896c51f41026002982292a7369559796999c1bf929eef3ff23c46e858f0b1982f9a92b17c51b578d958cde6b0c92978f150cf9b0",
  },
] as const;

describe("parseSevSnpReport on real reports", () => {
  it.each(REPORTS)("$file", (expected) => {
    const report = parseSevSnpReport(readVector(expected.file));
    expect(report.version).toBe(expected.version);
    expect(report.policy.raw).toBe(expected.policy);
    expect(report.vmpl).toBe(expected.vmpl);
    expect(report.keyInfo.signingKey).toBe(expected.signingKey);
    expect(report.reportedTcb).toBe(expected.reportedTcb);
    expect(report.currentTcb).toBe(expected.currentTcb);
    expect(report.committedTcb).toBe(expected.committedTcb);
    expect(report.launchTcb).toBe(expected.launchTcb);
    expect(report.currentVersion).toEqual(expected.firmware);
    expect(report.platformInfo.raw).toBe(expected.platformInfo);
    expect(report.guestSvn).toBe(expected.guestSvn);
    expect(report.cpuid).toEqual(expected.cpuid);
    expect(toHex(report.measurement)).toBe(expected.measurement);
    expect(toHex(report.reportId)).toBe(expected.reportId);
    expect(toHex(report.chipId)).toBe(expected.chipId);
    expect(toHex(report.reportData)).toBe(expected.reportData);
    expect(report.signatureAlgo).toBe(1);
    expect(report.signedSpan.length).toBe(0x2a0);
    expect(report.signedSpan.byteOffset).toBe(report.bytes.byteOffset);
    expect(report.launchMitigationVector).toBeUndefined();
    expect(Object.isFrozen(report)).toBe(true);
  });

  it("decodes the guest policy bits of 0xB0000 (SMT + reserved + DEBUG) and 0x3001F (ABI minor 0x1F)", () => {
    const gsev = parseSevSnpReport(readVector("sev-snp/google-go-sev-guest/attestation.bin"));
    expect(gsev.policy).toMatchObject({
      smt: true,
      debug: true,
      migrateMa: false,
      singleSocket: false,
      abiMajor: 0,
      abiMinor: 0,
    });
    const trustee = parseSevSnpReport(readVector("sev-snp/trustee/test-report.bin"));
    expect(trustee.policy).toMatchObject({ smt: true, debug: false, abiMinor: 0x1f, abiMajor: 0 });
  });

  it("decodes the newer policy bits (CXL, AES-256-XTS, RAPL, ciphertext hiding, page swap)", () => {
    const bytes = readVector("sev-snp/virtee-sev/report_milan.bin");
    bytes[0x0a] = 0x03 | 0xe0; // bits 16, 17 and 21..23
    bytes[0x0b] = 0x03; // bits 24, 25
    bytes[0x09] = 0x01; // ABI major 1
    expect(parseSevSnpReport(bytes).policy).toMatchObject({
      abiMajor: 1,
      cxlAllowed: true,
      memAes256Xts: true,
      raplDisabled: true,
      ciphertextHiding: true,
      pageSwapDisabled: true,
    });
  });

  it("decodes platform info and key info bits", () => {
    const vlek = parseSevSnpReport(readVector("sev-snp/trustee/test-vlek-report.bin"));
    expect(vlek.platformInfo).toMatchObject({
      smtEnabled: true,
      tsmeEnabled: true,
      eccEnabled: true,
      raplDisabled: false,
      aliasCheckComplete: true,
    });
    expect(vlek.keyInfo).toEqual({ signingKey: "vlek", maskChipId: false, authorKeyEn: false });
    expect(vlek.cpuidProduct).toBe("milan");
    expect(parseSevSnpReport(readVector("sev-snp/trustee/e2e_report.reconstructed.bin")).cpuidProduct).toBe(
      "genoa",
    );
  });

  it("parses a v5 report's mitigation vectors and keeps 0x208..0x2A0 must-be-zero", () => {
    const bytes = readVector("sev-snp/trustee/test-vlek-report.bin");
    bytes[0] = 5;
    bytes[0x1f8] = 0x03;
    bytes[0x200] = 0x01;
    const report = parseSevSnpReport(bytes);
    expect(report.version).toBe(5);
    expect(report.launchMitigationVector).toBe(3n);
    expect(report.currentMitigationVector).toBe(1n);
    bytes[0x208] = 1;
    expect(() => parseSevSnpReport(bytes)).toThrowError(
      expect.objectContaining({ code: "snp_report_reserved_nonzero" }),
    );
  });

  it("in v2/v3 the mitigation vector bytes are reserved", () => {
    const bytes = readVector("sev-snp/trustee/test-vlek-report.bin");
    bytes[0x1f8] = 1;
    expect(() => parseSevSnpReport(bytes)).toThrowError(
      expect.objectContaining({ code: "snp_report_reserved_nonzero" }),
    );
  });

  it("accepts key info signing key 7 (none) and mask_chip_id / author_key_en bits", () => {
    const bytes = readVector("sev-snp/virtee-sev/report_milan.bin");
    bytes[0x48] = (7 << 2) | 3;
    expect(parseSevSnpReport(bytes).keyInfo).toEqual({
      signingKey: "none",
      maskChipId: true,
      authorKeyEn: true,
    });
  });
});

describe("parseSevSnpReport property tests", () => {
  const real = [
    readVector("sev-snp/google-go-sev-guest/attestation.bin"),
    readVector("sev-snp/trustee/test-vlek-report.bin"),
    readVector("sev-snp/trustee/e2e_report.reconstructed.bin"),
  ];

  const onlyAttestErrors = (bytes: Uint8Array) => {
    try {
      parseSevSnpReport(bytes);
    } catch (error) {
      if (!AttestError.isInstance(error)) throw error;
    }
  };

  it("arbitrary bytes never crash the parser and only throw AttestError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1300 }), (bytes) => onlyAttestErrors(bytes)),
      { numRuns: 200 },
    );
  });

  it("arbitrary 1184-byte inputs only throw AttestError", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: SEV_SNP_REPORT_SIZE, maxLength: SEV_SNP_REPORT_SIZE }),
        (bytes) => onlyAttestErrors(bytes),
      ),
      { numRuns: 200 },
    );
  });

  it("mutated real reports either parse completely or throw AttestError", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...real),
        fc.array(fc.tuple(fc.nat(SEV_SNP_REPORT_SIZE - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (original, edits) => {
          const bytes = original.slice();
          for (const [offset, value] of edits) bytes[offset] = value;
          try {
            const report = parseSevSnpReport(bytes);
            expect(report.measurement.length).toBe(48);
            expect(report.chipId.length).toBe(64);
            expect(report.signedSpan.length).toBe(0x2a0);
          } catch (error) {
            if (!AttestError.isInstance(error)) throw error;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("unmutated real reports always parse (the property above is not vacuous)", () => {
    for (const bytes of real) expect(() => parseSevSnpReport(bytes)).not.toThrow();
  });
});
