import { sha256 } from "@noble/hashes/sha2.js";
import type * as pkijs from "pkijs";
import { concatBytes, copyBytes, fromHex, toHex } from "../../common/bytes.js";
import {
  CN,
  generateTestKey,
  makeTestCertificate,
  makeTestCrl,
  O,
  type TestName,
  testExtension,
} from "../../common/testing/fake-pki.js";
import { parseCertificates, toPem } from "../../common/x509.js";
import type { QuoteCollateralV3 } from "../collateral.js";
import { SGX_EXTENSIONS_OID } from "../pck-extensions.js";
import type { TdxQuote } from "../quote.js";

/**
 * A locally generated test PKI for negative tests that Intel's keys cannot produce (a revoked PCK, a
 * revoked PCK CA, collateral re-signed after an edit). Clearly not Intel: every name starts with
 * "Test", and the verifier accepts it only when its root is passed as `roots`. The real quote's
 * signed region, attestation key and quote signature are kept; only the PCK chain (a test leaf that
 * carries the real leaf's SGX extensions) and the QE report signature are replaced.
 * Test-only code: nothing in the package imports it.
 */

const subtle = globalThis.crypto.subtle;

export interface TestKey {
  readonly keys: CryptoKeyPair;
  readonly der: Uint8Array;
  readonly name: string;
}

/** Intel-shaped names: CN, then the test organisation. */
const testName = (cn: string): TestName => [
  [CN, cn],
  [O, "Peer Cycles Test"],
];

let serialCounter = 1000;

export async function makeCertificate(options: {
  name: string;
  issuer?: TestKey;
  ca: boolean;
  /** keyUsage bits (first octet); default by role; null: no keyUsage extension. */
  keyUsage?: number | null;
  /** basicConstraints pathLenConstraint of a CA. */
  pathLength?: number;
  extraExtensions?: pkijs.Extension[];
  notBefore?: Date;
  notAfter?: Date;
}): Promise<TestKey> {
  const keys = await generateTestKey("P-256");
  const der = await makeTestCertificate({
    subject: testName(options.name),
    issuer: testName(options.issuer?.name ?? options.name),
    serial: serialCounter++,
    publicKey: keys.publicKey,
    signingKey: options.issuer?.keys.privateKey ?? keys.privateKey,
    hash: "SHA-256",
    ...(options.notBefore ? { notBefore: options.notBefore } : {}),
    ...(options.notAfter ? { notAfter: options.notAfter } : {}),
    basicConstraints: {
      ca: options.ca,
      ...(options.pathLength !== undefined ? { pathLength: options.pathLength } : {}),
    },
    // Intel's key usages: CAs sign certificates and CRLs, end entities sign (digitalSignature,
    // nonRepudiation). `keyUsage: null` leaves the extension out.
    ...(options.keyUsage === null ? {} : { keyUsage: options.keyUsage ?? (options.ca ? 0x06 : 0xc0) }),
    extensions: options.extraExtensions ?? [],
  });
  return { keys, der, name: options.name };
}

/** Signs data with a test key: raw r || s, SHA-256. */
export async function signRaw(key: TestKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.keys.privateKey, data as BufferSource),
  );
}

/** A CRL issued by `issuer` listing the serials (hex) of `revoked`. */
export function makeCrl(
  issuer: TestKey,
  revoked: readonly string[],
  thisUpdate: Date,
  nextUpdate: Date,
): Promise<Uint8Array> {
  return makeTestCrl({
    issuer: testName(issuer.name),
    signingKey: issuer.keys.privateKey,
    hash: "SHA-256",
    thisUpdate,
    nextUpdate,
    revoked: revoked.map((serial) => fromHex(serial.length % 2 ? `0${serial}` : serial)),
  });
}

export interface TestPki {
  readonly root: TestKey;
  readonly pckCa: TestKey;
  readonly tcbSigner: TestKey;
  /** A second key that no certificate vouches for. */
  readonly stranger: TestKey;
  readonly rootPem: string;
}

/** Generates root, PCK Platform CA and TCB signing certificates. */
export async function createTestPki(): Promise<TestPki> {
  const root = await makeCertificate({ name: "Test SGX Root CA", ca: true });
  const pckCa = await makeCertificate({ name: "Test SGX PCK Platform CA", issuer: root, ca: true });
  const tcbSigner = await makeCertificate({ name: "Test SGX TCB Signing", issuer: root, ca: false });
  const stranger = await makeCertificate({ name: "Test SGX TCB Signing", issuer: root, ca: false });
  return { root, pckCa, tcbSigner, stranger, rootPem: toPem(root.der) };
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >> 8) & 0xff);
}
function u32(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
}

/** What {@link rebuildQuote} replaces besides the PCK chain and QE report signature. */
export interface QuoteOverrides {
  readonly signedRegion: Uint8Array;
  readonly signature: Uint8Array;
  readonly attestationKey: Uint8Array;
  readonly qeReport: Uint8Array;
}

/** Serialises a v4/v5 quote with a new PCK chain and QE report signature (everything else as parsed). */
export function rebuildQuote(
  quote: TdxQuote,
  pckChainPem: string,
  qeReportSignature: Uint8Array,
  overrides?: QuoteOverrides,
): Uint8Array {
  const sd = quote.signatureData;
  const pem = new TextEncoder().encode(pckChainPem);
  const inner = concatBytes(
    overrides?.qeReport ?? sd.qeReport.raw,
    qeReportSignature,
    u16(sd.qeAuthData.length),
    sd.qeAuthData,
    u16(5),
    u32(pem.length),
    pem,
  );
  const signatureData = concatBytes(
    overrides?.signature ?? sd.signature,
    overrides?.attestationKey ?? sd.attestationKey,
    u16(6),
    u32(inner.length),
    inner,
  );
  return concatBytes(overrides?.signedRegion ?? quote.signedRegion, u32(signatureData.length), signatureData);
}

/** Offset of REPORTDATA in an SGX report body (the QE report). */
const QE_REPORT_DATA_OFFSET = 320;

/**
 * Edits a copy of the signed region (header and body) and signs it with a fresh attestation key,
 * bound into a copy of the QE report (REPORTDATA = SHA-256(key || QE auth data) || zeros). The QE
 * report is then signed by the test PCK leaf, so the quote verifies under the test PKI.
 */
async function reSignRegion(quote: TdxQuote, edit: (region: Uint8Array) => void): Promise<QuoteOverrides> {
  const region = copyBytes(quote.signedRegion);
  edit(region);
  const keys = await generateTestKey("P-256");
  const attestationKey = new Uint8Array(await subtle.exportKey("raw", keys.publicKey)).subarray(1);
  const qeReport = copyBytes(quote.signatureData.qeReport.raw);
  qeReport.fill(0, QE_REPORT_DATA_OFFSET);
  qeReport.set(
    sha256.create().update(attestationKey).update(quote.signatureData.qeAuthData).digest(),
    QE_REPORT_DATA_OFFSET,
  );
  const signature = new Uint8Array(
    await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, region as BufferSource),
  );
  return { signedRegion: region, signature, attestationKey, qeReport };
}

export interface TestEvidenceOptions {
  readonly revokeLeaf?: boolean;
  readonly revokePckCa?: boolean;
  readonly revokeTcbSigner?: boolean;
  /** Edits the TCB info text before it is (re-)signed. */
  readonly editTcbInfo?: (body: string) => string;
  readonly editQeIdentity?: (body: string) => string;
  /** Sign the TCB info with a key the issuer chain does not vouch for. */
  readonly tcbInfoSignedByStranger?: boolean;
  /**
   * Sign the TCB info and QE identity with another certificate of the test PKI that chains to the
   * root, and name it as the signer: the PCK leaf (chain leaf → PCK CA → root) or the PCK CA.
   */
  readonly collateralSigner?: "pckLeaf" | "pckCa" | "tcbSigningUnderPckCa";
  /** keyUsage octet of the test PCK leaf (null: none). */
  readonly pckLeafKeyUsage?: number | null;
  /** Issue the test PCK leaf directly under the root (a two-certificate PCK chain). */
  readonly pckLeafIssuedByRoot?: boolean;
  /** Replaces the PCK CRL issuer chain PEM. */
  readonly editPckCrlIssuerChain?: (pem: string, pki: TestPki) => string;
  /** Replaces the TCB signing chain PEM (after signing), e.g. to add a certificate. */
  readonly editSigningChain?: (pem: string) => string;
  readonly crlThisUpdate?: Date;
  readonly crlNextUpdate?: Date;
  /**
   * Edits the signed region (header and report body; offsets as in the quote) and re-signs it with
   * a fresh attestation key bound into the QE report, e.g. to set reserved TD_ATTRIBUTES bits.
   */
  readonly editSignedRegion?: (region: Uint8Array) => void;
}

/**
 * Re-roots a real quote and its real collateral on the test PKI: a test PCK leaf (carrying the real
 * leaf's SGX extensions) under the test PCK CA, the real QE report re-signed by that leaf, the real
 * TCB info / QE identity texts (optionally edited) re-signed by the test TCB signing key, and test
 * CRLs. With no options the result verifies exactly as the real evidence does (under `roots`).
 */
export async function reRootEvidence(
  pki: TestPki,
  quote: TdxQuote,
  collateral: QuoteCollateralV3,
  options: TestEvidenceOptions = {},
): Promise<{ quote: Uint8Array; collateral: QuoteCollateralV3; roots: string[]; leafSerial: string }> {
  const realLeaf = parseCertificates(new TextDecoder().decode(quote.signatureData.pckChain))[0];
  const sgx = realLeaf?.extensions.find((e) => e.oid === SGX_EXTENSIONS_OID);
  if (!sgx) throw new Error("the real PCK leaf has no SGX extensions");
  const leaf = await makeCertificate({
    name: "Test SGX PCK Certificate",
    issuer: options.pckLeafIssuedByRoot ? pki.root : pki.pckCa,
    ca: false,
    ...(options.pckLeafKeyUsage !== undefined ? { keyUsage: options.pckLeafKeyUsage } : {}),
    extraExtensions: [testExtension(SGX_EXTENSIONS_OID, sgx.value)],
  });
  const leafSerial = parseCertificates(leaf.der)[0]?.serialNumber as string;
  const pckCaSerial = parseCertificates(pki.pckCa.der)[0]?.serialNumber as string;
  const tcbSerial = parseCertificates(pki.tcbSigner.der)[0]?.serialNumber as string;
  const chain = (
    options.pckLeafIssuedByRoot ? [leaf.der, pki.root.der] : [leaf.der, pki.pckCa.der, pki.root.der]
  )
    .map((d) => toPem(d))
    .join("");
  const overrides = options.editSignedRegion
    ? await reSignRegion(quote, options.editSignedRegion)
    : undefined;
  const rebuilt = rebuildQuote(
    quote,
    chain,
    await signRaw(leaf, overrides?.qeReport ?? quote.signatureData.qeReport.raw),
    overrides,
  );
  const thisUpdate = options.crlThisUpdate ?? new Date("2020-01-01T00:00:00Z");
  const nextUpdate = options.crlNextUpdate ?? new Date("2039-01-01T00:00:00Z");
  const tcbInfo = options.editTcbInfo ? options.editTcbInfo(collateral.tcb_info) : collateral.tcb_info;
  const qeIdentity = options.editQeIdentity
    ? options.editQeIdentity(collateral.qe_identity)
    : collateral.qe_identity;
  const enc = new TextEncoder();
  const signerKey =
    options.collateralSigner === "pckLeaf"
      ? leaf
      : options.collateralSigner === "pckCa"
        ? pki.pckCa
        : options.collateralSigner === "tcbSigningUnderPckCa"
          ? await makeCertificate({ name: "Test SGX TCB Signing", issuer: pki.pckCa, ca: false })
          : pki.tcbSigner;
  const defaultChain =
    options.collateralSigner === "pckLeaf" || options.collateralSigner === "tcbSigningUnderPckCa"
      ? toPem(signerKey.der) + toPem(pki.pckCa.der) + pki.rootPem
      : toPem(signerKey.der) + pki.rootPem;
  const signingChain = options.editSigningChain ? options.editSigningChain(defaultChain) : defaultChain;
  return {
    quote: rebuilt,
    roots: [pki.rootPem],
    leafSerial,
    collateral: {
      tcb_info: tcbInfo,
      tcb_info_signature: toHex(
        await signRaw(options.tcbInfoSignedByStranger ? pki.stranger : signerKey, enc.encode(tcbInfo)),
      ),
      tcb_info_issuer_chain: signingChain,
      qe_identity: qeIdentity,
      qe_identity_signature: toHex(await signRaw(signerKey, enc.encode(qeIdentity))),
      qe_identity_issuer_chain: signingChain,
      pck_crl: toHex(
        await makeCrl(
          pki.pckCa,
          options.revokeLeaf ? ["0abc", leafSerial] : ["0abc"],
          thisUpdate,
          nextUpdate,
        ),
      ),
      pck_crl_issuer_chain: options.editPckCrlIssuerChain
        ? options.editPckCrlIssuerChain(toPem(pki.pckCa.der) + pki.rootPem, pki)
        : toPem(pki.pckCa.der) + pki.rootPem,
      root_ca_crl: toHex(
        await makeCrl(
          pki.root,
          [...(options.revokePckCa ? [pckCaSerial] : []), ...(options.revokeTcbSigner ? [tcbSerial] : [])],
          thisUpdate,
          nextUpdate,
        ),
      ),
    },
  };
}
