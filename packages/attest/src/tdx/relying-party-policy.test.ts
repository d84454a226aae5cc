import { readFileSync } from "node:fs";
import { readVector, readVectorJson, readVectorText } from "@peercycles/internal-vectors";
import { beforeAll, describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { parseSevSnpPolicy } from "../sev-snp/policy.js";
import type { QuoteCollateralV3 } from "./collateral.js";
import { parseTdxPolicy, type TdxPolicyFacts, validateTdxPolicy } from "./policy.js";
import { parseTdxQuote } from "./quote.js";
import { createTestPki, reRootEvidence, type TestEvidenceOptions, type TestPki } from "./testing/test-pki.js";
import { type TdxVerificationResult, type VerifyTdxOptions, verifyTdxQuote } from "./verify.js";

/**
 * The checks and knobs relying parties use (issue 18, items 1–4): the TDX spec defaults, the
 * SEPT_VE_DISABLE rule and its named opt-out, pins, the minimum tcbEvaluationDataNumber, statuses
 * accepted by name with their advisories, precise collateral codes, trailing bytes. Real vectors
 * where one exists; the test PKI (re-signed quote bodies and collateral) otherwise.
 *
 * Offsets in the signed region of `tdx/phala-dcap-qvl/tdx_quote` (v4, TD 1.0): SEAMATTRIBUTES 160,
 * TDATTRIBUTES 168, XFAM 176, MROWNER 280, MROWNERCONFIG 328.
 */

const PHALA = "tdx/phala-dcap-qvl";
const GTDX = "tdx/google-go-tdx-guest";
const NOW = new Date("2025-07-19T10:00:34Z");
const TD_ATTRIBUTES = 168;
const XFAM = 176;

const codes = (r: { errors: readonly { code: string }[] }) => r.errors.map((e) => e.code);
const phalaQuote = () => readVector(`${PHALA}/tdx_quote`);
const phalaCollateral = () => readVectorJson<QuoteCollateralV3>(`${PHALA}/tdx_quote_collateral.json`);

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

async function reRooted(
  options: TestEvidenceOptions,
  verify: Partial<VerifyTdxOptions> = {},
): Promise<TdxVerificationResult> {
  const evidence = await reRootEvidence(pki, parseTdxQuote(phalaQuote()), phalaCollateral(), options);
  return verifyTdxQuote(evidence.quote, {
    now: NOW,
    collateral: evidence.collateral,
    roots: evidence.roots,
    ...verify,
  });
}

/** Sets bits in the little-endian u64 at `offset` (and clears `clear`). */
const editU64 =
  (offset: number, set: bigint, clear = 0n) =>
  (region: Uint8Array) => {
    for (let i = 0; i < 8; i++) {
      const s = Number((set >> BigInt(8 * i)) & 0xffn);
      const c = Number((clear >> BigInt(8 * i)) & 0xffn);
      region[offset + i] = ((region[offset + i] as number) & ~c) | s;
    }
  };

let phalaFacts: TdxPolicyFacts;
beforeAll(async () => {
  phalaFacts = await verifyTdxQuote(phalaQuote(), { collateral: phalaCollateral(), now: NOW });
});

/** The phala facts with TD_ATTRIBUTES / XFAM replaced (u64 values, written little-endian). */
function withBits(tdAttributes: bigint, xfam = 0x602e7n): TdxPolicyFacts {
  const le = (v: bigint) =>
    Array.from({ length: 8 }, (_, i) =>
      Number((v >> BigInt(8 * i)) & 0xffn)
        .toString(16)
        .padStart(2, "0"),
    ).join("");
  return { ...phalaFacts, debug: (tdAttributes & 1n) === 1n, tdAttributes: le(tdAttributes), xfam: le(xfam) };
}

const SEPT = 1n << 28n;

describe("item 1: the TDX spec defaults apply by default", () => {
  it("every real TD quote meets them (the SPR quote lacks SEPT_VE_DISABLE, trustee tdx_quote_4 is a debug TD)", async () => {
    const expected: Record<string, string[]> = {
      [`${PHALA}/tdx_quote`]: [],
      [`${PHALA}/tdx_quote_outdated`]: [],
      [`${PHALA}/near_quote.bin`]: [],
      [`${PHALA}/tdx-quote.hex.bin`]: [],
      [`${GTDX}/quote_v5_sample.dat`]: [],
      [`${GTDX}/tdx_prod_quote_SPR_E4.dat`]: ["tdx_policy_sept_ve_disable_required"],
      "tdx/trustee/tdx_quote_4.dat": ["tdx_policy_debug_forbidden"],
      "tdx/trustee/tdx_quote_5.dat": [],
    };
    for (const [file, want] of Object.entries(expected)) {
      // Signatures only, at a time inside every PCK leaf's validity: the spec rules need no collateral.
      const result = await verifyTdxQuote(readVector(file), {
        signaturesOnly: true,
        allowUnchecked: ["tcb"],
        now: new Date("2026-06-01T00:00:00Z"),
      });
      expect(result.verified, file).toBe(true);
      expect(codes(result), file).toEqual(want);
    }
  });

  it.each([
    ["TUD bit 1", 1n << 1n],
    ["TUD bit 7", 1n << 7n],
    ["SEC bit 8", 1n << 8n],
    ["SEC bit 27", 1n << 27n],
    ["bit 29", 1n << 29n],
    ["OTHER bit 32", 1n << 32n],
    ["OTHER bit 62", 1n << 62n],
  ])("a reserved TD_ATTRIBUTES bit (%s) → tdx_policy_td_attributes_reserved_bits", (_name, bit) => {
    expect(codes({ errors: validateTdxPolicy(withBits(SEPT | bit)) })).toEqual([
      "tdx_policy_td_attributes_reserved_bits",
    ]);
  });

  it("the defined bits (SEPT_VE_DISABLE 28, PKS 30, KL 31, PERFMON 63) are not reserved", () => {
    expect(validateTdxPolicy(withBits(SEPT | (1n << 30n) | (1n << 31n) | (1n << 63n)))).toEqual([]);
  });

  it("DEBUG stays refused (its own code), whatever else is allowed", () => {
    expect(
      codes({
        errors: validateTdxPolicy(withBits(SEPT | 1n), parseTdxPolicy({ allowReservedAttributeBits: true })),
      }),
    ).toEqual(["tdx_policy_debug_forbidden"]);
  });

  it.each([
    ["FP clear", 0x602e6n],
    ["SSE clear", 0x602e5n],
    ["both clear", 0x602e4n],
  ])("XFAM with %s → tdx_policy_xfam_fp_sse_required (no opt-out)", (_name, xfam) => {
    expect(codes({ errors: validateTdxPolicy(withBits(SEPT, xfam)) })).toEqual([
      "tdx_policy_xfam_fp_sse_required",
    ]);
    expect(
      codes({
        errors: validateTdxPolicy(withBits(SEPT, xfam), parseTdxPolicy({ allowReservedAttributeBits: true })),
      }),
    ).toEqual(["tdx_policy_xfam_fp_sse_required"]);
  });

  it.each([
    ["MPX BNDREGS (3)", 1n << 3n],
    ["PASID (10)", 1n << 10n],
    ["HDC (13)", 1n << 13n],
    ["bit 19", 1n << 19n],
    ["bit 63", 1n << 63n],
  ])("an XFAM bit outside XFAM_FIXED0 (%s) → tdx_policy_xfam_bits_forbidden", (_name, bit) => {
    expect(codes({ errors: validateTdxPolicy(withBits(SEPT, 0x602e7n | bit)) })).toEqual([
      "tdx_policy_xfam_bits_forbidden",
    ]);
  });

  it("each violation has its own code, all reported at once", () => {
    expect(codes({ errors: validateTdxPolicy(withBits(1n | (1n << 29n), 0x602e4n | (1n << 3n))) })).toEqual([
      "tdx_policy_debug_forbidden",
      "tdx_policy_td_attributes_reserved_bits",
      "tdx_policy_sept_ve_disable_required",
      "tdx_policy_xfam_fp_sse_required",
      "tdx_policy_xfam_bits_forbidden",
    ]);
  });

  it("SGX quotes have no TD_ATTRIBUTES or XFAM: the TD rules do not apply", async () => {
    const result = await verifyTdxQuote(readVector(`${PHALA}/sgx_quote`), {
      collateral: readVectorText(`${PHALA}/sgx_quote_collateral.json`),
      now: new Date("2025-07-19T10:01:17Z"),
      policy: { acceptedTcbStatuses: ["ConfigurationAndSWHardeningNeeded"], allowedAdvisoryIds: ["*"] },
    });
    expect(result.ok).toBe(true);
  });

  it("test PKI: a signed TD with reserved bit 29 is verified and refused; the named opt-out is echoed", async () => {
    const edit = { editSignedRegion: editU64(TD_ATTRIBUTES, 1n << 29n) };
    const result = await reRooted(edit);
    expect(result.verified).toBe(true);
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(["tdx_policy_td_attributes_reserved_bits"]);
    expect(result.tdAttributes).toBe("0000003000000000");
    const accepted = await reRooted(edit, { allowUnchecked: ["reserved_attribute_bits"] });
    expect(accepted.ok).toBe(true);
    expect(accepted.unchecked).toEqual(["reserved_attribute_bits"]);
  });

  it("test PKI: a signed TD whose XFAM lacks FP, or sets bit 3, is refused", async () => {
    expect(codes(await reRooted({ editSignedRegion: editU64(XFAM, 0n, 1n) }))).toEqual([
      "tdx_policy_xfam_fp_sse_required",
    ]);
    expect(codes(await reRooted({ editSignedRegion: editU64(XFAM, 1n << 3n) }))).toEqual([
      "tdx_policy_xfam_bits_forbidden",
    ]);
  });
});

describe("item 2: SEPT_VE_DISABLE is required, with a named opt-out echoed in the result", () => {
  it("test PKI: the phala TD with bit 28 cleared → tdx_policy_sept_ve_disable_required", async () => {
    const result = await reRooted({ editSignedRegion: editU64(TD_ATTRIBUTES, 0n, SEPT) });
    expect(result.verified).toBe(true);
    expect(codes(result)).toEqual(["tdx_policy_sept_ve_disable_required"]);
    expect(result.unchecked).toEqual([]);
  });

  it("test PKI: Azure-style TD_ATTRIBUTES all zero pass only with requireSeptVeDisable: false, echoed", async () => {
    const azure = { editSignedRegion: editU64(TD_ATTRIBUTES, 0n, ~0n) };
    const result = await reRooted(azure, { policy: { requireSeptVeDisable: false } });
    expect(result.tdAttributes).toBe("0000000000000000");
    expect(result.ok).toBe(true);
    expect(result.unchecked).toEqual(["sept_ve_disable"]);
    // allowUnchecked names the same opt-out.
    const named = await reRooted(azure, { allowUnchecked: ["sept_ve_disable"] });
    expect(named.ok).toBe(true);
    expect(named.unchecked).toEqual(["sept_ve_disable"]);
  });

  it("the opt-out is echoed only where it was needed", async () => {
    const result = await verifyTdxQuote(phalaQuote(), {
      collateral: phalaCollateral(),
      now: NOW,
      policy: { requireSeptVeDisable: false, allowReservedAttributeBits: true },
    });
    expect(result.ok).toBe(true);
    expect(result.unchecked).toEqual([]);
  });

  it("allowUnchecked rejects unknown names", async () => {
    await expect(
      verifyTdxQuote(phalaQuote(), {
        collateral: phalaCollateral(),
        now: NOW,
        allowUnchecked: ["debug" as never],
      }),
    ).rejects.toMatchObject({ code: "tdx_options_invalid" });
  });
});

describe("item 3: pins, minimum tcbEvaluationDataNumber, statuses accepted by name with advisories", () => {
  it("the real quote's MRSIGNERSEAM, SEAMATTRIBUTES, MROWNER, MROWNERCONFIG, QE vendor id and FMSPC are reported and pinnable", async () => {
    const zero48 = "00".repeat(48);
    const result = await verifyTdxQuote(phalaQuote(), {
      collateral: phalaCollateral(),
      now: NOW,
      policy: {
        mrSignerSeam: [zero48],
        seamAttributes: ["0000000000000000"],
        mrOwner: [zero48],
        mrOwnerConfig: [zero48],
        qeVendorId: ["939A7233F79C4CA9940A0DB3957F0607"],
        fmspc: ["b0c06f000000"],
        minimumTcbEvaluationDataNumber: 17,
      },
    });
    expect(result.ok).toBe(true);
    expect(result).toMatchObject({
      mrSignerSeam: zero48,
      seamAttributes: "0000000000000000",
      mrOwner: zero48,
      mrOwnerConfig: zero48,
      qeVendorId: "939a7233f79c4ca9940a0db3957f0607",
      fmspc: "b0c06f000000",
      tcbInfoEvaluationDataNumber: 17,
      qeIdentityEvaluationDataNumber: 17,
    });
  });

  it("every pin that does not hold is reported with its own code", async () => {
    const other48 = "11".repeat(48);
    const result = await verifyTdxQuote(phalaQuote(), {
      collateral: phalaCollateral(),
      now: NOW,
      policy: {
        mrSignerSeam: [other48],
        seamAttributes: ["0100000000000000"],
        mrOwner: [other48],
        mrOwnerConfig: [other48],
        qeVendorId: ["00".repeat(16)],
        fmspc: ["90c06f000000"],
        minimumTcbEvaluationDataNumber: 18,
      },
    });
    expect(result.verified).toBe(true);
    expect(codes(result)).toEqual([
      "tdx_policy_tcb_info_evaluation_data_number_too_low",
      "tdx_policy_qe_identity_evaluation_data_number_too_low",
      "tdx_policy_mrsignerseam_not_allowed",
      "tdx_policy_seam_attributes_not_allowed",
      "tdx_policy_mrowner_not_allowed",
      "tdx_policy_mrownerconfig_not_allowed",
      "tdx_policy_qe_vendor_id_not_allowed",
      "tdx_policy_fmspc_not_allowed",
    ]);
  });

  it("test PKI: a signed MROWNER of the relying party's choice is matched exactly", async () => {
    const owner = "ab".repeat(48);
    const edit = {
      editSignedRegion: (region: Uint8Array) => region.set(Buffer.from(owner, "hex"), 280),
    };
    expect((await reRooted(edit, { policy: { mrOwner: [owner] } })).ok).toBe(true);
    expect(codes(await reRooted(edit, { policy: { mrOwner: ["00".repeat(48)] } }))).toEqual([
      "tdx_policy_mrowner_not_allowed",
    ]);
  });

  it("test PKI: the minimum applies to the TCB info and the QE identity separately", async () => {
    const result = await reRooted(
      {
        editQeIdentity: (t) => t.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":16'),
      },
      { policy: { minimumTcbEvaluationDataNumber: 17 } },
    );
    expect(result.verified).toBe(true);
    expect(result.qeIdentityEvaluationDataNumber).toBe(16);
    expect(codes(result)).toEqual(["tdx_policy_qe_identity_evaluation_data_number_too_low"]);
  });

  it("the minimum is a TCB rule: moot when the TCB was not evaluated (and accepted unchecked)", async () => {
    const result = await verifyTdxQuote(phalaQuote(), {
      signaturesOnly: true,
      allowUnchecked: ["tcb"],
      now: NOW,
      policy: { minimumTcbEvaluationDataNumber: 99 },
    });
    expect(result.ok).toBe(true);
    expect(result.tcbInfoEvaluationDataNumber).toBeNull();
  });

  it("real SGX quote: ConfigurationAndSWHardeningNeeded accepted by name with exactly its advisories", async () => {
    const verify = (policy: unknown) =>
      verifyTdxQuote(readVector(`${PHALA}/sgx_quote`), {
        collateral: readVectorText(`${PHALA}/sgx_quote_collateral.json`),
        now: new Date("2025-07-19T10:01:17Z"),
        policy,
      });
    const both = ["INTEL-SA-00289", "INTEL-SA-00615"];
    const named = await verify({
      acceptedTcbStatuses: ["UpToDate", { status: "ConfigurationAndSWHardeningNeeded", advisoryIds: both }],
    });
    expect(named.ok).toBe(true);
    expect(named.advisoryIds).toEqual(both);
    const one = await verify({
      acceptedTcbStatuses: [{ status: "ConfigurationAndSWHardeningNeeded", advisoryIds: ["INTEL-SA-00289"] }],
    });
    expect(codes(one)).toEqual(["tdx_policy_advisory_not_allowed"]);
    expect(one.errors[0]?.message).toContain("INTEL-SA-00615");
    // Advisories named with another status do not carry over.
    const other = await verify({ acceptedTcbStatuses: [{ status: "SWHardeningNeeded", advisoryIds: both }] });
    expect(codes(other)).toEqual(["tdx_policy_tcb_status_not_allowed", "tdx_policy_advisory_not_allowed"]);
    // The global list still works alongside the object form.
    const global = await verify({
      acceptedTcbStatuses: [{ status: "ConfigurationAndSWHardeningNeeded" }],
      allowedAdvisoryIds: both,
    });
    expect(global.ok).toBe(true);
  });
});

describe("item 4: precise collateral codes in Intel's order", () => {
  async function thrownCode(run: () => Promise<unknown>): Promise<string> {
    try {
      await run();
      return "ok";
    } catch (error) {
      if (AttestError.isInstance(error)) return error.code;
      throw error;
    }
  }

  it("test PKI: a QE identity of an unsupported version → collateral_qe_identity_version_unsupported", async () => {
    expect(
      await thrownCode(() => reRooted({ editQeIdentity: (t) => t.replace('"version":2', '"version":3') })),
    ).toBe("collateral_qe_identity_version_unsupported");
  });

  it("test PKI: a TCB info of an unsupported version → collateral_tcb_info_version_unsupported", async () => {
    expect(
      await thrownCode(() => reRooted({ editTcbInfo: (t) => t.replace('"version":3', '"version":4') })),
    ).toBe("collateral_tcb_info_version_unsupported");
  });

  it("real collateral long expired: root CA CRL, PCK CRL, TCB info and QE identity each with its own code, in order", async () => {
    const result = await verifyTdxQuote(phalaQuote(), {
      collateral: phalaCollateral(),
      now: new Date("2026-08-01T00:00:00Z"),
    });
    expect(codes(result)).toEqual([
      "collateral_root_ca_crl_expired",
      "collateral_pck_crl_expired",
      "collateral_tcb_info_expired",
      "collateral_qe_identity_expired",
    ]);
  });

  it("test PKI: CRLs not yet valid while the TCB info is expired: both CRLs and the TCB info are named", async () => {
    const result = await reRooted({
      crlThisUpdate: new Date("2025-08-01T00:00:00Z"),
      editTcbInfo: (t) =>
        t.replace('"nextUpdate":"2025-07-19T10:16:03Z"', '"nextUpdate":"2025-07-01T00:00:00Z"'),
    });
    expect(codes(result)).toEqual([
      "collateral_root_ca_crl_not_yet_valid",
      "collateral_pck_crl_not_yet_valid",
      "collateral_tcb_info_expired",
    ]);
  });
});

describe("trailing bytes (issue 18 item 5, TDX side)", () => {
  it("are reported and accepted by default; rejectTrailingBytes refuses them with its own code", async () => {
    const accepted = await verifyTdxQuote(phalaQuote(), { collateral: phalaCollateral(), now: NOW });
    expect(accepted.ok).toBe(true);
    expect(accepted.trailingBytes).toBe(70);
    const refused = await verifyTdxQuote(phalaQuote(), {
      collateral: phalaCollateral(),
      now: NOW,
      policy: { rejectTrailingBytes: true },
    });
    expect(refused.verified).toBe(true);
    expect(codes(refused)).toEqual(["tdx_policy_trailing_bytes_rejected"]);
  });

  it("a quote without trailing bytes passes the strict option (go-tdx-guest quote_v5_sample)", async () => {
    const result = await verifyTdxQuote(readVector(`${GTDX}/quote_v5_sample.dat`), {
      collateral: readVectorText(`${PHALA}/tdx_quote_outdated_collateral.json`),
      now: new Date("2026-03-20T10:41:14Z"),
      policy: { rejectTrailingBytes: true },
    });
    expect(result.trailingBytes).toBe(0);
    expect(result.ok).toBe(true);
  });
});

describe("the policy examples in the docs", () => {
  it("every TDX and SEV-SNP policy JSON in the README and docs parses strictly", () => {
    let seen = 0;
    for (const file of ["../../README.md", "../../docs/tdx.md", "../../docs/sev-snp.md"]) {
      const text = readFileSync(new URL(file, import.meta.url), "utf8");
      for (const match of text.matchAll(/^```json\s*$([\s\S]*?)^```\s*$/gm)) {
        const value = JSON.parse(match[1] as string) as { $schema?: string };
        if (value.$schema?.endsWith("tdx-policy.schema.json")) parseTdxPolicy(value);
        else if (value.$schema?.endsWith("sev-snp-policy.schema.json")) parseSevSnpPolicy(value);
        else continue;
        seen++;
      }
    }
    expect(seen).toBeGreaterThanOrEqual(4);
  });
});
