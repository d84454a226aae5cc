import { AttestArgumentError, type VerificationIssue } from "../common/errors.js";
import { isParsedPolicy, markParsedPolicy } from "../common/parsed-policy.js";
import type { NvidiaArchitecture } from "./device-chain.js";
import type { NvidiaFeatureMode } from "./opaque-data.js";

/**
 * What a relying party accepts from verified NVIDIA evidence. Pure data; every key optional; unknown
 * keys are rejected (strict). JSON Schema: `schemas/nvidia-policy.schema.json`.
 *
 * Strict by default: freshness (`requireNonce`) and measurements (`requireRimMatch`) are required
 * unless the policy sets them to `false`, which names exactly what is accepted unchecked.
 */
export interface NvidiaPolicy {
  /**
   * RIMs must have been compared (GPU: driver and VBIOS; switch: BIOS) and every active index must
   * match. Default true; `false` accepts unchecked measurements (echoed as `unchecked: ["measurements"]`).
   */
  readonly requireRimMatch?: boolean;
  /** Driver versions accepted (exact strings, e.g. "550.90.07"). GPUs only. */
  readonly allowedDriverVersions?: readonly string[];
  /** VBIOS / switch BIOS versions accepted (case-insensitive, e.g. "96.00.9F.00.01"). */
  readonly allowedVbiosVersions?: readonly string[];
  /** The evidence must declare a confidential-computing mode (opaque field 36: spt, mpt or ppcie). */
  readonly requireCcMode?: boolean;
  /** Modes accepted when the evidence declares one (e.g. ["ppcie"] for a protected-PCIe set). */
  readonly allowedModes?: readonly NvidiaFeatureMode[];
  /** OCSP must have been consulted for every certificate (fails in offline mode). */
  readonly requireRevocationChecked?: boolean;
  /**
   * The caller must have passed the expected nonce (freshness). Default true; `false` accepts
   * evidence of unchecked freshness (echoed as `unchecked: ["nonce"]`).
   */
  readonly requireNonce?: boolean;
  /** Architectures accepted. */
  readonly allowedArchitectures?: readonly NvidiaArchitecture[];
}

/** Verified facts the policy is evaluated on. */
export interface NvidiaPolicyFacts {
  readonly architecture: NvidiaArchitecture | undefined;
  readonly kind: "gpu" | "switch" | undefined;
  readonly driverVersion: string | null;
  readonly vbiosVersion: string | null;
  readonly mode: NvidiaFeatureMode | "invalid" | null;
  readonly revocationChecked: boolean;
  readonly nonceChecked: boolean;
  readonly rimKinds: readonly ("driver" | "vbios")[];
  readonly measurements: { readonly total: number; readonly mismatched: readonly number[] } | null;
}

const KEYS: Record<keyof NvidiaPolicy, "boolean" | "strings"> = {
  requireRimMatch: "boolean",
  allowedDriverVersions: "strings",
  allowedVbiosVersions: "strings",
  requireCcMode: "boolean",
  allowedModes: "strings",
  requireRevocationChecked: "boolean",
  requireNonce: "boolean",
  allowedArchitectures: "strings",
};
const MODES = new Set(["spt", "mpt", "ppcie"]);
const ARCHITECTURES = new Set(["hopper", "blackwell", "ls10"]);

/**
 * Checks a policy object (e.g. parsed JSON) and returns it typed.
 * @throws AttestArgumentError `policy_invalid` for unknown keys or wrong types
 * @example
 * const policy = parseNvidiaPolicy({ requireRimMatch: true, allowedModes: ["ppcie"] });
 */
export function parseNvidiaPolicy(value: unknown): NvidiaPolicy {
  if (isParsedPolicy(value)) return value as NvidiaPolicy;
  const invalid = (message: string, path: string) =>
    new AttestArgumentError("policy_invalid", message, { details: { path } });
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("NVIDIA policy must be a JSON object", "$");
  }
  for (const [key, v] of Object.entries(value)) {
    if (key === "$schema") continue;
    const type = KEYS[key as keyof NvidiaPolicy];
    if (!type) throw invalid(`unknown NVIDIA policy key "${key}"`, `$.${key}`);
    if (type === "boolean" && typeof v !== "boolean")
      throw invalid(`policy key "${key}" must be a boolean`, `$.${key}`);
    if (type === "strings" && (!Array.isArray(v) || v.some((s) => typeof s !== "string"))) {
      throw invalid(`policy key "${key}" must be an array of strings`, `$.${key}`);
    }
  }
  const policy = value as NvidiaPolicy;
  for (const [i, mode] of (policy.allowedModes ?? []).entries()) {
    if (!MODES.has(mode))
      throw invalid(`allowedModes: unknown mode "${mode}" (spt, mpt, ppcie)`, `$.allowedModes[${i}]`);
  }
  for (const [i, arch] of (policy.allowedArchitectures ?? []).entries()) {
    if (!ARCHITECTURES.has(arch))
      throw invalid(
        `allowedArchitectures: unknown "${arch}" (hopper, blackwell, ls10)`,
        `$.allowedArchitectures[${i}]`,
      );
  }
  return markParsedPolicy({ ...policy });
}

/**
 * Evaluates a policy over verified facts and returns every violation (empty: accepted).
 * @example
 * validateNvidiaPolicy(facts, { requireRevocationChecked: true }); // [{ code: "nvidia_policy_revocation_unchecked", … }]
 */
export function validateNvidiaPolicy(facts: NvidiaPolicyFacts, policy: NvidiaPolicy): VerificationIssue[] {
  const out: VerificationIssue[] = [];
  if (policy.requireRimMatch !== false) {
    const needed: ("driver" | "vbios")[] = facts.kind === "switch" ? ["vbios"] : ["driver", "vbios"];
    const missing = needed.filter((k) => !facts.rimKinds.includes(k));
    if (!facts.measurements || missing.length > 0) {
      out.push({
        code: "nvidia_policy_rim_required",
        message: `measurements were not checked: missing ${missing.length > 0 ? missing.join(" and ") : "RIMs"} RIM (required by default; accept unchecked measurements by name with requireRimMatch: false, CLI --allow-unchecked measurements)`,
      });
    } else if (facts.measurements.mismatched.length > 0) {
      out.push({
        code: "nvidia_policy_measurement_mismatch",
        message: `policy requires every measurement to match; mismatched indices ${facts.measurements.mismatched.join(", ")}`,
      });
    }
  }
  if (policy.allowedDriverVersions && facts.kind !== "switch") {
    if (facts.driverVersion === null || !policy.allowedDriverVersions.includes(facts.driverVersion)) {
      out.push({
        code: "nvidia_policy_driver_version",
        message: `driver version ${facts.driverVersion ?? "(none)"} is not allowed`,
      });
    }
  }
  if (policy.allowedVbiosVersions) {
    const allowed = policy.allowedVbiosVersions.map((v) => v.toUpperCase());
    if (facts.vbiosVersion === null || !allowed.includes(facts.vbiosVersion.toUpperCase())) {
      out.push({
        code: "nvidia_policy_vbios_version",
        message: `VBIOS version ${facts.vbiosVersion ?? "(none)"} is not allowed`,
      });
    }
  }
  if (policy.requireCcMode && (facts.mode === null || facts.mode === "invalid")) {
    out.push({
      code: "nvidia_policy_cc_mode",
      message: "evidence does not declare a confidential-computing mode (opaque field 36)",
    });
  }
  if (
    policy.allowedModes &&
    (facts.mode === null || facts.mode === "invalid" || !policy.allowedModes.includes(facts.mode))
  ) {
    out.push({
      code: "nvidia_policy_mode",
      message: `mode ${facts.mode ?? "(none)"} is not allowed (${policy.allowedModes.join(", ")})`,
    });
  }
  if (policy.requireRevocationChecked && !facts.revocationChecked) {
    out.push({
      code: "nvidia_policy_revocation_unchecked",
      message: "policy requires OCSP revocation checking, which did not happen (offline?)",
    });
  }
  if (policy.requireNonce !== false && !facts.nonceChecked) {
    out.push({
      code: "nvidia_policy_nonce_unchecked",
      message:
        "freshness was not checked: no expected nonce given (required by default; accept unchecked freshness by name with requireNonce: false, CLI --allow-unchecked nonce)",
    });
  }
  if (
    policy.allowedArchitectures &&
    (facts.architecture === undefined || !policy.allowedArchitectures.includes(facts.architecture))
  ) {
    out.push({
      code: "nvidia_policy_architecture",
      message: `architecture ${facts.architecture ?? "(unknown)"} is not allowed`,
    });
  }
  return out;
}
