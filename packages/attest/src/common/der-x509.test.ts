import { readVector, readVectorText } from "@peercycles/internal-vectors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex } from "./bytes.js";
import { ecdsaDerToRaw, parseCertificateDer, parseCrlDer, pemCertificatesDer } from "./der-x509.js";
import { AttestError } from "./errors.js";
import { derSignatureToRaw } from "./webcrypto.js";
import { parseCertificate, parseCrl, pemBlocks } from "./x509.js";

const pems = [
  "tdx/google-go-tdx-guest/tcbInfoIssuerChain.pem",
  "tdx/google-go-tdx-guest/pckCrlIssuerChain.pem",
  "tdx/phala-dcap-qvl/split_sgx_quote_collateral.pck_crl_issuer_chain.pem",
  "roots/intel_sgx_root_ca_crlf.pem",
  "roots/amd/ark_milan.pem",
];
const crlFiles = [
  "tdx/google-go-tdx-guest/pckcrl",
  "tdx/google-go-tdx-guest/rootcrl.der",
  "tdx/phala-dcap-qvl/split_tdx_quote_outdated_collateral.pck_crl.der",
];

describe("fast DER X.509 reader agrees with the pkijs parser", () => {
  for (const file of pems) {
    it(`certificates of ${file}`, () => {
      const text = readVectorText(file);
      const fast = pemCertificatesDer(text);
      expect(fast).toEqual(pemBlocks(text));
      for (const der of fast) {
        const a = parseCertificateDer(der);
        const b = parseCertificate(der);
        for (const field of ["subject", "issuer", "serialNumber", "signatureAlgorithm", "isCa"] as const)
          expect(a[field], field).toEqual(b[field]);
        expect(a.notBefore.getTime()).toBe(b.notBefore.getTime());
        expect(a.notAfter.getTime()).toBe(b.notAfter.getTime());
        expect(a.tbs).toEqual(b.tbs);
        expect(a.signature).toEqual(b.signature);
        expect(a.publicKey).toEqual(b.publicKey);
        expect(a.extensions).toEqual(b.extensions);
      }
    });
  }
  for (const file of crlFiles) {
    it(`CRL ${file}`, () => {
      const der = readVector(file);
      const a = parseCrlDer(der);
      const b = parseCrl(der);
      expect(a.issuer).toBe(b.issuer);
      expect(a.thisUpdate.getTime()).toBe(b.thisUpdate.getTime());
      expect(a.nextUpdate?.getTime()).toBe(b.nextUpdate?.getTime());
      expect([...a.revokedSerials]).toEqual([...b.revokedSerials]);
      expect(a.tbs).toEqual(b.tbs);
      expect(a.signature).toEqual(b.signature);
    });
  }
  it("ECDSA DER signatures convert like noble's", () => {
    const der = parseCertificateDer(
      pemBlocks(readVectorText("roots/intel_sgx_root_ca.pem"))[0] as Uint8Array,
    ).signature;
    expect(ecdsaDerToRaw(der, 32)).toEqual(derSignatureToRaw("P-256", der));
    expect(ecdsaDerToRaw(fromHex("3006020100020100"), 32)).toEqual(new Uint8Array(64));
    expect(ecdsaDerToRaw(fromHex("300602010002"), 32)).toBeUndefined();
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
          for (const fn of [() => parseCertificateDer(bytes), () => parseCrlDer(bytes)]) {
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
        for (const fn of [
          () => parseCertificateDer(bytes),
          () => parseCrlDer(bytes),
          () => ecdsaDerToRaw(bytes, 32),
        ]) {
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
