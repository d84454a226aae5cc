import { concatBytes } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "@peercycles/attest";
import { DEVELOPMENT_ROOT_MARKER } from "@peercycles/attest/bundle";
import { TD_REPORT_BODY, TDX_QUOTE_HEADER } from "@peercycles/attest/tdx";
import { der } from "./asn1.js";
import {
  generateEcKeys,
  type Issuer,
  issueCertificate,
  issueCrl,
  issueIntermediate,
  issueRoot,
  pem,
  rawPublicKey,
  signEcdsa,
} from "./dev-pki.js";
import { SIMULATED_MEASUREMENTS, simulatedDigest } from "./simulated-measurements.js";

/**
 * Simulated Intel TDX: a development "Intel SGX Root CA", a PCK Platform CA, a PCK leaf with the
 * SGX extensions (OID 1.2.840.113741.1.13.1: PPID, TCB components, PCESVN, CPUSVN, PCE-ID, FMSPC,
 * SGX type), a TCB signing certificate, signed collateral (TCB info, QE identity, PCK CRL, root CA
 * CRL), and TDX v4 quotes (TD 1.0 body) signed by an attestation key that a QE report signed by
 * the PCK key vouches for: the same structure a real TDX host produces, under a different root.
 */

const SGX_EXT = "1.2.840.113741.1.13.1";
const INTEL_QE_VENDOR_ID = fromHex("939a7233f79c4ca9940a0db3957f0607");
const O = ["O", DEVELOPMENT_ROOT_MARKER] as const;

/** The simulated TDX platform: FMSPC, PCE-ID, SGX TCB components, PCESVN, TEE_TCB_SVN, QE SVN (collateral says UpToDate). */
export const SIMULATED_TDX_PLATFORM = {
  fmspc: "00806f050000",
  pceId: "0000",
  sgxComponents: [3, 3, 2, 2, 4, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0],
  pceSvn: 13,
  teeTcbSvn: "03000500000000000000000000000000",
  qeIsvSvn: 4,
  qeIsvProdId: 2,
} as const;

const QE_MRSIGNER = simulatedDigest("tdx/qe-mrsigner", 32);

/** The TDX development PKI: roots, keys and the collateral they signed. */
export interface TdxDevelopmentPki {
  readonly root: Issuer;
  readonly platformCa: Issuer;
  readonly tcbSigning: Issuer;
  readonly pck: { readonly keys: CryptoKeyPair; readonly der: Uint8Array };
  /** Attestation key of the simulated QE (P-256). */
  readonly attestationKeys: CryptoKeyPair;
  /** QE report + QE report signature + auth data, fixed for this attestation key. */
  readonly qeCertificationData: Uint8Array;
  /** The DCAP collateral, in the dcap-qvl QuoteCollateralV3 field names. */
  readonly collateral: Readonly<Record<string, string | Uint8Array>>;
}

function sgxExtensions(): Uint8Array {
  const p = SIMULATED_TDX_PLATFORM;
  const tcb = [
    ...p.sgxComponents.map((svn, i) => der.seq(der.oid(`${SGX_EXT}.2.${i + 1}`), der.int(svn))),
    der.seq(der.oid(`${SGX_EXT}.2.17`), der.int(p.pceSvn)),
    der.seq(der.oid(`${SGX_EXT}.2.18`), der.octets(Uint8Array.from(p.sgxComponents))),
  ];
  return der.encode(
    der.seq(
      der.seq(der.oid(`${SGX_EXT}.1`), der.octets(simulatedDigest("tdx/ppid", 32).subarray(0, 16))),
      der.seq(der.oid(`${SGX_EXT}.2`), der.seq(...tcb)),
      der.seq(der.oid(`${SGX_EXT}.3`), der.octets(fromHex(p.pceId))),
      der.seq(der.oid(`${SGX_EXT}.4`), der.octets(fromHex(p.fmspc))),
      der.seq(der.oid(`${SGX_EXT}.5`), der.enumerated(0)),
    ),
  );
}

function iso(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function qeReport(attestationKey: Uint8Array, authData: Uint8Array): Uint8Array {
  const p = SIMULATED_TDX_PLATFORM;
  const report = new Uint8Array(384);
  const view = new DataView(report.buffer);
  report.set(Uint8Array.from(p.sgxComponents), 0); // CPUSVN
  view.setUint32(16, 0, true); // MISCSELECT
  report[48] = 0x11; // ATTRIBUTES: INIT | MODE64BIT, like Intel's TD QE
  report.set(simulatedDigest("tdx/qe-mrenclave", 32), 64);
  report.set(QE_MRSIGNER, 128);
  view.setUint16(256, p.qeIsvProdId, true);
  view.setUint16(258, p.qeIsvSvn, true);
  report.set(sha256(concatBytes(attestationKey, authData)), 320);
  return report;
}

/** Creates the TDX development PKI and its collateral, valid from `now` − 1 day for 30 days (collateral) / 5 years (certificates). */
export async function createTdxPki(now: Date): Promise<TdxDevelopmentPki> {
  const day = 86_400_000;
  const notBefore = new Date(now.getTime() - day);
  const notAfter = new Date(now.getTime() + 5 * 365 * day);
  const root = await issueRoot(
    [["CN", "Peer Cycles DEVELOPMENT Intel SGX Root CA"], O, ["C", "US"]],
    await generateEcKeys("P-256"),
    "SHA-256",
    notBefore,
    notAfter,
  );
  const platformCa = await issueIntermediate(
    root,
    [["CN", "Peer Cycles DEVELOPMENT Intel SGX PCK Platform CA"], O, ["C", "US"]],
    await generateEcKeys("P-256"),
    "SHA-256",
    notBefore,
    notAfter,
  );
  const tcbKeys = await generateEcKeys("P-256");
  const tcbName = [["CN", "Peer Cycles DEVELOPMENT Intel SGX TCB Signing"], O, ["C", "US"]] as const;
  const tcbDer = await issueCertificate({
    subject: tcbName,
    publicKey: tcbKeys.publicKey,
    issuer: root,
    hash: "SHA-256",
    notBefore,
    notAfter,
    ca: false,
  });
  const tcbSigning: Issuer = { name: tcbName, keys: tcbKeys, hash: "SHA-256", der: tcbDer };
  const pckKeys = await generateEcKeys("P-256");
  const pckDer = await issueCertificate({
    subject: [["CN", "Peer Cycles DEVELOPMENT Intel SGX PCK Certificate"], O, ["C", "US"]],
    publicKey: pckKeys.publicKey,
    issuer: platformCa,
    hash: "SHA-256",
    notBefore,
    notAfter,
    ca: false,
    extensions: [[SGX_EXT, sgxExtensions()]],
  });

  const attestationKeys = await generateEcKeys("P-256");
  const attestationKey = await rawPublicKey(attestationKeys.publicKey);
  const authData = Uint8Array.from({ length: 32 }, (_, i) => i);
  const report = qeReport(attestationKey, authData);
  const reportSignature = await signEcdsa(pckKeys.privateKey, "SHA-256", report);
  const chainPem = new TextEncoder().encode(pem(pckDer) + pem(platformCa.der) + pem(root.der));
  const inner = new Uint8Array(6 + chainPem.length);
  new DataView(inner.buffer).setUint16(0, 5, true);
  new DataView(inner.buffer).setUint32(2, chainPem.length, true);
  inner.set(chainPem, 6);
  const auth = new Uint8Array(2 + authData.length);
  new DataView(auth.buffer).setUint16(0, authData.length, true);
  auth.set(authData, 2);
  const qeCertificationData = concatBytes(report, reportSignature, auth, inner);

  const issued = new Date(now.getTime() - 3_600_000);
  const next = new Date(now.getTime() + 30 * day);
  const p = SIMULATED_TDX_PLATFORM;
  const teeTcbSvn = Array.from(fromHex(p.teeTcbSvn));
  const tcbInfo = JSON.stringify({
    id: "TDX",
    version: 3,
    issueDate: iso(issued),
    nextUpdate: iso(next),
    fmspc: p.fmspc,
    pceId: p.pceId,
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModule: {
      mrsigner: "00".repeat(48),
      attributes: "0000000000000000",
      attributesMask: "FFFFFFFFFFFFFFFF",
    },
    tcbLevels: [
      {
        tcb: {
          sgxtcbcomponents: p.sgxComponents.map((svn) => ({ svn })),
          pcesvn: p.pceSvn,
          tdxtcbcomponents: teeTcbSvn.map((svn) => ({ svn })),
        },
        tcbDate: iso(issued),
        tcbStatus: "UpToDate",
      },
    ],
  });
  const qeIdentity = JSON.stringify({
    id: "TD_QE",
    version: 2,
    issueDate: iso(issued),
    nextUpdate: iso(next),
    tcbEvaluationDataNumber: 17,
    miscselect: "00000000",
    miscselectMask: "FFFFFFFF",
    attributes: "11000000000000000000000000000000",
    attributesMask: "FBFFFFFFFFFFFFFF0000000000000000",
    mrsigner: toHex(QE_MRSIGNER).toUpperCase(),
    isvprodid: p.qeIsvProdId,
    tcbLevels: [{ tcb: { isvsvn: p.qeIsvSvn }, tcbDate: iso(issued), tcbStatus: "UpToDate" }],
  });
  const encode = (text: string) => new TextEncoder().encode(text);
  const collateral = {
    tcb_info: tcbInfo,
    tcb_info_signature: await signEcdsa(tcbKeys.privateKey, "SHA-256", encode(tcbInfo)),
    tcb_info_issuer_chain: pem(tcbDer) + pem(root.der),
    qe_identity: qeIdentity,
    qe_identity_signature: await signEcdsa(tcbKeys.privateKey, "SHA-256", encode(qeIdentity)),
    qe_identity_issuer_chain: pem(tcbDer) + pem(root.der),
    pck_crl: await issueCrl(platformCa, issued, next),
    pck_crl_issuer_chain: pem(platformCa.der) + pem(root.der),
    root_ca_crl: await issueCrl(root, issued, next),
  };
  return {
    root,
    platformCa,
    tcbSigning,
    pck: { keys: pckKeys, der: pckDer },
    attestationKeys,
    qeCertificationData,
    collateral,
  };
}

/** Measurements a simulated TD reports (hex, 48 bytes each). */
export interface TdxSimulatedMeasurements {
  readonly mrTd: string;
  readonly rtmr0: string;
  readonly rtmr1: string;
  readonly rtmr2: string;
  readonly rtmr3: string;
}

/** A TDX v4 quote (TD 1.0 body) over `reportData`, signed by the PKI's attestation key. */
export async function simulateTdxQuote(
  pki: TdxDevelopmentPki,
  reportData: Uint8Array,
  measurements: TdxSimulatedMeasurements = SIMULATED_MEASUREMENTS.tdx,
): Promise<Uint8Array> {
  const H = TDX_QUOTE_HEADER;
  const B = TD_REPORT_BODY;
  const signed = new Uint8Array(H.size + B.size10);
  const view = new DataView(signed.buffer);
  view.setUint16(H.version.offset, 4, true); // version
  view.setUint16(H.attestationKeyType.offset, 2, true); // ECDSA-256-with-P-256
  view.setUint32(H.teeType.offset, 0x81, true); // TDX
  view.setUint16(H.qeSvn.offset, SIMULATED_TDX_PLATFORM.qeIsvSvn, true); // QE SVN
  view.setUint16(H.pceSvn.offset, SIMULATED_TDX_PLATFORM.pceSvn, true); // PCE SVN
  signed.set(INTEL_QE_VENDOR_ID, H.qeVendorId.offset);
  const set = (field: { readonly offset: number }, bytes: Uint8Array) =>
    signed.set(bytes, H.size + field.offset);
  set(B.teeTcbSvn, fromHex(SIMULATED_TDX_PLATFORM.teeTcbSvn));
  set(B.mrSeam, simulatedDigest("tdx/mrseam"));
  // MRSIGNERSEAM and SEAMATTRIBUTES zero: an Intel-signed TDX module.
  set(B.tdAttributes, fromHex("0000001000000000")); // TDATTRIBUTES: SEPT_VE_DISABLE, no DEBUG
  set(B.xfam, fromHex("e702060000000000")); // XFAM
  set(B.mrTd, fromHex(measurements.mrTd));
  // MRCONFIGID, MROWNER, MROWNERCONFIG zero.
  set(B.rtmr0, fromHex(measurements.rtmr0));
  set(B.rtmr1, fromHex(measurements.rtmr1));
  set(B.rtmr2, fromHex(measurements.rtmr2));
  set(B.rtmr3, fromHex(measurements.rtmr3));
  set(B.reportData, reportData);
  const signature = await signEcdsa(pki.attestationKeys.privateKey, "SHA-256", signed);
  const attestationKey = await rawPublicKey(pki.attestationKeys.publicKey);
  const certData = new Uint8Array(6);
  new DataView(certData.buffer).setUint16(0, 6, true);
  new DataView(certData.buffer).setUint32(2, pki.qeCertificationData.length, true);
  const signatureData = concatBytes(signature, attestationKey, certData, pki.qeCertificationData);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, signatureData.length, true);
  return concatBytes(signed, length, signatureData);
}
