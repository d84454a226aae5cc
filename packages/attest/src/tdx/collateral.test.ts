import { readVector, readVectorJson, readVectorText } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { toHex } from "../common/bytes.js";
import {
  extractJsonMember,
  normalizeTdxCollateral,
  parseQeIdentity,
  parseTcbInfo,
  type QuoteCollateralV3,
} from "./collateral.js";

const PHALA = "tdx/phala-dcap-qvl";

describe("collateral shapes", () => {
  for (const name of ["tdx_quote", "sgx_quote", "tdx_quote_outdated", "near_quote"]) {
    it(`dcap-qvl ${name}_collateral.json normalises to exactly its split_ files`, () => {
      const c = normalizeTdxCollateral(readVectorText(`${PHALA}/${name}_collateral.json`));
      const split = (field: string) => `${PHALA}/split_${name}_collateral.${field}`;
      expect(c.tcbInfo.body).toBe(readVectorText(split("tcb_info.json")));
      expect(c.tcbInfo.signature).toEqual(readVector(split("tcb_info_signature.bin")));
      expect(c.tcbInfo.issuerChain).toBe(readVectorText(split("tcb_info_issuer_chain.pem")));
      expect(c.qeIdentity.body).toBe(readVectorText(split("qe_identity.json")));
      expect(c.qeIdentity.signature).toEqual(readVector(split("qe_identity_signature.bin")));
      expect(c.pckCrl).toEqual(readVector(split("pck_crl.der")));
      expect(c.pckCrlIssuerChain).toBe(readVectorText(split("pck_crl_issuer_chain.pem")));
      expect(c.rootCaCrl).toEqual(readVector(split("root_ca_crl.der")));
      // The parsed object and its JSON text give the same collateral.
      expect(
        normalizeTdxCollateral(readVectorJson<QuoteCollateralV3>(`${PHALA}/${name}_collateral.json`)),
      ).toEqual(c);
    });
  }

  it("extractJsonMember returns the served bytes of the signed body, not a re-serialisation", () => {
    const served = readVectorText("tdx/google-go-tdx-guest/sample_tcbInfo_response");
    const body = extractJsonMember(served, "tcbInfo") as string;
    expect(served.startsWith(`{"tcbInfo":${body},"signature":"`)).toBe(true);
    const spaced = `{ "signature" : "00", "tcbInfo" :  {"a": [1, {"b":"}]\\""}]} }`;
    expect(extractJsonMember(spaced, "tcbInfo")).toBe(`{"a": [1, {"b":"}]\\""}]}`);
    expect(extractJsonMember(spaced, "missing")).toBeUndefined();
  });

  it("the PCS container accepts CRLs as DER bytes, hex, base64 and PEM", () => {
    const der = readVector("tdx/google-go-tdx-guest/rootcrl.der");
    const b64 = btoa(String.fromCharCode(...der));
    const base = {
      tcbInfo: readVectorText("tdx/google-go-tdx-guest/sample_tcbInfo_response"),
      tcbInfoIssuerChain: readVectorText("tdx/google-go-tdx-guest/tcbInfoIssuerChain.pem"),
      qeIdentity: readVectorText("tdx/google-go-tdx-guest/sample_qeIdentity_response"),
      qeIdentityIssuerChain: readVectorText("tdx/google-go-tdx-guest/qeIdentityIssuerChain.pem"),
      pckCrl: readVector("tdx/google-go-tdx-guest/pckcrl"),
      pckCrlIssuerChain: readVectorText("tdx/google-go-tdx-guest/pckCrlIssuerChain.pem"),
    };
    for (const rootCaCrl of [
      der,
      toHex(der),
      b64,
      `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`,
    ]) {
      expect(normalizeTdxCollateral({ ...base, rootCaCrl }).rootCaCrl).toEqual(der);
    }
    expect(() => normalizeTdxCollateral({ ...base, rootCaCrl: der, extra: 1 } as never)).toThrowError(
      expect.objectContaining({ code: "collateral_malformed" }),
    );
  });

  it("parses TCB info v3 (TDX) and QE identity v2", () => {
    const c = readVectorJson<QuoteCollateralV3>(`${PHALA}/tdx_quote_collateral.json`);
    const tcb = parseTcbInfo(c.tcb_info);
    expect(tcb).toMatchObject({ id: "TDX", version: 3, tcbEvaluationDataNumber: 17 });
    expect(toHex(tcb.fmspc)).toBe("b0c06f000000");
    expect(tcb.tcbLevels[0]).toMatchObject({
      pceSvn: 11,
      tcbStatus: "UpToDate",
      sgxComponents: [2, 2, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
    });
    expect(tcb.tdxModuleIdentities?.map((m) => m.id)).toEqual(["TDX_03", "TDX_01"]);
    const qe = parseQeIdentity(c.qe_identity);
    expect(qe).toMatchObject({
      id: "TD_QE",
      version: 2,
      isvProdId: 2,
      miscSelect: 0,
      miscSelectMask: 0xffffffff,
    });
    expect(toHex(qe.mrSigner)).toBe("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
  });

  it("rejects TCB info with the wrong number of components (as dcap-qvl's component-count checks)", () => {
    const text = readVectorJson<QuoteCollateralV3>(`${PHALA}/tdx_quote_collateral.json`).tcb_info;
    const truncated = text.replace('{"svn":0},{"svn":0}]},"tcbDate"', '{"svn":0}]},"tcbDate"');
    expect(() => parseTcbInfo(truncated)).toThrowError(
      expect.objectContaining({ code: "collateral_malformed" }),
    );
  });
});
