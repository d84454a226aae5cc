import { readFileSync } from "node:fs";
import { readVector, readVectorText } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { DEFAULT_TDX_POLICY, parseTdxPolicy, type TdxPolicyFacts, validateTdxPolicy } from "./policy.js";
import { verifyTdxQuote } from "./verify.js";

const MRTD =
  "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7";

async function realFacts(): Promise<TdxPolicyFacts> {
  return verifyTdxQuote(readVector("tdx/phala-dcap-qvl/tdx_quote"), {
    collateral: readVectorText("tdx/phala-dcap-qvl/tdx_quote_collateral.json"),
    now: new Date("2025-07-19T10:00:34Z"),
  });
}

describe("TDX policy", () => {
  it("the default policy accepts the UpToDate, non-debug phala quote", async () => {
    expect(validateTdxPolicy(await realFacts(), DEFAULT_TDX_POLICY)).toEqual([]);
  });

  it("allow-lists that contain the quote's values hold (hex case-insensitive)", async () => {
    const facts = await realFacts();
    const policy = {
      mrTd: [MRTD.toUpperCase(), "00".repeat(48)],
      rtmr0: [facts.rtmr0],
      rtmr1: [facts.rtmr1],
      rtmr2: [facts.rtmr2],
      rtmr3: [facts.rtmr3],
      mrSeam: [facts.mrSeam],
      mrConfigId: [facts.mrConfigId],
      tdAttributes: ["0000001000000000"],
      xfam: ["e702060000000000"],
      reportData: facts.reportData,
      minimumTeeTcbSvn: "06010300000000000000000000000000",
      allowedKinds: ["tdx"],
    };
    expect(validateTdxPolicy(facts, parseTdxPolicy(policy))).toEqual([]);
  });

  it("reports every violation, each with its stable code", async () => {
    const facts = {
      ...(await realFacts()),
      debug: true,
      tcbStatus: "OutOfDate" as const,
      advisoryIds: ["INTEL-SA-00837"],
    };
    const other = "11".repeat(48);
    const violations = validateTdxPolicy(
      facts,
      parseTdxPolicy({
        mrTd: [other],
        rtmr0: [other],
        rtmr1: [other],
        rtmr2: [other],
        rtmr3: [other],
        mrSeam: [other],
        mrConfigId: [other],
        tdAttributes: ["0000000000000000"],
        xfam: ["0000000000000000"],
        mrEnclave: ["00".repeat(32)],
        mrSigner: ["00".repeat(32)],
        reportData: "00".repeat(64),
        minimumTeeTcbSvn: "07000000000000000000000000000000",
        allowedKinds: ["sgx"],
      }),
    );
    expect(violations.map((v) => v.code)).toEqual([
      "tdx_policy_kind_not_allowed",
      "tdx_policy_tcb_status_not_allowed",
      "tdx_policy_advisory_not_allowed",
      "tdx_policy_debug_forbidden",
      "tdx_policy_mrtd_not_allowed",
      "tdx_policy_rtmr0_not_allowed",
      "tdx_policy_rtmr1_not_allowed",
      "tdx_policy_rtmr2_not_allowed",
      "tdx_policy_rtmr3_not_allowed",
      "tdx_policy_mrseam_not_allowed",
      "tdx_policy_mrconfigid_not_allowed",
      "tdx_policy_td_attributes_not_allowed",
      "tdx_policy_xfam_not_allowed",
      "tdx_policy_mrenclave_not_allowed",
      "tdx_policy_mrsigner_not_allowed",
      "tdx_policy_report_data_mismatch",
      "tdx_policy_tee_tcb_svn_too_low",
    ]);
  });

  it("allowDebug, accepted statuses and advisories relax exactly their rule", async () => {
    const facts = {
      ...(await realFacts()),
      debug: true,
      tcbStatus: "SWHardeningNeeded" as const,
      advisoryIds: ["INTEL-SA-00615"],
    };
    expect(
      validateTdxPolicy(
        facts,
        parseTdxPolicy({
          allowDebug: true,
          acceptedTcbStatuses: ["SWHardeningNeeded"],
          allowedAdvisoryIds: ["INTEL-SA-00615"],
        }),
      ),
    ).toEqual([]);
    expect(
      validateTdxPolicy(
        facts,
        parseTdxPolicy({
          allowDebug: true,
          acceptedTcbStatuses: ["SWHardeningNeeded"],
          allowedAdvisoryIds: ["*"],
        }),
      ),
    ).toEqual([]);
    expect(
      validateTdxPolicy(
        facts,
        parseTdxPolicy({ acceptedTcbStatuses: ["SWHardeningNeeded"], allowedAdvisoryIds: ["*"] }),
      ).map((v) => v.code),
    ).toEqual(["tdx_policy_debug_forbidden"]);
  });

  it("is strict: unknown keys, bad types and malformed hex are policy_invalid", () => {
    for (const bad of [
      { mrtd: [MRTD] },
      { mrTd: MRTD },
      { mrTd: ["abcd"] },
      { acceptedTcbStatuses: ["Fine"] },
      { allowDebug: "no" },
      { reportData: "00" },
      { allowedKinds: ["snp"] },
      { acceptedTcbStatuses: "UpToDate" },
      { acceptedTcbStatuses: [{ status: "Fine" }] },
      { acceptedTcbStatuses: [{ status: "UpToDate", advisories: [] }] },
      { acceptedTcbStatuses: [{ status: "UpToDate", advisoryIds: "INTEL-SA-00615" }] },
      { mrOwner: ["00".repeat(32)] },
      { qeVendorId: ["00".repeat(6)] },
      { fmspc: ["00".repeat(16)] },
      { minimumTcbEvaluationDataNumber: -1 },
      { minimumTcbEvaluationDataNumber: 1.5 },
      { minimumTcbEvaluationDataNumber: "17" },
      { requireSeptVeDisable: "no" },
      { allowReservedAttributeBits: 1 },
      { rejectTrailingBytes: null },
      [],
      null,
    ]) {
      expect(() => parseTdxPolicy(bad), JSON.stringify(bad)).toThrowError(
        expect.objectContaining({ code: "policy_invalid" }),
      );
    }
  });

  it("names the JSON path of the first offending value, and normalises hex", () => {
    for (const [bad, path, words] of [
      [{ mrtd: [MRTD] }, "$.mrtd", 'did you mean "mrTd"?'],
      [{ mrTd: ["abcd"] }, "$.mrTd[0]", "48 bytes of hex"],
      [
        { acceptedTcbStatuses: [{ status: "UpToDate", advisories: [] }] },
        "$.acceptedTcbStatuses[0].advisories",
        "not a known key",
      ],
      [{ acceptedTcbStatuses: [{ advisoryIds: [] }] }, "$.acceptedTcbStatuses[0].status", "is required"],
      [{ acceptedTcbStatuses: ["Fine"] }, "$.acceptedTcbStatuses[0]", '"UpToDate"'],
      [{ minimumTcbEvaluationDataNumber: 1.5 }, "$.minimumTcbEvaluationDataNumber", "an integer"],
      [null, "$", "a JSON object"],
    ] as const) {
      expect(() => parseTdxPolicy(bad), JSON.stringify(bad)).toThrowError(
        expect.objectContaining({
          code: "policy_invalid",
          details: { path },
          message: expect.stringContaining(words),
        }),
      );
    }
    const policy = parseTdxPolicy({
      $schema: "x",
      mrTd: [`0x${MRTD.toUpperCase()}`],
      reportData: "AB".repeat(64),
    });
    expect(policy).toEqual({ mrTd: [MRTD], reportData: "ab".repeat(64) });
    expect(parseTdxPolicy(policy)).toBe(policy);
  });

  it("the JSON Schema lists exactly the keys the parser accepts", () => {
    const schema = JSON.parse(
      readFileSync(new URL("../../schemas/tdx-policy.schema.json", import.meta.url), "utf8"),
    ) as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    expect(schema.additionalProperties).toBe(false);
    for (const key of Object.keys(schema.properties)) {
      expect(() => parseTdxPolicy({ [key]: undefined })).not.toThrow();
    }
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        "$schema",
        "acceptedTcbStatuses",
        "allowedAdvisoryIds",
        "allowDebug",
        "allowedKinds",
        "mrTd",
        "rtmr0",
        "rtmr1",
        "rtmr2",
        "rtmr3",
        "mrSeam",
        "mrConfigId",
        "tdAttributes",
        "xfam",
        "mrEnclave",
        "mrSigner",
        "reportData",
        "minimumTeeTcbSvn",
        "mrSignerSeam",
        "seamAttributes",
        "mrOwner",
        "mrOwnerConfig",
        "qeVendorId",
        "fmspc",
        "minimumTcbEvaluationDataNumber",
        "requireSeptVeDisable",
        "allowReservedAttributeBits",
        "rejectTrailingBytes",
      ].sort(),
    );
  });
});
