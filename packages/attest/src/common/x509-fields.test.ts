import { readVector, readVectorText } from "@peercycles/internal-vectors";
import * as asn1js from "asn1js";
import fc from "fast-check";
import * as pkijs from "pkijs";
import { describe, expect, it } from "vitest";
import { toHex } from "./bytes.js";
import { AttestError } from "./errors.js";
import { clearX509Caches, OID, parseCertificate, parseCrl, pemBlocks, rsaPssParams } from "./x509.js";

/**
 * `parseCertificate` / `parseCrl` read fields from asn1js' decoded tree and build pkijs' object
 * model only on demand. These tests hold the two readings equal on real vendor certificates and CRLs.
 */
const pems = [
  "tdx/google-go-tdx-guest/tcbInfoIssuerChain.pem",
  "tdx/google-go-tdx-guest/pckCrlIssuerChain.pem",
  "tdx/phala-dcap-qvl/split_sgx_quote_collateral.pck_crl_issuer_chain.pem",
  "roots/intel_sgx_root_ca_crlf.pem",
  "roots/amd/go-sev-guest_ask_ark_milan.pem",
  "roots/amd/trustee_genoa_ask_ark_asvk.pem",
  "nvidia/nvtrust/hopperCertChain.txt",
];
const crlFiles = [
  "tdx/google-go-tdx-guest/pckcrl",
  "tdx/google-go-tdx-guest/rootcrl.der",
  "tdx/phala-dcap-qvl/split_tdx_quote_outdated_collateral.pck_crl.der",
];

const pkijsName = (name: pkijs.RelativeDistinguishedNames) =>
  name.typesAndValues.map((tv) => String((tv.value.valueBlock as { value?: unknown }).value ?? "")).join("|");
const ourName = (name: string) =>
  name
    .split(", ")
    .map((part) => part.slice(part.indexOf("=") + 1))
    .join("|");

describe("X.509 fields read from asn1js agree with pkijs' object model", () => {
  for (const file of pems) {
    it(`certificates of ${file}`, () => {
      clearX509Caches();
      const text = readVectorText(file);
      const blocks = pemBlocks(text);
      expect(blocks.length).toBeGreaterThan(0);
      for (const der of blocks) {
        const cert = parseCertificate(der);
        const raw = new pkijs.Certificate({ schema: asn1js.fromBER(der as BufferSource).result });
        expect(ourName(cert.subject)).toBe(pkijsName(raw.subject));
        expect(ourName(cert.issuer)).toBe(pkijsName(raw.issuer));
        expect(cert.serialNumber).toBe(
          toHex(new Uint8Array(raw.serialNumber.valueBlock.valueHexView)).replace(/^(00)+(?=.)/, ""),
        );
        expect(cert.signatureAlgorithm).toBe(raw.signatureAlgorithm.algorithmId);
        expect(cert.notBefore.getTime()).toBe(raw.notBefore.value.getTime());
        expect(cert.notAfter.getTime()).toBe(raw.notAfter.value.getTime());
        expect(cert.tbs).toEqual(new Uint8Array(raw.tbsView));
        expect(cert.signature).toEqual(new Uint8Array(raw.signatureValue.valueBlock.valueHexView));
        expect(cert.extensions.map((e) => e.oid)).toEqual((raw.extensions ?? []).map((e) => e.extnID));
        const basic = raw.extensions?.find((e) => e.extnID === "2.5.29.19")?.parsedValue as
          | pkijs.BasicConstraints
          | undefined;
        expect(cert.isCa).toBe(basic?.cA === true);
        const key = cert.publicKey;
        if (key.kind === "rsa") {
          const rsa = raw.subjectPublicKeyInfo.parsedKey as pkijs.RSAPublicKey;
          // pkijs drops the sign byte of the modulus; ours keeps the INTEGER as encoded.
          expect(toHex(key.modulus).replace(/^00/, "")).toBe(
            toHex(new Uint8Array(rsa.modulus.valueBlock.valueHexView)),
          );
          expect(toHex(key.exponent)).toBe(toHex(new Uint8Array(rsa.publicExponent.valueBlock.valueHexView)));
        }
        if (cert.signatureAlgorithm === OID.rsaPss) {
          const pss = new pkijs.RSASSAPSSParams({ schema: raw.signatureAlgorithm.algorithmParams });
          expect(rsaPssParams(cert.signatureParams)).toEqual({
            hash: { [OID.sha256]: "SHA-256", [OID.sha384]: "SHA-384" }[pss.hashAlgorithm.algorithmId],
            saltLength: pss.saltLength,
          });
        }
      }
    });
  }
  for (const file of crlFiles) {
    it(`CRL ${file}`, () => {
      const der = readVector(file);
      const crl = parseCrl(der);
      const raw = new pkijs.CertificateRevocationList({ schema: asn1js.fromBER(der as BufferSource).result });
      expect(ourName(crl.issuer)).toBe(pkijsName(raw.issuer));
      expect(crl.thisUpdate.getTime()).toBe(raw.thisUpdate.value.getTime());
      expect(crl.nextUpdate?.getTime()).toBe(raw.nextUpdate?.value.getTime());
      expect(crl.revokedSerials.size).toBe(raw.revokedCertificates?.length ?? 0);
      expect(crl.tbs).toEqual(new Uint8Array(raw.tbsView));
      expect(crl.signature).toEqual(new Uint8Array(raw.signatureValue.valueBlock.valueHexView));
    });
  }
  it("RSASSA-PSS parameters: defaults, SHA-1, a different MGF1 hash and a bad trailer are refused", () => {
    const algorithm = (oid: string) =>
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), new asn1js.Null()] });
    const mgf1 = (oid: string) =>
      new asn1js.Sequence({
        value: [new asn1js.ObjectIdentifier({ value: "1.2.840.113549.1.1.8" }), algorithm(oid)],
      });
    const tagged = (n: number, inner: asn1js.BaseBlock) =>
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: n }, value: [inner] });
    const params = (...fields: asn1js.BaseBlock[]) =>
      new Uint8Array(new asn1js.Sequence({ value: fields }).toBER());
    const sha384 = tagged(0, algorithm(OID.sha384));
    expect(
      rsaPssParams(params(sha384, tagged(1, mgf1(OID.sha384)), tagged(2, new asn1js.Integer({ value: 48 })))),
    ).toEqual({ hash: "SHA-384", saltLength: 48 });
    // Every field absent: SHA-1, which is refused.
    expect(rsaPssParams(params())).toBeNull();
    expect(rsaPssParams(params(sha384, tagged(1, mgf1(OID.sha256))))).toBeNull();
    expect(
      rsaPssParams(params(sha384, tagged(1, mgf1(OID.sha384)), tagged(3, new asn1js.Integer({ value: 2 })))),
    ).toBeNull();
    // Fields out of order.
    expect(rsaPssParams(params(tagged(1, mgf1(OID.sha384)), sha384))).toBeNull();
    expect(rsaPssParams(new Uint8Array(new asn1js.Null().toBER()))).toBeNull();
    // Absent parameters (all defaults: SHA-1) and bytes that are not one DER element.
    expect(rsaPssParams(undefined)).toBeNull();
    expect(rsaPssParams(new Uint8Array([0x30, 0x05, 0xa0]))).toBeNull();
  });
  it("mutated real certificates and CRLs only ever raise AttestError", () => {
    const samples = [...pemBlocks(readVectorText(pems[0] as string)), readVector(crlFiles[0] as string)];
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (base, edits) => {
          const bytes = base.slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          for (const fn of [() => parseCertificate(bytes), () => parseCrl(bytes)]) {
            try {
              fn();
            } catch (error) {
              expect(AttestError.isInstance(error)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
  it("arbitrary bytes only ever raise AttestError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        for (const fn of [() => parseCertificate(bytes), () => parseCrl(bytes)]) {
          try {
            fn();
          } catch (error) {
            expect(AttestError.isInstance(error)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
