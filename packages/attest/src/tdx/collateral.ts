import { decodeHexPairs, fromBase64, fromHex } from "../common/bytes.js";
import { AttestArgumentError, EvidenceParseError } from "../common/errors.js";
import { pemBlocks } from "../common/x509.js";

/**
 * DCAP collateral: what Intel PCS (or a PCCS) serves to decide on a quote. Two input shapes are
 * accepted and normalised to {@link TdxCollateral}:
 *
 * - the dcap-qvl `QuoteCollateralV3` JSON used across the ecosystem (snake_case keys; `tcb_info` and
 *   `qe_identity` are the signed JSON texts, signatures and CRLs hex);
 * - a PCS container ({@link PcsCollateralInput}): the TCB info and QE identity response bodies exactly
 *   as served (`{"tcbInfo":{...},"signature":"hex"}`), the issuer chains as PEM (from the
 *   `TCB-Info-Issuer-Chain`, `SGX-Enclave-Identity-Issuer-Chain`, `SGX-PCK-CRL-Issuer-Chain` headers),
 *   and the CRLs as DER bytes, hex, base64 or PEM.
 *
 * The signed bodies are kept as the exact text that was served: signatures are checked over those
 * bytes, never over a re-serialisation.
 */

/** dcap-qvl `QuoteCollateralV3` (JSON). Byte fields may be hex strings or byte arrays. */
export interface QuoteCollateralV3 {
  readonly pck_crl_issuer_chain: string;
  readonly root_ca_crl: string | Uint8Array | readonly number[];
  readonly pck_crl: string | Uint8Array | readonly number[];
  readonly tcb_info_issuer_chain: string;
  readonly tcb_info: string;
  readonly tcb_info_signature: string | Uint8Array | readonly number[];
  readonly qe_identity_issuer_chain: string;
  readonly qe_identity: string;
  readonly qe_identity_signature: string | Uint8Array | readonly number[];
  readonly pck_certificate_chain?: string;
}

/**
 * The PCS container (documented in docs/tdx.md). `tcbInfo` / `qeIdentity` are the response bodies as
 * served (text; an already-parsed object is re-serialised with `JSON.stringify`, which only verifies
 * if it reproduces Intel's bytes exactly). CRLs: DER bytes, or text in hex, base64 or PEM.
 */
export interface PcsCollateralInput {
  readonly tcbInfo: string | object;
  readonly tcbInfoIssuerChain: string;
  readonly qeIdentity: string | object;
  readonly qeIdentityIssuerChain: string;
  readonly pckCrl: string | Uint8Array;
  readonly pckCrlIssuerChain: string;
  readonly rootCaCrl: string | Uint8Array;
}

/** Any accepted collateral input: either shape, as an object or as its JSON text. */
export type TdxCollateralInput = QuoteCollateralV3 | PcsCollateralInput | TdxCollateral | string;

/** One signed collateral document: the exact signed text and its raw r || s signature. */
export interface SignedCollateralBody {
  /** The exact JSON text of the `tcbInfo` / `enclaveIdentity` body as served. */
  readonly body: string;
  /** ECDSA P-256 signature r || s (64 bytes). */
  readonly signature: Uint8Array;
  /** PEM of the signing chain (TCB Signing certificate, root). */
  readonly issuerChain: string;
}

/** Normalised collateral. */
export interface TdxCollateral {
  readonly kind: "tdx-collateral";
  readonly tcbInfo: SignedCollateralBody;
  readonly qeIdentity: SignedCollateralBody;
  /** DER. */
  readonly pckCrl: Uint8Array;
  readonly pckCrlIssuerChain: string;
  /** DER. */
  readonly rootCaCrl: Uint8Array;
}

function malformed(message: string, cause?: unknown): never {
  throw new EvidenceParseError(
    "collateral_malformed",
    `collateral: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

function bytesField(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b < 256))
    return Uint8Array.from(value as number[]);
  if (typeof value === "string") {
    const text = value.trim();
    if (text.includes("-----BEGIN")) {
      const blocks = pemBlocks(text, "X509 CRL");
      if (blocks.length !== 1) malformed(`${name} PEM must hold exactly one X509 CRL block`);
      return blocks[0] as Uint8Array;
    }
    const direct = text.length > 0 ? decodeHexPairs(text) : undefined;
    if (direct) return direct;
    const compact = text.replace(/\s+/g, "").replace(/^0x/i, "");
    if (/^[0-9a-fA-F]*$/.test(compact) && compact.length % 2 === 0 && compact.length > 0)
      return fromHex(compact);
    try {
      return fromBase64(text);
    } catch (cause) {
      malformed(`${name} is neither hex, base64 nor PEM`, cause);
    }
  }
  return malformed(`${name} must be bytes or a hex / base64 string`);
}

function stringField(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) malformed(`${name} must be a non-empty string`);
  return value;
}

function signatureField(value: unknown, name: string): Uint8Array {
  const bytes = bytesField(value, name);
  if (bytes.length !== 64) malformed(`${name} must be a 64-byte r || s signature, got ${bytes.length} bytes`);
  return bytes;
}

/**
 * Scans `text` (a JSON object) for the top-level member `key` and returns the exact source text of
 * its value. Intel signs the served bytes of that value, so it must not be re-serialised.
 */
export function extractJsonMember(text: string, key: string): string | undefined {
  let i = skipWs(text, 0);
  if (text[i] !== "{") return undefined;
  i++;
  for (;;) {
    i = skipWs(text, i);
    if (text[i] === "}") return undefined;
    if (text[i] !== '"') return undefined;
    const keyEnd = endOfString(text, i);
    if (keyEnd < 0) return undefined;
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, keyEnd);
    if (text[i] !== ":") return undefined;
    i = skipWs(text, i + 1);
    const valueEnd = endOfValue(text, i);
    if (valueEnd < 0) return undefined;
    if (name === key) return text.slice(i, valueEnd);
    i = skipWs(text, valueEnd);
    if (text[i] === ",") i++;
    else return undefined;
  }
}

function skipWs(text: string, i: number): number {
  while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t"))
    i++;
  return i;
}

function endOfString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === "\\") j++;
    else if (c === '"') return j + 1;
  }
  return -1;
}

function endOfValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return endOfString(text, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') {
        j = endOfString(text, j) - 1;
        if (j < 0) return -1;
      } else if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length && !",}] \n\r\t".includes(text[j] as string)) j++;
  return j === i ? -1 : j;
}

function pcsBody(
  value: unknown,
  member: "tcbInfo" | "enclaveIdentity",
  issuerChain: unknown,
  name: string,
): SignedCollateralBody {
  const text =
    typeof value === "string"
      ? value
      : typeof value === "object" && value !== null
        ? JSON.stringify(value)
        : malformed(`${name} missing`);
  let parsed: { signature?: unknown };
  try {
    parsed = JSON.parse(text) as { signature?: unknown };
  } catch (cause) {
    return malformed(`${name} is not JSON`, cause);
  }
  const body = extractJsonMember(text, member);
  if (body === undefined) malformed(`${name} has no "${member}" member`);
  return {
    body,
    signature: signatureField(parsed.signature, `${name}.signature`),
    issuerChain: stringField(issuerChain, `${name} issuer chain`),
  };
}

/**
 * Normalises either collateral shape (object or JSON text) to {@link TdxCollateral}.
 *
 * @example
 * ```ts
 * const collateral = normalizeTdxCollateral(readFileSync("tdx_quote_collateral.json", "utf8"));
 * ```
 * @throws EvidenceParseError `collateral_malformed`
 */
export function normalizeTdxCollateral(input: TdxCollateralInput): TdxCollateral {
  let value: unknown = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (cause) {
      malformed("not valid JSON", cause);
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) malformed("must be a JSON object");
  const v = value as Record<string, unknown>;
  if (v.kind === "tdx-collateral") return v as unknown as TdxCollateral;
  if ("tcb_info" in v) {
    return {
      kind: "tdx-collateral",
      tcbInfo: {
        body: stringField(v.tcb_info, "tcb_info"),
        signature: signatureField(v.tcb_info_signature, "tcb_info_signature"),
        issuerChain: stringField(v.tcb_info_issuer_chain, "tcb_info_issuer_chain"),
      },
      qeIdentity: {
        body: stringField(v.qe_identity, "qe_identity"),
        signature: signatureField(v.qe_identity_signature, "qe_identity_signature"),
        issuerChain: stringField(v.qe_identity_issuer_chain, "qe_identity_issuer_chain"),
      },
      pckCrl: bytesField(v.pck_crl, "pck_crl"),
      pckCrlIssuerChain: stringField(v.pck_crl_issuer_chain, "pck_crl_issuer_chain"),
      rootCaCrl: bytesField(v.root_ca_crl, "root_ca_crl"),
    };
  }
  if ("tcbInfo" in v) {
    const known = new Set([
      "tcbInfo",
      "tcbInfoIssuerChain",
      "qeIdentity",
      "qeIdentityIssuerChain",
      "pckCrl",
      "pckCrlIssuerChain",
      "rootCaCrl",
    ]);
    for (const key of Object.keys(v))
      if (!known.has(key)) malformed(`unknown key "${key}" in the PCS container`);
    return {
      kind: "tdx-collateral",
      tcbInfo: pcsBody(v.tcbInfo, "tcbInfo", v.tcbInfoIssuerChain, "tcbInfo"),
      qeIdentity: pcsBody(v.qeIdentity, "enclaveIdentity", v.qeIdentityIssuerChain, "qeIdentity"),
      pckCrl: bytesField(v.pckCrl, "pckCrl"),
      pckCrlIssuerChain: stringField(v.pckCrlIssuerChain, "pckCrlIssuerChain"),
      rootCaCrl: bytesField(v.rootCaCrl, "rootCaCrl"),
    };
  }
  return malformed(
    'unrecognised shape: expected dcap-qvl QuoteCollateralV3 ("tcb_info", ...) or the PCS container ("tcbInfo", ...)',
  );
}

// ---------------------------------------------------------------------------------------------
// TCB info (v2 SGX, v3 SGX/TDX) and QE identity (v2)

/** TCB status values Intel uses in TCB info and QE identity levels. */
export const TCB_LEVEL_STATUSES = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
] as const;

/** One of {@link TCB_LEVEL_STATUSES}. */
export type TcbLevelStatus = (typeof TCB_LEVEL_STATUSES)[number];

const LEVEL_STATUSES: ReadonlySet<string> = new Set(TCB_LEVEL_STATUSES);

export interface PlatformTcbLevel {
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  /** TDX TCB info only. */
  readonly tdxComponents: readonly number[] | null;
  readonly tcbDate: string;
  readonly tcbStatus: TcbLevelStatus;
  readonly advisoryIds: readonly string[];
}

export interface IsvTcbLevel {
  readonly isvSvn: number;
  readonly tcbDate: string;
  readonly tcbStatus: TcbLevelStatus;
  readonly advisoryIds: readonly string[];
}

export interface TdxModuleIdentity {
  readonly id: string;
  readonly mrSigner: Uint8Array;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  readonly tcbLevels: readonly IsvTcbLevel[];
}

/** A parsed TCB info (`tcbInfo` body). */
export interface TcbInfo {
  readonly id: "SGX" | "TDX";
  readonly version: number;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  /** 6 bytes. */
  readonly fmspc: Uint8Array;
  /** 2 bytes. */
  readonly pceId: Uint8Array;
  readonly tcbType: number;
  readonly tcbEvaluationDataNumber: number;
  readonly tdxModule: {
    readonly mrSigner: Uint8Array;
    readonly attributes: Uint8Array;
    readonly attributesMask: Uint8Array;
  } | null;
  readonly tdxModuleIdentities: readonly TdxModuleIdentity[] | null;
  readonly tcbLevels: readonly PlatformTcbLevel[];
}

/** A parsed QE identity (`enclaveIdentity` body, version 2). */
export interface QeIdentity {
  readonly id: string;
  readonly version: number;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber: number;
  readonly miscSelect: number;
  readonly miscSelectMask: number;
  /** 16 bytes. */
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  /** 32 bytes. */
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly tcbLevels: readonly IsvTcbLevel[];
}

type Json = Record<string, unknown>;

function obj(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    malformed(`${what} must be an object`);
  return value as Json;
}

function num(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    malformed(`${what} must be a non-negative integer`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== "string") malformed(`${what} must be a string`);
  return value;
}

function hexBytes(value: unknown, size: number, what: string): Uint8Array {
  const text = str(value, what);
  const bytes = text.length === size * 2 ? decodeHexPairs(text) : undefined;
  if (!bytes) malformed(`${what} must be ${size} bytes of hex`);
  return bytes;
}

function date(value: unknown, what: string): Date {
  const d = new Date(str(value, what));
  if (Number.isNaN(d.getTime())) malformed(`${what} is not a date`);
  return d;
}

function status(value: unknown, what: string): TcbLevelStatus {
  const s = str(value, what);
  if (!LEVEL_STATUSES.has(s)) malformed(`${what} "${s}" is not a known TCB status`);
  return s as TcbLevelStatus;
}

function advisories(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((a) => typeof a === "string"))
    malformed(`${what} must be an array of strings`);
  return value as string[];
}

function components(value: unknown, what: string): number[] {
  if (!Array.isArray(value)) malformed(`${what} must be an array`);
  if (value.length !== 16) malformed(`${what} must have 16 components, got ${value.length}`);
  return value.map((c, i) => num(obj(c, `${what}[${i}]`).svn, `${what}[${i}].svn`));
}

function isvLevels(value: unknown, what: string): IsvTcbLevel[] {
  if (!Array.isArray(value) || value.length === 0) malformed(`${what} must be a non-empty array`);
  return value.map((entry, i) => {
    const level = obj(entry, `${what}[${i}]`);
    return {
      isvSvn: num(obj(level.tcb, `${what}[${i}].tcb`).isvsvn, `${what}[${i}].tcb.isvsvn`),
      tcbDate: str(level.tcbDate, `${what}[${i}].tcbDate`),
      tcbStatus: status(level.tcbStatus, `${what}[${i}].tcbStatus`),
      advisoryIds: advisories(level.advisoryIDs, `${what}[${i}].advisoryIDs`),
    };
  });
}

function parseJson(text: string, what: string): Json {
  try {
    return obj(JSON.parse(text), what);
  } catch (cause) {
    if (cause instanceof EvidenceParseError) throw cause;
    return malformed(`${what} is not valid JSON`, cause);
  }
}

/**
 * Parses the `tcbInfo` body: SGX v2 (`sgxtcbcompNNsvn` fields), SGX v3 and TDX v3 (component arrays,
 * `tdxModule`, `tdxModuleIdentities`).
 * @throws EvidenceParseError `collateral_tcb_info_version_unsupported`, `collateral_malformed`
 */
export function parseTcbInfo(body: string): TcbInfo {
  const t = parseJson(body, "tcbInfo");
  const id = str(t.id ?? "SGX", "tcbInfo.id");
  if (id !== "SGX" && id !== "TDX") malformed(`tcbInfo.id "${id}" is not SGX or TDX`);
  const version = num(t.version, "tcbInfo.version");
  if (version !== 2 && version !== 3)
    throw new EvidenceParseError(
      "collateral_tcb_info_version_unsupported",
      `collateral: tcbInfo.version ${version} is not supported (2, 3)`,
      { details: { version } },
    );
  const levelsRaw = t.tcbLevels;
  if (!Array.isArray(levelsRaw) || levelsRaw.length === 0)
    malformed("tcbInfo.tcbLevels must be a non-empty array");
  const tcbLevels: PlatformTcbLevel[] = levelsRaw.map((entry, i) => {
    const what = `tcbInfo.tcbLevels[${i}]`;
    const level = obj(entry, what);
    const tcb = obj(level.tcb, `${what}.tcb`);
    let sgxComponents: number[];
    if (version === 2) {
      sgxComponents = [];
      for (let c = 1; c <= 16; c++)
        sgxComponents.push(
          num(tcb[`sgxtcbcomp${String(c).padStart(2, "0")}svn`], `${what}.tcb.sgxtcbcomp${c}svn`),
        );
    } else sgxComponents = components(tcb.sgxtcbcomponents, `${what}.tcb.sgxtcbcomponents`);
    return {
      sgxComponents,
      pceSvn: num(tcb.pcesvn, `${what}.tcb.pcesvn`),
      tdxComponents: id === "TDX" ? components(tcb.tdxtcbcomponents, `${what}.tcb.tdxtcbcomponents`) : null,
      tcbDate: str(level.tcbDate, `${what}.tcbDate`),
      tcbStatus: status(level.tcbStatus, `${what}.tcbStatus`),
      advisoryIds: advisories(level.advisoryIDs, `${what}.advisoryIDs`),
    };
  });
  let tdxModule: TcbInfo["tdxModule"] = null;
  if (t.tdxModule !== undefined) {
    const m = obj(t.tdxModule, "tcbInfo.tdxModule");
    tdxModule = {
      mrSigner: hexBytes(m.mrsigner, 48, "tdxModule.mrsigner"),
      attributes: hexBytes(m.attributes, 8, "tdxModule.attributes"),
      attributesMask: hexBytes(m.attributesMask, 8, "tdxModule.attributesMask"),
    };
  }
  let tdxModuleIdentities: TdxModuleIdentity[] | null = null;
  if (t.tdxModuleIdentities !== undefined) {
    if (!Array.isArray(t.tdxModuleIdentities)) malformed("tcbInfo.tdxModuleIdentities must be an array");
    tdxModuleIdentities = t.tdxModuleIdentities.map((entry, i) => {
      const what = `tcbInfo.tdxModuleIdentities[${i}]`;
      const m = obj(entry, what);
      return {
        id: str(m.id, `${what}.id`),
        mrSigner: hexBytes(m.mrsigner, 48, `${what}.mrsigner`),
        attributes: hexBytes(m.attributes, 8, `${what}.attributes`),
        attributesMask: hexBytes(m.attributesMask, 8, `${what}.attributesMask`),
        tcbLevels: isvLevels(m.tcbLevels, `${what}.tcbLevels`),
      };
    });
  }
  if (id === "TDX" && version < 3) malformed("a TDX tcbInfo must be version 3");
  return {
    id,
    version,
    issueDate: date(t.issueDate, "tcbInfo.issueDate"),
    nextUpdate: date(t.nextUpdate, "tcbInfo.nextUpdate"),
    fmspc: hexBytes(t.fmspc, 6, "tcbInfo.fmspc"),
    pceId: hexBytes(t.pceId, 2, "tcbInfo.pceId"),
    tcbType: num(t.tcbType ?? 0, "tcbInfo.tcbType"),
    tcbEvaluationDataNumber: num(t.tcbEvaluationDataNumber ?? 0, "tcbInfo.tcbEvaluationDataNumber"),
    tdxModule,
    tdxModuleIdentities,
    tcbLevels,
  };
}

/**
 * Parses the `enclaveIdentity` body (QE identity v2; ids `QE` for SGX, `TD_QE` for TDX).
 * @throws EvidenceParseError `collateral_qe_identity_version_unsupported`, `collateral_malformed`
 */
export function parseQeIdentity(body: string): QeIdentity {
  const q = parseJson(body, "enclaveIdentity");
  const version = num(q.version, "enclaveIdentity.version");
  if (version !== 2)
    throw new EvidenceParseError(
      "collateral_qe_identity_version_unsupported",
      `collateral: enclaveIdentity.version ${version} is not supported (2)`,
      { details: { version } },
    );
  const misc = hexBytes(q.miscselect, 4, "enclaveIdentity.miscselect");
  const miscMask = hexBytes(q.miscselectMask, 4, "enclaveIdentity.miscselectMask");
  // The hex bytes are in report byte order, so they read little-endian like the report field (as dcap-qvl does).
  const le = (b: Uint8Array) =>
    (((b[3] as number) << 24) | ((b[2] as number) << 16) | ((b[1] as number) << 8) | (b[0] as number)) >>> 0;
  return {
    id: str(q.id, "enclaveIdentity.id"),
    version,
    issueDate: date(q.issueDate, "enclaveIdentity.issueDate"),
    nextUpdate: date(q.nextUpdate, "enclaveIdentity.nextUpdate"),
    tcbEvaluationDataNumber: num(q.tcbEvaluationDataNumber ?? 0, "enclaveIdentity.tcbEvaluationDataNumber"),
    miscSelect: le(misc),
    miscSelectMask: le(miscMask),
    attributes: hexBytes(q.attributes, 16, "enclaveIdentity.attributes"),
    attributesMask: hexBytes(q.attributesMask, 16, "enclaveIdentity.attributesMask"),
    mrSigner: hexBytes(q.mrsigner, 32, "enclaveIdentity.mrsigner"),
    isvProdId: num(q.isvprodid, "enclaveIdentity.isvprodid"),
    tcbLevels: isvLevels(q.tcbLevels, "enclaveIdentity.tcbLevels"),
  };
}

/** Throws the argument error for a collateral value of the wrong type (programming error). */
export function assertCollateralInput(value: unknown): asserts value is TdxCollateralInput {
  if (typeof value !== "string" && (typeof value !== "object" || value === null)) {
    throw new AttestArgumentError(
      "collateral_argument_invalid",
      "collateral must be an object or its JSON text",
    );
  }
}
