import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { toPem } from "../../common/x509.js";
import type { SevSnpProduct, SevSnpProductRoots } from "../roots.js";

/**
 * A fake AMD PKI for negative and coverage tests, in the manner of go-sev-guest's `testing/`: an
 * RSA-PSS ARK and ASK, an ECDSA P-384 VCEK with AMD's extensions, ARK-signed CRLs, and reports
 * signed by the VCEK. Its roots are injected with the `roots` option; the pinned AMD roots never
 * accept anything it makes. Test-only: not exported from the package entry.
 */

const PRODUCT_NAME: Record<SevSnpProduct, string> = { milan: "Milan", genoa: "Genoa", turin: "Turin" };
const RSA = {
  name: "RSA-PSS",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-384",
} as const;

function name(cn: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({
        type: "2.5.4.10",
        value: new asn1js.Utf8String({ value: "Fake Micro Devices" }),
      }),
      new pkijs.AttributeTypeAndValue({ type: "2.5.4.3", value: new asn1js.Utf8String({ value: cn }) }),
    ],
  });
}

function extension(oid: string, value: ArrayBuffer | Uint8Array): pkijs.Extension {
  const bytes = value instanceof Uint8Array ? value : new Uint8Array(value);
  return new pkijs.Extension({ extnID: oid, critical: false, extnValue: new Uint8Array(bytes).buffer });
}

interface CertificateSpec {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: number;
  readonly publicKey: CryptoKey;
  readonly signingKey: CryptoKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca: boolean;
  readonly extensions?: readonly pkijs.Extension[];
  /** keyUsage octet (bit 0 first); none when absent, as AMD's VCEKs have none. */
  readonly keyUsage?: number;
}

async function certificate(spec: CertificateSpec): Promise<Uint8Array> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ value: spec.serial });
  cert.subject = name(spec.subject);
  cert.issuer = name(spec.issuer);
  cert.notBefore.value = spec.notBefore;
  cert.notAfter.value = spec.notAfter;
  const extensions = [...(spec.extensions ?? [])];
  if (spec.ca)
    extensions.push(
      new pkijs.Extension({
        extnID: "2.5.29.19",
        critical: true,
        extnValue: new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false),
        parsedValue: new pkijs.BasicConstraints({ cA: true }),
      }),
    );
  if (spec.keyUsage !== undefined)
    extensions.push(
      new pkijs.Extension({
        extnID: "2.5.29.15",
        critical: true,
        extnValue: new asn1js.BitString({
          valueHex: Uint8Array.of(spec.keyUsage).buffer,
          unusedBits: 1,
        }).toBER(false),
      }),
    );
  cert.extensions = extensions;
  await cert.subjectPublicKeyInfo.importKey(spec.publicKey);
  await cert.sign(spec.signingKey, "SHA-384");
  return new Uint8Array(cert.toSchema(true).toBER(false));
}

function spl(value: number): ArrayBuffer {
  return new asn1js.Integer({ value }).toBER(false);
}

/** TCB values a fake VCEK certifies. */
export interface FakeTcb {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc?: number;
}

export interface FakeAmdPki {
  readonly product: SevSnpProduct;
  readonly roots: SevSnpProductRoots;
  readonly arkDer: Uint8Array;
  readonly askDer: Uint8Array;
  readonly vcekDer: Uint8Array;
  readonly vcekKey: CryptoKeyPair;
  readonly arkKey: CryptoKeyPair;
  readonly askKey: CryptoKeyPair;
  /** Serial number of the ASK (what an ARK CRL revokes). */
  readonly askSerial: number;
}

const YEAR = 365 * 24 * 3600 * 1000;

/** Makes ARK → ASK → VCEK for a product line, valid from `from` for ten years. */
export async function makeFakeAmdPki(
  product: SevSnpProduct,
  tcb: FakeTcb,
  hwid: Uint8Array,
  from: Date,
  options: {
    readonly askIsCa?: boolean;
    readonly vcekIssuedByArk?: boolean;
    /** Subject CN of the leaf (default "SEV-VCEK"). */
    readonly vcekSubject?: string;
    readonly vcekIsCa?: boolean;
    /** keyUsage octet of the ASK (default: none). */
    readonly askKeyUsage?: number;
  } = {},
): Promise<FakeAmdPki> {
  const arkKey = (await crypto.subtle.generateKey(RSA, true, ["sign", "verify"])) as CryptoKeyPair;
  const askKey = (await crypto.subtle.generateKey(RSA, true, ["sign", "verify"])) as CryptoKeyPair;
  const vcekKey = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const p = PRODUCT_NAME[product];
  const notAfter = new Date(from.getTime() + 10 * YEAR);
  const arkDer = await certificate({
    subject: `ARK-${p}`,
    issuer: `ARK-${p}`,
    serial: 1,
    publicKey: arkKey.publicKey,
    signingKey: arkKey.privateKey,
    notBefore: from,
    notAfter,
    ca: true,
  });
  const askDer = await certificate({
    subject: `SEV-${p}`,
    issuer: `ARK-${p}`,
    serial: 0x0100,
    publicKey: askKey.publicKey,
    signingKey: arkKey.privateKey,
    notBefore: from,
    notAfter,
    ca: options.askIsCa ?? true,
    ...(options.askKeyUsage !== undefined ? { keyUsage: options.askKeyUsage } : {}),
  });
  const extensions = [
    extension("1.3.6.1.4.1.3704.1.1", spl(product === "turin" ? 1 : 0)),
    extension(
      "1.3.6.1.4.1.3704.1.2",
      new asn1js.IA5String({ value: product === "milan" ? "Milan-B0" : p }).toBER(false),
    ),
    extension("1.3.6.1.4.1.3704.1.3.1", spl(tcb.bootloader)),
    extension("1.3.6.1.4.1.3704.1.3.2", spl(tcb.tee)),
    extension("1.3.6.1.4.1.3704.1.3.3", spl(tcb.snp)),
    extension("1.3.6.1.4.1.3704.1.3.8", spl(tcb.microcode)),
    ...(tcb.fmc === undefined ? [] : [extension("1.3.6.1.4.1.3704.1.3.9", spl(tcb.fmc))]),
    extension("1.3.6.1.4.1.3704.1.4", hwid),
  ];
  const vcekDer = await certificate({
    subject: options.vcekSubject ?? "SEV-VCEK",
    issuer: options.vcekIssuedByArk ? `ARK-${p}` : `SEV-${p}`,
    serial: 0,
    publicKey: vcekKey.publicKey,
    signingKey: options.vcekIssuedByArk ? arkKey.privateKey : askKey.privateKey,
    notBefore: from,
    notAfter,
    ca: options.vcekIsCa ?? false,
    extensions,
  });
  return {
    product,
    roots: { ark: toPem(arkDer), ask: toPem(askDer), asvk: toPem(askDer) },
    arkDer,
    askDer,
    vcekDer,
    vcekKey,
    arkKey,
    askKey,
    askSerial: 0x0100,
  };
}

/** An ARK-style CRL of `pki`'s product, signed by `signer` (default the ARK), revoking `serials`. */
export async function makeFakeCrl(
  pki: FakeAmdPki,
  options: { thisUpdate: Date; nextUpdate: Date; serials?: readonly number[]; signer?: CryptoKey },
): Promise<Uint8Array> {
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer = name(`ARK-${PRODUCT_NAME[pki.product]}`);
  crl.thisUpdate = new pkijs.Time({ type: 0, value: options.thisUpdate });
  crl.nextUpdate = new pkijs.Time({ type: 0, value: options.nextUpdate });
  if ((options.serials ?? []).length > 0) {
    crl.revokedCertificates = (options.serials ?? []).map(
      (serial) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({ value: serial }),
          revocationDate: new pkijs.Time({ type: 0, value: options.thisUpdate }),
        }),
    );
  }
  await crl.sign(options.signer ?? pki.arkKey.privateKey, "SHA-384");
  return new Uint8Array(crl.toSchema(true).toBER(false));
}

/** Signs bytes [0, 0x2A0) of `report` in place with the VCEK key (r, s stored little-endian, 72 bytes each). */
export async function signFakeReport(report: Uint8Array, key: CryptoKey): Promise<Uint8Array> {
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-384" },
      key,
      report.subarray(0, 0x2a0) as BufferSource,
    ),
  );
  report.fill(0, 0x2a0, 0x4a0);
  for (let i = 0; i < 48; i++) {
    report[0x2a0 + i] = signature[47 - i] as number;
    report[0x2e8 + i] = signature[95 - i] as number;
  }
  return report;
}
