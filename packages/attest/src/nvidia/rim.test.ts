import { describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { parseCertificates } from "../common/x509.js";
import { compareMeasurements } from "./measurements.js";
import { parseRim } from "./rim.js";
import { verifyRim } from "./rim-verify.js";
import { parseSpdmMeasurements } from "./spdm.js";
import { AT, bytes, NV, text } from "./test-vectors.js";

/** Tests about other checks accept unchecked freshness and measurements by name (issue #11 defaults). */
const UNCHECKED = { policy: { requireNonce: false, requireRimMatch: false } } as const;

const codes = (r: { errors: readonly { code: string }[] }) => r.errors.map((e) => e.code);

describe("parseRim on the real RIMs", () => {
  it("reads version, kind, product and active entries (README C5)", async () => {
    const expected: [string, string, "driver" | "vbios", string, number][] = [
      [NV.rims.driver550, "550.144.03", "driver", "GH100", 21],
      [NV.rims.driver535Mismatch, "535.86.09", "driver", "GH100", 22],
      [NV.rims.vbios5EMismatch, "96.00.5E.00.01", "vbios", "GH100", 12],
      [NV.rims.driver570Expired, "570.124.03", "driver", "GH100", 21],
      [NV.rims.incorrectChain, "97.00.83.00.09", "vbios", "GB100", 20],
      [NV.rims.switchBios, "96.10.55.00.01", "vbios", "LS10", 31],
      [NV.rims.switchBadSignature, "96.10.55.00.01", "vbios", "LS10", 31],
      [NV.rims.switchMismatch, "96.10.55.00.01", "vbios", "GH100", 12],
      [NV.rims.vbios5EProd, "96.00.5E.00.01", "vbios", "GH100", 12],
      [NV.rims.vbios5ETestNoGpu, "96.00.5E.00.01", "vbios", "GH100", 12],
      [NV.rims.driverTestNoGpu, "545.00", "driver", "GH100", 21],
    ];
    for (const [path, version, kind, product, active] of expected) {
      const rim = await parseRim(text(path));
      expect(
        [rim.version, rim.kind, rim.product, rim.measurements.filter((m) => m.active).length],
        path,
      ).toEqual([version, kind, product, active]);
      expect(rim.certificates.length, path).toBeGreaterThanOrEqual(2);
    }
    expect((await parseRim(text(NV.rims.driver550))).manufacturerId).toBe("5703");
  });

  it("lists alternatives (switch RIM indices 9-25 have several)", async () => {
    const rim = await parseRim(text(NV.rims.switchBios));
    const multi = rim.measurements.filter((m) => m.active && m.alternatives.length > 1).map((m) => m.index);
    expect(multi).toEqual(Array.from({ length: 17 }, (_, i) => i + 9));
  });

  it("refuses DOCTYPEs, non-SWID roots and broken hashes", async () => {
    const good = text(NV.rims.vbios5EProd);
    const cases = [
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>${good}`,
      "<a/>",
      good.replace(/Hash0="c3f65ef7/, 'Hash0="zzf65ef7'),
      good.replace('index="1"', 'index="2"'),
      "not xml <",
    ];
    for (const input of cases) {
      try {
        await parseRim(input);
        expect.unreachable("parsed");
      } catch (error) {
        expect(AttestError.isInstance(error) && error.code).toBe("nvidia_rim_malformed");
      }
    }
  });
});

describe("verifyRim on the real RIMs (offline, pinned times)", () => {
  it("accepts the genuine RIMs inside their signer windows", async () => {
    for (const [path, now] of [
      [NV.rims.driver550, AT.driver550],
      [NV.rims.switchBios, AT.switchRim],
      [NV.rims.vbios5EProd, AT.vbiosProd],
      [NV.rims.vbios5EMismatch, AT.vbiosMismatch],
      [NV.rims.vbios5ETestNoGpu, AT.testNoGpu],
      [NV.rims.driverTestNoGpu, AT.testNoGpu],
    ] as const) {
      const result = await verifyRim(await parseRim(text(path)), { now, offline: true, ...UNCHECKED });
      expect([path, result.ok, codes(result)]).toEqual([path, true, []]);
      expect(result.revocationChecked).toBe(false);
    }
  });

  it("VBIOS 5E measurement-mismatch RIM still carries a valid signature (only one entry edited before signing)", async () => {
    // README C2: this file equals the PROD RIM except index 9; its signature verifies, so it is a
    // genuine NVIDIA-signed test RIM and the mismatch is found by the comparison, not the signature.
    const result = await verifyRim(await parseRim(text(NV.rims.vbios5EMismatch)), {
      now: AT.vbiosMismatch,
      offline: true,
      ...UNCHECKED,
    });
    expect(result.ok).toBe(true);
  });

  it("rejects a changed signature value (incorrect_signature_driver_rim: RimInvalidSignature)", async () => {
    const result = await verifyRim(await parseRim(text(NV.rims.driver550BadSignature)), {
      now: AT.driver550,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(result)).toEqual(["nvidia_rim_signature_invalid"]);
  });

  it("rejects the switch RIM with edited hashes (RimInvalidSignature)", async () => {
    const result = await verifyRim(await parseRim(text(NV.rims.switchBadSignature)), {
      now: AT.switchBadSignature,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(result)).toEqual(["nvidia_rim_signature_invalid"]);
  });

  it("edited measurement-mismatch RIMs fail their signature (the sources switch the check off; we do not)", async () => {
    const driver = await verifyRim(await parseRim(text(NV.rims.driver535Mismatch)), {
      now: AT.driver535,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(driver)).toEqual(["nvidia_rim_signature_invalid"]);
    const sw = await verifyRim(await parseRim(text(NV.rims.switchMismatch)), {
      now: AT.vbiosMismatch,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(sw)).toEqual(["nvidia_rim_signature_invalid"]);
  });

  it("rejects the expired RIM signer (570.124.03, valid only 2025-01-01 .. 2025-01-02)", async () => {
    const result = await verifyRim(await parseRim(text(NV.rims.driver570Expired)), {
      now: AT.device,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(result)).toContain("nvidia_rim_certificate_expired");
    // This file's content was also edited after signing: the signature fails too. Both are reported.
    expect(codes(result)).toContain("nvidia_rim_signature_invalid");
    const inside = await verifyRim(await parseRim(text(NV.rims.driver570Expired)), {
      now: new Date("2025-01-01T12:00:00Z"),
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(inside)).not.toContain("nvidia_rim_certificate_expired");
  });

  it("rejects the genuine RIM outside its signer window", async () => {
    const result = await verifyRim(await parseRim(text(NV.rims.vbios5EProd)), {
      now: AT.device,
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(result)).toEqual(["nvidia_rim_certificate_expired"]);
    const early = await verifyRim(await parseRim(text(NV.rims.vbios5EProd)), {
      now: new Date("2023-01-01T00:00:00Z"),
      offline: true,
      ...UNCHECKED,
    });
    expect(codes(early)).toEqual(["nvidia_rim_certificate_not_yet_valid"]);
  });

  it("rejects a chain that ends at the debug root (incorrect_cert_chain_driver_rim)", async () => {
    const result = await verifyRim(await parseRim(text(NV.rims.incorrectChain)), {
      now: AT.device,
      offline: true,
      ...UNCHECKED,
    });
    // Its signer is issued by "…L3 GH100 001 Debug Only", which is not in the file: the path cannot
    // even be built, let alone reach the CoRIM root.
    expect(codes(result)).toEqual(["nvidia_rim_certificate_chain_incomplete"]);
  });

  it("with incorrect_rim_root.crt as the root, the genuine driver RIM fails its chain (CertChainVerificationFailure)", async () => {
    const rimRoots = parseCertificates(text(NV.incorrectRimRoot));
    const result = await verifyRim(await parseRim(text(NV.rims.driver550)), {
      now: AT.driver550,
      offline: true,
      ...UNCHECKED,
      rimRoots,
    });
    expect(codes(result)).toEqual(["nvidia_rim_certificate_chain_untrusted"]);
  });
});

describe("compareMeasurements (unit level, README C2)", () => {
  const sample = () => parseSpdmMeasurements(bytes(NV.sample535));
  it("PROD VBIOS RIM: all 12 active entries match the 535.86.09 sample", async () => {
    const report = compareMeasurements(sample(), [await parseRim(text(NV.rims.vbios5EProd))]);
    expect(report).toMatchObject({ total: 12, matched: 12, mismatched: [] });
  });
  it("VBIOS mismatch RIM: exactly index 9", async () => {
    expect(compareMeasurements(sample(), [await parseRim(text(NV.rims.vbios5EMismatch))]).mismatched).toEqual(
      [9],
    );
  });
  it("driver 535.86.09 mismatch RIM: 15 indices", async () => {
    const report = compareMeasurements(sample(), [await parseRim(text(NV.rims.driver535Mismatch))]);
    expect(report.total).toBe(22);
    expect(report.mismatched).toEqual([7, 21, 22, 25, 26, 27, 29, 30, 31, 32, 34, 37, 39, 40, 41]);
  });
  it("expired 570.124.03 RIM vs its evidence: 16 indices", async () => {
    const report = compareMeasurements(parseSpdmMeasurements(bytes(NV.expired)), [
      await parseRim(text(NV.rims.driver570Expired)),
    ]);
    expect(report.mismatched).toEqual([7, 21, 22, 25, 26, 27, 29, 30, 31, 32, 34, 35, 36, 37, 39, 40]);
  });
  it("switch: genuine RIM all 31 match; invalid-signature RIM differs at 0 and 1; GH100 RIM 11 of 12 differ", async () => {
    const sw = parseSpdmMeasurements(bytes(NV.switchReport));
    expect(compareMeasurements(sw, [await parseRim(text(NV.rims.switchBios))])).toMatchObject({
      total: 31,
      matched: 31,
      mismatched: [],
    });
    expect(compareMeasurements(sw, [await parseRim(text(NV.rims.switchBadSignature))]).mismatched).toEqual([
      0, 1,
    ]);
    const gh = compareMeasurements(sw, [await parseRim(text(NV.rims.switchMismatch))]);
    expect([gh.total, gh.mismatched.length]).toEqual([12, 11]);
  });
  it("nvtrust test_no_gpu RIMs vs the nvtrust sample: 15 + 5 = 20 of 33 differ", async () => {
    const report = compareMeasurements(parseSpdmMeasurements(bytes(NV.nvtrustReport)), [
      await parseRim(text(NV.rims.driverTestNoGpu)),
      await parseRim(text(NV.rims.vbios5ETestNoGpu)),
    ]);
    expect([report.total, report.mismatched.length]).toEqual([33, 20]);
    expect(report.mismatched.filter((i) => [1, 2, 3, 9, 11].includes(i))).toEqual([1, 2, 3, 9, 11]);
  });
  it("an index active in two RIMs is a conflict", async () => {
    const rim = await parseRim(text(NV.rims.vbios5EProd));
    try {
      compareMeasurements(sample(), [rim, rim]);
      expect.unreachable();
    } catch (error) {
      expect(AttestError.isInstance(error) && error.code).toBe("nvidia_rim_index_conflict");
    }
  });
});
