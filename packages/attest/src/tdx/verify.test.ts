import { readVector, readVectorJson, readVectorText } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { toHex } from "../common/bytes.js";
import { createVerifier } from "../common/verifier.js";
import { type PcsCollateralInput, parseQeIdentity, type QuoteCollateralV3 } from "./collateral.js";
import { parseTdxQuote } from "./quote.js";
import { matchQeIdentity } from "./tcb-status.js";
import { createTestPki, reRootEvidence } from "./testing/test-pki.js";
import {
  clearTdxCaches,
  type TdxVerificationResult,
  toVerificationTime,
  verifyQuoteSignatures,
  verifyTdxQuote,
} from "./verify.js";

const PHALA = "tdx/phala-dcap-qvl";
const GTDX = "tdx/google-go-tdx-guest";

/** go-tdx-guest's PCS sample responses, in the PCS container shape (README A3). */
export function goTdxGuestCollateral(): PcsCollateralInput {
  return {
    tcbInfo: readVectorText(`${GTDX}/sample_tcbInfo_response`),
    tcbInfoIssuerChain: readVectorText(`${GTDX}/tcbInfoIssuerChain.pem`),
    qeIdentity: readVectorText(`${GTDX}/sample_qeIdentity_response`),
    qeIdentityIssuerChain: readVectorText(`${GTDX}/qeIdentityIssuerChain.pem`),
    pckCrl: readVector(`${GTDX}/pckcrl`),
    pckCrlIssuerChain: readVectorText(`${GTDX}/pckCrlIssuerChain.pem`),
    rootCaCrl: readVector(`${GTDX}/rootcrl.der`),
  };
}

const codes = (r: TdxVerificationResult) => r.errors.map((e) => e.code);
const failedChecks = (r: TdxVerificationResult) =>
  r.checks.filter((c) => c.status === "fail").map((c) => c.id);

describe("verifyTdxQuote on real evidence (README A2, A3, A5)", () => {
  it("phala tdx_quote + collateral at 2025-07-19T10:00:34Z: UpToDate, no advisories, accepted", async () => {
    const result = await verifyTdxQuote(readVector(`${PHALA}/tdx_quote`), {
      collateral: readVectorText(`${PHALA}/tdx_quote_collateral.json`),
      now: new Date("2025-07-19T10:00:34Z"),
    });
    expect(codes(result)).toEqual([]);
    expect(result).toMatchObject({
      ok: true,
      verified: true,
      kind: "tdx",
      teeType: "TDX",
      quoteVersion: 4,
      tcbStatus: "UpToDate",
      advisoryIds: [],
      debug: false,
    });
    expect(result.fmspc).toBe("b0c06f000000");
    expect(result.mrTd).toBe(
      "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
    );
    expect(result.rtmr0).toBe(
      "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0",
    );
    expect(result.reportData).toBe(
      "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20",
    );
    expect(result.mrEnclave).toBeNull();
    expect(result.mrSigner).toBeNull();
    expect(result.trailingBytes).toBe(70);
    expect(result.tcb?.tdxModule).toMatchObject({ id: "TDX_01", status: "UpToDate" });
    expect(result.collateralWindow).toEqual({
      notBefore: "2025-06-19T10:32:27.000Z",
      notAfter: "2025-07-19T10:00:35.000Z",
    });
    expect(result.checks.filter((c) => c.status === "fail")).toEqual([]);
    const ids = result.checks.map((c) => c.id);
    for (const id of [
      "quote_signature",
      "qe_report_signature",
      "qe_report_data",
      "pck_chain",
      "pck_crl",
      "root_ca_crl",
      "tcb_info_signature",
      "qe_identity_signature",
      "tcb_status",
      "policy",
    ]) {
      expect(ids).toContain(id);
    }
  });

  it("the same vector outside its window fails on collateral time (one second after, and before issue)", async () => {
    const quote = readVector(`${PHALA}/tdx_quote`);
    const collateral = readVectorText(`${PHALA}/tdx_quote_collateral.json`);
    const after = await verifyTdxQuote(quote, { collateral, now: new Date("2025-07-19T10:33:00Z") });
    expect(after.verified).toBe(false);
    expect(codes(after)).toEqual(
      expect.arrayContaining([
        "collateral_tcb_info_expired",
        "collateral_qe_identity_expired",
        "collateral_pck_crl_expired",
      ]),
    );
    const before = await verifyTdxQuote(quote, { collateral, now: new Date("2025-06-19T10:20:00Z") });
    expect(codes(before)).toContain("collateral_qe_identity_not_yet_valid");
  });

  it("`now` is a Date, as for every verifier; toVerificationTime reads ISO text and Unix seconds", async () => {
    const quote = readVector(`${PHALA}/tdx_quote`);
    const collateral = readVectorJson<QuoteCollateralV3>(`${PHALA}/tdx_quote_collateral.json`);
    for (const text of ["2025-07-19T10:00:34Z", 1752919234, "1752919234"]) {
      const now = toVerificationTime(text);
      expect(now.getTime()).toBe(1752919234 * 1000);
      expect((await verifyTdxQuote(quote, { collateral, now })).ok).toBe(true);
    }
    for (const now of ["2025-07-19T10:00:34Z", 1752919234, new Date(Number.NaN), undefined]) {
      await expect(verifyTdxQuote(quote, { collateral, now: now as unknown as Date })).rejects.toMatchObject({
        code: "tdx_now_invalid",
      });
    }
  });

  it("phala sgx_quote (SGX v3, Processor CA): ConfigurationAndSWHardeningNeeded with INTEL-SA-00289, INTEL-SA-00615", async () => {
    const result = await verifyTdxQuote(readVector(`${PHALA}/sgx_quote`), {
      collateral: readVectorText(`${PHALA}/sgx_quote_collateral.json`),
      now: new Date("2025-07-19T10:01:17Z"),
    });
    expect(result.verified).toBe(true);
    expect(result.kind).toBe("sgx");
    expect(result.tcbStatus).toBe("ConfigurationAndSWHardeningNeeded");
    expect(result.advisoryIds).toEqual(["INTEL-SA-00289", "INTEL-SA-00615"]);
    expect(result.mrEnclave).toBe("33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
    expect(result.mrTd).toBeNull();
    expect(result.tcb?.qe.isvSvn).toBe(10);
    // The strict default policy refuses it; a policy that accepts the status and advisories passes.
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(["tdx_policy_tcb_status_not_allowed", "tdx_policy_advisory_not_allowed"]);
    const accepted = await verifyTdxQuote(readVector(`${PHALA}/sgx_quote`), {
      collateral: readVectorText(`${PHALA}/sgx_quote_collateral.json`),
      now: new Date("2025-07-19T10:01:17Z"),
      policy: {
        acceptedTcbStatuses: ["ConfigurationAndSWHardeningNeeded"],
        allowedAdvisoryIds: ["INTEL-SA-00289", "INTEL-SA-00615"],
      },
    });
    expect(accepted.ok).toBe(true);
  });

  it("phala tdx_quote_outdated (v5, TD 1.5) without dcap-qvl's override: no matching TCB level", async () => {
    const result = await verifyTdxQuote(readVector(`${PHALA}/tdx_quote_outdated`), {
      collateral: readVectorText(`${PHALA}/tdx_quote_outdated_collateral.json`),
      now: new Date("2026-03-20T10:41:14Z"),
    });
    expect(result.verified).toBe(false);
    expect(codes(result)).toEqual(["tdx_tcb_level_not_found"]);
    expect(failedChecks(result)).toEqual(["tcb_status"]);
    expect(result.tcbStatus).toBe("NotEvaluated");
    expect(result.quoteVersion).toBe(5);
  });

  it("phala near_quote at the NEAR test's fixed time 1757462400: UpToDate, non-zero MRCONFIGID", async () => {
    const result = await verifyTdxQuote(readVector(`${PHALA}/near_quote.bin`), {
      collateral: readVectorText(`${PHALA}/near_quote_collateral.json`),
      now: new Date(1757462400 * 1000),
    });
    expect(result.ok).toBe(true);
    expect(result.tcbStatus).toBe("UpToDate");
    expect(result.fmspc).toBe("20a06f000000");
    expect(result.mrConfigId).toBe(
      "0112a20aed7d6c68601e9f6e108a93b4199ae7231684307ffc4833c9cd08d45de7000000000000000000000000000000",
    );
  });

  for (const file of ["tdx-quote.hex.bin", "quote-from-tappd.bin"]) {
    it(`phala ${file} with tdx_quote_collateral.json: no matching TCB level (PCK components 2,2,2,2,3,1,0,3)`, async () => {
      const result = await verifyTdxQuote(readVector(`${PHALA}/${file}`), {
        collateral: readVectorText(`${PHALA}/tdx_quote_collateral.json`),
        now: new Date("2025-07-19T10:00:34Z"),
      });
      expect(codes(result)).toEqual(["tdx_tcb_level_not_found"]);
      expect(result.verified).toBe(false);
    });
  }

  it("go-tdx-guest SPR quote (39 trailing bytes) with the sample PCS collateral: no matching TCB level", async () => {
    const result = await verifyTdxQuote(readVector(`${GTDX}/tdx_prod_quote_SPR_E4.dat`), {
      collateral: goTdxGuestCollateral(),
      now: new Date("2023-07-01T01:00:00Z"),
    });
    expect(result.trailingBytes).toBe(39);
    expect(codes(result)).toEqual(["tdx_tcb_level_not_found"]);
    // Everything before the TCB matching holds, as the source asserts.
    expect(failedChecks(result)).toEqual(["tcb_status"]);
  });

  it("go-tdx-guest SPR quote, signatures only at 2023-07-01: verified, chain leaf → Platform CA → root", async () => {
    // Its TD_ATTRIBUTES (0000004000000000: PKS only) lack SEPT_VE_DISABLE, which the default policy
    // requires (as dcap-qvl does): accepted only with the named opt-out, echoed in `unchecked`.
    const quote = readVector(`${GTDX}/tdx_prod_quote_SPR_E4.dat`);
    const strict = await verifyTdxQuote(quote, {
      signaturesOnly: true,
      allowUnchecked: ["tcb"],
      now: new Date("2023-07-01T01:00:00Z"),
    });
    expect(strict.verified).toBe(true);
    expect(strict.ok).toBe(false);
    expect(codes(strict)).toEqual(["tdx_policy_sept_ve_disable_required"]);
    const result = await verifyTdxQuote(quote, {
      signaturesOnly: true,
      allowUnchecked: ["tcb", "sept_ve_disable"],
      now: new Date("2023-07-01T01:00:00Z"),
    });
    expect(result.verified).toBe(true);
    expect(result.ok).toBe(true);
    expect(result.unchecked).toEqual(["tcb", "sept_ve_disable"]);
    expect(result.tcbStatus).toBe("NotEvaluated");
    expect(result.checks.find((c) => c.id === "pck_chain")?.detail).toBe(
      "Intel SGX PCK Certificate → Intel SGX PCK Platform CA → Intel SGX Root CA",
    );
    expect(result.checks.find((c) => c.id === "tcb_info_signature")?.status).toBe("skip");
  });

  it("go-tdx-guest SPR quote at 2053-07-01: the PCK leaf has expired; the collateral too", async () => {
    const quote = readVector(`${GTDX}/tdx_prod_quote_SPR_E4.dat`);
    const signatures = await verifyTdxQuote(quote, {
      signaturesOnly: true,
      allowUnchecked: ["tcb"],
      now: new Date("2053-07-01T01:00:00Z"),
    });
    expect(codes(signatures)).toEqual(["certificate_expired"]);
    const full = await verifyTdxQuote(quote, {
      collateral: goTdxGuestCollateral(),
      now: new Date("2053-07-01T01:00:00Z"),
    });
    expect(codes(full)).toEqual(
      expect.arrayContaining([
        "certificate_expired",
        "collateral_tcb_info_expired",
        "collateral_qe_identity_expired",
      ]),
    );
  });

  it("go-tdx-guest quote_v5_sample (PCK chain only) → signatures-only passes at 2026-02-03", async () => {
    const result = await verifyTdxQuote(readVector(`${GTDX}/quote_v5_sample.dat`), {
      signaturesOnly: true,
      allowUnchecked: ["tcb"],
      now: new Date("2026-02-03T01:00:00Z"),
    });
    expect(result.verified).toBe(true);
    expect(result.quoteVersion).toBe(5);
    expect(result.rtmr0).toBe(
      "5c8daf76063a71ac8fcef4067564661fc682ed7944c7a5d21dbbced02f61ceff4ba0678c6aef3bdae8cbc614cec24619",
    );
  });

  it("A5: quote_v5_sample + tdx_quote_outdated_collateral at 2026-03-20T10:41:14Z: UpToDate (platform, TDX_01, QE)", async () => {
    const result = await verifyTdxQuote(readVector(`${GTDX}/quote_v5_sample.dat`), {
      collateral: readVectorText(`${PHALA}/tdx_quote_outdated_collateral.json`),
      now: new Date("2026-03-20T10:41:14Z"),
    });
    expect(result.ok).toBe(true);
    expect(result.tcb).toMatchObject({
      status: "UpToDate",
      platform: { status: "UpToDate", tcbDate: "2024-11-13T00:00:00Z" },
      tdxModule: { id: "TDX_01", isvSvn: 11 },
      qe: { isvSvn: 7 },
    });
  });

  it("A5: trustee tdx_quote_4 (DEBUG TD) + go-tdx-guest collateral: genuine, UpToDate, rejected on policy for debug", async () => {
    const result = await verifyTdxQuote(readVector("tdx/trustee/tdx_quote_4.dat"), {
      collateral: goTdxGuestCollateral(),
      now: new Date("2023-07-01T01:00:00Z"),
    });
    expect(result.verified).toBe(true);
    expect(result.tcbStatus).toBe("UpToDate");
    expect(result.debug).toBe(true);
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(["tdx_policy_debug_forbidden"]);
    expect(result.mrTd).toBe(
      "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
    );
  });

  it("A5: trustee tdx_quote_5 + tdx_quote_outdated_collateral: TCB failure (no platform level)", async () => {
    const result = await verifyTdxQuote(readVector("tdx/trustee/tdx_quote_5.dat"), {
      collateral: readVectorText(`${PHALA}/tdx_quote_outdated_collateral.json`),
      now: new Date("2026-03-20T10:41:14Z"),
    });
    expect(codes(result)).toEqual(["tdx_tcb_level_not_found"]);
  });

  it("A5: trustee occlum SGX quote: signatures and chain verify; its QE report matches the SGX QE identity", async () => {
    const quote = readVector("tdx/trustee/occlum_quote.dat");
    const result = await verifyQuoteSignatures(quote, { now: new Date("2025-01-01T00:00:00Z") });
    expect(result.verified).toBe(true);
    expect(toHex(result.pck?.fmspc as Uint8Array)).toBe("00606a000000");
    // Its ATTRIBUTES flags 0x07 include DEBUG (bit 1): genuine, but a debug enclave.
    const signaturesOnly = await verifyTdxQuote(quote, {
      signaturesOnly: true,
      allowUnchecked: ["tcb"],
      now: new Date("2025-01-01T00:00:00Z"),
    });
    expect(signaturesOnly).toMatchObject({ verified: true, ok: false, debug: true, kind: "sgx" });
    expect(codes(signaturesOnly)).toEqual(["tdx_policy_debug_forbidden"]);
    const qeIdentity = parseQeIdentity(
      readVectorJson<QuoteCollateralV3>(`${PHALA}/sgx_quote_collateral.json`).qe_identity,
    );
    expect(matchQeIdentity(parseTdxQuote(quote).signatureData.qeReport, qeIdentity, "sgx")).toMatchObject({
      status: "UpToDate",
      isvSvn: 8,
    });
    // No TCB info for FMSPC 00606A000000 exists: the SGX collateral of another platform (FMSPC
    // 00A067110000, Processor CA CRL) is refused on both counts.
    const mismatch = await verifyTdxQuote(quote, {
      collateral: readVectorText(`${PHALA}/sgx_quote_collateral.json`),
      now: new Date("2025-07-19T10:01:17Z"),
    });
    expect(codes(mismatch)).toEqual(["tdx_pck_crl_issuer_mismatch", "tdx_fmspc_mismatch"]);
  });

  it("the PCS container with the TCB info as the served text equals the dcap-qvl shape result", async () => {
    const collateral = readVectorJson<QuoteCollateralV3>(`${PHALA}/tdx_quote_collateral.json`);
    const pcs: PcsCollateralInput = {
      tcbInfo: `{"tcbInfo":${collateral.tcb_info},"signature":"${collateral.tcb_info_signature}"}`,
      tcbInfoIssuerChain: collateral.tcb_info_issuer_chain,
      qeIdentity: `{"enclaveIdentity":${collateral.qe_identity},"signature":"${collateral.qe_identity_signature}"}`,
      qeIdentityIssuerChain: collateral.qe_identity_issuer_chain,
      pckCrl: collateral.pck_crl as string,
      pckCrlIssuerChain: collateral.pck_crl_issuer_chain,
      rootCaCrl: readVector(`${PHALA}/split_tdx_quote_collateral.root_ca_crl.der`),
    };
    const result = await verifyTdxQuote(readVector(`${PHALA}/tdx_quote`), {
      collateral: pcs,
      now: new Date("2025-07-19T10:00:34Z"),
    });
    expect(result.ok).toBe(true);
  });

  it("warm (cached collateral) and cold verifications give the same result", async () => {
    const quote = readVector(`${PHALA}/tdx_quote`);
    const collateral = readVectorText(`${PHALA}/tdx_quote_collateral.json`);
    clearTdxCaches();
    // Without a verifier every call runs on fresh state: identical results whatever ran before.
    const first = await verifyTdxQuote(quote, { collateral, now: new Date("2025-07-19T10:00:34Z") });
    const second = await verifyTdxQuote(quote, { collateral, now: new Date("2025-07-19T10:00:34Z") });
    expect(second).toEqual(first);
    expect(first.collateralCached).toBe(false);
    // A verifier keeps what it verified: the same checks and verdict, and a separate field says so.
    const verifier = createVerifier();
    const cold = await verifyTdxQuote(quote, { collateral, now: new Date("2025-07-19T10:00:34Z"), verifier });
    const warm = await verifyTdxQuote(quote, { collateral, now: new Date("2025-07-19T10:00:34Z"), verifier });
    expect(cold.collateralCached).toBe(false);
    expect(warm.collateralCached).toBe(true);
    expect({ ...warm, collateralCached: false }).toEqual(cold);
    expect(cold).toEqual(first);
    // Outside the window the cache is not used: the expiry is reported again.
    const late = await verifyTdxQuote(quote, { collateral, now: new Date("2025-07-19T10:00:36Z"), verifier });
    expect(late.verified).toBe(false);
    expect(late.collateralCached).toBe(false);
  });

  it("an unparseable quote throws EvidenceParseError; malformed collateral throws collateral_malformed", async () => {
    await expect(
      verifyTdxQuote(new Uint8Array(10), { now: new Date(), signaturesOnly: true, allowUnchecked: ["tcb"] }),
    ).rejects.toMatchObject({ code: "tdx_quote_truncated" });
    await expect(
      verifyTdxQuote(readVector(`${PHALA}/tdx_quote`), { now: new Date(), collateral: "{}" }),
    ).rejects.toMatchObject({
      code: "collateral_malformed",
    });
    await expect(
      verifyTdxQuote(readVector(`${PHALA}/tdx_quote`), {
        now: new Date("yesterday"),
        signaturesOnly: true,
        allowUnchecked: ["tcb"],
      }),
    ).rejects.toMatchObject({ code: "tdx_now_invalid" });
  });
});

describe("re-rooted evidence on a local test PKI (passed via `roots`)", () => {
  const now = new Date("2025-07-19T10:00:34Z");
  const load = () => ({
    quote: parseTdxQuote(readVector(`${PHALA}/tdx_quote`)),
    collateral: readVectorJson<QuoteCollateralV3>(`${PHALA}/tdx_quote_collateral.json`),
  });

  it("verifies like the real evidence under the test root, and is untrusted under the Intel root", async () => {
    const pki = await createTestPki();
    const { quote, collateral } = load();
    const evidence = await reRootEvidence(pki, quote, collateral);
    const result = await verifyTdxQuote(evidence.quote, {
      collateral: evidence.collateral,
      now,
      roots: evidence.roots,
    });
    expect(codes(result)).toEqual([]);
    expect(result.tcbStatus).toBe("UpToDate");
    const pinned = await verifyTdxQuote(evidence.quote, { collateral: evidence.collateral, now });
    expect(pinned.verified).toBe(false);
    expect(codes(pinned)).toContain("certificate_chain_untrusted");
  });

  it("a PCK certificate listed in the PCK CRL is revoked", async () => {
    const pki = await createTestPki();
    const { quote, collateral } = load();
    const evidence = await reRootEvidence(pki, quote, collateral, { revokeLeaf: true });
    const result = await verifyTdxQuote(evidence.quote, {
      collateral: evidence.collateral,
      now,
      roots: evidence.roots,
    });
    expect(codes(result)).toEqual(["tdx_pck_revoked"]);
  });
});
