import { readVector } from "@peercycles/internal-vectors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { parseCertificate, parseCertificates } from "../common/x509.js";
import { SevSnpCache } from "./cache.js";
import { verifySevSnpKeyChain } from "./chain.js";
import { verifySevSnpReport } from "./index.js";

/**
 * The real reports of vectors README section B, each at a pinned time inside its certificate
 * window (table "Verification times"), with the outcome its source asserts.
 */
const GSEV_TIME = new Date("2022-09-24T01:00:00Z"); // go-sev-guest's pinned VCEK test time
const MILAN_TIME = new Date("2024-01-01T00:00:00Z"); // inside the virtee and trustee VCEK windows
const VLEK_INSIDE = new Date("2025-06-01T00:00:00Z"); // VLEK valid 2024-12-10..2025-12-10
const VLEK_AFTER = new Date("2025-12-11T00:00:00Z");
const GENOA_TIME = new Date("2026-01-01T00:00:00Z"); // Genoa VCEK valid 2025-05-27..2032-05-27

const codes = (result: { errors: readonly { code: string }[] }) => result.errors.map((e) => e.code);

describe("verifySevSnpReport on real reports", () => {
  it("go-sev-guest attestation.bin: genuine (VCEK → ASK-Milan → ARK-Milan) but DEBUG is allowed, so the default policy rejects it", async () => {
    const result = await verifySevSnpReport(readVector("sev-snp/google-go-sev-guest/attestation.bin"), {
      vcek: readVector("sev-snp/google-go-sev-guest/vcek.testcer"),
      chain: readVector("sev-snp/google-go-sev-guest/milan.testcer"),
      now: GSEV_TIME,
      cache: false,
    });
    expect(result.verified).toBe(true);
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(["snp_policy_debug_forbidden"]);
    expect(result.policy).toEqual({ debug: true, smt: true, migrateMa: false, singleSocket: false });
    expect(result.checks.find((c) => c.id === "certificate_chain")?.detail).toBe(
      "SEV-VCEK → SEV-Milan → ARK-Milan",
    );
    expect(result).toMatchObject({
      product: "milan",
      reportVersion: 2,
      signingKey: "vcek",
      vmpl: 0,
      measurement:
        "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
      chipId:
        "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d",
      reportedTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
      firmware: "1.49 build 3",
    });
  });

  it("go-sev-guest attestation.bin: accepted when the policy allows debug", async () => {
    const result = await verifySevSnpReport(readVector("sev-snp/google-go-sev-guest/attestation.bin"), {
      vcek: readVector("sev-snp/google-go-sev-guest/vcek.testcer"),
      now: GSEV_TIME,
      policy: { allowDebug: true },
    });
    expect(codes(result)).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it("virtee report_milan with its VCEK and cert_chain_milan verifies (milan_report)", async () => {
    const result = await verifySevSnpReport(readVector("sev-snp/virtee-sev/report_milan.bin"), {
      vcek: readVector("sev-snp/virtee-sev/vcek_milan.der"),
      chain: readVector("sev-snp/virtee-sev/cert_chain_milan"),
      now: MILAN_TIME,
    });
    expect(codes(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.reportedTcb).toEqual({ bootloader: 3, tee: 0, snp: 8, microcode: 115 });
  });

  it("virtee: the hex form of the report gives the same verdict as the raw form", async () => {
    const { decodeEvidenceInput } = await import("../common/bytes.js");
    const bytes = decodeEvidenceInput(readVector("sev-snp/virtee-sev/report_milan.hex"));
    expect(bytes).toEqual(readVector("sev-snp/virtee-sev/report_milan.bin"));
  });

  it("trustee test-report (ID block, guest SVN 4) verifies with the built-in Milan ASK/ARK", async () => {
    const result = await verifySevSnpReport(readVector("sev-snp/trustee/test-report.bin"), {
      vcek: readVector("sev-snp/trustee/test-vcek.der"),
      now: MILAN_TIME,
    });
    expect(codes(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.guestSvn).toBe(4);
    expect(result.idKeyDigest).toBe(
      "0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3",
    );
  });

  it("trustee VLEK report verifies (VLEK → ASVK-Milan → ARK-Milan) inside the VLEK window", async () => {
    const result = await verifySevSnpReport(readVector("sev-snp/trustee/test-vlek-report.bin"), {
      vcek: readVector("sev-snp/trustee/test-vlek.der"),
      now: VLEK_INSIDE,
      cache: false,
    });
    expect(codes(result)).toEqual([]);
    expect(result).toMatchObject({
      ok: true,
      signingKey: "vlek",
      vmpl: 1,
      reportVersion: 3,
      product: "milan",
    });
    expect(result.checks.find((c) => c.id === "certificate_chain")?.detail).toBe(
      "SEV-VLEK → SEV-VLEK-Milan → ARK-Milan",
    );
    expect(result.checks.find((c) => c.id === "chip_id_binding")?.status).toBe("skip");
  });

  it("trustee VLEK report fails certificate_expired after 2025-12-10 (the source ignores dates)", async () => {
    const result = await verifySevSnpReport(readVector("sev-snp/trustee/test-vlek-report.bin"), {
      vcek: readVector("sev-snp/trustee/test-vlek.der"),
      now: VLEK_AFTER,
    });
    expect(result.verified).toBe(false);
    expect(codes(result)).toEqual(["certificate_expired"]);
  });

  it("a cached VLEK chain is not reused outside its validity window", async () => {
    const cache = new SevSnpCache();
    const options = { vcek: readVector("sev-snp/trustee/test-vlek.der"), cache };
    const inside = await verifySevSnpReport(readVector("sev-snp/trustee/test-vlek-report.bin"), {
      ...options,
      now: VLEK_INSIDE,
    });
    expect(inside.ok).toBe(true);
    const after = await verifySevSnpReport(readVector("sev-snp/trustee/test-vlek-report.bin"), {
      ...options,
      now: VLEK_AFTER,
    });
    expect(codes(after)).toEqual(["certificate_expired"]);
  });

  it("trustee Genoa e2e report (v3, CPUID 19/A0/02) verifies under its VCEK → ASK-Genoa → ARK-Genoa", async () => {
    const result = await verifySevSnpReport(readVector("sev-snp/trustee/e2e_report.reconstructed.bin"), {
      vcek: readVector("sev-snp/trustee/e2e_vcek.der"),
      now: GENOA_TIME,
    });
    expect(codes(result)).toEqual([]);
    expect(result).toMatchObject({ ok: true, product: "genoa", reportVersion: 3 });
    expect(result.reportedTcb).toEqual({ bootloader: 10, tee: 0, snp: 23, microcode: 25 });
  });

  it.each([
    ["test-vcek-invalid-legacy.der", new Date("2024-01-01T00:00:00Z")],
    ["test-vcek-invalid-new.der", new Date("2024-01-01T00:00:00Z")],
  ])("trustee %s is rejected: its signature does not verify under ASK-Milan", async (file, now) => {
    const result = await verifySevSnpReport(readVector("sev-snp/trustee/test-report.bin"), {
      vcek: readVector(`sev-snp/trustee/${file}`),
      now,
    });
    expect(result.verified).toBe(false);
    expect(result.checks.find((c) => c.id === "certificate_chain")?.code).toBe(
      "certificate_signature_invalid",
    );
    expect(codes(result)[0]).toBe("certificate_signature_invalid");
    // Its key did not sign this report and its extensions describe another chip and TCB.
    expect(codes(result)).toEqual([
      "certificate_signature_invalid",
      "snp_report_signature_invalid",
      "snp_vcek_tcb_mismatch",
      "snp_vcek_chip_id_mismatch",
    ]);
  });

  it("a PEM holding VCEK, ASK and ARK together is accepted as --vcek", async () => {
    const { toPem } = await import("../common/x509.js");
    const pem =
      toPem(readVector("sev-snp/google-go-sev-guest/vcek.testcer")) +
      new TextDecoder().decode(readVector("sev-snp/google-go-sev-guest/milan.testcer"));
    const result = await verifySevSnpReport(readVector("sev-snp/google-go-sev-guest/attestation.bin"), {
      vcek: pem,
      now: GSEV_TIME,
      policy: { allowDebug: true },
    });
    expect(result.ok).toBe(true);
  });
});

describe("verifySevSnpReport with caller-owned Node buffers", () => {
  // Regression: memoised certificates were parsed from `input.slice()`, which on a Node Buffer is a
  // view of the caller's memory. Reusing the buffer for other bytes then changed the memoised VCEK
  // (its key, TBS and the identity a verified chain is cached under) behind the memo's back.
  it("reusing a Buffer after verification changes neither the memoised VCEK nor later verdicts", async () => {
    const report = readVector("sev-snp/virtee-sev/report_milan.bin");
    const vcekDer = readVector("sev-snp/virtee-sev/vcek_milan.der");
    const chain = readVector("sev-snp/virtee-sev/cert_chain_milan");
    const cache = new SevSnpCache();
    const buffer = Buffer.from(vcekDer);
    const first = await verifySevSnpReport(report, { vcek: buffer, chain, now: MILAN_TIME, cache });
    expect(first.ok).toBe(true);
    // The caller reuses its buffer: every byte of the VCEK's TBS changes.
    buffer.fill(0x5a, 4, buffer.length - 120);
    const memoised = parseCertificate(vcekDer);
    expect(Buffer.compare(memoised.der, vcekDer)).toBe(0);
    const again = await verifySevSnpReport(report, { vcek: vcekDer, chain, now: MILAN_TIME, cache });
    expect(codes(again)).toEqual([]);
    expect(again.ok).toBe(true);
  });
});

describe("verifySevSnpKeyChain", () => {
  it("Turin VCEK chains to ASK-Turin → ARK-Turin (turin_ca_stack), with product name Turin and FMC extension", async () => {
    const vcek = parseCertificate(readVector("sev-snp/virtee-sev/vcek_turin.der"));
    const chain = await verifySevSnpKeyChain(vcek, {
      product: "turin",
      now: new Date("2025-01-01T00:00:00Z"),
      supplied: parseCertificates(readVector("sev-snp/virtee-sev/cert_chain_turin")),
      chainGiven: true,
    });
    expect(chain.path.map((c) => c.subject.split("CN=")[1])).toEqual(["SEV-VCEK", "SEV-Turin", "ARK-Turin"]);
    const { readSevSnpKeyExtensions } = await import("./vcek-extensions.js");
    expect(readSevSnpKeyExtensions(vcek)).toMatchObject({
      productName: "Turin",
      bootloader: 0,
      tee: 0,
      snp: 0,
      microcode: 9,
      fmc: 0,
    });
    expect(readSevSnpKeyExtensions(vcek).hwid?.length).toBe(8);
  });

  it("Turin VCEK against the pinned Turin ASK (no chain given) verifies; against Milan it does not", async () => {
    const vcek = parseCertificate(readVector("sev-snp/virtee-sev/vcek_turin.der"));
    await expect(
      verifySevSnpKeyChain(vcek, { product: "turin", now: new Date("2025-01-01T00:00:00Z") }),
    ).resolves.toMatchObject({ cached: false });
    await expect(
      verifySevSnpKeyChain(vcek, { product: "milan", now: new Date("2025-01-01T00:00:00Z") }),
    ).rejects.toMatchObject({
      code: "certificate_chain_incomplete",
    });
  });

  it("Turin VCEK is not yet valid before 2024-11-06", async () => {
    const vcek = parseCertificate(readVector("sev-snp/virtee-sev/vcek_turin.der"));
    await expect(
      verifySevSnpKeyChain(vcek, { product: "turin", now: new Date("2024-01-01T00:00:00Z") }),
    ).rejects.toMatchObject({
      code: "certificate_not_yet_valid",
    });
  });
});

describe("verifySevSnpReport property", () => {
  it("any change to the signed span or signature of a genuine report never verifies, and only AttestErrors escape", async () => {
    const original = readVector("sev-snp/trustee/test-report.bin");
    const vcek = readVector("sev-snp/trustee/test-vcek.der");
    await fc.assert(
      fc.asyncProperty(fc.nat(0x2a0 + 144 - 1), fc.integer({ min: 1, max: 255 }), async (offset, mask) => {
        const bytes = original.slice();
        bytes[offset] = (bytes[offset] as number) ^ mask;
        try {
          const result = await verifySevSnpReport(bytes, { vcek, now: MILAN_TIME });
          expect(result.verified).toBe(false);
          expect(result.ok).toBe(false);
        } catch (error) {
          if (!AttestError.isInstance(error)) throw error;
        }
      }),
      { numRuns: 150 },
    );
  });
});
