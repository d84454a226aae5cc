import { ByteReader } from "../common/bytes.js";
import { EvidenceParseError } from "../common/errors.js";
import type { TdxErrorCode } from "./error-codes.js";
import { type FieldLayout, TD_REPORT_BODY, TDX_QUOTE_HEADER } from "./layout.js";

/**
 * Intel DCAP quote parser: SGX quote v3, quote v4 (TDX 1.0 and SGX) and quote v5 (SGX, TD 1.0 and
 * TD 1.5 bodies), ECDSA P-256 attestation keys, certification data type 6 (QE report certification
 * data) wrapping type 5 (PCK certificate chain), or type 5 directly in v3 quotes.
 *
 * Every length comes from the structure (header, body type, signature-data length, certification
 * data sizes), never from the size of the input: bytes after the signature data are accepted (real
 * quotes carry zero padding, and go-tdx-guest's SPR sample 39 bytes of text) and counted in
 * {@link TdxQuote.trailingBytes}.
 */

/** TEE type in the quote header. */
export const TEE_TYPE_SGX = 0x00000000;
export const TEE_TYPE_TDX = 0x00000081;
/** Attestation key type 2: ECDSA-256 with P-256. */
export const ATTESTATION_KEY_TYPE_ECDSA_P256 = 2;
/** Intel's QE vendor id (939a7233-f79c-4ca9-940a-0db3957f0607). */
export const INTEL_QE_VENDOR_ID = "939a7233f79c4ca9940a0db3957f0607";

const HEADER_SIZE = TDX_QUOTE_HEADER.size;
const SGX_REPORT_SIZE = 384;
const TD10_REPORT_SIZE = TD_REPORT_BODY.size10;
const TD15_REPORT_SIZE = TD_REPORT_BODY.size15;
const BODY_DESCRIPTOR_SIZE = 6;
const ECDSA_SIGNATURE_SIZE = 64;
const ATTESTATION_KEY_SIZE = 64;

/** Certification data types (Intel DCAP quote format). */
export const CERT_DATA_PCK_CHAIN = 5;
export const CERT_DATA_QE_REPORT = 6;

/** The 48-byte quote header. */
export interface TdxQuoteHeader {
  readonly version: number;
  readonly attestationKeyType: number;
  readonly teeType: number;
  readonly qeSvn: number;
  readonly pceSvn: number;
  readonly qeVendorId: Uint8Array;
  readonly userData: Uint8Array;
}

/** SGX enclave report body (384 bytes): the application enclave of an SGX quote, and every QE report. */
export interface SgxReportBody {
  readonly kind: "sgx";
  readonly raw: Uint8Array;
  readonly cpuSvn: Uint8Array;
  readonly miscSelect: number;
  /** 16 bytes: flags (8, LE) then XFRM (8). */
  readonly attributes: Uint8Array;
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly reportData: Uint8Array;
}

/** TD report body: TD 1.0 (584 bytes) or TD 1.5 (648 bytes, adds TEE_TCB_SVN2 and MRSERVICETD). */
export interface TdReportBody {
  readonly kind: "td10" | "td15";
  readonly raw: Uint8Array;
  readonly teeTcbSvn: Uint8Array;
  readonly mrSeam: Uint8Array;
  readonly mrSignerSeam: Uint8Array;
  readonly seamAttributes: Uint8Array;
  readonly tdAttributes: Uint8Array;
  readonly xfam: Uint8Array;
  readonly mrTd: Uint8Array;
  readonly mrConfigId: Uint8Array;
  readonly mrOwner: Uint8Array;
  readonly mrOwnerConfig: Uint8Array;
  readonly rtmr0: Uint8Array;
  readonly rtmr1: Uint8Array;
  readonly rtmr2: Uint8Array;
  readonly rtmr3: Uint8Array;
  readonly reportData: Uint8Array;
  /** TD 1.5 only. */
  readonly teeTcbSvn2: Uint8Array | null;
  /** TD 1.5 only. */
  readonly mrServiceTd: Uint8Array | null;
}

/** The ECDSA signature data that follows the signed region. */
export interface TdxQuoteSignatureData {
  /** r || s over SHA-256 of the signed region. */
  readonly signature: Uint8Array;
  /** Attestation public key x || y. */
  readonly attestationKey: Uint8Array;
  /** The QE report (raw 384 bytes, parsed) that binds the attestation key. */
  readonly qeReport: SgxReportBody;
  /** r || s by the PCK leaf key over the raw QE report. */
  readonly qeReportSignature: Uint8Array;
  readonly qeAuthData: Uint8Array;
  /** Type of the outer certification data: 6 for v4/v5, 5 for v3. */
  readonly certificationDataType: number;
  /** The PEM text bytes of the PCK chain (certification data type 5). */
  readonly pckChain: Uint8Array;
}

/** A parsed DCAP quote. Readonly; byte fields are views of the input. */
export interface TdxQuote {
  readonly header: TdxQuoteHeader;
  /** "tdx" for TEE type 0x81, "sgx" for TEE type 0. */
  readonly kind: "tdx" | "sgx";
  /** v5 body type (1 SGX, 2 TD 1.0, 3 TD 1.5); implied for v3/v4. */
  readonly bodyType: number;
  readonly body: TdReportBody | SgxReportBody;
  /** The exact bytes the attestation key signed: header (+ v5 body descriptor) + body. */
  readonly signedRegion: Uint8Array;
  readonly signatureData: TdxQuoteSignatureData;
  /** Length of the quote as the structure defines it. */
  readonly length: number;
  /** Bytes after the quote's structure (padding); accepted, but reported. */
  readonly trailingBytes: number;
  /** The whole input. */
  readonly raw: Uint8Array;
}

function fail(code: TdxErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new EvidenceParseError(code, message, details ? { details } : undefined);
}

/**
 * Parses a 384-byte SGX report body (enclave report or QE report).
 * @throws EvidenceParseError `tdx_quote_truncated`
 */
export function parseSgxReportBody(bytes: Uint8Array, what = "SGX report"): SgxReportBody {
  const r = new ByteReader(bytes, what, "tdx_quote_truncated");
  r.need(0, SGX_REPORT_SIZE, what);
  return {
    kind: "sgx",
    raw: r.slice(0, SGX_REPORT_SIZE, what),
    cpuSvn: r.slice(0, 16, "cpu_svn"),
    miscSelect: r.u32(16, "misc_select"),
    attributes: r.slice(48, 16, "attributes"),
    mrEnclave: r.slice(64, 32, "mr_enclave"),
    mrSigner: r.slice(128, 32, "mr_signer"),
    isvProdId: r.u16(256, "isv_prod_id"),
    isvSvn: r.u16(258, "isv_svn"),
    reportData: r.slice(320, 64, "report_data"),
  };
}

function parseTdReportBody(r: ByteReader, offset: number, kind: "td10" | "td15"): TdReportBody {
  const size = kind === "td10" ? TD10_REPORT_SIZE : TD15_REPORT_SIZE;
  r.need(offset, size, `TD report body (${size} bytes)`);
  const at = (field: FieldLayout, name: string) => r.slice(offset + field.offset, field.size, name);
  const L = TD_REPORT_BODY;
  return {
    kind,
    raw: r.slice(offset, size, "td_report_body"),
    teeTcbSvn: at(L.teeTcbSvn, "tee_tcb_svn"),
    mrSeam: at(L.mrSeam, "mr_seam"),
    mrSignerSeam: at(L.mrSignerSeam, "mr_signer_seam"),
    seamAttributes: at(L.seamAttributes, "seam_attributes"),
    tdAttributes: at(L.tdAttributes, "td_attributes"),
    xfam: at(L.xfam, "xfam"),
    mrTd: at(L.mrTd, "mr_td"),
    mrConfigId: at(L.mrConfigId, "mr_config_id"),
    mrOwner: at(L.mrOwner, "mr_owner"),
    mrOwnerConfig: at(L.mrOwnerConfig, "mr_owner_config"),
    rtmr0: at(L.rtmr0, "rtmr0"),
    rtmr1: at(L.rtmr1, "rtmr1"),
    rtmr2: at(L.rtmr2, "rtmr2"),
    rtmr3: at(L.rtmr3, "rtmr3"),
    reportData: at(L.reportData, "report_data"),
    teeTcbSvn2: kind === "td15" ? at(L.teeTcbSvn2, "tee_tcb_svn_2") : null,
    mrServiceTd: kind === "td15" ? at(L.mrServiceTd, "mr_service_td") : null,
  };
}

/**
 * Parses a DCAP quote (SGX v3, v4, v5) with an ECDSA P-256 attestation key.
 *
 * @example
 * ```ts
 * import { parseTdxQuote } from "@peercycles/attest/tdx";
 * const quote = parseTdxQuote(bytes);
 * if (quote.body.kind !== "sgx") console.log(toHex(quote.body.mrTd));
 * ```
 * @throws EvidenceParseError `tdx_quote_truncated`, `tdx_quote_version_unsupported`,
 *   `tdx_attestation_key_type_unsupported`, `tdx_tee_type_unsupported`, `tdx_body_type_unsupported`,
 *   `tdx_signature_data_length_invalid`, `tdx_cert_data_type_unsupported`, `tdx_cert_data_length_invalid`
 */
export function parseTdxQuote(bytes: Uint8Array): TdxQuote {
  if (!(bytes instanceof Uint8Array)) fail("tdx_quote_truncated", "quote must be a Uint8Array");
  const r = new ByteReader(bytes, "DCAP quote", "tdx_quote_truncated");
  r.need(0, HEADER_SIZE, "header");
  const version = r.u16(TDX_QUOTE_HEADER.version.offset, "version");
  const attestationKeyType = r.u16(TDX_QUOTE_HEADER.attestationKeyType.offset, "att_key_type");
  const teeType = r.u32(TDX_QUOTE_HEADER.teeType.offset, "tee_type");
  if (version !== 3 && version !== 4 && version !== 5) {
    fail("tdx_quote_version_unsupported", `quote version ${version} is not supported (3, 4, 5)`, { version });
  }
  if (attestationKeyType !== ATTESTATION_KEY_TYPE_ECDSA_P256) {
    fail(
      "tdx_attestation_key_type_unsupported",
      `attestation key type ${attestationKeyType} is not supported (2 = ECDSA P-256)`,
    );
  }
  if (teeType !== TEE_TYPE_SGX && teeType !== TEE_TYPE_TDX) {
    fail(
      "tdx_tee_type_unsupported",
      `TEE type 0x${teeType.toString(16)} is not supported (0x0 SGX, 0x81 TDX)`,
    );
  }
  if (version === 3 && teeType !== TEE_TYPE_SGX) {
    fail("tdx_quote_version_unsupported", "quote v3 is SGX only but the TEE type is TDX");
  }
  const header: TdxQuoteHeader = {
    version,
    attestationKeyType,
    teeType,
    qeSvn: r.u16(TDX_QUOTE_HEADER.qeSvn.offset, "qe_svn"),
    pceSvn: r.u16(TDX_QUOTE_HEADER.pceSvn.offset, "pce_svn"),
    qeVendorId: r.slice(TDX_QUOTE_HEADER.qeVendorId.offset, TDX_QUOTE_HEADER.qeVendorId.size, "qe_vendor_id"),
    userData: r.slice(TDX_QUOTE_HEADER.userData.offset, TDX_QUOTE_HEADER.userData.size, "user_data"),
  };
  const kind = teeType === TEE_TYPE_TDX ? "tdx" : "sgx";

  let bodyType: number;
  let bodyOffset = HEADER_SIZE;
  let bodySize: number;
  if (version === 5) {
    bodyType = r.u16(HEADER_SIZE, "body type");
    bodySize = r.u32(HEADER_SIZE + 2, "body size");
    bodyOffset = HEADER_SIZE + BODY_DESCRIPTOR_SIZE;
    const expected =
      bodyType === 1
        ? SGX_REPORT_SIZE
        : bodyType === 2
          ? TD10_REPORT_SIZE
          : bodyType === 3
            ? TD15_REPORT_SIZE
            : -1;
    if (expected < 0)
      fail(
        "tdx_body_type_unsupported",
        `quote v5 body type ${bodyType} is not supported (1 SGX, 2 TD 1.0, 3 TD 1.5)`,
      );
    if ((bodyType === 1) !== (kind === "sgx")) {
      fail(
        "tdx_body_type_unsupported",
        `quote v5 body type ${bodyType} does not match TEE type 0x${teeType.toString(16)}`,
      );
    }
    if (bodySize !== expected) {
      fail(
        "tdx_body_type_unsupported",
        `quote v5 body type ${bodyType} must be ${expected} bytes, the descriptor says ${bodySize}`,
      );
    }
  } else {
    bodyType = kind === "sgx" ? 1 : 2;
    bodySize = kind === "sgx" ? SGX_REPORT_SIZE : TD10_REPORT_SIZE;
  }
  r.need(bodyOffset, bodySize, "report body");
  const body =
    bodyType === 1
      ? parseSgxReportBody(r.slice(bodyOffset, bodySize, "report body"), "SGX report body")
      : parseTdReportBody(r, bodyOffset, bodyType === 2 ? "td10" : "td15");
  const signedLength = bodyOffset + bodySize;
  const signedRegion = r.slice(0, signedLength, "signed region");

  const signatureDataLength = r.u32(signedLength, "signature data length");
  const sigStart = signedLength + 4;
  r.need(sigStart, signatureDataLength, "signature data");
  const sig = new ByteReader(
    r.slice(sigStart, signatureDataLength, "signature data"),
    "quote signature data",
    "tdx_quote_truncated",
  );
  const signature = sig.slice(0, ECDSA_SIGNATURE_SIZE, "quote signature");
  const attestationKey = sig.slice(ECDSA_SIGNATURE_SIZE, ATTESTATION_KEY_SIZE, "attestation key");
  let offset = ECDSA_SIGNATURE_SIZE + ATTESTATION_KEY_SIZE;

  // v4/v5: a type-6 block wraps the QE report data; v3 carries the QE report data inline.
  let qeData: ByteReader = sig;
  const certificationDataType =
    version === 3 ? CERT_DATA_PCK_CHAIN : sig.u16(offset, "certification data type");
  if (version !== 3) {
    const outerSize = sig.u32(offset + 2, "certification data size");
    if (certificationDataType !== CERT_DATA_QE_REPORT) {
      fail(
        "tdx_cert_data_type_unsupported",
        `certification data type ${certificationDataType} is not supported (6 = QE report certification data)`,
      );
    }
    offset += 6;
    if (offset + outerSize !== signatureDataLength) {
      fail(
        "tdx_signature_data_length_invalid",
        `signature data is ${signatureDataLength} bytes but its certification data declares ${outerSize} (expected ${signatureDataLength - offset})`,
        { signatureDataLength, certificationDataSize: outerSize },
      );
    }
    qeData = new ByteReader(
      sig.slice(offset, outerSize, "QE report certification data"),
      "QE report certification data",
      "tdx_quote_truncated",
    );
    offset = 0;
  }
  const qeReportRaw = qeData.slice(offset, SGX_REPORT_SIZE, "QE report");
  const qeReport = parseSgxReportBody(qeReportRaw, "QE report");
  offset += SGX_REPORT_SIZE;
  const qeReportSignature = qeData.slice(offset, ECDSA_SIGNATURE_SIZE, "QE report signature");
  offset += ECDSA_SIGNATURE_SIZE;
  const authLength = qeData.u16(offset, "QE authentication data length");
  offset += 2;
  const qeAuthData = qeData.slice(offset, authLength, "QE authentication data");
  offset += authLength;
  const innerType = qeData.u16(offset, "PCK certification data type");
  const innerSize = qeData.u32(offset + 2, "PCK certification data size");
  offset += 6;
  if (innerType !== CERT_DATA_PCK_CHAIN) {
    fail(
      "tdx_cert_data_type_unsupported",
      `PCK certification data type ${innerType} is not supported (5 = PCK certificate chain)`,
    );
  }
  if (offset + innerSize !== qeData.length) {
    fail(
      "tdx_cert_data_length_invalid",
      `PCK certification data declares ${innerSize} bytes but ${qeData.length - offset} remain in its container`,
      { declared: innerSize, available: qeData.length - offset },
    );
  }
  const pckChain = qeData.slice(offset, innerSize, "PCK certificate chain");
  const length = sigStart + signatureDataLength;
  return {
    header,
    kind,
    bodyType,
    body,
    signedRegion,
    signatureData: {
      signature,
      attestationKey,
      qeReport,
      qeReportSignature,
      qeAuthData,
      certificationDataType,
      pckChain,
    },
    length,
    trailingBytes: bytes.length - length,
    raw: bytes,
  };
}

/** Alias of {@link parseTdxQuote}. */
export const parseQuote = parseTdxQuote;
