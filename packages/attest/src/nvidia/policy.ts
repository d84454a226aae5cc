import type { VerificationIssue } from "../common/errors.js";
import {
  matchesNvidiaPolicySchema,
  NVIDIA_POLICY_KEYS,
} from "../common/generated/nvidia-policy-validator.js";
import type { NvidiaPolicy } from "../common/generated/policy-types.js";
import {
  checkPolicySchema,
  isParsedPolicy,
  normalPolicyTree,
  type Parsed,
  requireParsedPolicy,
} from "../common/parsed-policy.js";
import type { NvidiaArchitecture } from "./device-chain.js";
import type { NvidiaFeatureMode } from "./opaque-data.js";

/**
 * What a relying party accepts from verified NVIDIA evidence. Pure data; every key optional; unknown
 * keys are rejected (strict). The type is generated from `schemas/nvidia-policy.schema.json`
 * (scripts/policy-validators.mjs), which {@link parseNvidiaPolicy} validates against.
 *
 * Strict by default: freshness (`requireNonce`) and measurements (`requireRimMatch`) are required
 * unless the policy sets them to `false`, which names exactly what is accepted unchecked.
 *
 * @example
 * ```json
 * { "requireCcMode": true, "allowedModes": ["ppcie"], "allowedArchitectures": ["hopper"] }
 * ```
 */
export type { NvidiaPolicy };

/** An NVIDIA policy {@link parseNvidiaPolicy} returned: schema-checked. */
export type ParsedNvidiaPolicy = Parsed<NvidiaPolicy>;

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

/**
 * Checks a policy object (e.g. parsed JSON) against `schemas/nvidia-policy.schema.json` and returns
 * a new tree (`$schema` and undefined members dropped). A tree this returned is handed back as is.
 * @throws AttestArgumentError `policy_invalid` for unknown keys or wrong types, with the JSON path
 * in `details.path`
 * @example
 * const policy = parseNvidiaPolicy({ requireRimMatch: true, allowedModes: ["ppcie"] });
 */
export function parseNvidiaPolicy(value: unknown): ParsedNvidiaPolicy {
  if (isParsedPolicy(value)) return value as ParsedNvidiaPolicy;
  checkPolicySchema(matchesNvidiaPolicySchema, value, "NVIDIA", NVIDIA_POLICY_KEYS);
  return normalNvidiaPolicy(value);
}

/**
 * The parsed tree of a value that matched the schema (parseNvidiaPolicy, and parseBundlePolicy for
 * its `gpu.nvidia`, which its own validator checked): a copy, not validated again.
 */
export function normalNvidiaPolicy(value: NvidiaPolicy): ParsedNvidiaPolicy {
  return normalPolicyTree(value, {});
}

/**
 * Evaluates a parsed policy over verified facts and returns every violation (empty: accepted). No
 * parsing: the policy is the tree {@link parseNvidiaPolicy} returned.
 * @throws AttestArgumentError `policy_invalid` when the policy is not a parsed tree
 * @example
 * validateNvidiaPolicy(facts, parseNvidiaPolicy({ requireRevocationChecked: true })); // [{ code: "nvidia_policy_revocation_unchecked", … }]
 */
export function validateNvidiaPolicy(
  facts: NvidiaPolicyFacts,
  policy: ParsedNvidiaPolicy,
): VerificationIssue[] {
  requireParsedPolicy(policy, "NVIDIA", "parseNvidiaPolicy");
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
    (facts.architecture === undefined ||
      !(policy.allowedArchitectures as readonly string[]).includes(facts.architecture))
  ) {
    out.push({
      code: "nvidia_policy_architecture",
      message: `architecture ${facts.architecture ?? "(unknown)"} is not allowed`,
    });
  }
  return out;
}
