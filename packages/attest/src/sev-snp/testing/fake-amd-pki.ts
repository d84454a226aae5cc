import * as asn1js from "asn1js";
import type * as pkijs from "pkijs";
import {
  CN,
  generateTestKey,
  makeTestCertificate,
  makeTestCrl,
  O,
  type TestName,
  testExtension,
} from "../../common/testing/fake-pki.js";
import { toPem } from "../../common/x509.js";
import type { SevSnpProduct, SevSnpProductRoots } from "../roots.js";

/**
 * A fake AMD PKI for negative and coverage tests, in the manner of go-sev-guest's `testing/`: an
 * RSA-PSS ARK and ASK, an ECDSA P-384 VCEK with AMD's extensions, ARK-signed CRLs, and reports
 * signed by the VCEK. Its roots are injected with the `roots` option; the pinned AMD roots never
 * accept anything it makes. Test-only: not exported from the package entry.
 */

const PRODUCT_NAME: Record<SevSnpProduct, string> = { milan: "Milan", genoa: "Genoa", turin: "Turin" };

/** AMD-shaped names: the organisation, then CN. */
const amdName = (cn: string): TestName => [
  [O, "Fake Micro Devices"],
  [CN, cn],
];

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

function certificate(spec: CertificateSpec): Promise<Uint8Array> {
  return makeTestCertificate({
    subject: amdName(spec.subject),
    issuer: amdName(spec.issuer),
    serial: spec.serial,
    publicKey: spec.publicKey,
    signingKey: spec.signingKey,
    hash: "SHA-384",
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    // AMD's leaves carry no basicConstraints; its CAs a critical cA: true.
    ...(spec.ca ? { basicConstraints: { ca: true } } : {}),
    ...(spec.keyUsage !== undefined ? { keyUsage: spec.keyUsage } : {}),
    extensions: spec.extensions ?? [],
  });
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
  const arkKey = await generateTestKey("RSA-PSS");
  const askKey = await generateTestKey("RSA-PSS");
  const vcekKey = await generateTestKey("P-384");
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
    testExtension("1.3.6.1.4.1.3704.1.1", spl(product === "turin" ? 1 : 0)),
    testExtension(
      "1.3.6.1.4.1.3704.1.2",
      new asn1js.IA5String({ value: product === "milan" ? "Milan-B0" : p }).toBER(false),
    ),
    testExtension("1.3.6.1.4.1.3704.1.3.1", spl(tcb.bootloader)),
    testExtension("1.3.6.1.4.1.3704.1.3.2", spl(tcb.tee)),
    testExtension("1.3.6.1.4.1.3704.1.3.3", spl(tcb.snp)),
    testExtension("1.3.6.1.4.1.3704.1.3.8", spl(tcb.microcode)),
    ...(tcb.fmc === undefined ? [] : [testExtension("1.3.6.1.4.1.3704.1.3.9", spl(tcb.fmc))]),
    testExtension("1.3.6.1.4.1.3704.1.4", hwid),
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
export function makeFakeCrl(
  pki: FakeAmdPki,
  options: { thisUpdate: Date; nextUpdate: Date; serials?: readonly number[]; signer?: CryptoKey },
): Promise<Uint8Array> {
  return makeTestCrl({
    issuer: amdName(`ARK-${PRODUCT_NAME[pki.product]}`),
    signingKey: options.signer ?? pki.arkKey.privateKey,
    hash: "SHA-384",
    thisUpdate: options.thisUpdate,
    nextUpdate: options.nextUpdate,
    revoked: options.serials ?? [],
  });
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
