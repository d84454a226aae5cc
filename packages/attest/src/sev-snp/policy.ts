import { fromHex, isAllZero, toHex } from "../common/bytes.js";
import { AttestArgumentError, type VerificationIssue } from "../common/errors.js";
import { isParsedPolicy, markParsedPolicy } from "../common/parsed-policy.js";
import type { SevSnpErrorCode } from "./error-codes.js";
import type { SevSnpFirmwareVersion, SevSnpReport, SevSnpSigningKey } from "./report.js";
import type { SevSnpProduct } from "./roots.js";
import { decodeTcb, type SevSnpTcb, TCB_COMPONENTS, tcbLayoutOf } from "./tcb.js";

/** Minimum security patch level per TCB component (omitted components are not checked). */
export interface SevSnpMinimumTcb {
  readonly bootloader?: number;
  readonly tee?: number;
  readonly snp?: number;
  readonly microcode?: number;
  /** Turin only; ignored for Milan/Genoa. */
  readonly fmc?: number;
}

/** A firmware version floor: major.minor, then build (default 0). */
export interface SevSnpMinimumFirmware {
  readonly major: number;
  readonly minor: number;
  readonly build?: number;
}

/**
 * SEV-SNP acceptance policy (JSON; schema `schemas/sev-snp-policy.schema.json`). Every key is
 * optional; unknown keys are rejected. Defaults are the safe choice: debug forbidden, migration
 * agent forbidden, both signing key kinds allowed, everything else unchecked.
 *
 * @example
 * ```json
 * { "measurements": ["b07af962…"], "minimumTcb": { "snp": 8, "microcode": 115 }, "vmpl": { "max": 0 } }
 * ```
 */
export interface SevSnpPolicy {
  readonly $schema?: string;
  /** Accept a guest whose policy allows debugging (host can read its memory). Default false. */
  readonly allowDebug?: boolean;
  /** Accept a guest whose policy allows SMT. Default true. */
  readonly allowSmt?: boolean;
  /** Accept a guest that may be associated with a migration agent. Default false. */
  readonly allowMigrationAgent?: boolean;
  /** Require the single-socket guest policy bit. Default false. */
  readonly requireSingleSocket?: boolean;
  /** Allowed launch measurements (hex, 48 bytes each). */
  readonly measurements?: readonly string[];
  /** Exact REPORT_DATA expected (hex, 64 bytes). */
  readonly reportData?: string;
  /** Exact HOST_DATA expected (hex, 32 bytes). */
  readonly hostData?: string;
  /** Allowed VMPLs: a list, a maximum, or both. */
  readonly vmpl?: { readonly allowed?: readonly number[]; readonly max?: number };
  /** Minimum REPORTED_TCB per component. */
  readonly minimumTcb?: SevSnpMinimumTcb;
  /** Minimum LAUNCH_TCB per component. */
  readonly minimumLaunchTcb?: SevSnpMinimumTcb;
  /**
   * Minimum current firmware version (CURRENT_MAJOR.CURRENT_MINOR, then CURRENT_BUILD), e.g.
   * `{ "major": 1, "minor": 55, "build": 49 }` refuses 1.55 build 39.
   */
  readonly minimumFirmware?: SevSnpMinimumFirmware;
  /**
   * Minimum committed firmware version (COMMITTED_MAJOR.COMMITTED_MINOR, COMMITTED_BUILD): the
   * version the platform cannot be rolled back below.
   */
  readonly minimumCommittedFirmware?: SevSnpMinimumFirmware;
  /** Minimum GUEST_SVN. */
  readonly minimumGuestSvn?: number;
  /** Allowed ID key digests (hex, 48 bytes each). The report's ID_KEY_DIGEST must be one of them. */
  readonly idKeyDigests?: readonly string[];
  /**
   * Allowed author key digests (hex, 48 bytes each). A pin means "the ID block is endorsed by one
   * of these author keys": a report with AUTHOR_KEY_EN = 0 has no author key and is refused
   * (`snp_policy_author_key_missing`). An all-zero digest names no key and is a malformed policy;
   * to accept reports without an author key, do not pin author keys.
   */
  readonly authorKeyDigests?: readonly string[];
  /** Allowed signing keys. Default both. */
  readonly signingKeys?: readonly ("vcek" | "vlek")[];
  /** Refuse a report file with bytes after the 1184-byte report. Default false (reported only). */
  readonly rejectTrailingBytes?: boolean;
}

const KEYS = new Set([
  "$schema",
  "allowDebug",
  "allowSmt",
  "allowMigrationAgent",
  "requireSingleSocket",
  "measurements",
  "reportData",
  "hostData",
  "vmpl",
  "minimumTcb",
  "minimumLaunchTcb",
  "minimumFirmware",
  "minimumCommittedFirmware",
  "minimumGuestSvn",
  "idKeyDigests",
  "authorKeyDigests",
  "signingKeys",
  "rejectTrailingBytes",
]);

function bad(path: string, message: string): AttestArgumentError {
  return new AttestArgumentError("policy_invalid", `SEV-SNP policy: ${path} ${message}`, {
    details: { path },
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key)) throw bad(`${path}.${key}`, "is not a known key");
}

function checkInt(value: unknown, path: string, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw bad(path, `must be an integer in ${min}..${max}`);
  }
}

function checkHex(value: unknown, path: string, bytes: number): void {
  if (typeof value !== "string" || !new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(value)) {
    throw bad(path, `must be ${bytes} bytes of hex (${bytes * 2} digits)`);
  }
}

function checkHexList(value: unknown, path: string, bytes: number): void {
  if (!Array.isArray(value)) throw bad(path, "must be an array");
  for (const [i, item] of value.entries()) checkHex(item, `${path}[${i}]`, bytes);
}

function checkBool(value: unknown, path: string): void {
  if (typeof value !== "boolean") throw bad(path, "must be a boolean");
}

function checkTcb(value: unknown, path: string): void {
  if (!isObject(value)) throw bad(path, "must be an object");
  checkKeys(value, TCB_COMPONENTS, path);
  for (const [key, v] of Object.entries(value)) checkInt(v, `${path}.${key}`, 0, 255);
}

/**
 * Checks a policy value against the documented schema (strict: unknown keys, wrong types and
 * wrong lengths are errors) and returns it typed.
 *
 * @throws AttestArgumentError `policy_invalid` naming the offending path
 * @example
 * ```ts
 * const policy = parseSevSnpPolicy(JSON.parse(text));
 * ```
 */
export function parseSevSnpPolicy(value: unknown): SevSnpPolicy {
  if (isParsedPolicy(value)) return value as SevSnpPolicy;
  if (!isObject(value)) throw bad("$", "must be a JSON object");
  checkKeys(value, [...KEYS], "$");
  if (value.$schema !== undefined && typeof value.$schema !== "string")
    throw bad("$.$schema", "must be a string");
  for (const key of [
    "allowDebug",
    "allowSmt",
    "allowMigrationAgent",
    "requireSingleSocket",
    "rejectTrailingBytes",
  ]) {
    if (value[key] !== undefined) checkBool(value[key], `$.${key}`);
  }
  if (value.measurements !== undefined) checkHexList(value.measurements, "$.measurements", 48);
  if (value.reportData !== undefined) checkHex(value.reportData, "$.reportData", 64);
  if (value.hostData !== undefined) checkHex(value.hostData, "$.hostData", 32);
  if (value.vmpl !== undefined) {
    const vmpl = value.vmpl;
    if (!isObject(vmpl)) throw bad("$.vmpl", "must be an object");
    checkKeys(vmpl, ["allowed", "max"], "$.vmpl");
    if (vmpl.allowed !== undefined) {
      if (!Array.isArray(vmpl.allowed)) throw bad("$.vmpl.allowed", "must be an array");
      for (const [i, v] of vmpl.allowed.entries()) checkInt(v, `$.vmpl.allowed[${i}]`, 0, 3);
    }
    if (vmpl.max !== undefined) checkInt(vmpl.max, "$.vmpl.max", 0, 3);
  }
  if (value.minimumTcb !== undefined) checkTcb(value.minimumTcb, "$.minimumTcb");
  if (value.minimumLaunchTcb !== undefined) checkTcb(value.minimumLaunchTcb, "$.minimumLaunchTcb");
  for (const key of ["minimumFirmware", "minimumCommittedFirmware"]) {
    const fw = value[key];
    if (fw === undefined) continue;
    if (!isObject(fw)) throw bad(`$.${key}`, "must be an object");
    checkKeys(fw, ["major", "minor", "build"], `$.${key}`);
    checkInt(fw.major, `$.${key}.major`, 0, 255);
    checkInt(fw.minor, `$.${key}.minor`, 0, 255);
    if (fw.build !== undefined) checkInt(fw.build, `$.${key}.build`, 0, 255);
  }
  if (value.minimumGuestSvn !== undefined)
    checkInt(value.minimumGuestSvn, "$.minimumGuestSvn", 0, 0xffffffff);
  if (value.idKeyDigests !== undefined) checkHexList(value.idKeyDigests, "$.idKeyDigests", 48);
  if (value.authorKeyDigests !== undefined) {
    checkHexList(value.authorKeyDigests, "$.authorKeyDigests", 48);
    for (const [i, digest] of (value.authorKeyDigests as string[]).entries()) {
      if (isAllZero(fromHex(digest)))
        throw bad(
          `$.authorKeyDigests[${i}]`,
          "is all zero, which names no author key (it is what a report without one carries); to accept reports without an author key, do not pin authorKeyDigests",
        );
    }
  }
  if (value.signingKeys !== undefined) {
    if (!Array.isArray(value.signingKeys) || value.signingKeys.length === 0)
      throw bad("$.signingKeys", "must be a non-empty array");
    value.signingKeys.forEach((v, i) => {
      if (v !== "vcek" && v !== "vlek") throw bad(`$.signingKeys[${i}]`, 'must be "vcek" or "vlek"');
    });
  }
  return markParsedPolicy({ ...value } as SevSnpPolicy);
}

/** What a policy is checked against: a report whose signature and chain verified. */
export interface SevSnpPolicySubject {
  readonly report: SevSnpReport;
  /** Product line (decides the TCB layout). */
  readonly product: SevSnpProduct;
}

function sameHex(expected: string, actual: Uint8Array): boolean {
  return toHex(fromHex(expected)) === toHex(actual);
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
 * Validates a verified report against a policy and returns EVERY violation (empty when accepted).
 * Pure: no I/O, no clock. The policy is checked with {@link parseSevSnpPolicy} first.
 *
 * @throws AttestArgumentError `policy_invalid` when the policy itself is malformed
 * @example
 * ```ts
 * const violations = validateSevSnpPolicy({ report, product: "milan" }, { allowDebug: false, vmpl: { max: 0 } });
 * if (violations.length > 0) console.log(violations.map((v) => v.code));
 * ```
 */
export function validateSevSnpPolicy(
  subject: SevSnpPolicySubject,
  policyValue: unknown = {},
): VerificationIssue[] {
  const policy = parseSevSnpPolicy(policyValue);
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
    if (!policy.measurements.some((m) => m.toLowerCase() === measurement)) {
      add(
        "snp_policy_measurement_not_allowed",
        `measurement ${measurement} is not in the policy's allow-list`,
      );
    }
  }
  if (policy.reportData !== undefined && !sameHex(policy.reportData, report.reportData)) {
    add(
      "snp_policy_report_data_mismatch",
      `report data ${toHex(report.reportData)} differs from the policy's`,
    );
  }
  if (policy.hostData !== undefined && !sameHex(policy.hostData, report.hostData)) {
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
    if (!policy.idKeyDigests.some((d) => d.toLowerCase() === digest))
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
    else if (!policy.authorKeyDigests.some((d) => d.toLowerCase() === digest))
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
