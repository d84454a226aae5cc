import { toHex } from "../common/bytes.js";
import type { VerificationIssue } from "../common/errors.js";
import type { SevSnpPolicy } from "../common/generated/policy-types.js";
import {
  matchesSevSnpPolicySchema,
  SEV_SNP_POLICY_KEYS,
} from "../common/generated/sev-snp-policy-validator.js";
import {
  checkPolicySchema,
  isParsedPolicy,
  markParsedPolicy,
  normalPolicyTree,
  type Parsed,
  requireParsedPolicy,
} from "../common/parsed-policy.js";
import type { SevSnpErrorCode } from "./error-codes.js";
import type { SevSnpFirmwareVersion, SevSnpReport, SevSnpSigningKey } from "./report.js";
import type { SevSnpProduct } from "./roots.js";
import { decodeTcb, type SevSnpTcb, TCB_COMPONENTS, tcbLayoutOf } from "./tcb.js";

/** Minimum security patch level per TCB component (omitted components are not checked). */
export type SevSnpMinimumTcb = NonNullable<SevSnpPolicy["minimumTcb"]>;

/** A firmware version floor: major.minor, then build (default 0). */
export type SevSnpMinimumFirmware = NonNullable<SevSnpPolicy["minimumFirmware"]>;

/**
 * SEV-SNP acceptance policy (JSON). The type is generated from
 * `schemas/sev-snp-policy.schema.json` (scripts/policy-validators.mjs), which
 * {@link parseSevSnpPolicy} validates against. Every key is optional; unknown keys are rejected.
 * Defaults are the safe choice: debug forbidden, migration agent forbidden, both signing key kinds
 * allowed, everything else unchecked.
 *
 * @example
 * ```json
 * { "measurements": ["b07af962…"], "minimumTcb": { "snp": 8, "microcode": 115 }, "vmpl": { "max": 0 } }
 * ```
 */
export type { SevSnpPolicy };

/** A SEV-SNP policy {@link parseSevSnpPolicy} returned: schema-checked, hex lowercase without `0x`. */
export type ParsedSevSnpPolicy = Parsed<SevSnpPolicy>;

/** The empty policy (every default), parsed. */
const DEFAULT_SEV_SNP_POLICY: ParsedSevSnpPolicy = markParsedPolicy(Object.freeze({}));

const HEX_FIELDS = new Set(["reportData", "hostData"]);
const HEX_LIST_FIELDS = new Set(["measurements", "idKeyDigests", "authorKeyDigests"]);

/**
 * A rule the schema states (`not` an all-zero digest) whose reason its keyword alone would not say.
 */
const SPECIAL_MESSAGES = {
  "/authorKeyDigests/items/not":
    "is all zero, which names no author key (it is what a report without one carries); to accept reports without an author key, do not pin authorKeyDigests",
};

/**
 * Checks a policy value against `schemas/sev-snp-policy.schema.json` (strict: unknown keys, wrong
 * types and wrong lengths are errors) and returns a new tree, normalised (hex lowercase, no `0x`;
 * `$schema` and undefined members dropped). A tree this returned is handed back as is.
 *
 * @throws AttestArgumentError `policy_invalid` naming the offending JSON path in `details.path`
 * @example
 * ```ts
 * const policy = parseSevSnpPolicy(JSON.parse(text));
 * ```
 */
export function parseSevSnpPolicy(value: unknown): ParsedSevSnpPolicy {
  if (isParsedPolicy(value)) return value as ParsedSevSnpPolicy;
  checkPolicySchema(matchesSevSnpPolicySchema, value, "SEV-SNP", SEV_SNP_POLICY_KEYS, SPECIAL_MESSAGES);
  return normalSevSnpPolicy(value);
}

/**
 * The parsed tree of a value that matched the schema (parseSevSnpPolicy, and parseBundlePolicy for
 * its `cpu.sevSnp`, which its own validator checked): normalised, not validated again.
 */
export function normalSevSnpPolicy(value: SevSnpPolicy): ParsedSevSnpPolicy {
  return normalPolicyTree(value, { lists: HEX_LIST_FIELDS, values: HEX_FIELDS });
}

/** What a policy is checked against: a report whose signature and chain verified. */
export interface SevSnpPolicySubject {
  readonly report: SevSnpReport;
  /** Product line (decides the TCB layout). */
  readonly product: SevSnpProduct;
}

/** Negative when `have` is older than `want` (major, then minor, then build). */
function compareFirmware(have: SevSnpFirmwareVersion, want: SevSnpMinimumFirmware): number {
  return have.major !== want.major
    ? have.major - want.major
    : have.minor !== want.minor
      ? have.minor - want.minor
      : have.build - (want.build ?? 0);
}

const firmwareText = (v: SevSnpMinimumFirmware) => `${v.major}.${v.minor} build ${v.build ?? 0}`;

function tcbShortfalls(actual: SevSnpTcb, minimum: SevSnpMinimumTcb, product: SevSnpProduct): string[] {
  const out: string[] = [];
  for (const component of TCB_COMPONENTS) {
    const min = minimum[component];
    if (min === undefined) continue;
    if (component === "fmc" && product !== "turin") continue;
    const have = actual[component] ?? 0;
    if (have < min) out.push(`${component} ${have} < ${min}`);
  }
  return out;
}

/**
 * Validates a verified report against a parsed policy and returns EVERY violation (empty when
 * accepted). Pure: no I/O, no clock, no parsing (the policy is the tree {@link parseSevSnpPolicy}
 * returned; the default is the empty policy).
 *
 * @throws AttestArgumentError `policy_invalid` when the policy is not a parsed tree
 * @example
 * ```ts
 * const policy = parseSevSnpPolicy({ allowDebug: false, vmpl: { max: 0 } });
 * const violations = validateSevSnpPolicy({ report, product: "milan" }, policy);
 * if (violations.length > 0) console.log(violations.map((v) => v.code));
 * ```
 */
export function validateSevSnpPolicy(
  subject: SevSnpPolicySubject,
  policy: ParsedSevSnpPolicy = DEFAULT_SEV_SNP_POLICY,
): VerificationIssue[] {
  requireParsedPolicy(policy, "SEV-SNP", "parseSevSnpPolicy");
  const { report, product } = subject;
  const out: VerificationIssue[] = [];
  const add = (code: SevSnpErrorCode, message: string) => out.push({ code, message });

  if (report.policy.debug && policy.allowDebug !== true) {
    add(
      "snp_policy_debug_forbidden",
      "the guest policy allows debugging (host access to guest memory); the policy forbids it",
    );
  }
  if (report.policy.smt && policy.allowSmt === false)
    add("snp_policy_smt_forbidden", "the guest policy allows SMT; the policy forbids it");
  if (report.policy.migrateMa && policy.allowMigrationAgent !== true) {
    add(
      "snp_policy_migration_agent_forbidden",
      "the guest policy allows a migration agent; the policy forbids it",
    );
  }
  if (policy.requireSingleSocket === true && !report.policy.singleSocket) {
    add(
      "snp_policy_single_socket_required",
      "the policy requires the single-socket guest policy bit, which is not set",
    );
  }
  if (policy.measurements !== undefined) {
    const measurement = toHex(report.measurement);
    if (!policy.measurements.includes(measurement)) {
      add(
        "snp_policy_measurement_not_allowed",
        `measurement ${measurement} is not in the policy's allow-list`,
      );
    }
  }
  if (policy.reportData !== undefined && policy.reportData !== toHex(report.reportData)) {
    add(
      "snp_policy_report_data_mismatch",
      `report data ${toHex(report.reportData)} differs from the policy's`,
    );
  }
  if (policy.hostData !== undefined && policy.hostData !== toHex(report.hostData)) {
    add("snp_policy_host_data_mismatch", `host data ${toHex(report.hostData)} differs from the policy's`);
  }
  if (policy.vmpl !== undefined) {
    const { allowed, max } = policy.vmpl;
    if (
      (allowed !== undefined && !allowed.includes(report.vmpl)) ||
      (max !== undefined && report.vmpl > max)
    ) {
      add("snp_policy_vmpl_not_allowed", `VMPL ${report.vmpl} is not allowed by the policy`);
    }
  }
  const layout = tcbLayoutOf(product);
  if (policy.minimumTcb !== undefined) {
    const low = tcbShortfalls(decodeTcb(report.reportedTcb, layout), policy.minimumTcb, product);
    if (low.length > 0)
      add("snp_policy_tcb_too_low", `reported TCB is below the policy minimum: ${low.join(", ")}`);
  }
  if (policy.minimumLaunchTcb !== undefined) {
    const low = tcbShortfalls(decodeTcb(report.launchTcb, layout), policy.minimumLaunchTcb, product);
    if (low.length > 0)
      add("snp_policy_launch_tcb_too_low", `launch TCB is below the policy minimum: ${low.join(", ")}`);
  }
  if (
    policy.minimumFirmware !== undefined &&
    compareFirmware(report.currentVersion, policy.minimumFirmware) < 0
  ) {
    add(
      "snp_policy_firmware_too_old",
      `firmware ${firmwareText(report.currentVersion)} is older than ${firmwareText(policy.minimumFirmware)}`,
    );
  }
  if (
    policy.minimumCommittedFirmware !== undefined &&
    compareFirmware(report.committedVersion, policy.minimumCommittedFirmware) < 0
  ) {
    add(
      "snp_policy_committed_firmware_too_old",
      `committed firmware ${firmwareText(report.committedVersion)} is older than ${firmwareText(policy.minimumCommittedFirmware)}`,
    );
  }
  if (policy.minimumGuestSvn !== undefined && report.guestSvn < policy.minimumGuestSvn) {
    add("snp_policy_guest_svn_too_low", `guest SVN ${report.guestSvn} is below ${policy.minimumGuestSvn}`);
  }
  if (policy.idKeyDigests !== undefined) {
    const digest = toHex(report.idKeyDigest);
    if (!policy.idKeyDigests.includes(digest))
      add("snp_policy_id_key_not_allowed", `ID key digest ${digest} is not allowed by the policy`);
  }
  if (policy.authorKeyDigests !== undefined) {
    const digest = toHex(report.authorKeyDigest);
    // The rule, chosen deliberately: a pin requires an author key. AUTHOR_KEY_EN = 0 means the ID
    // block carried none, and AUTHOR_KEY_DIGEST is then zero-filled, not a key's digest.
    if (!report.keyInfo.authorKeyEn)
      add(
        "snp_policy_author_key_missing",
        "the policy pins author keys but the report has none (AUTHOR_KEY_EN is 0)",
      );
    else if (!policy.authorKeyDigests.includes(digest))
      add("snp_policy_author_key_not_allowed", `author key digest ${digest} is not allowed by the policy`);
  }
  if (policy.rejectTrailingBytes === true && report.trailingBytes > 0)
    add(
      "snp_policy_trailing_bytes_rejected",
      `the report file carries ${report.trailingBytes} bytes after the 1184-byte report and the policy rejects trailing bytes`,
    );
  const signingKey: SevSnpSigningKey = report.keyInfo.signingKey;
  const keys = policy.signingKeys ?? ["vcek", "vlek"];
  if (signingKey === "none" || !keys.includes(signingKey)) {
    add(
      "snp_policy_signing_key_not_allowed",
      `the report is signed by ${signingKey.toUpperCase()}, which the policy does not allow`,
    );
  }
  return out;
}
