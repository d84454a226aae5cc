import { readVector, readVectorText } from "@peercycles/internal-vectors";
import * as pkijs from "pkijs";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestPki, makeCertificate, makeCrl, type TestKey } from "../tdx/testing/test-pki.js";
import { AttestError } from "./errors.js";
import {
  type Certificate,
  parseCertificate,
  parseCertificates,
  parseCrl,
  pemBlocks,
  verifyCertificateChain,
  verifyCrl,
} from "./x509.js";

/**
 * Issue #11, items 1, 3 and 4: strict DER of the unsigned envelope, RFC 5280 §6.1 path rules, and
 * every supplied certificate on the path. Each case is a named change with its named error.
 */
const codeOf = (run: () => unknown): string => {
  try {
    run();
    return "accepted";
  } catch (error) {
    return AttestError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
};
const asyncCodeOf = async (run: () => Promise<unknown>): Promise<string> => {
  try {
    await run();
    return "accepted";
  } catch (error) {
    return AttestError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
};

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
/** The element's header length and content (for long-form lengths of 1–2 octets, as here). */
const split = (der: Uint8Array) => {
  const first = der[1] as number;
  const header = first < 0x80 ? 2 : 2 + (first & 0x7f);
  return { tag: der[0] as number, header, content: der.subarray(header) };
};
const tlv = (tag: number, lengthBytes: number[], content: Uint8Array) =>
  concat(Uint8Array.of(tag, ...lengthBytes), content);
const longLength = (n: number, octets: number) => {
  const bytes: number[] = [];
  for (let i = octets - 1; i >= 0; i--) bytes.push(Math.floor(n / 256 ** i) & 0xff);
  return [0x80 | octets, ...bytes];
};
const minimalLength = (n: number) => (n < 128 ? [n] : n < 256 ? [0x81, n] : longLength(n, 2));
/** The three elements of the outer SEQUENCE (tbs, signatureAlgorithm, signature), as bytes. */
const parts = (der: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] => {
  const { content } = split(der);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < content.length) {
    const { header, content: rest } = split(content.subarray(at));
    const len = (content[at + 1] as number) < 0x80 ? (content[at + 1] as number) : rest.length;
    const size =
      (content[at + 1] as number) < 0x80
        ? header + len
        : header + Number.parseInt(Buffer.from(content.subarray(at + 2, at + header)).toString("hex"), 16);
    out.push(content.subarray(at, at + size));
    at += size;
  }
  return out as [Uint8Array, Uint8Array, Uint8Array];
};
const outer = (body: Uint8Array, lengthBytes = minimalLength(body.length), tag = 0x30) =>
  tlv(tag, lengthBytes, body);

const realCertificates: Array<readonly [string, () => Uint8Array]> = [
  ["VCEK (go-sev-guest)", () => readVector("sev-snp/google-go-sev-guest/vcek.testcer")],
  [
    "SGX PCK Platform CA",
    () => pemBlocks(readVectorText("tdx/google-go-tdx-guest/pckCrlIssuerChain.pem"))[0] as Uint8Array,
  ],
];

describe("strict DER of the certificate envelope (real certificates)", () => {
  for (const [name, load] of realCertificates) {
    const der = () => load().slice();
    const changes: Array<readonly [string, (d: Uint8Array) => Uint8Array, string]> = [
      ["unchanged", (d) => d, "accepted"],
      ["outer tag SEQUENCE → SET", (d) => Uint8Array.of(0x31, ...d.subarray(1)), "certificate_not_der"],
      [
        "outer length in one more octet than needed",
        (d) => {
          const [tbs, alg, sig] = parts(d);
          const body = concat(tbs, alg, sig);
          return outer(body, longLength(body.length, 3));
        },
        "certificate_not_der",
      ],
      [
        "outer length indefinite (BER)",
        (d) => {
          const [tbs, alg, sig] = parts(d);
          return concat(Uint8Array.of(0x30, 0x80), tbs, alg, sig, Uint8Array.of(0, 0));
        },
        "certificate_not_der",
      ],
      ["a trailing byte", (d) => concat(d, Uint8Array.of(0)), "certificate_not_der"],
      [
        // asn1js lets the last element (the signature) run past the length its parent declares.
        "outer length one short of its content",
        (d) => {
          const [tbs, alg, sig] = parts(d);
          const body = concat(tbs, alg, sig);
          return outer(body, minimalLength(body.length - 1));
        },
        "certificate_not_der",
      ],
      [
        "signatureAlgorithm length in long form",
        (d) => {
          const [tbs, alg, sig] = parts(d);
          const { content } = split(alg);
          return outer(concat(tbs, tlv(0x30, [0x81, content.length], content), sig));
        },
        "certificate_not_der",
      ],
      [
        "signature BIT STRING length in one more octet than needed",
        (d) => {
          const [tbs, alg, sig] = parts(d);
          const { content } = split(sig);
          return outer(concat(tbs, alg, tlv(0x03, longLength(content.length, 3), content)));
        },
        "certificate_not_der",
      ],
      [
        "signature as a constructed BIT STRING",
        (d) => {
          const [tbs, alg, sig] = parts(d);
          const inner = sig;
          return outer(concat(tbs, alg, tlv(0x23, minimalLength(inner.length), inner)));
        },
        "certificate_not_der",
      ],
      [
        "outer signatureAlgorithm differs from the signed one (last OID byte)",
        (d) => {
          const [tbs, alg, sig] = parts(d);
          const changed = alg.slice();
          const oidEnd = 2 + 2 + (changed[3] as number) - 1;
          changed[oidEnd] = ((changed[oidEnd] as number) ^ 0x01) & 0xff;
          return outer(concat(tbs, changed, sig));
        },
        "certificate_signature_algorithm_mismatch",
      ],
    ];
    for (const [change, edit, code] of changes) {
      it(`${name}: ${change} → ${code}`, () => {
        expect(codeOf(() => parseCertificate(edit(der())))).toBe(code);
      });
    }
  }

  it("CRL: outer tag, trailing byte and a long-form signatureAlgorithm length are refused", () => {
    const crl = readVector("tdx/google-go-tdx-guest/pckcrl");
    expect(codeOf(() => parseCrl(crl))).toBe("accepted");
    expect(codeOf(() => parseCrl(Uint8Array.of(0x31, ...crl.subarray(1))))).toBe("crl_not_der");
    expect(codeOf(() => parseCrl(concat(crl, Uint8Array.of(0))))).toBe("crl_not_der");
    const [tbs, alg, sig] = parts(crl);
    const { content } = split(alg);
    expect(codeOf(() => parseCrl(outer(concat(tbs, tlv(0x30, [0x81, content.length], content), sig))))).toBe(
      "crl_not_der",
    );
  });
});

describe("RFC 5280 §6.1 path rules and supplied certificates (test PKI)", () => {
  const now = new Date("2030-01-01T00:00:00Z");
  let root: TestKey;
  let rootCert: Certificate;
  beforeAll(async () => {
    root = (await createTestPki()).root;
    rootCert = parseCertificate(root.der);
  });
  const verify = (leaf: TestKey, chain: TestKey[], roots = [rootCert]) =>
    asyncCodeOf(() =>
      verifyCertificateChain(
        parseCertificate(leaf.der),
        chain.map((c) => parseCertificate(c.der)),
        { roots, now, label: "test" },
      ),
    );

  it("a well-formed path is accepted", async () => {
    const ca = await makeCertificate({ name: "Test CA", issuer: root, ca: true });
    const leaf = await makeCertificate({ name: "Test Leaf", issuer: ca, ca: false });
    expect(await verify(leaf, [ca, root])).toBe("accepted");
  });

  it("an issuer whose keyUsage lacks keyCertSign → certificate_key_usage_invalid", async () => {
    const ca = await makeCertificate({ name: "Test CRL-only CA", issuer: root, ca: true, keyUsage: 0x02 });
    const leaf = await makeCertificate({ name: "Test Leaf", issuer: ca, ca: false });
    expect(await verify(leaf, [ca])).toBe("certificate_key_usage_invalid");
  });

  it("a CA's pathLenConstraint exceeded → certificate_path_length_exceeded", async () => {
    const top = await makeCertificate({ name: "Test Top CA", issuer: root, ca: true, pathLength: 0 });
    const below = await makeCertificate({ name: "Test Below CA", issuer: top, ca: true });
    const leaf = await makeCertificate({ name: "Test Leaf", issuer: below, ca: false });
    expect(await verify(leaf, [below, top])).toBe("certificate_path_length_exceeded");
  });

  it("an unprocessed critical extension → certificate_critical_extension_unknown", async () => {
    const leaf = await makeCertificate({
      name: "Test Leaf",
      issuer: root,
      ca: false,
      extraExtensions: [
        new pkijs.Extension({
          extnID: "1.3.6.1.4.1.99999.1",
          critical: true,
          extnValue: new Uint8Array([5, 0]).buffer,
        }),
      ],
    });
    expect(await verify(leaf, [])).toBe("certificate_critical_extension_unknown");
  });

  it("a supplied certificate off the path → certificate_off_path", async () => {
    const leaf = await makeCertificate({ name: "Test Leaf", issuer: root, ca: false });
    const stray = await makeCertificate({ name: "Test Stray CA", issuer: root, ca: true });
    expect(await verify(leaf, [stray, root])).toBe("certificate_off_path");
  });

  it("a supplied root that is not the pinned one byte for byte → certificate_chain_untrusted", async () => {
    const leaf = await makeCertificate({ name: "Test Leaf", issuer: root, ca: false });
    const lookAlike = await makeCertificate({ name: "Test SGX Root CA", ca: true });
    expect(await verify(leaf, [lookAlike])).toBe("certificate_chain_untrusted");
  });

  it("a CRL issuer whose keyUsage lacks cRLSign → crl_issuer_key_usage_invalid", async () => {
    const ca = await makeCertificate({ name: "Test Cert-only CA", issuer: root, ca: true, keyUsage: 0x04 });
    const crl = parseCrl(
      await makeCrl(ca, [], new Date("2029-01-01T00:00:00Z"), new Date("2031-01-01T00:00:00Z")),
    );
    expect(await asyncCodeOf(() => verifyCrl(crl, parseCertificate(ca.der), now, "test"))).toBe(
      "crl_issuer_key_usage_invalid",
    );
  });

  it("the real NVIDIA device chain still verifies with its root copy (byte-identical to the pinned root)", () => {
    const chain = parseCertificates(readVectorText("nvidia/nvidia-attestation-sdk/hopperCertChain.txt"));
    expect(chain.length).toBe(5);
  });
});
