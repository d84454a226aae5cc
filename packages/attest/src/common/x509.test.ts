import { readVector, readVectorText } from "@peercycles/internal-vectors";
import * as asn1js from "asn1js";
import { describe, expect, it } from "vitest";
import { AttestError } from "./errors.js";
import {
  isRevoked,
  parseCertificate,
  parseCertificates,
  parseCrl,
  pinnedCertificates,
  SignatureVerdictCache,
  verifyCertificateChain,
  verifyCertificateSignature,
  verifyCrl,
} from "./x509.js";

const intelRoot = () => parseCertificates(readVectorText("roots/intel_sgx_root_ca.pem"));
const pckCrlChain = () => parseCertificates(readVectorText("tdx/google-go-tdx-guest/pckCrlIssuerChain.pem"));
const inWindow = new Date("2023-07-01T01:00:00Z");

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (AttestError.isInstance(error)) return error.code;
    throw error;
  }
  return "no error";
}

describe("X.509 chains on real Intel and AMD certificates", () => {
  it("verifies the Intel PCK Platform CA to the pinned SGX root", async () => {
    const [platformCa, root] = pckCrlChain();
    const chain = await verifyCertificateChain(platformCa!, [root!], {
      roots: intelRoot(),
      now: inWindow,
      label: "PCK",
    });
    expect(chain.path.map((c) => c.subject.split(",")[0])).toEqual([
      "CN=Intel SGX PCK Platform CA",
      "CN=Intel SGX Root CA",
    ]);
  });

  it("verifies AMD's RSA-PSS ASK to ARK chain (Milan)", async () => {
    const [ask, ark] = parseCertificates(readVectorText("roots/amd/go-sev-guest_ask_ark_milan.pem"));
    const chain = await verifyCertificateChain(ask!, [], { roots: [ark!], now: inWindow, label: "AMD" });
    expect(chain.root.subject).toContain("CN=ARK-Milan");
  });

  it("rejects a chain whose root is not pinned", async () => {
    const [platformCa, root] = pckCrlChain();
    const amdArk = parseCertificates(readVectorText("roots/amd/ark_milan.pem"));
    expect(
      await codeOf(
        verifyCertificateChain(platformCa!, [root!], { roots: amdArk, now: inWindow, label: "PCK" }),
      ),
    ).toBe("certificate_chain_untrusted");
  });

  it("rejects a tampered signature on the intermediate", async () => {
    const [platformCa] = pckCrlChain();
    const der = new Uint8Array(platformCa!.der);
    der[der.length - 5]! ^= 0x01;
    const tampered = parseCertificate(der);
    expect(
      await codeOf(verifyCertificateChain(tampered, [], { roots: intelRoot(), now: inWindow, label: "PCK" })),
    ).toBe("certificate_signature_invalid");
  });

  it("rejects an intermediate that is expired at now", async () => {
    const [platformCa] = pckCrlChain();
    const later = new Date(platformCa!.notAfter.getTime() + 1000);
    expect(
      await codeOf(verifyCertificateChain(platformCa!, [], { roots: intelRoot(), now: later, label: "PCK" })),
    ).toBe("certificate_expired");
  });

  it("reports a missing intermediate", async () => {
    const vcek = parseCertificate(readVector("sev-snp/google-go-sev-guest/vcek.testcer"));
    const ark = parseCertificates(readVectorText("roots/amd/ark_milan.pem"));
    expect(await codeOf(verifyCertificateChain(vcek, [], { roots: ark, now: inWindow, label: "VCEK" }))).toBe(
      "certificate_chain_incomplete",
    );
  });

  it("caches verified links so a second verification does no signature work", async () => {
    const [platformCa] = pckCrlChain();
    const cache = new SignatureVerdictCache();
    await verifyCertificateChain(platformCa!, [], { roots: intelRoot(), now: inWindow, label: "PCK", cache });
    expect(cache.has(platformCa!.der, intelRoot()[0]!.der)).toBe(true);
  });
});

describe("memoised certificates and CRLs", () => {
  // A memoised VCEK kept the RSA-PSS parameters as an asn1js subtree (about 20 KB of nodes); the
  // garbage collector then copied it out of the young generation on every collection, which made
  // cold SEV-SNP verification about a fifth slower. They hold bytes, strings and dates only.
  const asn1Nodes = (value: unknown, seen = new Set<unknown>()): number => {
    if (typeof value !== "object" || value === null || seen.has(value) || ArrayBuffer.isView(value)) return 0;
    seen.add(value);
    if (value instanceof asn1js.BaseBlock) return 1;
    let count = 0;
    for (const key of Object.keys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor && "value" in descriptor) count += asn1Nodes(descriptor.value, seen);
    }
    if (value instanceof Set || value instanceof Map)
      for (const item of value) count += asn1Nodes(item, seen);
    return count;
  };

  it("hold no asn1js nodes (the VCEK's RSA-PSS parameters are kept as DER)", () => {
    const vcek = parseCertificate(readVector("sev-snp/virtee-sev/vcek_milan.der"));
    expect(vcek.signatureParams).toBeInstanceOf(Uint8Array);
    expect(asn1Nodes(vcek)).toBe(0);
    const crl = parseCrl(readVector("tdx/google-go-tdx-guest/rootcrl.der"));
    expect(asn1Nodes(crl)).toBe(0);
  });
});

describe("signatures between trust anchors", () => {
  const askPem = readVectorText("roots/amd/ask_milan.pem");
  const arkPem = readVectorText("roots/amd/ark_milan.pem");

  it("are checked once per process: the same verdict object comes back for the pinned ARK on the ASK", async () => {
    const [ark] = pinnedCertificates(arkPem);
    const [ask] = pinnedCertificates(askPem);
    const first = verifyCertificateSignature(ask!, ark!);
    expect(verifyCertificateSignature(ask!, ark!)).toBe(first);
    expect(await first).toBe(true);
    // Evidence that repeats the anchor's bytes is the anchor, so it shares the verdict.
    expect(parseCertificates(askPem)[0]).toBe(ask);
  });

  it("a chain that repeats an anchor is that anchor, in the same PEM text or wrapped differently", () => {
    const [ask] = pinnedCertificates(askPem);
    const der = ask!.der;
    const rewrapped = `-----BEGIN CERTIFICATE-----\r\n${Buffer.from(der)
      .toString("base64")
      .replace(/(.{76})/g, "$1\r\n")}\r\n-----END CERTIFICATE-----\r\n`;
    expect(parseCertificates(askPem)[0]).toBe(ask);
    expect(parseCertificates(rewrapped)[0]).toBe(ask);
    // One base64 character changed: other bytes, so not the anchor (and here not a certificate at all).
    const body = askPem.split("\n")[5] as string;
    const altered = askPem.replace(
      body,
      `${body.slice(0, 10)}${body[10] === "A" ? "B" : "A"}${body.slice(11)}`,
    );
    let other: unknown;
    try {
      other = parseCertificates(altered)[0];
    } catch (error) {
      other = error;
    }
    expect(other).not.toBe(ask);
  });

  it("a corrupted pinned constant fails, and keeps failing", async () => {
    const [ark] = pinnedCertificates(arkPem);
    const der = parseCertificates(askPem)[0]!.der;
    const corrupted = new Uint8Array(der);
    corrupted[corrupted.length - 10]! ^= 0x01; // inside the signature
    const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(corrupted).toString("base64")}\n-----END CERTIFICATE-----\n`;
    const [badAsk] = pinnedCertificates(pem);
    expect(await verifyCertificateSignature(badAsk!, ark!)).toBe(false);
    expect(await verifyCertificateSignature(badAsk!, ark!)).toBe(false);
  });

  it("a certificate that is not an anchor is checked every time", () => {
    const [ark] = pinnedCertificates(arkPem);
    const vcek = parseCertificate(readVector("sev-snp/virtee-sev/vcek_milan.der"));
    expect(verifyCertificateSignature(vcek, ark!)).not.toBe(verifyCertificateSignature(vcek, ark!));
  });
});

describe("CRLs", () => {
  it("verifies the real Intel root CA CRL and finds nothing revoked among the CAs", async () => {
    const crl = parseCrl(readVector("tdx/google-go-tdx-guest/rootcrl.der"));
    const [root] = intelRoot();
    await verifyCrl(crl, root!, inWindow, "root CA");
    expect(isRevoked(crl, pckCrlChain()[0]!)).toBe(false);
  });

  it("rejects the root CA CRL after its nextUpdate", async () => {
    const crl = parseCrl(readVector("tdx/google-go-tdx-guest/rootcrl.der"));
    expect(await codeOf(verifyCrl(crl, intelRoot()[0]!, new Date("2053-07-01T01:00:00Z"), "root CA"))).toBe(
      "crl_expired",
    );
  });

  it("rejects a CRL signed by someone else", async () => {
    const crl = parseCrl(readVector("tdx/google-go-tdx-guest/rootcrl.der"));
    expect(await codeOf(verifyCrl(crl, pckCrlChain()[0]!, inWindow, "root CA"))).toBe("crl_issuer_mismatch");
  });

  it("rejects malformed DER with a parse error", () => {
    expect(() => parseCrl(new Uint8Array([0x30, 0x03, 0x02, 0x01]))).toThrow(AttestError);
    expect(() => parseCertificate(new Uint8Array([0x30, 0x80]))).toThrow(/certificate is not valid DER/);
  });
});
