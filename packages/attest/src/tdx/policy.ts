import type { VerificationIssue } from "../common/errors.js";
import { AttestArgumentError } from "../common/errors.js";
import { TCB_STATUSES, type TcbStatus } from "./tcb-status.js";

/**
 * Policy for TDX / SGX quotes: pure data (JSON), strict by default. Schema:
 * `packages/attest/schemas/tdx-policy.schema.json`; documented in `docs/tdx.md`.
 *
 * Every list is an allow-list of lowercase-or-uppercase hex values; an absent list means "not
 * checked". Defaults: only `UpToDate`, no advisory allowed, debug forbidden.
 */
export interface TdxPolicy {
  /** TCB statuses accepted (default `["UpToDate"]`). */
  readonly acceptedTcbStatuses?: readonly TcbStatus[];
  /** Advisory ids that may appear in the result (default none). `["*"]` accepts any. */
  readonly allowedAdvisoryIds?: readonly string[];
  /** Accept a debug TD (TD_ATTRIBUTES bit 0) or debug enclave (ATTRIBUTES.DEBUG). Default false. */
  readonly allowDebug?: boolean;
  /** Accept quotes of these kinds (default both). */
  readonly allowedKinds?: readonly ("tdx" | "sgx")[];
  readonly mrTd?: readonly string[];
  readonly rtmr0?: readonly string[];
  readonly rtmr1?: readonly string[];
  readonly rtmr2?: readonly string[];
  readonly rtmr3?: readonly string[];
  readonly mrSeam?: readonly string[];
  readonly mrConfigId?: readonly string[];
  readonly tdAttributes?: readonly string[];
  readonly xfam?: readonly string[];
  readonly mrEnclave?: readonly string[];
  readonly mrSigner?: readonly string[];
  /** Exact expected report data (64 bytes hex). */
  readonly reportData?: string;
  /** Minimum TEE_TCB_SVN (16 bytes hex), compared component by component. */
  readonly minimumTeeTcbSvn?: string;
}

/** The verified facts a policy is checked against (a subset of the verification result). */
export interface TdxPolicyFacts {
  readonly kind: "tdx" | "sgx";
  readonly tcbStatus: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly debug: boolean;
  readonly mrtd: string | null;
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
}

/** The strict default: UpToDate only, no advisories, no debug. */
export const DEFAULT_TDX_POLICY: TdxPolicy = Object.freeze({
  acceptedTcbStatuses: ["UpToDate"] as TcbStatus[],
  allowedAdvisoryIds: [] as string[],
  allowDebug: false,
});

const LIST_FIELDS = {
  mrTd: { fact: "mrtd", bytes: 48, code: "policy_mrtd_not_allowed", label: "MRTD" },
  rtmr0: { fact: "rtmr0", bytes: 48, code: "policy_rtmr0_not_allowed", label: "RTMR0" },
  rtmr1: { fact: "rtmr1", bytes: 48, code: "policy_rtmr1_not_allowed", label: "RTMR1" },
  rtmr2: { fact: "rtmr2", bytes: 48, code: "policy_rtmr2_not_allowed", label: "RTMR2" },
  rtmr3: { fact: "rtmr3", bytes: 48, code: "policy_rtmr3_not_allowed", label: "RTMR3" },
  mrSeam: { fact: "mrSeam", bytes: 48, code: "policy_mrseam_not_allowed", label: "MRSEAM" },
  mrConfigId: { fact: "mrConfigId", bytes: 48, code: "policy_mrconfigid_not_allowed", label: "MRCONFIGID" },
  tdAttributes: {
    fact: "tdAttributes",
    bytes: 8,
    code: "policy_td_attributes_not_allowed",
    label: "TD attributes",
  },
  xfam: { fact: "xfam", bytes: 8, code: "policy_xfam_not_allowed", label: "XFAM" },
  mrEnclave: { fact: "mrEnclave", bytes: 32, code: "policy_mrenclave_not_allowed", label: "MRENCLAVE" },
  mrSigner: { fact: "mrSigner", bytes: 32, code: "policy_mrsigner_not_allowed", label: "MRSIGNER" },
} as const satisfies Record<
  string,
  { fact: keyof TdxPolicyFacts; bytes: number; code: string; label: string }
>;

const OTHER_KEYS = new Set([
  "$schema",
  "acceptedTcbStatuses",
  "allowedAdvisoryIds",
  "allowDebug",
  "allowedKinds",
  "reportData",
  "minimumTeeTcbSvn",
]);

function bad(message: string): never {
  throw new AttestArgumentError("policy_invalid", `TDX policy: ${message}`);
}

function hexOf(value: unknown, bytes: number, what: string): string {
  if (typeof value !== "string" || !new RegExp(`^(0x)?[0-9a-fA-F]{${bytes * 2}}$`).test(value))
    bad(`${what} must be ${bytes} bytes of hex`);
  return value.replace(/^0x/i, "").toLowerCase();
}

/**
 * Checks a policy value (parsed JSON) and returns it normalised (hex lowercase). Unknown keys,
 * wrong types and malformed hex are rejected.
 * @throws AttestArgumentError `policy_invalid`
 */
export function parseTdxPolicy(value: unknown): TdxPolicy {
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad("must be a JSON object");
  const input = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(input)) {
    // An undefined member (possible from TypeScript callers, never in JSON) means "absent".
    if (v === undefined && (key in LIST_FIELDS || OTHER_KEYS.has(key))) continue;
    if (key in LIST_FIELDS) {
      const spec = LIST_FIELDS[key as keyof typeof LIST_FIELDS];
      if (!Array.isArray(v)) bad(`${key} must be an array of hex strings`);
      out[key] = v.map((item, i) => hexOf(item, spec.bytes, `${key}[${i}]`));
    } else if (!OTHER_KEYS.has(key)) {
      bad(`unknown key "${key}"`);
    }
  }
  if (input.acceptedTcbStatuses !== undefined) {
    const list = input.acceptedTcbStatuses;
    if (
      !Array.isArray(list) ||
      !list.every((s) => typeof s === "string" && (TCB_STATUSES as readonly string[]).includes(s))
    ) {
      bad(`acceptedTcbStatuses must list values of ${TCB_STATUSES.join(", ")}`);
    }
    out.acceptedTcbStatuses = list;
  }
  if (input.allowedAdvisoryIds !== undefined) {
    const list = input.allowedAdvisoryIds;
    if (!Array.isArray(list) || !list.every((s) => typeof s === "string"))
      bad("allowedAdvisoryIds must be an array of strings");
    out.allowedAdvisoryIds = list;
  }
  if (input.allowDebug !== undefined) {
    if (typeof input.allowDebug !== "boolean") bad("allowDebug must be a boolean");
    out.allowDebug = input.allowDebug;
  }
  if (input.allowedKinds !== undefined) {
    const list = input.allowedKinds;
    if (!Array.isArray(list) || !list.every((k) => k === "tdx" || k === "sgx"))
      bad('allowedKinds must list "tdx" and/or "sgx"');
    out.allowedKinds = list;
  }
  if (input.reportData !== undefined) out.reportData = hexOf(input.reportData, 64, "reportData");
  if (input.minimumTeeTcbSvn !== undefined)
    out.minimumTeeTcbSvn = hexOf(input.minimumTeeTcbSvn, 16, "minimumTeeTcbSvn");
  return out as TdxPolicy;
}

/**
 * Validates verified facts against a policy and returns every violation (empty when it holds).
 * Pure: no I/O, no clock.
 *
 * @example
 * ```ts
 * const violations = validateTdxPolicy(result, { acceptedTcbStatuses: ["UpToDate"], mrTd: ["91eb…"] });
 * if (violations.length > 0) console.log(violations.map((v) => v.code));
 * ```
 * @throws AttestArgumentError `policy_invalid` when the policy itself is malformed
 */
export function validateTdxPolicy(
  facts: TdxPolicyFacts,
  policy: TdxPolicy | unknown = DEFAULT_TDX_POLICY,
): VerificationIssue[] {
  const p = parseTdxPolicy(policy);
  const violations: VerificationIssue[] = [];
  const add = (code: string, message: string) => violations.push({ code, message });

  if (p.allowedKinds && !p.allowedKinds.includes(facts.kind))
    add("policy_kind_not_allowed", `quote kind "${facts.kind}" is not in allowedKinds`);
  const statuses = p.acceptedTcbStatuses ?? DEFAULT_TDX_POLICY.acceptedTcbStatuses ?? [];
  if (!statuses.includes(facts.tcbStatus)) {
    add(
      "policy_tcb_status_not_allowed",
      `TCB status ${facts.tcbStatus} is not accepted (accepted: ${statuses.join(", ") || "none"})`,
    );
  }
  const advisories = p.allowedAdvisoryIds ?? [];
  if (!advisories.includes("*")) {
    const refused = facts.advisoryIds.filter((id) => !advisories.includes(id));
    if (refused.length > 0)
      add("policy_advisory_not_allowed", `advisories not allowed: ${refused.join(", ")}`);
  }
  if (facts.debug && p.allowDebug !== true) {
    add(
      "policy_debug_forbidden",
      facts.kind === "tdx"
        ? "the TD is a debug TD (TD_ATTRIBUTES.DEBUG set)"
        : "the enclave is in debug mode (ATTRIBUTES.DEBUG set)",
    );
  }
  for (const [key, spec] of Object.entries(LIST_FIELDS)) {
    const allowed = (p as Record<string, readonly string[] | undefined>)[key];
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
  if (p.reportData !== undefined && p.reportData !== facts.reportData) {
    add("policy_report_data_mismatch", `report data ${facts.reportData} is not the expected ${p.reportData}`);
  }
  if (p.minimumTeeTcbSvn !== undefined) {
    if (facts.teeTcbSvn === null)
      add("policy_tee_tcb_svn_too_low", "minimumTeeTcbSvn is set but an SGX quote has no TEE_TCB_SVN");
    else {
      for (let i = 0; i < 16; i++) {
        const have = Number.parseInt(facts.teeTcbSvn.slice(i * 2, i * 2 + 2), 16);
        const need = Number.parseInt(p.minimumTeeTcbSvn.slice(i * 2, i * 2 + 2), 16);
        if (have < need) {
          add(
            "policy_tee_tcb_svn_too_low",
            `TEE_TCB_SVN component ${i} is ${have}, the policy requires at least ${need}`,
          );
          break;
        }
      }
    }
  }
  return violations;
}
