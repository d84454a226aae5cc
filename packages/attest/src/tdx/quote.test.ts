import { readVector, readVectorJson, readVectorText } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { decodeEvidenceInput, fromHex, toHex } from "../common/bytes.js";
import { AttestError } from "../common/errors.js";
import { parseCertificates } from "../common/x509.js";
import { parsePckExtensions } from "./pck-extensions.js";
import { parseQuote, parseTdxQuote, type TdReportBody } from "./quote.js";

/** Reference values from the vectors README (A1), read from the quotes by the sources. */
const TD_REFERENCE: Record<string, Record<string, string>> = {
  "tdx/phala-dcap-qvl/tdx_quote": {
    mrSeam:
      "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1",
    tdAttributes: "0000001000000000",
    xfam: "e702060000000000",
    teeTcbSvn: "06010300000000000000000000000000",
    mrTd: "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
    rtmr0: "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0",
    rtmr1: "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378",
    rtmr2: "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132",
    rtmr3: "0".repeat(96),
    reportData:
      "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20",
  },
  "tdx/phala-dcap-qvl/tdx_quote_outdated": {
    mrSeam:
      "49b66faa451d19ebbdbe89371b8daf2b65aa3984ec90110343e9e2eec116af08850fa20e3b1aa9a874d77a65380ee7e6",
    tdAttributes: "0000001000000000",
    xfam: "e718060000000000",
    teeTcbSvn: "07010300000000000000000000000000",
    mrTd: "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd",
    rtmr0: "0".repeat(96),
    reportData: `d2142b643598eb5fae2bc8529dd79a558b29f868ccbb6531cb28dab9dce47728${"0".repeat(64)}`,
  },
  "tdx/phala-dcap-qvl/near_quote.bin": {
    mrTd: "f06dfda6dce1cf904d4e2bab1dc370634cf95cefa2ceb2de2eee127c9382698090d7a4a13e14c536ec6c9c3c8fa87077",
    mrConfigId:
      "0112a20aed7d6c68601e9f6e108a93b4199ae7231684307ffc4833c9cd08d45de7000000000000000000000000000000",
    rtmr3: "287a9242edd8c8429913ec66f44af611b820cf9b574f303a6caeddeb4c9826311aef6e518aaf4a17f55a81154592b7b3",
    xfam: "0702000000000000",
  },
  "tdx/phala-dcap-qvl/tdx-quote.hex.bin": {
    mrTd: "7ba9e262ce6979087e34632603f354dd8f8a870f5947d116af8114db6c9d0d74c48bec4280e5b4f4a37025a10905bb29",
    rtmr3: "547fcba4630bfb981169a8a1903b79c244933413409dd0387acbd8e3b985bcc9164cf52735cd31f60bf2c5d1220c113f",
  },
  "tdx/phala-dcap-qvl/quote-from-tappd.bin": {
    mrTd: "c68518a0ebb42136c12b2275164f8c72f25fa9a34392228687ed6e9caeb9c0f1dbd895e9cf475121c029dc47e70e91fd",
    rtmr1: "918fbd97108e05450afa6aca140c6363ab913578b66cc312e3e8542ce5ade455a30c8d9e4d53a5e43d81955f76140279",
  },
  "tdx/google-go-tdx-guest/tdx_prod_quote_SPR_E4.dat": {
    mrSeam:
      "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656",
    tdAttributes: "0000004000000000",
    xfam: "e71a060000000000",
    teeTcbSvn: "03000400000000000000000000000000",
    mrTd: "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb",
    rtmr2: "8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e",
    reportData:
      "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113",
  },
  "tdx/google-go-tdx-guest/quote_v5_sample.dat": {
    mrSeam:
      "7bf063280e94fb051f5dd7b1fc59ce9aac42bb961df8d44b709c9b0ff87a7b4df648657ba6d1189589feab1d5a3c9a9d",
    teeTcbSvn: "0b010400000000000000000000000000",
    mrTd: "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876",
    rtmr0: "5c8daf76063a71ac8fcef4067564661fc682ed7944c7a5d21dbbced02f61ceff4ba0678c6aef3bdae8cbc614cec24619",
  },
  "tdx/trustee/tdx_quote_5.dat": {
    mrTd: "dfba221b48a22af8511542ee796603f37382800840dcd978703909bf8e64d4c8a1e9de86e7c9638bfcba422f3886400a",
    rtmr1: "ca5a979317ffe8a527a3b7aadab03976d7cb6eef1041fb9bd9d69e6fafa7252cdc10e4c2a55e7ecbd2ddb5cacc867430",
    teeTcbSvn: "05010200000000000000000000000000",
  },
};

describe("parseTdxQuote on real quotes", () => {
  const layout: Array<[string, number, "tdx" | "sgx", string, number, number]> = [
    // file, version, kind, body kind, structure length, trailing bytes (README A1)
    ["tdx/phala-dcap-qvl/tdx_quote", 4, "tdx", "td10", 4936, 70],
    ["tdx/phala-dcap-qvl/tdx_quote_outdated", 5, "tdx", "td15", 5006, 0],
    ["tdx/phala-dcap-qvl/sgx_quote", 3, "sgx", "sgx", 4600, 0],
    ["tdx/phala-dcap-qvl/near_quote.bin", 4, "tdx", "td10", 4936, 70],
    ["tdx/phala-dcap-qvl/tdx-quote.hex.bin", 4, "tdx", "td10", 4936, 70],
    ["tdx/phala-dcap-qvl/quote-from-tappd.bin", 4, "tdx", "td10", 4936, 70],
    ["tdx/google-go-tdx-guest/tdx_prod_quote_SPR_E4.dat", 4, "tdx", "td10", 4935, 39],
    ["tdx/google-go-tdx-guest/quote_v5_sample.dat", 5, "tdx", "td15", 5006, 0],
    ["tdx/trustee/tdx_quote_4.dat", 4, "tdx", "td10", 4936, 0],
    ["tdx/trustee/tdx_quote_5.dat", 5, "tdx", "td15", 5006, 0],
    ["tdx/trustee/occlum_quote.dat", 3, "sgx", "sgx", 4733, 0],
  ];
  for (const [file, version, kind, bodyKind, length, trailing] of layout) {
    it(`${file}: v${version} ${kind} ${bodyKind}, ${length} bytes + ${trailing} trailing`, () => {
      const quote = parseTdxQuote(readVector(file));
      expect(quote.header.version).toBe(version);
      expect(quote.kind).toBe(kind);
      expect(quote.body.kind).toBe(bodyKind);
      expect(quote.length).toBe(length);
      expect(quote.trailingBytes).toBe(trailing);
      expect(toHex(quote.header.qeVendorId)).toBe("939a7233f79c4ca9940a0db3957f0607");
      const signed = bodyKind === "sgx" ? 432 : bodyKind === "td10" ? 632 : 702;
      expect(quote.signedRegion.length).toBe(signed);
      expect(quote.signatureData.certificationDataType).toBe(version === 3 ? 5 : 6);
      // The PCK chain is leaf, intermediate CA, root.
      const chain = parseCertificates(new TextDecoder().decode(quote.signatureData.pckChain));
      expect(chain.map((c) => /CN=([^,]+)/.exec(c.subject)?.[1])).toEqual([
        "Intel SGX PCK Certificate",
        file === "tdx/phala-dcap-qvl/sgx_quote" ? "Intel SGX PCK Processor CA" : "Intel SGX PCK Platform CA",
        "Intel SGX Root CA",
      ]);
    });
  }

  for (const [file, expected] of Object.entries(TD_REFERENCE)) {
    it(`${file}: TD report fields equal the README reference values`, () => {
      const body = parseTdxQuote(readVector(file)).body as TdReportBody;
      for (const [field, value] of Object.entries(expected)) {
        expect(toHex(body[field as keyof TdReportBody] as Uint8Array), field).toBe(value);
      }
    });
  }

  it("tdx/trustee/tdx_quote_4.dat equals trustee's parse_tdx_claims_expected.json", () => {
    const claims = readVectorJson<{
      quote: { header: Record<string, string>; body: Record<string, string> };
      td_attributes: { debug: boolean; septve_disable: boolean };
      platform_instance_id: string;
    }>("tdx/trustee/parse_tdx_claims_expected.json");
    const quote = parseTdxQuote(readVector("tdx/trustee/tdx_quote_4.dat"));
    const b = quote.body as TdReportBody;
    const h = claims.quote.header;
    expect(toHex(quote.raw.subarray(0, 2))).toBe(h.version);
    expect(toHex(quote.raw.subarray(2, 4))).toBe(h.att_key_type);
    expect(toHex(quote.raw.subarray(4, 8))).toBe(h.tee_type);
    expect(toHex(quote.header.qeVendorId)).toBe(h.vendor_id);
    expect(toHex(quote.header.userData)).toBe(h.user_data);
    const body = claims.quote.body;
    const pairs: Array<[string, Uint8Array]> = [
      ["mr_config_id", b.mrConfigId],
      ["mr_owner", b.mrOwner],
      ["mr_owner_config", b.mrOwnerConfig],
      ["mr_seam", b.mrSeam],
      ["mr_td", b.mrTd],
      ["mrsigner_seam", b.mrSignerSeam],
      ["report_data", b.reportData],
      ["rtmr_0", b.rtmr0],
      ["rtmr_1", b.rtmr1],
      ["rtmr_2", b.rtmr2],
      ["rtmr_3", b.rtmr3],
      ["seam_attributes", b.seamAttributes],
      ["tcb_svn", b.teeTcbSvn],
      ["td_attributes", b.tdAttributes],
      ["xfam", b.xfam],
    ];
    for (const [name, value] of pairs) expect(toHex(value), name).toBe(body[name]);
    expect(((b.tdAttributes[0] as number) & 1) === 1).toBe(claims.td_attributes.debug);
    expect(((b.tdAttributes[3] as number) & 0x10) !== 0).toBe(claims.td_attributes.septve_disable);
    const leaf = parseCertificates(new TextDecoder().decode(quote.signatureData.pckChain))[0];
    const ext = parsePckExtensions(leaf as never);
    // trustee prints the platform instance id with its bytes in reverse order (it formats the
    // 16 bytes as a little-endian integer); the certificate holds 021ac64d…5482.
    expect(toHex((ext.platformInstanceId as Uint8Array).slice().reverse())).toBe(claims.platform_instance_id);
    expect(ext.dynamicPlatform).not.toBeNull();
    expect(ext.cachedKeys).not.toBeNull();
    expect(ext.smtEnabled).not.toBeNull();
  });

  it("SGX quotes: enclave fields equal the README / trustee values", () => {
    const sgx = parseTdxQuote(readVector("tdx/phala-dcap-qvl/sgx_quote"));
    if (sgx.body.kind !== "sgx") throw new Error("expected SGX body");
    expect(toHex(sgx.body.mrEnclave)).toBe(
      "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
    );
    expect(toHex(sgx.body.mrSigner)).toBe("815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6");
    expect(toHex(sgx.body.attributes)).toBe("0500000000000000e700000000000000");
    expect(toHex(sgx.body.cpuSvn)).toBe("0b0b1a18ffff04000000000000000000");
    expect(new TextDecoder().decode(sgx.body.reportData.subarray(0, 13))).toBe("Hello, world!");
    const occlum = parseTdxQuote(readVector("tdx/trustee/occlum_quote.dat"));
    if (occlum.body.kind !== "sgx") throw new Error("expected SGX body");
    expect(occlum.header.qeSvn).toBe(8);
    expect(occlum.header.pceSvn).toBe(13);
    expect(toHex(occlum.header.userData)).toBe("dccde9b31ce8860548173bb4a2a57a1600000000");
    expect(occlum.body.miscSelect).toBe(1);
    expect(toHex(occlum.body.mrEnclave)).toBe(
      "8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68",
    );
    expect(toHex(occlum.body.mrSigner)).toBe(
      "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e",
    );
    expect(toHex(occlum.body.reportData)).toBe(`74657374${"0".repeat(120)}`);
  });

  it("hex files decode to the same quotes as their binary twins", () => {
    expect(decodeEvidenceInput(readVector("tdx/phala-dcap-qvl/tdx-quote.hex"))).toEqual(
      readVector("tdx/phala-dcap-qvl/tdx-quote.hex.bin"),
    );
    expect(decodeEvidenceInput(readVector("tdx/phala-dcap-qvl/quote-from-tappd.hex"))).toEqual(
      readVector("tdx/phala-dcap-qvl/quote-from-tappd.bin"),
    );
    expect(fromHex(readVectorText("tdx/phala-dcap-qvl/near_quote_hex.txt"))).toEqual(
      readVector("tdx/phala-dcap-qvl/near_quote.bin"),
    );
  });

  it("parseQuote is an alias and parsed quotes keep views of the input", () => {
    const bytes = readVector("tdx/phala-dcap-qvl/tdx_quote");
    const quote = parseQuote(bytes);
    expect(quote.signedRegion.buffer).toBe(bytes.buffer);
    expect(quote.raw).toBe(bytes);
  });

  it("go-tdx-guest tamper cases that are parse errors fail with their codes", () => {
    const base = readVector("tdx/google-go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
    const at = (offset: number, value: number) => {
      const copy = base.slice();
      copy[offset] = value;
      try {
        parseTdxQuote(copy);
        return "parsed";
      } catch (error) {
        expect(AttestError.isInstance(error)).toBe(true);
        return (error as AttestError).code;
      }
    };
    expect(at(0x00, 3)).toBe("tdx_quote_version_unsupported");
    expect(at(0x278, 0x10)).toBe("tdx_signature_data_length_invalid");
  });
});

describe("PCK certificate SGX extensions", () => {
  it("go-tdx-guest SPR quote: FMSPC, PCE-ID, PCESVN, components, PPID as the source asserts", () => {
    const quote = parseTdxQuote(readVector("tdx/google-go-tdx-guest/tdx_prod_quote_SPR_E4.dat"));
    const leaf = parseCertificates(new TextDecoder().decode(quote.signatureData.pckChain))[0];
    const ext = parsePckExtensions(leaf as never);
    expect(toHex(ext.fmspc)).toBe("50806f000000");
    expect(toHex(ext.pceId)).toBe("0000");
    expect(ext.pceSvn).toBe(11);
    expect(ext.sgxTcbComponents).toEqual([3, 3, 2, 2, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(toHex(ext.cpuSvn)).toBe("03030202020100020000000000000000");
    expect(toHex(ext.ppid)).toBe("089ddfdb9c0359c82a3bc7719239574e");
  });

  it("FMSPC of every quote equals the README table", () => {
    const table: Record<string, string> = {
      "tdx/phala-dcap-qvl/tdx_quote": "b0c06f000000",
      "tdx/phala-dcap-qvl/tdx_quote_outdated": "90c06f000000",
      "tdx/phala-dcap-qvl/sgx_quote": "00a067110000",
      "tdx/phala-dcap-qvl/near_quote.bin": "20a06f000000",
      "tdx/trustee/tdx_quote_4.dat": "50806f000000",
      "tdx/trustee/tdx_quote_5.dat": "90c06f000000",
      "tdx/trustee/occlum_quote.dat": "00606a000000",
    };
    for (const [file, fmspc] of Object.entries(table)) {
      const quote = parseTdxQuote(readVector(file));
      const leaf = parseCertificates(new TextDecoder().decode(quote.signatureData.pckChain))[0];
      expect(toHex(parsePckExtensions(leaf as never).fmspc), file).toBe(fmspc);
    }
  });

  it("a certificate without SGX extensions is rejected with tdx_pck_extensions_malformed", () => {
    const root = parseCertificates(readVectorText("roots/intel_sgx_root_ca.pem"))[0];
    expect(() => parsePckExtensions(root as never)).toThrowError(
      expect.objectContaining({ code: "tdx_pck_extensions_malformed" }),
    );
  });
});
