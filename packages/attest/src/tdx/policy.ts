import type { VerificationIssue } from "../common/errors.js";
import type { TdxPolicy } from "../common/generated/policy-types.js";
import { matchesTdxPolicySchema, TDX_POLICY_KEYS } from "../common/generated/tdx-policy-validator.js";
import {
  checkPolicySchema,
  isParsedPolicy,
  markParsedPolicy,
  normalPolicyTree,
  type Parsed,
  requireParsedPolicy,
} from "../common/parsed-policy.js";
import type { TdxErrorCode } from "./error-codes.js";
import type { TcbStatus } from "./tcb-status.js";

/**
 * Policy for TDX / SGX quotes: pure data (JSON), strict by default. The type is generated from
 * `packages/attest/schemas/tdx-policy.schema.json` (scripts/policy-validators.mjs), which
 * {@link parseTdxPolicy} validates against; documented in `docs/tdx.md`.
 *
 * Every list is an allow-list of hex values (either case, optionally `0x`-prefixed); an absent list
 * means "not checked". Defaults: only `UpToDate`, no advisory allowed, debug forbidden, and for a TD
 * the spec defaults: SEPT_VE_DISABLE set, no reserved TD_ATTRIBUTES bit, XFAM with FP and SSE and no
 * bit outside the TDX module's XFAM_FIXED0.
 *
 * @example
 * ```json
 * { "acceptedTcbStatuses": ["UpToDate"], "allowedKinds": ["tdx"], "mrTd": ["91eb2b44…"] }
 * ```
 */
export type { TdxPolicy };

/**
 * One accepted TCB status: its name, or its name with the advisories accepted with it. A status
 * other than `UpToDate` (SWHardeningNeeded, ConfigurationNeeded, …) is accepted only when named;
 * the object form also names the advisories that may come with it.
 *
 * @example
 * ```json
 * { "status": "SWHardeningNeeded", "advisoryIds": ["INTEL-SA-00615"] }
 * ```
 */
export type TdxAcceptedTcbStatus = NonNullable<TdxPolicy["acceptedTcbStatuses"]>[number];

/** A TDX policy {@link parseTdxPolicy} returned: schema-checked, hex lowercase without `0x`. */
export type ParsedTdxPolicy = Parsed<TdxPolicy>;

/** The verified facts a policy is checked against (a subset of the verification result). */
export interface TdxPolicyFacts {
  readonly kind: "tdx" | "sgx";
  readonly tcbStatus: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly debug: boolean;
  readonly mrTd: string | null;
  readonly rtmr0: string | null;
  readonly rtmr1: string | null;
  readonly rtmr2: string | null;
  readonly rtmr3: string | null;
  readonly mrSeam: string | null;
  readonly mrConfigId: string | null;
  readonly tdAttributes: string | null;
  readonly xfam: string | null;
  readonly mrEnclave: string | null;
  readonly mrSigner: string | null;
  readonly reportData: string;
  readonly teeTcbSvn: string | null;
  /** TDX only (null for SGX). */
  readonly mrSignerSeam: string | null;
  readonly seamAttributes: string | null;
  readonly mrOwner: string | null;
  readonly mrOwnerConfig: string | null;
  /** From the quote header. */
  readonly qeVendorId: string;
  /** From the verified PCK certificate; null when it did not verify. */
  readonly fmspc: string | null;
  /** `tcbEvaluationDataNumber` of the TCB info / QE identity used; null when not evaluated. */
  readonly tcbInfoEvaluationDataNumber: number | null;
  readonly qeIdentityEvaluationDataNumber: number | null;
  /** Bytes after the quote structure. */
  readonly trailingBytes: number;
}

/** TD_ATTRIBUTES bit 28: EPT violations on pending pages are not turned into #VE in the TD. */
export const TD_ATTRIBUTES_SEPT_VE_DISABLE = 1n << 28n;
/**
 * TD_ATTRIBUTES bits that are reserved (must be zero), as the TDX module ABI and dcap-qvl read
 * them: TUD bits 7:1, SEC bits 27:8 and 29, OTHER bits 62:32. Bit 0 is DEBUG; 28 SEPT_VE_DISABLE,
 * 30 PKS, 31 KL, 63 PERFMON are defined.
 */
export const TD_ATTRIBUTES_RESERVED = 0xfen | 0xfffff00n | (1n << 29n) | (0x7fffffffn << 32n);
/** XFAM bits every TD has (XFAM_FIXED1): FP (bit 0) and SSE (bit 1). */
export const XFAM_FIXED1 = 0x3n;
/** XFAM bits a TD may have (XFAM_FIXED0 of the TDX module 1.x ABI); any other bit is forbidden. */
export const XFAM_FIXED0 = 0x6dbe7n;

/** The u64 of a little-endian hex field. */
function u64le(hex: string): bigint {
  let value = 0n;
  for (let i = hex.length - 2; i >= 0; i -= 2)
    value = (value << 8n) | BigInt(Number.parseInt(hex.slice(i, i + 2), 16));
  return value;
}

function bitList(value: bigint): string {
  const bits: number[] = [];
  for (let i = 0; i < 64; i++) if ((value >> BigInt(i)) & 1n) bits.push(i);
  return bits.join(", ");
}

/**
 * What a policy waived for these facts: the named opt-outs (`requireSeptVeDisable: false`,
 * `allowReservedAttributeBits: true`) this quote needed, which a result echoes in `unchecked`.
 *
 * @example
 * ```ts
 * tdxPolicyWaivers(result, parseTdxPolicy({ requireSeptVeDisable: false })); // ["sept_ve_disable"] for an Azure TD
 * ```
 * @throws AttestArgumentError `policy_invalid` when the policy is not a parsed tree
 */
export function tdxPolicyWaivers(
  facts: Pick<TdxPolicyFacts, "kind" | "tdAttributes" | "xfam">,
  policy: ParsedTdxPolicy = DEFAULT_TDX_POLICY,
): ("sept_ve_disable" | "reserved_attribute_bits")[] {
  requireParsedPolicy(policy, "TDX", "parseTdxPolicy");
  const p = policy;
  if (facts.kind !== "tdx" || facts.tdAttributes === null || facts.xfam === null) return [];
  const attributes = u64le(facts.tdAttributes);
  const xfam = u64le(facts.xfam);
  const out: ("sept_ve_disable" | "reserved_attribute_bits")[] = [];
  if (p.requireSeptVeDisable === false && (attributes & TD_ATTRIBUTES_SEPT_VE_DISABLE) === 0n)
    out.push("sept_ve_disable");
  if (
    p.allowReservedAttributeBits === true &&
    ((attributes & TD_ATTRIBUTES_RESERVED) !== 0n || (xfam & ~XFAM_FIXED0) !== 0n)
  )
    out.push("reserved_attribute_bits");
  return out;
}

/**
 * The strict default: UpToDate only, no advisories, no debug, and for a TD the spec defaults
 * (SEPT_VE_DISABLE required, no reserved TD_ATTRIBUTES or XFAM bit; FP and SSE always required).
 */
export const DEFAULT_TDX_POLICY: ParsedTdxPolicy = markParsedPolicy(
  Object.freeze({
    acceptedTcbStatuses: Object.freeze(["UpToDate"] as const),
    allowedAdvisoryIds: Object.freeze([] as string[]),
    allowDebug: false,
    requireSeptVeDisable: true,
    allowReservedAttributeBits: false,
  }),
);

const LIST_FIELDS = {
  mrTd: { fact: "mrTd", code: "tdx_policy_mrtd_not_allowed", label: "MRTD" },
  rtmr0: { fact: "rtmr0", code: "tdx_policy_rtmr0_not_allowed", label: "RTMR0" },
  rtmr1: { fact: "rtmr1", code: "tdx_policy_rtmr1_not_allowed", label: "RTMR1" },
  rtmr2: { fact: "rtmr2", code: "tdx_policy_rtmr2_not_allowed", label: "RTMR2" },
  rtmr3: { fact: "rtmr3", code: "tdx_policy_rtmr3_not_allowed", label: "RTMR3" },
  mrSeam: { fact: "mrSeam", code: "tdx_policy_mrseam_not_allowed", label: "MRSEAM" },
  mrConfigId: { fact: "mrConfigId", code: "tdx_policy_mrconfigid_not_allowed", label: "MRCONFIGID" },
  tdAttributes: {
    fact: "tdAttributes",
    code: "tdx_policy_td_attributes_not_allowed",
    label: "TD attributes",
  },
  xfam: { fact: "xfam", code: "tdx_policy_xfam_not_allowed", label: "XFAM" },
  mrEnclave: { fact: "mrEnclave", code: "tdx_policy_mrenclave_not_allowed", label: "MRENCLAVE" },
  mrSigner: { fact: "mrSigner", code: "tdx_policy_mrsigner_not_allowed", label: "MRSIGNER" },
  mrSignerSeam: { fact: "mrSignerSeam", code: "tdx_policy_mrsignerseam_not_allowed", label: "MRSIGNERSEAM" },
  seamAttributes: {
    fact: "seamAttributes",
    code: "tdx_policy_seam_attributes_not_allowed",
    label: "SEAMATTRIBUTES",
  },
  mrOwner: { fact: "mrOwner", code: "tdx_policy_mrowner_not_allowed", label: "MROWNER" },
  mrOwnerConfig: {
    fact: "mrOwnerConfig",
    code: "tdx_policy_mrownerconfig_not_allowed",
    label: "MROWNERCONFIG",
  },
  qeVendorId: { fact: "qeVendorId", code: "tdx_policy_qe_vendor_id_not_allowed", label: "QE vendor id" },
  fmspc: { fact: "fmspc", code: "tdx_policy_fmspc_not_allowed", label: "FMSPC" },
} as const satisfies Record<string, { fact: keyof TdxPolicyFacts; code: string; label: string }>;

/** The hex fields that are not lists. */
const HEX_FIELDS = new Set(["reportData", "minimumTeeTcbSvn"]);
const TDX_HEX_LISTS: ReadonlySet<string> = new Set(Object.keys(LIST_FIELDS));

/**
 * Checks a policy value (parsed JSON) against `schemas/tdx-policy.schema.json` and returns a new
 * tree, normalised (hex lowercase, no `0x`; `$schema` and undefined members dropped). A tree this
 * returned is handed back as is.
 *
 * @example
 * ```ts
 * const policy = parseTdxPolicy(JSON.parse(readFileSync("tdx-policy.json", "utf8")));
 * ```
 * @throws AttestArgumentError `policy_invalid`, with the JSON path of the offending value in
 * `details.path` (`$.mrTd[0]`)
 */
export function parseTdxPolicy(value: unknown): ParsedTdxPolicy {
  if (isParsedPolicy(value)) return value as ParsedTdxPolicy;
  checkPolicySchema(matchesTdxPolicySchema, value, "TDX", TDX_POLICY_KEYS);
  return normalTdxPolicy(value);
}

/**
 * The parsed tree of a value that matched the schema (parseTdxPolicy, and parseBundlePolicy for its
 * `cpu.tdx`, which its own validator checked): normalised, not validated again.
 */
export function normalTdxPolicy(value: TdxPolicy): ParsedTdxPolicy {
  return normalPolicyTree(value, { lists: TDX_HEX_LISTS, values: HEX_FIELDS });
}

/**
 * A parsed policy with the named opt-outs of `verifyTdxQuote`'s `allowUnchecked` applied: a new
 * parsed tree (the caller's is unchanged).
 */
export function withTdxOptOuts(
  policy: ParsedTdxPolicy,
  allowUnchecked: readonly string[] = [],
): ParsedTdxPolicy {
  if (!allowUnchecked.includes("sept_ve_disable") && !allowUnchecked.includes("reserved_attribute_bits"))
    return policy;
  return markParsedPolicy({
    ...policy,
    ...(allowUnchecked.includes("sept_ve_disable") ? { requireSeptVeDisable: false } : {}),
    ...(allowUnchecked.includes("reserved_attribute_bits") ? { allowReservedAttributeBits: true } : {}),
  });
}

/**
 * Validates verified facts against a parsed policy and returns every violation (empty when it
 * holds). Pure: no I/O, no clock, no parsing (the policy is the tree {@link parseTdxPolicy} returned).
 *
 * @example
 * ```ts
 * const policy = parseTdxPolicy({ acceptedTcbStatuses: ["UpToDate"], mrTd: ["91eb…"] });
 * const violations = validateTdxPolicy(result, policy);
 * if (violations.length > 0) console.log(violations.map((v) => v.code));
 * ```
 * @throws AttestArgumentError `policy_invalid` when the policy is not a parsed tree
 */
export function validateTdxPolicy(
  facts: TdxPolicyFacts,
  policy: ParsedTdxPolicy = DEFAULT_TDX_POLICY,
): VerificationIssue[] {
  requireParsedPolicy(policy, "TDX", "parseTdxPolicy");
  const p = policy;
  const violations: VerificationIssue[] = [];
  const add = (code: TdxErrorCode, message: string) => violations.push({ code, message });

  if (p.allowedKinds && !p.allowedKinds.includes(facts.kind))
    add("tdx_policy_kind_not_allowed", `quote kind "${facts.kind}" is not in allowedKinds`);
  const statuses = p.acceptedTcbStatuses ?? DEFAULT_TDX_POLICY.acceptedTcbStatuses ?? [];
  const statusOf = (entry: TdxAcceptedTcbStatus) => (typeof entry === "string" ? entry : entry.status);
  const matched = statuses.filter((entry) => statusOf(entry) === facts.tcbStatus);
  if (matched.length === 0) {
    add(
      "tdx_policy_tcb_status_not_allowed",
      `TCB status ${facts.tcbStatus} is not accepted (accepted: ${statuses.map(statusOf).join(", ") || "none"})`,
    );
  }
  // Advisories are accepted globally (allowedAdvisoryIds) or with the status that carries them.
  const advisories = [
    ...(p.allowedAdvisoryIds ?? []),
    ...matched.flatMap((entry) => (typeof entry === "string" ? [] : (entry.advisoryIds ?? []))),
  ];
  if (!advisories.includes("*")) {
    const refused = facts.advisoryIds.filter((id) => !advisories.includes(id));
    if (refused.length > 0)
      add(
        "tdx_policy_advisory_not_allowed",
        `advisories not allowed${matched.length > 0 ? ` with TCB status ${facts.tcbStatus}` : ""}: ${refused.join(", ")}`,
      );
  }
  if (p.minimumTcbEvaluationDataNumber !== undefined) {
    const minimum = p.minimumTcbEvaluationDataNumber;
    for (const [code, what, value] of [
      ["tdx_policy_tcb_info_evaluation_data_number_too_low", "TCB info", facts.tcbInfoEvaluationDataNumber],
      [
        "tdx_policy_qe_identity_evaluation_data_number_too_low",
        "QE identity",
        facts.qeIdentityEvaluationDataNumber,
      ],
    ] as const) {
      if (value === null) add(code, `minimumTcbEvaluationDataNumber is set but no ${what} was evaluated`);
      else if (value < minimum)
        add(code, `${what} tcbEvaluationDataNumber ${value} is below the policy minimum ${minimum}`);
    }
  }
  if (facts.debug && p.allowDebug !== true) {
    add(
      "tdx_policy_debug_forbidden",
      facts.kind === "tdx"
        ? "the TD is a debug TD (TD_ATTRIBUTES.DEBUG set)"
        : "the enclave is in debug mode (ATTRIBUTES.DEBUG set)",
    );
  }
  // The TDX spec defaults (dcap-qvl and go-tdx-guest check them too): a TDX module accepts no TD
  // outside them, so a quote that shows one comes from a module this package does not know.
  if (facts.kind === "tdx" && facts.tdAttributes !== null && facts.xfam !== null) {
    const attributes = u64le(facts.tdAttributes);
    const xfam = u64le(facts.xfam);
    const reserved = attributes & TD_ATTRIBUTES_RESERVED;
    if (reserved !== 0n && p.allowReservedAttributeBits !== true)
      add(
        "tdx_policy_td_attributes_reserved_bits",
        `TD_ATTRIBUTES ${facts.tdAttributes} sets reserved bit(s) ${bitList(reserved)}`,
      );
    if ((attributes & TD_ATTRIBUTES_SEPT_VE_DISABLE) === 0n && p.requireSeptVeDisable !== false)
      add(
        "tdx_policy_sept_ve_disable_required",
        "TD_ATTRIBUTES.SEPT_VE_DISABLE (bit 28) is clear: the TD can be made to take #VE on EPT violations; accept that by name with requireSeptVeDisable: false (CLI: --allow-unchecked sept_ve_disable)",
      );
    if ((xfam & XFAM_FIXED1) !== XFAM_FIXED1)
      add("tdx_policy_xfam_fp_sse_required", `XFAM ${facts.xfam} does not set FP (bit 0) and SSE (bit 1)`);
    const forbidden = xfam & ~XFAM_FIXED0;
    if (forbidden !== 0n && p.allowReservedAttributeBits !== true)
      add(
        "tdx_policy_xfam_bits_forbidden",
        `XFAM ${facts.xfam} sets bit(s) ${bitList(forbidden)}, outside XFAM_FIXED0 (0x${XFAM_FIXED0.toString(16)})`,
      );
  }
  for (const [key, spec] of Object.entries(LIST_FIELDS)) {
    const allowed = p[key as keyof typeof LIST_FIELDS];
    if (!allowed) continue;
    const actual = facts[spec.fact];
    if (actual === null)
      add(
        spec.code,
        `${spec.label} is required by the policy but a ${facts.kind.toUpperCase()} quote has none`,
      );
    else if (!allowed.includes(actual))
      add(spec.code, `${spec.label} ${actual} is not in the policy's allow-list`);
  }
  if (p.rejectTrailingBytes === true && facts.trailingBytes > 0)
    add(
      "tdx_policy_trailing_bytes_rejected",
      `the quote carries ${facts.trailingBytes} bytes after its structure and the policy rejects trailing bytes`,
    );
  if (p.reportData !== undefined && p.reportData !== facts.reportData) {
    add(
      "tdx_policy_report_data_mismatch",
      `report data ${facts.reportData} is not the expected ${p.reportData}`,
    );
  }
  if (p.minimumTeeTcbSvn !== undefined) {
    if (facts.teeTcbSvn === null)
      add("tdx_policy_tee_tcb_svn_too_low", "minimumTeeTcbSvn is set but an SGX quote has no TEE_TCB_SVN");
    else {
      for (let i = 0; i < 16; i++) {
        const have = Number.parseInt(facts.teeTcbSvn.slice(i * 2, i * 2 + 2), 16);
        const need = Number.parseInt(p.minimumTeeTcbSvn.slice(i * 2, i * 2 + 2), 16);
        if (have < need) {
          add(
            "tdx_policy_tee_tcb_svn_too_low",
            `TEE_TCB_SVN component ${i} is ${have}, the policy requires at least ${need}`,
          );
          break;
        }
      }
    }
  }
  return violations;
}
