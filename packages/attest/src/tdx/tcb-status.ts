import { equalBytes, toHex } from "../common/bytes.js";
import { EvidenceInvalidError } from "../common/errors.js";
import {
  type IsvTcbLevel,
  type PlatformTcbLevel,
  type QeIdentity,
  TCB_LEVEL_STATUSES,
  type TcbInfo,
  type TcbLevelStatus,
} from "./collateral.js";
import type { TdxErrorCode } from "./error-codes.js";
import type { PckExtensions } from "./pck-extensions.js";
import type { SgxReportBody, TdxQuote } from "./quote.js";

/**
 * TCB status evaluation, following Intel's QVL (and the reading of it in dcap-qvl, go-tdx-guest and
 * Automata's DCAP verifier):
 *
 * 1. Platform level: the first level of `tcbLevels` (Intel orders them newest first) whose 16 SGX
 *    components and PCESVN are each ≤ the PCK certificate's, and, for TDX, whose 16 TDX components are
 *    ≤ the quote's TEE_TCB_SVN. When the TDX module major version `tee_tcb_svn[1]` is > 0 and the TCB
 *    info lists `tdxModuleIdentities`, components 0 and 1 (the module's SVN and version) are left to
 *    the module identity and the comparison starts at index 2.
 * 2. TDX module: identity `TDX_%02d` of that major version (MRSIGNERSEAM and SEAM attributes under
 *    the mask), and its first level with `isvsvn` ≤ `tee_tcb_svn[0]`. With major version 0, or without
 *    `tdxModuleIdentities`, MRSIGNERSEAM and SEAM attributes are checked against `tdxModule`.
 * 3. QE: the first QE identity level with `isvsvn` ≤ the QE report's ISVSVN.
 * 4. Convergence: module then QE status are folded into the platform status as QVL's
 *    `convergeTcbStatusWithQeTcbStatus` does: an OutOfDate module/QE turns UpToDate and
 *    SWHardeningNeeded into OutOfDate and the Configuration* statuses into OutOfDateConfigurationNeeded;
 *    Revoked anywhere gives Revoked. Advisory ids are the union, in order of appearance.
 */

/** The overall status, or `NotEvaluated` when only signatures were checked. */
export type TcbStatus = TcbLevelStatus | "NotEvaluated";

/** Every status value, for documentation and validation. */
export const TCB_STATUSES: readonly TcbStatus[] = [...TCB_LEVEL_STATUSES, "NotEvaluated"];

export interface LevelMatch {
  readonly status: TcbLevelStatus;
  readonly tcbDate: string;
  readonly advisoryIds: readonly string[];
}

/** What {@link evaluateTcbStatus} found. */
export interface TcbEvaluation {
  /** Converged status (platform, TDX module, QE). */
  readonly status: TcbLevelStatus;
  readonly advisoryIds: readonly string[];
  readonly platform: LevelMatch;
  /** Null when the TDX module was not evaluated separately (SGX quotes, module major version 0). */
  readonly tdxModule: (LevelMatch & { readonly id: string; readonly isvSvn: number }) | null;
  readonly qe: LevelMatch & { readonly isvSvn: number };
}

export interface TcbEvaluationInput {
  readonly quote: TdxQuote;
  readonly pck: PckExtensions;
  readonly tcbInfo: TcbInfo;
  readonly qeIdentity: QeIdentity;
}

function invalid(code: TdxErrorCode, message: string): never {
  throw new EvidenceInvalidError(code, message);
}

function atLeast(actual: ArrayLike<number>, required: readonly number[], from: number): boolean {
  for (let i = from; i < required.length; i++)
    if ((actual[i] as number) < (required[i] as number)) return false;
  return true;
}

function converge(platform: TcbLevelStatus, other: TcbLevelStatus): TcbLevelStatus {
  if (platform === "Revoked" || other === "Revoked") return "Revoked";
  if (other === "OutOfDate" || other === "OutOfDateConfigurationNeeded") {
    if (platform === "UpToDate" || platform === "SWHardeningNeeded") return "OutOfDate";
    if (platform === "ConfigurationNeeded" || platform === "ConfigurationAndSWHardeningNeeded")
      return "OutOfDateConfigurationNeeded";
  }
  return platform;
}

function firstIsvLevel(levels: readonly IsvTcbLevel[], isvSvn: number): IsvTcbLevel | undefined {
  return levels.find((level) => level.isvSvn <= isvSvn);
}

function masked(a: Uint8Array, mask: Uint8Array): Uint8Array {
  return a.map((b, i) => b & (mask[i] ?? 0));
}

/**
 * Checks the QE report against the QE identity (id for the TEE type, MRSIGNER, ISVPRODID, MISCSELECT
 * and ATTRIBUTES under their masks) and returns its TCB level.
 * @throws EvidenceInvalidError `tdx_qe_identity_id_mismatch`, `tdx_qe_mrsigner_mismatch`,
 *   `tdx_qe_isvprodid_mismatch`, `tdx_qe_miscselect_mismatch`, `tdx_qe_attributes_mismatch`,
 *   `tdx_qe_tcb_level_not_found`
 */
export function matchQeIdentity(
  qeReport: SgxReportBody,
  qeIdentity: QeIdentity,
  kind: "tdx" | "sgx",
): LevelMatch & { isvSvn: number } {
  const expectedId = kind === "tdx" ? "TD_QE" : "QE";
  if (qeIdentity.id !== expectedId)
    invalid(
      "tdx_qe_identity_id_mismatch",
      `QE identity id is "${qeIdentity.id}", a ${kind.toUpperCase()} quote needs "${expectedId}"`,
    );
  if (!equalBytes(qeReport.mrSigner, qeIdentity.mrSigner)) {
    invalid(
      "tdx_qe_mrsigner_mismatch",
      `QE MRSIGNER ${toHex(qeReport.mrSigner)} is not the QE identity's ${toHex(qeIdentity.mrSigner)}`,
    );
  }
  if (qeReport.isvProdId !== qeIdentity.isvProdId) {
    invalid(
      "tdx_qe_isvprodid_mismatch",
      `QE ISVPRODID ${qeReport.isvProdId} is not the QE identity's ${qeIdentity.isvProdId}`,
    );
  }
  if (
    (qeReport.miscSelect & qeIdentity.miscSelectMask) >>> 0 !==
    (qeIdentity.miscSelect & qeIdentity.miscSelectMask) >>> 0
  ) {
    invalid("tdx_qe_miscselect_mismatch", "QE MISCSELECT does not match the QE identity under its mask");
  }
  if (
    !equalBytes(
      masked(qeReport.attributes, qeIdentity.attributesMask),
      masked(qeIdentity.attributes, qeIdentity.attributesMask),
    )
  ) {
    invalid("tdx_qe_attributes_mismatch", "QE ATTRIBUTES do not match the QE identity under its mask");
  }
  const level = firstIsvLevel(qeIdentity.tcbLevels, qeReport.isvSvn);
  if (!level)
    invalid("tdx_qe_tcb_level_not_found", `no QE identity TCB level matches QE ISVSVN ${qeReport.isvSvn}`);
  return {
    status: level.tcbStatus,
    tcbDate: level.tcbDate,
    advisoryIds: level.advisoryIds,
    isvSvn: qeReport.isvSvn,
  };
}

/**
 * Evaluates the TCB status of a quote against verified TCB info and QE identity.
 *
 * @example
 * ```ts
 * const tcb = evaluateTcbStatus({ quote, pck: parsePckExtensions(leaf), tcbInfo, qeIdentity });
 * tcb.status; // "UpToDate"
 * ```
 * @throws EvidenceInvalidError `tdx_tcb_level_not_found`, `tdx_tcb_info_type_mismatch`,
 *   `tdx_module_identity_not_found`, `tdx_module_mrsigner_mismatch`, `tdx_module_attributes_mismatch`,
 *   `tdx_module_tcb_level_not_found`, and the QE identity codes of {@link matchQeIdentity}
 */
export function evaluateTcbStatus(input: TcbEvaluationInput): TcbEvaluation {
  const { quote, pck, tcbInfo, qeIdentity } = input;
  if (quote.kind === "tdx" && tcbInfo.id !== "TDX")
    invalid("tdx_tcb_info_type_mismatch", `a TDX quote needs TDX TCB info, got "${tcbInfo.id}"`);
  if (quote.kind === "sgx" && tcbInfo.id !== "SGX")
    invalid("tdx_tcb_info_type_mismatch", `an SGX quote needs SGX TCB info, got "${tcbInfo.id}"`);

  let tdxModule: TcbEvaluation["tdxModule"] = null;
  let tdxFrom = 0;
  const body = quote.body;
  if (body.kind !== "sgx") {
    const moduleSvn = body.teeTcbSvn[0] as number;
    const moduleVersion = body.teeTcbSvn[1] as number;
    const identities = tcbInfo.tdxModuleIdentities;
    if (moduleVersion > 0 && identities && identities.length > 0) {
      tdxFrom = 2;
      const id = `TDX_${String(moduleVersion).padStart(2, "0")}`;
      const identity = identities.find((m) => m.id.toUpperCase() === id);
      if (!identity) invalid("tdx_module_identity_not_found", `TCB info has no TDX module identity ${id}`);
      checkModule(body.mrSignerSeam, body.seamAttributes, identity, id);
      const level = firstIsvLevel(identity.tcbLevels, moduleSvn);
      if (!level)
        invalid(
          "tdx_module_tcb_level_not_found",
          `no ${id} TCB level matches TDX module ISVSVN ${moduleSvn}`,
        );
      tdxModule = {
        id,
        isvSvn: moduleSvn,
        status: level.tcbStatus,
        tcbDate: level.tcbDate,
        advisoryIds: level.advisoryIds,
      };
    } else if (tcbInfo.tdxModule) {
      checkModule(body.mrSignerSeam, body.seamAttributes, tcbInfo.tdxModule, "tdxModule");
    }
  }

  let platform: PlatformTcbLevel | undefined;
  for (const level of tcbInfo.tcbLevels) {
    if (pck.pceSvn < level.pceSvn) continue;
    if (!atLeast(pck.sgxTcbComponents, level.sgxComponents, 0)) continue;
    if (body.kind !== "sgx") {
      if (!level.tdxComponents || !atLeast(body.teeTcbSvn, level.tdxComponents, tdxFrom)) continue;
    }
    platform = level;
    break;
  }
  if (!platform) {
    invalid(
      "tdx_tcb_level_not_found",
      `no TCB level matches the platform (PCK SGX components ${pck.sgxTcbComponents.join(",")}, PCESVN ${pck.pceSvn}${
        body.kind === "sgx" ? "" : `, TEE_TCB_SVN ${toHex(body.teeTcbSvn)}`
      })`,
    );
  }
  const qe = matchQeIdentity(quote.signatureData.qeReport, qeIdentity, quote.kind);

  let status = platform.tcbStatus;
  if (tdxModule) status = converge(status, tdxModule.status);
  status = converge(status, qe.status);
  const advisoryIds: string[] = [];
  for (const list of [platform.advisoryIds, tdxModule?.advisoryIds ?? [], qe.advisoryIds]) {
    for (const id of list) if (!advisoryIds.includes(id)) advisoryIds.push(id);
  }
  return {
    status,
    advisoryIds,
    platform: { status: platform.tcbStatus, tcbDate: platform.tcbDate, advisoryIds: platform.advisoryIds },
    tdxModule,
    qe,
  };
}

function checkModule(
  mrSignerSeam: Uint8Array,
  seamAttributes: Uint8Array,
  expected: { mrSigner: Uint8Array; attributes: Uint8Array; attributesMask: Uint8Array },
  what: string,
): void {
  if (!equalBytes(mrSignerSeam, expected.mrSigner)) {
    invalid(
      "tdx_module_mrsigner_mismatch",
      `MRSIGNERSEAM ${toHex(mrSignerSeam)} is not ${what}'s ${toHex(expected.mrSigner)}`,
    );
  }
  if (
    !equalBytes(
      masked(seamAttributes, expected.attributesMask),
      masked(expected.attributes, expected.attributesMask),
    )
  ) {
    invalid(
      "tdx_module_attributes_mismatch",
      `SEAM attributes ${toHex(seamAttributes)} do not match ${what} under its mask`,
    );
  }
}
