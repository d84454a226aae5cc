import { readVector } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { parseSevSnpPolicy, validateSevSnpPolicy } from "./policy.js";
import { parseSevSnpReport } from "./report.js";

const gsev = {
  report: parseSevSnpReport(readVector("sev-snp/google-go-sev-guest/attestation.bin")),
  product: "milan" as const,
};
const trustee = {
  report: parseSevSnpReport(readVector("sev-snp/trustee/test-report.bin")),
  product: "milan" as const,
};
const vlek = {
  report: parseSevSnpReport(readVector("sev-snp/trustee/test-vlek-report.bin")),
  product: "milan" as const,
};

const GSEV_MEASUREMENT =
  "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01";
const codes = (issues: readonly { code: string }[]) => issues.map((i) => i.code);

describe("validateSevSnpPolicy", () => {
  it("the default policy forbids debug (go-sev-guest attestation.bin allows it)", () => {
    expect(codes(validateSevSnpPolicy(gsev))).toEqual(["snp_policy_debug_forbidden"]);
    expect(codes(validateSevSnpPolicy(gsev, parseSevSnpPolicy({ allowDebug: true })))).toEqual([]);
    expect(codes(validateSevSnpPolicy(trustee))).toEqual([]);
  });

  it("go-sev-guest tools/check good values pass", () => {
    const policy = {
      allowDebug: true,
      reportData: `0102030405${"00".repeat(59)}`,
      hostData: "00".repeat(32),
      measurements: [GSEV_MEASUREMENT],
      minimumTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
      minimumLaunchTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
      minimumFirmware: { major: 1, minor: 49, build: 0 },
      vmpl: { allowed: [0] },
    };
    expect(codes(validateSevSnpPolicy(gsev, parseSevSnpPolicy(policy)))).toEqual([]);
  });

  it.each([
    [
      "report_data 63 zero bytes then 01",
      { reportData: `${"00".repeat(63)}01` },
      "snp_policy_report_data_mismatch",
    ],
    ["host_data last byte 01", { hostData: `${"00".repeat(31)}01` }, "snp_policy_host_data_mismatch"],
    ["measurement not listed", { measurements: ["00".repeat(48)] }, "snp_policy_measurement_not_allowed"],
    ["minimum TCB +1 microcode", { minimumTcb: { microcode: 69 } }, "snp_policy_tcb_too_low"],
    ["minimum launch TCB +1 snp", { minimumLaunchTcb: { snp: 6 } }, "snp_policy_launch_tcb_too_low"],
    ["min version 1.50", { minimumFirmware: { major: 1, minor: 50 } }, "snp_policy_firmware_too_old"],
    [
      "min build 4 at 1.49",
      { minimumFirmware: { major: 1, minor: 49, build: 4 } },
      "snp_policy_firmware_too_old",
    ],
    ["vmpl allowed [1]", { vmpl: { allowed: [1] } }, "snp_policy_vmpl_not_allowed"],
    ["author key required", { authorKeyDigests: ["11".repeat(48)] }, "snp_policy_author_key_missing"],
    ["ID key digests required", { idKeyDigests: ["11".repeat(48)] }, "snp_policy_id_key_not_allowed"],
    ["SMT forbidden", { allowSmt: false }, "snp_policy_smt_forbidden"],
    ["single socket required", { requireSingleSocket: true }, "snp_policy_single_socket_required"],
    ["only VLEK allowed", { signingKeys: ["vlek"] }, "snp_policy_signing_key_not_allowed"],
    ["guest SVN 1 required", { minimumGuestSvn: 1 }, "snp_policy_guest_svn_too_low"],
  ])("go-sev-guest bad value: %s → %s", (_name, policy, code) => {
    expect(codes(validateSevSnpPolicy(gsev, parseSevSnpPolicy({ allowDebug: true, ...policy })))).toEqual([
      code,
    ]);
  });

  it("reports every violation at once, in a stable order", () => {
    const issues = validateSevSnpPolicy(
      gsev,
      parseSevSnpPolicy({
        measurements: ["00".repeat(48)],
        reportData: "00".repeat(64),
        vmpl: { max: 0, allowed: [2] },
        minimumTcb: { snp: 9 },
        allowSmt: false,
      }),
    );
    expect(codes(issues)).toEqual([
      "snp_policy_debug_forbidden",
      "snp_policy_smt_forbidden",
      "snp_policy_measurement_not_allowed",
      "snp_policy_report_data_mismatch",
      "snp_policy_vmpl_not_allowed",
      "snp_policy_tcb_too_low",
    ]);
  });

  it("VLEK report: VMPL 1 passes max 1, fails max 0; only-VCEK policies reject it", () => {
    expect(codes(validateSevSnpPolicy(vlek, parseSevSnpPolicy({ vmpl: { max: 1 } })))).toEqual([]);
    expect(codes(validateSevSnpPolicy(vlek, parseSevSnpPolicy({ vmpl: { max: 0 } })))).toEqual([
      "snp_policy_vmpl_not_allowed",
    ]);
    expect(codes(validateSevSnpPolicy(vlek, parseSevSnpPolicy({ signingKeys: ["vcek"] })))).toEqual([
      "snp_policy_signing_key_not_allowed",
    ]);
  });

  it("trustee ID block report: its ID key digest is accepted when listed", () => {
    const digest =
      "0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3";
    expect(
      codes(
        validateSevSnpPolicy(
          trustee,
          parseSevSnpPolicy({ idKeyDigests: [digest.toUpperCase()], minimumGuestSvn: 4 }),
        ),
      ),
    ).toEqual([]);
  });

  it("FMC minimum applies to Turin only", () => {
    expect(codes(validateSevSnpPolicy(trustee, parseSevSnpPolicy({ minimumTcb: { fmc: 5 } })))).toEqual([]);
    expect(
      codes(
        validateSevSnpPolicy({ ...trustee, product: "turin" }, parseSevSnpPolicy({ minimumTcb: { fmc: 5 } })),
      ),
    ).toEqual(["snp_policy_tcb_too_low"]);
  });
});

describe("parseSevSnpPolicy (strict)", () => {
  it.each([
    ["unknown key", { allowDebugg: true }, "$.allowDebugg"],
    ["unknown nested key", { vmpl: { maximum: 0 } }, "$.vmpl.maximum"],
    ["65-byte report data", { reportData: "00".repeat(65) }, "$.reportData"],
    ["non-hex report data", { reportData: "zz".repeat(64) }, "$.reportData"],
    ["33-byte host data", { hostData: "00".repeat(33) }, "$.hostData"],
    ["vmpl 4", { vmpl: { allowed: [4] } }, "$.vmpl.allowed[0]"],
    ["vmpl -1", { vmpl: { max: -1 } }, "$.vmpl.max"],
    ["TCB component 256", { minimumTcb: { snp: 256 } }, "$.minimumTcb.snp"],
    ["unknown TCB component", { minimumTcb: { pcr: 1 } }, "$.minimumTcb.pcr"],
    ["firmware without minor", { minimumFirmware: { major: 1 } }, "$.minimumFirmware.minor"],
    ["signing key name", { signingKeys: ["ask"] }, "$.signingKeys[0]"],
    ["boolean as string", { allowDebug: "yes" }, "$.allowDebug"],
    [
      "all-zero author key",
      { authorKeyDigests: ["11".repeat(48), "00".repeat(48)] },
      "$.authorKeyDigests[1]",
    ],
    ["misspelt nested key", { minimumFirmware: { major: 1, minor: 0, Build: 1 } }, "$.minimumFirmware.Build"],
  ])("rejects %s", (_name, policy, path) => {
    expect(() => parseSevSnpPolicy(policy)).toThrowError(
      expect.objectContaining({ code: "policy_invalid", details: { path } }),
    );
  });

  it("explains an all-zero author key, and normalises hex (case, 0x)", () => {
    expect(() => parseSevSnpPolicy({ authorKeyDigests: ["00".repeat(48)] })).toThrowError(
      /names no author key/,
    );
    expect(() => parseSevSnpPolicy({ minimumFirmware: { major: 1, minor: 0, Build: 1 } })).toThrowError(
      /did you mean "build"\?/,
    );
    const policy = parseSevSnpPolicy({ measurements: [`0x${GSEV_MEASUREMENT.toUpperCase()}`] });
    expect(policy.measurements).toEqual([GSEV_MEASUREMENT]);
    expect(parseSevSnpPolicy(policy)).toBe(policy);
  });

  it("rejects non-objects", () => {
    for (const value of [null, [], "policy", 3])
      expect(() => parseSevSnpPolicy(value)).toThrowError(
        expect.objectContaining({ code: "policy_invalid" }),
      );
  });

  it("accepts the documented example", () => {
    expect(() =>
      parseSevSnpPolicy({
        $schema: "../schemas/sev-snp-policy.schema.json",
        allowDebug: false,
        measurements: [GSEV_MEASUREMENT],
        vmpl: { allowed: [0], max: 0 },
        minimumTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
        minimumFirmware: { major: 1, minor: 52, build: 4 },
        signingKeys: ["vcek", "vlek"],
      }),
    ).not.toThrow();
  });
});

describe("schemas/sev-snp-policy.schema.json", () => {
  it("lists exactly the keys the parser accepts, and forbids others", async () => {
    const { readFileSync } = await import("node:fs");
    const schema = JSON.parse(
      readFileSync(new URL("../../schemas/sev-snp-policy.schema.json", import.meta.url), "utf8"),
    );
    expect(schema.additionalProperties).toBe(false);
    for (const key of Object.keys(schema.properties)) {
      const sample: Record<string, unknown> = {
        $schema: "x",
        allowDebug: true,
        allowSmt: true,
        allowMigrationAgent: true,
        requireSingleSocket: true,
        measurements: [],
        reportData: "00".repeat(64),
        hostData: "00".repeat(32),
        vmpl: {},
        minimumTcb: {},
        minimumLaunchTcb: {},
        minimumFirmware: { major: 1, minor: 0 },
        minimumCommittedFirmware: { major: 1, minor: 0, build: 0 },
        minimumGuestSvn: 0,
        idKeyDigests: [],
        authorKeyDigests: [],
        signingKeys: ["vcek"],
        rejectTrailingBytes: true,
      };
      expect(sample[key], `no sample for ${key}`).toBeDefined();
      expect(() => parseSevSnpPolicy({ [key]: sample[key] })).not.toThrow();
    }
    expect(Object.keys(schema.properties).length).toBe(18);
  });
});
