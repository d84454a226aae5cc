import { readVector, readVectorJson, readVectorText } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { parseCertificates } from "../common/x509.js";
import {
  extractJsonMember,
  parseQeIdentity,
  parseTcbInfo,
  type QeIdentity,
  type QuoteCollateralV3,
  type TcbInfo,
} from "./collateral.js";
import { parsePckExtensions } from "./pck-extensions.js";
import { parseTdxQuote } from "./quote.js";
import { evaluateTcbStatus } from "./tcb-status.js";

/**
 * Unit-level TCB rules. The TCB info / QE identity here are parsed from real (signed) collateral and
 * then edited in memory, which a full verification would reject on the signature; this is how the
 * sources test these rules too (go-tdx-guest edits its sample collateral, dcap-qvl uses an override).
 */

function inputs(quoteFile: string, tcbInfo: TcbInfo, qeIdentity: QeIdentity) {
  const quote = parseTdxQuote(readVector(quoteFile));
  const leaf = parseCertificates(new TextDecoder().decode(quote.signatureData.pckChain))[0];
  return { quote, pck: parsePckExtensions(leaf as never), tcbInfo, qeIdentity };
}

function dcap(file: string): { tcbInfo: TcbInfo; qeIdentity: QeIdentity } {
  const c = readVectorJson<QuoteCollateralV3>(file);
  return { tcbInfo: parseTcbInfo(c.tcb_info), qeIdentity: parseQeIdentity(c.qe_identity) };
}

function pcs(tcbFile: string, qeFile: string): { tcbInfo: TcbInfo; qeIdentity: QeIdentity } {
  return {
    tcbInfo: parseTcbInfo(extractJsonMember(readVectorText(tcbFile), "tcbInfo") as string),
    qeIdentity: parseQeIdentity(extractJsonMember(readVectorText(qeFile), "enclaveIdentity") as string),
  };
}

const zeroed = (t: TcbInfo, index = 0): TcbInfo => ({
  ...t,
  tcbLevels: t.tcbLevels.map((l, i) =>
    i === index
      ? {
          ...l,
          sgxComponents: l.sgxComponents.map(() => 0),
          tdxComponents: l.tdxComponents?.map(() => 0) ?? null,
          pceSvn: 0,
        }
      : l,
  ),
});

describe("evaluateTcbStatus", () => {
  it("phala tdx_quote: UpToDate platform, TDX_01 UpToDate, QE UpToDate", () => {
    const { tcbInfo, qeIdentity } = dcap("tdx/phala-dcap-qvl/tdx_quote_collateral.json");
    const r = evaluateTcbStatus(inputs("tdx/phala-dcap-qvl/tdx_quote", tcbInfo, qeIdentity));
    expect(r).toMatchObject({
      status: "UpToDate",
      advisoryIds: [],
      platform: { tcbDate: "2024-03-13T00:00:00Z" },
      tdxModule: { id: "TDX_01", isvSvn: 6, status: "UpToDate" },
      qe: { isvSvn: 6, status: "UpToDate" },
    });
  });

  it("go-tdx-guest v5 sample with sample_tcbinfo_response_v5: platform UpToDate (2024-11-13), TDX_01 (isvsvn 11) UpToDate", () => {
    const { tcbInfo } = pcs(
      "tdx/google-go-tdx-guest/sample_tcbinfo_response_v5",
      "tdx/google-go-tdx-guest/sample_qeIdentity_response",
    );
    const { qeIdentity } = dcap("tdx/phala-dcap-qvl/tdx_quote_outdated_collateral.json");
    const r = evaluateTcbStatus(inputs("tdx/google-go-tdx-guest/quote_v5_sample.dat", tcbInfo, qeIdentity));
    expect(r.platform).toMatchObject({ status: "UpToDate", tcbDate: "2024-11-13T00:00:00Z" });
    expect(r.tdxModule).toMatchObject({ id: "TDX_01", isvSvn: 11, status: "UpToDate" });
  });

  it("go-tdx-guest SPR quote: no level matches; with level 0 zeroed (as the source's passing tests do) UpToDate", () => {
    const { tcbInfo, qeIdentity } = pcs(
      "tdx/google-go-tdx-guest/sample_tcbInfo_response",
      "tdx/google-go-tdx-guest/sample_qeIdentity_response",
    );
    const file = "tdx/google-go-tdx-guest/tdx_prod_quote_SPR_E4.dat";
    expect(() => evaluateTcbStatus(inputs(file, tcbInfo, qeIdentity))).toThrowError(
      expect.objectContaining({ code: "tdx_tcb_level_not_found" }),
    );
    expect(evaluateTcbStatus(inputs(file, zeroed(tcbInfo), qeIdentity)).status).toBe("UpToDate");
    const outOfDate = zeroed({
      ...tcbInfo,
      tcbLevels: tcbInfo.tcbLevels.map((l, i) => (i === 0 ? { ...l, tcbStatus: "OutOfDate" as const } : l)),
    });
    expect(evaluateTcbStatus(inputs(file, outOfDate, qeIdentity)).status).toBe("OutOfDate");
    // tdxModule.mrsigner non-zero → MRSIGNERSEAM mismatch (module major version 0: checked against tdxModule)
    const module = {
      ...zeroed(tcbInfo),
      tdxModule: {
        ...(tcbInfo.tdxModule as NonNullable<TcbInfo["tdxModule"]>),
        mrSigner: new Uint8Array(48).fill(1),
      },
    };
    expect(() => evaluateTcbStatus(inputs(file, module, qeIdentity))).toThrowError(
      expect.objectContaining({ code: "tdx_module_mrsigner_mismatch" }),
    );
  });

  it("trustee tdx_quote_5: with the platform level relaxed, module TDX_01 isvsvn 5 is OutOfDate with INTEL-SA-01036 and INTEL-SA-01099", () => {
    const { tcbInfo, qeIdentity } = dcap("tdx/phala-dcap-qvl/tdx_quote_outdated_collateral.json");
    expect(() => evaluateTcbStatus(inputs("tdx/trustee/tdx_quote_5.dat", tcbInfo, qeIdentity))).toThrowError(
      expect.objectContaining({ code: "tdx_tcb_level_not_found" }),
    );
    const r = evaluateTcbStatus(inputs("tdx/trustee/tdx_quote_5.dat", zeroed(tcbInfo), qeIdentity));
    expect(r.tdxModule).toMatchObject({ id: "TDX_01", isvSvn: 5, status: "OutOfDate" });
    expect(r.tdxModule?.advisoryIds).toEqual(expect.arrayContaining(["INTEL-SA-01036", "INTEL-SA-01099"]));
    expect(r.status).toBe("OutOfDate");
    expect(r.advisoryIds).toEqual(expect.arrayContaining(["INTEL-SA-01036", "INTEL-SA-01099"]));
  });

  it("converges platform status with QE status as QVL's convergeTcbStatusWithQeTcbStatus", () => {
    const { tcbInfo, qeIdentity } = dcap("tdx/phala-dcap-qvl/tdx_quote_collateral.json");
    const withPlatform = (s: TcbInfo["tcbLevels"][number]["tcbStatus"]): TcbInfo => ({
      ...tcbInfo,
      tcbLevels: tcbInfo.tcbLevels.map((l, i) => (i === 0 ? { ...l, tcbStatus: s } : l)),
    });
    const withQe = (s: QeIdentity["tcbLevels"][number]["tcbStatus"]): QeIdentity => ({
      ...qeIdentity,
      tcbLevels: qeIdentity.tcbLevels.map((l) => ({ ...l, tcbStatus: s, advisoryIds: ["INTEL-SA-QE"] })),
    });
    const table: Array<
      [
        platform: TcbInfo["tcbLevels"][number]["tcbStatus"],
        qe: QeIdentity["tcbLevels"][number]["tcbStatus"],
        expected: string,
      ]
    > = [
      ["UpToDate", "UpToDate", "UpToDate"],
      ["UpToDate", "OutOfDate", "OutOfDate"],
      ["SWHardeningNeeded", "OutOfDate", "OutOfDate"],
      ["ConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"],
      ["ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"],
      ["OutOfDate", "UpToDate", "OutOfDate"],
      ["ConfigurationNeeded", "UpToDate", "ConfigurationNeeded"],
      ["UpToDate", "Revoked", "Revoked"],
      ["Revoked", "UpToDate", "Revoked"],
    ];
    for (const [platform, qe, expected] of table) {
      const r = evaluateTcbStatus(inputs("tdx/phala-dcap-qvl/tdx_quote", withPlatform(platform), withQe(qe)));
      expect(r.status, `${platform} + QE ${qe}`).toBe(expected);
      expect(r.advisoryIds).toContain("INTEL-SA-QE");
    }
  });

  it("phala sgx_quote: SGX v3 TCB info, ConfigurationAndSWHardeningNeeded, QE isvsvn 10", () => {
    const { tcbInfo, qeIdentity } = dcap("tdx/phala-dcap-qvl/sgx_quote_collateral.json");
    const r = evaluateTcbStatus(inputs("tdx/phala-dcap-qvl/sgx_quote", tcbInfo, qeIdentity));
    expect(r).toMatchObject({
      status: "ConfigurationAndSWHardeningNeeded",
      advisoryIds: ["INTEL-SA-00289", "INTEL-SA-00615"],
      tdxModule: null,
      qe: { isvSvn: 10 },
    });
  });
});
