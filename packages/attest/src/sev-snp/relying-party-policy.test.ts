import { readVector } from "@peercycles/internal-vectors";
import { beforeAll, describe, expect, it } from "vitest";
import { concatBytes } from "../common/bytes.js";
import { parseTdxQuote } from "../tdx/quote.js";
import { parseSevSnpPolicy, validateSevSnpPolicy } from "./policy.js";
import { parseSevSnpReport, SEV_SNP_REPORT_SIZE } from "./report.js";
import { type FakeAmdPki, makeFakeAmdPki, signFakeReport } from "./testing/fake-amd-pki.js";
import { verifySevSnpReport } from "./verify.js";

/**
 * The SEV-SNP checks and knobs of issue 18 (items 5–7): trailing bytes reported like a TDX quote's
 * and refused only by a strict policy; a floor on the current and the committed firmware; the
 * author-key rule. Real vectors where one exists, the fake AMD PKI otherwise.
 */

const codes = (r: { errors: readonly { code: string }[] }) => r.errors.map((e) => e.code);

const trustee = () => ({
  report: readVector("sev-snp/trustee/test-report.bin"),
  vcek: readVector("sev-snp/trustee/test-vcek.der"),
  now: new Date("2024-01-01T00:00:00Z"),
});
const genoa = () => ({
  report: readVector("sev-snp/trustee/e2e_report.reconstructed.bin"),
  vcek: readVector("sev-snp/trustee/e2e_vcek.der"),
  now: new Date("2026-01-01T00:00:00Z"),
});

/** 20 bytes after the report, as the report files of Constellation's tests carry. */
const SUFFIX = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);

describe("item 5: trailing bytes after a SEV-SNP report", () => {
  it("are accepted and reported; the report is the first 1184 bytes and the suffix is not signed", async () => {
    const { report, vcek, now } = trustee();
    const parsed = parseSevSnpReport(concatBytes(report, SUFFIX));
    expect(parsed.trailingBytes).toBe(20);
    expect(parsed.bytes.length).toBe(SEV_SNP_REPORT_SIZE);
    const result = await verifySevSnpReport(concatBytes(report, SUFFIX), { vcek, now, cache: false });
    expect(result.ok).toBe(true);
    expect(result.trailingBytes).toBe(20);
    expect(result.checks.find((c) => c.id === "report_format")?.detail).toBe(
      "version 2, 20 trailing bytes ignored",
    );
  });

  it("a strict policy refuses them with its own code (verified, not accepted)", async () => {
    const { report, vcek, now } = trustee();
    const result = await verifySevSnpReport(concatBytes(report, SUFFIX), {
      vcek,
      now,
      cache: false,
      policy: { rejectTrailingBytes: true },
    });
    expect(result.verified).toBe(true);
    expect(codes(result)).toEqual(["snp_policy_trailing_bytes_rejected"]);
    const exact = await verifySevSnpReport(report, {
      vcek,
      now,
      cache: false,
      policy: { rejectTrailingBytes: true },
    });
    expect(exact.ok).toBe(true);
    expect(exact.trailingBytes).toBe(0);
  });

  it("a TDX quote and a SEV-SNP report behave the same: structure verified, trailing count reported, same strict code", async () => {
    const quote = parseTdxQuote(readVector("tdx/phala-dcap-qvl/tdx_quote"));
    const report = parseSevSnpReport(concatBytes(trustee().report, SUFFIX));
    expect([quote.trailingBytes, report.trailingBytes]).toEqual([70, 20]);
    expect(
      codes({
        errors: validateSevSnpPolicy(
          { report, product: "milan" },
          parseSevSnpPolicy({ rejectTrailingBytes: true }),
        ),
      }),
    ).toEqual(["snp_policy_trailing_bytes_rejected"]);
  });

  it("a truncated report is still refused", () => {
    expect(() => parseSevSnpReport(trustee().report.subarray(0, 1183))).toThrowError(
      expect.objectContaining({ code: "snp_report_truncated" }),
    );
  });
});

describe("item 6: minimum firmware, current and committed", () => {
  it("real Genoa report (1.55 build 40): a floor of 1.55.49 refuses it, on both versions, each with its own code", async () => {
    const { report, vcek, now } = genoa();
    const floor = { major: 1, minor: 55, build: 49 };
    const result = await verifySevSnpReport(report, {
      vcek,
      now,
      cache: false,
      policy: { minimumFirmware: floor, minimumCommittedFirmware: floor },
    });
    expect(result.verified).toBe(true);
    expect([result.firmware, result.committedFirmware]).toEqual(["1.55 build 40", "1.55 build 40"]);
    expect(codes(result)).toEqual(["snp_policy_firmware_too_old", "snp_policy_committed_firmware_too_old"]);
    expect(result.errors[1]?.message).toBe("committed firmware 1.55 build 40 is older than 1.55 build 49");
    const at = await verifySevSnpReport(report, {
      vcek,
      now,
      cache: false,
      policy: {
        minimumFirmware: { major: 1, minor: 55, build: 40 },
        minimumCommittedFirmware: { major: 1, minor: 54 },
      },
    });
    expect(at.ok).toBe(true);
  });

  it("real VLEK report (1.55 build 29) is below a 1.55.39 committed floor; a newer minor or major passes any build", () => {
    const report = parseSevSnpReport(readVector("sev-snp/trustee/test-vlek-report.bin"));
    const check = (minimumCommittedFirmware: unknown) =>
      codes({
        errors: validateSevSnpPolicy(
          { report, product: "milan" },
          parseSevSnpPolicy({ minimumCommittedFirmware }),
        ),
      });
    expect(check({ major: 1, minor: 55, build: 39 })).toEqual(["snp_policy_committed_firmware_too_old"]);
    expect(check({ major: 1, minor: 55, build: 29 })).toEqual([]);
    expect(check({ major: 1, minor: 54, build: 255 })).toEqual([]);
    expect(check({ major: 2, minor: 0 })).toEqual(["snp_policy_committed_firmware_too_old"]);
  });

  it("the policy is strict about the floor's shape", () => {
    for (const bad of [
      { minimumCommittedFirmware: { major: 1 } },
      { minimumCommittedFirmware: { major: 1, minor: 55, build: 256 } },
      { minimumCommittedFirmware: { major: 1, minor: 55, patch: 1 } },
      { minimumCommittedFirmware: "1.55.49" },
    ]) {
      expect(() => parseSevSnpPolicy(bad), JSON.stringify(bad)).toThrowError(
        expect.objectContaining({ code: "policy_invalid" }),
      );
    }
  });
});

describe("item 7: the author-key rule", () => {
  const FROM = new Date("2025-01-01T00:00:00Z");
  const NOW = new Date("2025-06-01T00:00:00Z");
  const HWID = Uint8Array.from({ length: 64 }, (_, i) => (i * 5 + 1) & 0xff);
  const AUTHOR = "ab".repeat(48);
  let pki: FakeAmdPki;

  beforeAll(async () => {
    pki = await makeFakeAmdPki("milan", { bootloader: 2, tee: 3, snp: 4, microcode: 42 }, HWID, FROM);
  }, 60_000);

  /** The real VLEK report's bytes re-signed by the fake VCEK, with AUTHOR_KEY_EN and a digest set. */
  async function authored(): Promise<Uint8Array> {
    const bytes = readVector("sev-snp/trustee/test-vlek-report.bin");
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    view.setUint32(0x48, 1, true); // VCEK-signed, AUTHOR_KEY_EN
    view.setUint32(0x30, 0, true);
    bytes.set(HWID, 0x1a0);
    view.setBigUint64(0x180, 0x2a04000000000302n, true); // bl 2, tee 3, snp 4, ucode 42
    bytes.set(Buffer.from(AUTHOR, "hex"), 0x110);
    return signFakeReport(bytes, pki.vcekKey.privateKey);
  }

  const verify = async (report: Uint8Array, policy: unknown) =>
    verifySevSnpReport(report, {
      vcek: pki.vcekDer,
      now: NOW,
      roots: { milan: pki.roots },
      cache: false,
      policy,
    });

  it("real reports have AUTHOR_KEY_EN = 0: a pin refuses them with snp_policy_author_key_missing", () => {
    for (const file of [
      "sev-snp/trustee/test-report.bin",
      "sev-snp/virtee-sev/report_milan.bin",
      "sev-snp/trustee/e2e_report.reconstructed.bin",
    ]) {
      const report = parseSevSnpReport(readVector(file));
      expect(report.keyInfo.authorKeyEn, file).toBe(false);
      expect(
        codes({
          errors: validateSevSnpPolicy(
            { report, product: "milan" },
            parseSevSnpPolicy({ authorKeyDigests: [AUTHOR] }),
          ),
        }),
        file,
      ).toEqual(["snp_policy_author_key_missing"]);
      // Without a pin, a report without an author key is accepted.
      expect(validateSevSnpPolicy({ report, product: "milan" }, parseSevSnpPolicy({})), file).toEqual([]);
    }
  });

  it("an all-zero pin names no key: the policy is malformed (not a way to accept 'no author key')", () => {
    expect(() => parseSevSnpPolicy({ authorKeyDigests: ["00".repeat(48)] })).toThrowError(
      expect.objectContaining({ code: "policy_invalid", details: { path: "$.authorKeyDigests[0]" } }),
    );
    expect(() => parseSevSnpPolicy({ authorKeyDigests: [AUTHOR, "00".repeat(48)] })).toThrowError(
      expect.objectContaining({ code: "policy_invalid" }),
    );
  });

  it("fake PKI: AUTHOR_KEY_EN = 1 with a pinned digest is accepted; another digest is snp_policy_author_key_not_allowed", async () => {
    const report = await authored();
    const accepted = await verify(report, { authorKeyDigests: [AUTHOR.toUpperCase()] });
    expect(accepted.ok).toBe(true);
    expect(accepted.authorKeyEnabled).toBe(true);
    expect(accepted.authorKeyDigest).toBe(AUTHOR);
    const refused = await verify(report, { authorKeyDigests: ["cd".repeat(48)] });
    expect(refused.verified).toBe(true);
    expect(codes(refused)).toEqual(["snp_policy_author_key_not_allowed"]);
    expect((await verify(report, {})).ok).toBe(true);
  });
});
