import { readVector, readVectorJson, readVectorText } from "@peercycles/internal-vectors";
import { beforeAll, describe, expect, it } from "vitest";
import { concatBytes, toHex } from "../common/bytes.js";
import { AttestError } from "../common/errors.js";
import { parseCertificates, toPem } from "../common/x509.js";
import { normalizeTdxCollateral, type QuoteCollateralV3 } from "./collateral.js";
import { parseTdxQuote } from "./quote.js";
import {
  createTestPki,
  rebuildQuote,
  reRootEvidence,
  type TestEvidenceOptions,
  type TestPki,
} from "./testing/test-pki.js";
import { type VerifyTdxOptions, verifyTdxQuote } from "./verify.js";

/**
 * Named corruptions: each row tampers with a copy of real evidence (or re-roots it on the local test
 * PKI where Intel's keys would be needed, e.g. a revoked PCK) and names the exact first error code.
 *
 * Offsets in `tdx/phala-dcap-qvl/tdx_quote` (v4, TD 1.0): header [0,48), TD report body [48,632)
 * (TEE_TCB_SVN 48, MRSEAM 64, MRSIGNERSEAM 112, SEAMATTRIBUTES 160, TDATTRIBUTES 168, XFAM 176,
 * MRTD 184, MRCONFIGID 232, MROWNER 280, MROWNERCONFIG 328, RTMR0 376, RTMR1 424, RTMR2 472,
 * RTMR3 520, REPORTDATA 568), signature-data length 632, signature 636, attestation key 700,
 * certification data type 764 / size 766, QE report 770, QE report signature 1154, QE auth data
 * length 1218 / data 1220, PCK chain type 1252 / size 1254 / PEM 1258.
 */

const PHALA = "tdx/phala-dcap-qvl";
const NOW = new Date("2025-07-19T10:00:34Z");
const quoteBytes = () => readVector(`${PHALA}/tdx_quote`);
const collateralJson = () => readVectorJson<QuoteCollateralV3>(`${PHALA}/tdx_quote_collateral.json`);

async function outcome(quote: Uint8Array, options: Partial<VerifyTdxOptions> = {}): Promise<string> {
  try {
    const result = await verifyTdxQuote(quote, { now: NOW, collateral: collateralJson(), ...options });
    return result.errors[0]?.code ?? "ok";
  } catch (error) {
    if (AttestError.isInstance(error)) return error.code;
    throw error;
  }
}

function flip(offset: number, bit = 0): Promise<string> {
  const q = quoteBytes();
  q[offset] = (q[offset] as number) ^ (1 << bit);
  return outcome(q);
}

function set(offset: number, values: number[], file = `${PHALA}/tdx_quote`): Promise<string> {
  const q = readVector(file);
  q.set(values, offset);
  return outcome(q, file === `${PHALA}/tdx_quote` ? {} : { signaturesOnly: true });
}

function withCollateral(edit: (c: Record<string, string>) => void, now: Date = NOW): Promise<string> {
  const c = collateralJson() as unknown as Record<string, string>; // every field of the JSON file is a string
  edit(c);
  return outcome(quoteBytes(), { collateral: c as unknown as QuoteCollateralV3, now });
}

function withField(field: string, change: (c: Record<string, string>) => string): Promise<string> {
  return withCollateral((c) => {
    c[field] = change(c);
  });
}

function flipHex(hex: string, index: number): string {
  const nibble = Number.parseInt(hex[index] as string, 16) ^ 1;
  return hex.slice(0, index) + nibble.toString(16) + hex.slice(index + 1);
}

let pki: TestPki;
async function reRooted(options: TestEvidenceOptions, now = NOW): Promise<string> {
  const evidence = await reRootEvidence(pki, parseTdxQuote(quoteBytes()), collateralJson(), options);
  return outcome(evidence.quote, { collateral: evidence.collateral, roots: evidence.roots, now });
}

function withChain(build: (certs: string[]) => string[]): Promise<string> {
  const quote = parseTdxQuote(quoteBytes());
  const certs = parseCertificates(new TextDecoder().decode(quote.signatureData.pckChain)).map((c) =>
    toPem(c.der),
  );
  return outcome(rebuildQuote(quote, build(certs).join(""), quote.signatureData.qeReportSignature));
}

function pemOf(file: string, index: number): string {
  const quote = parseTdxQuote(readVector(file));
  const cert = parseCertificates(new TextDecoder().decode(quote.signatureData.pckChain))[index];
  return toPem(cert?.der as Uint8Array);
}

const replaceOnce = (text: string, from: string, to: string) => {
  if (!text.includes(from)) throw new Error(`test setup: "${from}" not found`);
  return text.replace(from, to);
};

const corruptions: Array<readonly [name: string, run: () => Promise<string>, code: string]> = [
  // signed region: header and every TD report field
  ["header: flipped bit in QE SVN", () => flip(8), "tdx_quote_signature_invalid"],
  ["header: flipped bit in user data", () => flip(30), "tdx_quote_signature_invalid"],
  ["header: QE vendor id not Intel's", () => flip(12), "tdx_qe_vendor_id_unknown"],
  ["body: TEE_TCB_SVN", () => flip(48), "tdx_quote_signature_invalid"],
  ["body: MRSEAM", () => flip(70), "tdx_quote_signature_invalid"],
  ["body: MRSIGNERSEAM", () => flip(120), "tdx_quote_signature_invalid"],
  ["body: SEAMATTRIBUTES", () => flip(160), "tdx_quote_signature_invalid"],
  ["body: TDATTRIBUTES (debug bit set)", () => flip(168), "tdx_quote_signature_invalid"],
  ["body: XFAM", () => flip(176), "tdx_quote_signature_invalid"],
  ["body: MRTD", () => flip(190), "tdx_quote_signature_invalid"],
  ["body: MRCONFIGID", () => flip(240), "tdx_quote_signature_invalid"],
  ["body: MROWNER", () => flip(290), "tdx_quote_signature_invalid"],
  ["body: MROWNERCONFIG", () => flip(330), "tdx_quote_signature_invalid"],
  ["body: RTMR0", () => flip(380), "tdx_quote_signature_invalid"],
  ["body: RTMR1", () => flip(430), "tdx_quote_signature_invalid"],
  ["body: RTMR2", () => flip(480), "tdx_quote_signature_invalid"],
  ["body: RTMR3", () => flip(530), "tdx_quote_signature_invalid"],
  ["body: REPORTDATA", () => flip(600, 7), "tdx_quote_signature_invalid"],
  // signature data
  ["quote signature r", () => flip(640), "tdx_quote_signature_invalid"],
  ["quote signature s", () => flip(690), "tdx_quote_signature_invalid"],
  ["attestation key", () => flip(710), "tdx_qe_report_data_mismatch"],
  ["QE report CPUSVN", () => flip(770), "tdx_qe_report_signature_invalid"],
  ["QE report report data", () => flip(770 + 320), "tdx_qe_report_signature_invalid"],
  ["QE report signature", () => flip(1160), "tdx_qe_report_signature_invalid"],
  ["QE authentication data", () => flip(1225), "tdx_qe_report_data_mismatch"],
  // structure
  ["wrong version (7)", () => set(0, [7, 0]), "tdx_quote_version_unsupported"],
  ["version 3 with TEE type TDX", () => set(0, [3, 0]), "tdx_quote_version_unsupported"],
  [
    "wrong attestation key type (3 = ECDSA P-384)",
    () => set(2, [3, 0]),
    "tdx_attestation_key_type_unsupported",
  ],
  ["unknown TEE type 0x82", () => set(4, [0x82]), "tdx_tee_type_unsupported"],
  ["outer certification data type 5 instead of 6", () => set(764, [5, 0]), "tdx_cert_data_type_unsupported"],
  [
    "inner certification data type 3 (encrypted PPID) instead of 5",
    () => set(1252, [3, 0]),
    "tdx_cert_data_type_unsupported",
  ],
  [
    "inner certification data size one byte short",
    () => set(1254, [0x59, 0x0d]),
    "tdx_cert_data_length_invalid",
  ],
  [
    "outer certification data size disagrees with the signature data length",
    () => set(766, [0x00]),
    "tdx_signature_data_length_invalid",
  ],
  ["v5 body type 9", () => set(48, [9, 0], `${PHALA}/tdx_quote_outdated`), "tdx_body_type_unsupported"],
  [
    "v5 body type 2 (TD 1.0) with the 648-byte size of a TD 1.5 body",
    () => set(48, [2, 0], `${PHALA}/tdx_quote_outdated`),
    "tdx_body_type_unsupported",
  ],
  [
    "v5 body type 1 (SGX) in a TDX quote",
    () => set(48, [1, 0], `${PHALA}/tdx_quote_outdated`),
    "tdx_body_type_unsupported",
  ],
  ...[0, 10, 47, 48, 300, 631, 632, 635, 700, 1000, 1220, 1257, 3000, 4935].map(
    (length) =>
      [
        `truncated to ${length} bytes`,
        () => outcome(quoteBytes().slice(0, length)),
        "tdx_quote_truncated",
      ] as const,
  ),
  // PCK chain
  ["PCK chain is not PEM", () => set(1258, [0x2a, 0x2a, 0x2a, 0x2a, 0x2a]), "tdx_pck_chain_malformed"],
  ["PCK chain: leaf only", () => withChain((c) => [c[0] as string]), "certificate_chain_incomplete"],
  [
    "PCK chain: Platform CA swapped for the Processor CA",
    () => withChain((c) => [c[0] as string, pemOf(`${PHALA}/sgx_quote`, 1), c[2] as string]),
    "certificate_chain_incomplete",
  ],
  [
    "PCK chain: leaf swapped for another platform's PCK",
    () => withChain((c) => [pemOf(`${PHALA}/tdx-quote.hex.bin`, 0), c[1] as string, c[2] as string]),
    "tdx_qe_report_signature_invalid",
  ],
  [
    "PCK chain: a stray extra certificate",
    () => withChain((c) => [...c, pemOf(`${PHALA}/sgx_quote`, 1)]),
    "certificate_off_path",
  ],
  [
    "PCK chain: leaf and intermediate in reverse order",
    () => withChain((c) => [c[1] as string, c[0] as string, c[2] as string]),
    "tdx_pck_certificate_invalid",
  ],
  // collateral: signatures and chains
  [
    "TCB info JSON tampered (status changed)",
    () => withField("tcb_info", (c) => replaceOnce(c.tcb_info as string, '"OutOfDate"', '"UpToDate"')),
    "collateral_tcb_info_signature_invalid",
  ],
  [
    "TCB info JSON re-serialised with spaces",
    () => withField("tcb_info", (c) => JSON.stringify(JSON.parse(c.tcb_info as string), null, 1)),
    "collateral_tcb_info_signature_invalid",
  ],
  [
    "TCB info signature flipped",
    () => withField("tcb_info_signature", (c) => flipHex(c.tcb_info_signature as string, 10)),
    "collateral_tcb_info_signature_invalid",
  ],
  [
    "QE identity tampered (isvprodid 2 → 3)",
    () =>
      withField("qe_identity", (c) => replaceOnce(c.qe_identity as string, '"isvprodid":2', '"isvprodid":3')),
    "collateral_qe_identity_signature_invalid",
  ],
  [
    "QE identity signature flipped",
    () => withField("qe_identity_signature", (c) => flipHex(c.qe_identity_signature as string, 3)),
    "collateral_qe_identity_signature_invalid",
  ],
  [
    "TCB info issuer chain is the PCK CRL chain (wrong signer)",
    () => withField("tcb_info_issuer_chain", (c) => c.pck_crl_issuer_chain as string),
    "collateral_signer_role_invalid",
  ],
  [
    "TCB signing certificate expired (2018 certificate at 2025)",
    () =>
      withField("tcb_info_issuer_chain", () =>
        readVectorText("tdx/google-go-tdx-guest/tcbInfoIssuerChain.pem"),
      ),
    "certificate_expired",
  ],
  [
    "PCK CRL tampered (signature byte)",
    () => withField("pck_crl", (c) => flipHex(c.pck_crl as string, (c.pck_crl as string).length - 4)),
    "crl_signature_invalid",
  ],
  [
    "Root CA CRL tampered (signature byte)",
    () =>
      withField("root_ca_crl", (c) => flipHex(c.root_ca_crl as string, (c.root_ca_crl as string).length - 4)),
    "crl_signature_invalid",
  ],
  [
    "PCK CRL replaced by the Root CA CRL",
    () => withField("pck_crl", (c) => c.root_ca_crl as string),
    "crl_issuer_mismatch",
  ],
  [
    "PCK CRL issuer chain replaced by the TCB signing chain",
    () => withField("pck_crl_issuer_chain", (c) => c.tcb_info_issuer_chain as string),
    "tdx_pck_crl_issuer_role_invalid",
  ],
  [
    "PCK CRL of the Processor CA for a Platform CA PCK",
    () =>
      withCollateral((c) => {
        const sgx = readVectorJson<QuoteCollateralV3>(`${PHALA}/sgx_quote_collateral.json`);
        c.pck_crl = sgx.pck_crl as string;
        c.pck_crl_issuer_chain = sgx.pck_crl_issuer_chain;
      }),
    "tdx_pck_crl_issuer_mismatch",
  ],
  [
    "collateral of another FMSPC (near_quote's)",
    () =>
      withCollateral(
        (c) => Object.assign(c, readVectorJson(`${PHALA}/near_quote_collateral.json`)),
        new Date("2025-07-01T00:00:00Z"),
      ),
    "collateral_pck_crl_not_yet_valid",
  ],
  [
    "QE identity carrying the TCB info's signature (the same byte array, normalised collateral)",
    () => {
      const c = normalizeTdxCollateral(collateralJson());
      return outcome(quoteBytes(), {
        collateral: { ...c, qeIdentity: { ...c.qeIdentity, signature: c.tcbInfo.signature } },
      });
    },
    "collateral_qe_identity_signature_invalid",
  ],
  // collateral: time
  [
    "expired collateral (one second after the window)",
    () => withCollateral(() => undefined, new Date("2025-07-19T10:00:36Z")),
    "collateral_pck_crl_expired",
  ],
  [
    "not-yet-valid collateral (before the QE identity issue date)",
    () => withCollateral(() => undefined, new Date("2025-06-19T10:20:00Z")),
    "collateral_qe_identity_not_yet_valid",
  ],
  // re-rooted on the local test PKI (Intel's keys cannot sign these)
  ["test PKI: revoked PCK certificate", () => reRooted({ revokeLeaf: true }), "tdx_pck_revoked"],
  [
    "test PKI: PCK CA revoked by the Root CA CRL",
    () => reRooted({ revokePckCa: true }),
    "tdx_pck_ca_revoked",
  ],
  [
    "test PKI: TCB signing certificate revoked by the Root CA CRL",
    () => reRooted({ revokeTcbSigner: true }),
    "collateral_signing_certificate_revoked",
  ],
  [
    "test PKI: TCB info signed by a key the chain does not vouch for",
    () => reRooted({ tcbInfoSignedByStranger: true }),
    "collateral_tcb_info_signature_invalid",
  ],
  [
    "test PKI: wrong FMSPC in a validly signed TCB info",
    () =>
      reRooted({ editTcbInfo: (t) => replaceOnce(t, '"fmspc":"B0C06F000000"', '"fmspc":"11111F000000"') }),
    "tdx_fmspc_mismatch",
  ],
  [
    "test PKI: wrong PCE-ID in a validly signed TCB info",
    () => reRooted({ editTcbInfo: (t) => replaceOnce(t, '"pceId":"0000"', '"pceId":"1111"') }),
    "tdx_pce_id_mismatch",
  ],
  [
    "test PKI: TCB info expired (nextUpdate before now)",
    () =>
      reRooted({
        editTcbInfo: (t) =>
          replaceOnce(t, '"nextUpdate":"2025-07-19T10:16:03Z"', '"nextUpdate":"2025-07-01T00:00:00Z"'),
      }),
    "collateral_tcb_info_expired",
  ],
  [
    "test PKI: TCB info not yet valid (issueDate after now)",
    () =>
      reRooted({
        editTcbInfo: (t) =>
          replaceOnce(t, '"issueDate":"2025-06-19T10:16:03Z"', '"issueDate":"2025-07-19T11:00:00Z"'),
      }),
    "collateral_tcb_info_not_yet_valid",
  ],
  [
    "test PKI: QE identity expired",
    () =>
      reRooted({
        editQeIdentity: (t) =>
          replaceOnce(t, '"nextUpdate":"2025-07-19T10:32:27Z"', '"nextUpdate":"2025-07-01T00:00:00Z"'),
      }),
    "collateral_qe_identity_expired",
  ],
  [
    "test PKI: CRLs not yet valid",
    () => reRooted({ crlThisUpdate: new Date("2025-08-01T00:00:00Z") }),
    "collateral_root_ca_crl_not_yet_valid",
  ],
  [
    "test PKI: CRLs expired",
    () =>
      reRooted({
        crlThisUpdate: new Date("2025-01-01T00:00:00Z"),
        crlNextUpdate: new Date("2025-02-01T00:00:00Z"),
      }),
    "collateral_root_ca_crl_expired",
  ],
  [
    "test PKI: TCB info for SGX given for a TDX quote",
    () => reRooted({ editTcbInfo: (t) => replaceOnce(t, '"id":"TDX"', '"id":"SGX"') }),
    "tdx_tcb_info_type_mismatch",
  ],
  [
    "test PKI: PCESVN of every level raised",
    () =>
      reRooted({
        editTcbInfo: (t) =>
          t.replaceAll('"pcesvn":11', '"pcesvn":99').replaceAll('"pcesvn":5', '"pcesvn":99'),
      }),
    "tdx_tcb_level_not_found",
  ],
  [
    "test PKI: TDX module identity TDX_01 missing",
    () => reRooted({ editTcbInfo: (t) => replaceOnce(t, '"id":"TDX_01"', '"id":"TDX_09"') }),
    "tdx_module_identity_not_found",
  ],
  [
    "test PKI: TDX module MRSIGNER non-zero",
    () =>
      reRooted({
        editTcbInfo: (t) =>
          replaceOnce(
            t,
            `"id":"TDX_01","mrsigner":"${"0".repeat(96)}"`,
            `"id":"TDX_01","mrsigner":"${"1".repeat(96)}"`,
          ),
      }),
    "tdx_module_mrsigner_mismatch",
  ],
  [
    "test PKI: TDX module attributes changed",
    () =>
      reRooted({
        editTcbInfo: (t) =>
          replaceOnce(
            t,
            `"id":"TDX_01","mrsigner":"${"0".repeat(96)}","attributes":"0000000000000000"`,
            `"id":"TDX_01","mrsigner":"${"0".repeat(96)}","attributes":"0100000000000000"`,
          ),
      }),
    "tdx_module_attributes_mismatch",
  ],
  [
    "test PKI: TDX module TCB levels above the module SVN",
    () =>
      reRooted({
        editTcbInfo: (t) =>
          replaceOnce(
            replaceOnce(t, '{"tcb":{"isvsvn":4},', '{"tcb":{"isvsvn":40},'),
            '{"tcb":{"isvsvn":2},"tcbDate":"2023-08-09',
            '{"tcb":{"isvsvn":20},"tcbDate":"2023-08-09',
          ),
      }),
    "tdx_module_tcb_level_not_found",
  ],
  [
    "test PKI: QE identity MRSIGNER changed",
    () => reRooted({ editQeIdentity: (t) => replaceOnce(t, '"mrsigner":"DC9E', '"mrsigner":"EC9E') }),
    "tdx_qe_mrsigner_mismatch",
  ],
  [
    "test PKI: QE identity ISVPRODID 5",
    () => reRooted({ editQeIdentity: (t) => replaceOnce(t, '"isvprodid":2', '"isvprodid":5') }),
    "tdx_qe_isvprodid_mismatch",
  ],
  [
    "test PKI: QE identity MISCSELECT changed",
    () =>
      reRooted({
        editQeIdentity: (t) => replaceOnce(t, '"miscselect":"00000000"', '"miscselect":"00000001"'),
      }),
    "tdx_qe_miscselect_mismatch",
  ],
  [
    "test PKI: QE identity ATTRIBUTES changed",
    () =>
      reRooted({
        editQeIdentity: (t) =>
          replaceOnce(
            t,
            '"attributes":"11000000000000000000000000000000"',
            '"attributes":"13000000000000000000000000000000"',
          ),
      }),
    "tdx_qe_attributes_mismatch",
  ],
  [
    "test PKI: QE identity id QE (SGX) for a TDX quote",
    () => reRooted({ editQeIdentity: (t) => replaceOnce(t, '"id":"TD_QE"', '"id":"QE"') }),
    "tdx_qe_identity_id_mismatch",
  ],
  [
    "test PKI: QE TCB level isvsvn 10 (above the QE's)",
    () => reRooted({ editQeIdentity: (t) => replaceOnce(t, '"isvsvn":4', '"isvsvn":10') }),
    "tdx_qe_tcb_level_not_found",
  ],
  [
    "test PKI: platform level Revoked",
    () =>
      reRooted({
        editTcbInfo: (t) =>
          replaceOnce(
            t,
            '"tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"UpToDate"},{"tcb":{"sgxtcbcomponents"',
            '"tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"Revoked"},{"tcb":{"sgxtcbcomponents"',
          ),
      }),
    "tdx_tcb_revoked",
  ],
  [
    "test PKI: QE level OutOfDate → policy refuses OutOfDate",
    () =>
      reRooted({
        editQeIdentity: (t) => replaceOnce(t, '"tcbStatus":"UpToDate"', '"tcbStatus":"OutOfDate"'),
      }),
    "tdx_policy_tcb_status_not_allowed",
  ],
  // issue #11: every certificate in its role, by position (Intel QVL)
  [
    "test PKI: TCB info and QE identity signed by the PCK leaf (chains to the root)",
    () => reRooted({ collateralSigner: "pckLeaf" }),
    "collateral_signer_role_invalid",
  ],
  [
    "test PKI: TCB info and QE identity signed by the PCK Platform CA",
    () => reRooted({ collateralSigner: "pckCa" }),
    "collateral_signer_role_invalid",
  ],
  [
    "test PKI: a TCB Signing certificate issued by the PCK CA (chain of three)",
    () => reRooted({ collateralSigner: "tcbSigningUnderPckCa" }),
    "collateral_signing_chain_length_invalid",
  ],
  [
    "test PKI: TCB signing chain carries an extra certificate",
    () => reRooted({ editSigningChain: (pem) => pem + toPem(pki.pckCa.der) }),
    "certificate_off_path",
  ],
  [
    "test PKI: PCK leaf without keyUsage",
    () => reRooted({ pckLeafKeyUsage: null }),
    "tdx_pck_chain_role_invalid",
  ],
  [
    "test PKI: PCK leaf whose keyUsage lacks digitalSignature",
    () => reRooted({ pckLeafKeyUsage: 0x20 }),
    "tdx_pck_chain_role_invalid",
  ],
  [
    "test PKI: PCK leaf issued directly by the root",
    () => reRooted({ pckLeafIssuedByRoot: true }),
    "tdx_pck_chain_length_invalid",
  ],
  [
    "test PKI: PCK CRL issuer chain names the TCB Signing certificate",
    () => reRooted({ editPckCrlIssuerChain: (_pem, p) => toPem(p.tcbSigner.der) + p.rootPem }),
    "tdx_pck_crl_issuer_role_invalid",
  ],
  // issue 18: the TDX spec defaults on a validly signed TD body (TDATTRIBUTES 168, XFAM 176)
  [
    "test PKI: signed TD with DEBUG set",
    () => reRooted({ editSignedRegion: (r) => setBits(r, 168, 0x01) }),
    "tdx_policy_debug_forbidden",
  ],
  [
    "test PKI: signed TD with reserved TD_ATTRIBUTES bit 29",
    () => reRooted({ editSignedRegion: (r) => setBits(r, 171, 0x20) }),
    "tdx_policy_td_attributes_reserved_bits",
  ],
  [
    "test PKI: signed TD without SEPT_VE_DISABLE",
    () => reRooted({ editSignedRegion: (r) => clearBits(r, 171, 0x10) }),
    "tdx_policy_sept_ve_disable_required",
  ],
  [
    "test PKI: signed TD whose XFAM lacks SSE",
    () => reRooted({ editSignedRegion: (r) => clearBits(r, 176, 0x02) }),
    "tdx_policy_xfam_fp_sse_required",
  ],
  [
    "test PKI: signed TD whose XFAM sets PASID (bit 10)",
    () => reRooted({ editSignedRegion: (r) => setBits(r, 177, 0x04) }),
    "tdx_policy_xfam_bits_forbidden",
  ],
  [
    "test PKI: QE identity version 3",
    () => reRooted({ editQeIdentity: (t) => replaceOnce(t, '"version":2', '"version":3') }),
    "collateral_qe_identity_version_unsupported",
  ],
  [
    "test PKI: TCB info version 4",
    () => reRooted({ editTcbInfo: (t) => replaceOnce(t, '"version":3', '"version":4') }),
    "collateral_tcb_info_version_unsupported",
  ],
];

function setBits(region: Uint8Array, offset: number, mask: number): void {
  region[offset] = (region[offset] as number) | mask;
}

function clearBits(region: Uint8Array, offset: number, mask: number): void {
  region[offset] = (region[offset] as number) & ~mask;
}

describe("named corruptions of real TDX evidence", () => {
  beforeAll(async () => {
    pki = await createTestPki();
  });

  it("has at least 40 rows", () => {
    expect(corruptions.length).toBeGreaterThanOrEqual(40);
  });

  it("the untampered evidence verifies (so every row fails for its own reason)", async () => {
    expect(await outcome(quoteBytes())).toBe("ok");
    expect(await reRooted({})).toBe("ok");
  });

  for (const [name, run, code] of corruptions) {
    it(`${name} → ${code}`, async () => {
      expect(await run()).toBe(code);
    });
  }

  it("go-tdx-guest tamper offsets in the SPR quote (signatures only at 2023-07-01)", async () => {
    const base = readVector("tdx/google-go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
    const at = (offset: number) => {
      const copy = base.slice();
      copy[offset] = 0x32;
      return outcome(copy, {
        signaturesOnly: true,
        now: new Date("2023-07-01T01:00:00Z"),
        collateral: undefined,
      });
    };
    expect(await at(0x1e)).toBe("tdx_quote_signature_invalid"); // header
    expect(await at(0x3c)).toBe("tdx_quote_signature_invalid"); // TD quote body
    expect(await at(0xb77)).toBe("certificate_signature_invalid"); // inside the PCK leaf
    expect(await at(0xf5f)).toBe("certificate_signature_invalid"); // inside the intermediate
    expect(await at(0x1329)).toBe("certificate_chain_untrusted"); // inside the root: not the pinned root
    expect(await at(0x1343)).toBe("tdx_pck_chain_malformed"); // in the PEM framing
  });

  it("a trailing-byte change is not a corruption (outside the structure)", async () => {
    const q = quoteBytes();
    expect(await outcome(concatBytes(q, new Uint8Array([1, 2, 3])))).toBe("ok");
    expect(toHex(q.subarray(4936, 4940))).toBe("00000000");
  });
});
