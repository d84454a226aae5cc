import { readVector, readVectorText } from "@peercycles/internal-vectors";
import { afterEach, describe, expect, it } from "vitest";
import { clearDeviceChainCaches } from "../nvidia/device-chain.js";
import { AT, bytes, NONCE_931D, NV, text } from "../nvidia/test-vectors.js";
import { verifyNvidiaEvidence } from "../nvidia/verify.js";
import { clearSevSnpInputCache } from "../sev-snp/chain.js";
import { parseSevSnpReport, reportSignatureRaw, verifySevSnpReport } from "../sev-snp/index.js";
import { clearTdxCaches, parseTdxQuote, verifyTdxQuote } from "../tdx/index.js";
import { AttestError } from "./errors.js";
import {
  clearKeyCaches,
  type SignatureBackend,
  signatureBackend,
  startEcdsaVerify,
  useSignatureBackend,
  verifyEcdsa,
} from "./signatures.js";
import {
  clearAnchorVerdicts,
  clearX509Caches,
  parseCertificate,
  parseCertificates,
  verifyCertificateSignature,
} from "./x509.js";

/** Tests about other checks accept unchecked freshness and measurements by name (issue #11 defaults). */
const UNCHECKED = { policy: { requireNonce: false, requireRimMatch: false } } as const;

/**
 * Node runs signature checks on node:crypto and browsers on WebCrypto. Both backends must give the
 * same verdicts on the real vectors, and the whole verifiers must give the same results on either,
 * so every check here runs once per backend with every cache emptied.
 */
const BACKENDS: SignatureBackend[] = ["node:crypto", "webcrypto"];
const initial = signatureBackend();

function fresh(backend: SignatureBackend): void {
  useSignatureBackend(backend);
  clearKeyCaches();
  clearX509Caches();
  clearAnchorVerdicts();
  clearTdxCaches();
  clearSevSnpInputCache();
  clearDeviceChainCaches();
}

function flipped(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = (copy[index] as number) ^ 0x01;
  return copy;
}

afterEach(() => useSignatureBackend(initial));

describe("signature backend", () => {
  it("is node:crypto under Node (process.getBuiltinModule is there)", () => {
    expect(initial).toBe("node:crypto");
  });

  it("refuses a backend name it does not know", () => {
    expect(() => useSignatureBackend("openssl" as SignatureBackend)).toThrow(AttestError);
    expect(signatureBackend()).toBe(initial);
  });
});

describe.each(BACKENDS)("signatures on %s", (backend) => {
  const quote = parseTdxQuote(readVector("tdx/phala-dcap-qvl/tdx_quote"));
  const report = parseSevSnpReport(readVector("sev-snp/virtee-sev/report_milan.bin"));
  const vcek = parseCertificate(readVector("sev-snp/virtee-sev/vcek_milan.der"));
  const [ask, ark] = parseCertificates(readVector("sev-snp/virtee-sev/cert_chain_milan"));

  it("P-256: the real TDX quote signature verifies, and not after a flipped bit", async () => {
    fresh(backend);
    const sd = quote.signatureData;
    expect(await verifyEcdsa("P-256", "SHA-256", sd.attestationKey, sd.signature, quote.signedRegion)).toBe(
      true,
    );
    expect(
      await verifyEcdsa(
        "P-256",
        "SHA-256",
        sd.attestationKey,
        sd.signature,
        flipped(quote.signedRegion, 100),
      ),
    ).toBe(false);
    expect(
      await verifyEcdsa("P-256", "SHA-256", sd.attestationKey, flipped(sd.signature, 63), quote.signedRegion),
    ).toBe(false);
  });

  it("P-384: the real SNP report signature verifies with its VCEK, and not after a flipped bit", async () => {
    fresh(backend);
    if (vcek.publicKey.kind !== "ec") throw new Error("the VCEK has an EC key");
    const raw = reportSignatureRaw(report);
    expect(await verifyEcdsa("P-384", "SHA-384", vcek.publicKey.point, raw, report.signedSpan)).toBe(true);
    expect(
      await verifyEcdsa("P-384", "SHA-384", vcek.publicKey.point, raw, flipped(report.signedSpan, 0x50)),
    ).toBe(false);
    const check = startEcdsaVerify("P-384", "SHA-384", vcek.publicKey.point, raw, report.signedSpan);
    await check.started;
    expect(await check.valid).toBe(true);
  });

  it("RSA-PSS: the real AMD chain verifies link by link, and not with the links swapped", async () => {
    fresh(backend);
    if (!ask || !ark) throw new Error("the chain holds ASK and ARK");
    expect(await verifyCertificateSignature(vcek, ask)).toBe(true);
    expect(await verifyCertificateSignature(ask, ark)).toBe(true);
    expect(await verifyCertificateSignature(vcek, ark)).toBe(false);
    expect(await verifyCertificateSignature(ask, ask)).toBe(false);
  });

  it("malformed keys and signatures give false, never a throw", async () => {
    fresh(backend);
    const sd = quote.signatureData;
    const offCurve = flipped(sd.attestationKey, 10);
    expect(await verifyEcdsa("P-256", "SHA-256", offCurve, sd.signature, quote.signedRegion)).toBe(false);
    expect(
      await verifyEcdsa("P-256", "SHA-256", sd.attestationKey.subarray(1), sd.signature, quote.signedRegion),
    ).toBe(false);
    expect(
      await verifyEcdsa("P-256", "SHA-256", sd.attestationKey, sd.signature.subarray(1), quote.signedRegion),
    ).toBe(false);
    expect(await verifyEcdsa("P-384", "SHA-256", sd.attestationKey, sd.signature, quote.signedRegion)).toBe(
      false,
    );
  });

  it("verifyTdxQuote: phala tdx_quote is UpToDate and accepted", async () => {
    fresh(backend);
    const result = await verifyTdxQuote(readVector("tdx/phala-dcap-qvl/tdx_quote"), {
      collateral: readVectorText("tdx/phala-dcap-qvl/tdx_quote_collateral.json"),
      now: new Date("2025-07-19T10:00:34Z"),
    });
    expect([result.ok, result.tcbStatus, result.errors]).toEqual([true, "UpToDate", []]);
  });

  it("verifySevSnpReport: the Milan report is accepted; an invalid VCEK gives the same codes", async () => {
    fresh(backend);
    const now = new Date("2024-01-01T00:00:00Z");
    const good = await verifySevSnpReport(readVector("sev-snp/virtee-sev/report_milan.bin"), {
      vcek: readVector("sev-snp/virtee-sev/vcek_milan.der"),
      chain: readVector("sev-snp/virtee-sev/cert_chain_milan"),
      now,
      cache: false,
    });
    expect([good.ok, good.errors]).toEqual([true, []]);
    const bad = await verifySevSnpReport(readVector("sev-snp/trustee/test-report.bin"), {
      vcek: readVector("sev-snp/trustee/test-vcek-invalid-legacy.der"),
      now,
      cache: false,
    });
    expect(bad.errors.map((e) => e.code)).toEqual([
      "certificate_signature_invalid",
      "snp_report_signature_invalid",
      "snp_vcek_tcb_mismatch",
      "snp_vcek_chip_id_mismatch",
    ]);
  });

  it("verifyNvidiaEvidence: the nvtrust Hopper report is accepted; the invalid-signature blob is not", async () => {
    fresh(backend);
    const offline = { offline: true, ...UNCHECKED, now: AT.device, nonce: NONCE_931D } as const;
    const good = await verifyNvidiaEvidence(bytes(NV.nvtrustReport), {
      ...offline,
      certChain: text(NV.nvtrustChain),
    });
    expect([good.ok, good.errors]).toEqual([true, []]);
    const bad = await verifyNvidiaEvidence(bytes(NV.invalidSignature), {
      ...offline,
      certChain: text(NV.sample535Chain),
    });
    expect(bad.errors.map((e) => e.code)).toEqual(["nvidia_fwid_mismatch", "nvidia_spdm_signature_invalid"]);
  });
});
