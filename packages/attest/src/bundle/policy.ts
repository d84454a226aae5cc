import {
  BUNDLE_POLICY_KEYS,
  matchesBundlePolicySchema,
} from "../common/generated/bundle-policy-validator.js";
import type { BundlePolicyJson } from "../common/generated/policy-types.js";
import {
  checkPolicySchema,
  isParsedPolicy,
  markParsedPolicy,
  normalHex,
  type Parsed,
} from "../common/parsed-policy.js";
import { normalNvidiaPolicy, type ParsedNvidiaPolicy } from "../nvidia/policy.js";
import { normalSevSnpPolicy, type ParsedSevSnpPolicy } from "../sev-snp/policy.js";
import { normalTdxPolicy, type ParsedTdxPolicy } from "../tdx/policy.js";

/** What is accepted for one model id (`models.<id>` of the bundle policy). */
export type ModelPolicy = BundlePolicyJson["models"][string];

/**
 * Allowed TDX measurements for a model: every field given must match; omitted fields are not
 * checked. The keys are the TDX policy's (`mrTd`, `rtmr0`…`rtmr3`, `mrConfigId`).
 */
export type TdxMeasurementRule = NonNullable<ModelPolicy["tdx"]>[number];

/** Allowed SEV-SNP launch measurement (and optionally host data) for a model. */
export type SevSnpMeasurementRule = NonNullable<ModelPolicy["sevSnp"]>[number];

/** The JSON form of a bundle policy, generated from `schemas/bundle-policy.schema.json`. */
export type { BundlePolicyJson };

/**
 * The bundle policy as {@link parseBundlePolicy} returns it: its JSON form
 * (`schemas/bundle-policy.schema.json`, {@link BundlePolicyJson}) with the defaults filled in and
 * the nested kind policies parsed. It is itself a valid JSON form (it parses again to an equal tree).
 */
export interface BundlePolicy {
  /** Accept evidence signed by the simulator's development roots. Default false. */
  readonly allowSimulated: boolean;
  /** Maximum age of the binding's issued-at at verification time, seconds. Default 3600. */
  readonly maxAgeSeconds: number;
  /** Tolerated clock skew for an issued-at in the future, seconds. Default 300. */
  readonly maxClockSkewSeconds: number;
  /** Expected client nonce (hex); when set the binding must carry exactly this nonce. */
  readonly clientNonce?: string;
  readonly cpu: {
    /** CPU TEEs accepted. Default both. */
    readonly kinds: readonly ("tdx" | "sev-snp")[];
    /** The TDX policy (parsed with the bundle policy, strictly; passed to `verifyTdxQuote`). */
    readonly tdx?: ParsedTdxPolicy;
    /** The SEV-SNP policy (parsed with the bundle policy; passed to `verifySevSnpReport`). */
    readonly sevSnp?: ParsedSevSnpPolicy;
  };
  readonly gpu: {
    /** At least `minCount` GPUs must be attested. Default true. */
    readonly required: boolean;
    /** Default 1 (when required). */
    readonly minCount: number;
    /** The NVIDIA policy (parsed with the bundle policy; passed to `verifyNvidiaEvidence`). */
    readonly nvidia?: ParsedNvidiaPolicy;
  };
  /** Models accepted, by id. */
  readonly models: Readonly<Record<string, ModelPolicy>>;
}

/** The strictest useful default: real hardware only, GPU required, fresh within an hour, no models. */
export const DEFAULT_BUNDLE_POLICY: BundlePolicy = markParsedPolicy({
  allowSimulated: false,
  maxAgeSeconds: 3600,
  maxClockSkewSeconds: 300,
  cpu: { kinds: ["tdx", "sev-snp"] },
  gpu: { required: true, minCount: 1 },
  models: {},
});

/**
 * Rules the schema states (`if` / `else`, keys refused with `false`) whose reason their keyword alone
 * would not say.
 */
const SPECIAL_MESSAGES = {
  "/gpu/else/properties/minCount/minimum":
    "must be ≥ 1 when a GPU is required (gpu.required: false accepts 0)",
  "/cpu/properties/tdx/properties/":
    "is a launch measurement: in a bundle policy, measurements are pinned in one place, per model (models.<id>.tdx)",
  "/cpu/properties/sevSnp/properties/":
    "is a launch measurement: in a bundle policy, measurements are pinned in one place, per model (models.<id>.sevSnp)",
};

/**
 * Parses and checks a bundle policy (JSON value) against `schemas/bundle-policy.schema.json`, which
 * refers to the kinds' schemas for `cpu.tdx`, `cpu.sevSnp` and `gpu.nvidia`: the whole tree is
 * validated at once, by one generated validator. Strict: unknown keys anywhere are rejected, so a
 * misspelt option can never silently turn a check off; a misspelt nested key (`cpu.tdx.mrTD`) is
 * refused now, with its JSON path, whatever evidence the bundle carries. Returns one typed tree:
 * defaults filled in, hex lowercase without `0x`, the nested policies as their kinds' parsed trees.
 * A tree this returned is handed back as is (it is parsed once).
 *
 * @example
 * ```ts
 * const policy = parseBundlePolicy(JSON.parse(readFileSync("docs/policies/confidential-tdx-h100.json", "utf8")));
 * ```
 * @throws AttestArgumentError `policy_invalid`, with the JSON path of the offending value in
 * `details.path` (`$.cpu.tdx.mrTD`, `$.models["peer-mixtral"].tdx[0].rtmr4`)
 */
export function parseBundlePolicy(value: unknown): Parsed<BundlePolicy> {
  if (isParsedPolicy(value)) return value as Parsed<BundlePolicy>;
  checkPolicySchema(matchesBundlePolicySchema, value, "bundle", BUNDLE_POLICY_KEYS, SPECIAL_MESSAGES);
  const { cpu = {}, gpu = {} } = value;
  const required = gpu.required ?? true;
  // The nested policies matched their schemas just now (the one validator): normalised, not read again.
  const tdx = cpu.tdx === undefined ? undefined : normalTdxPolicy(cpu.tdx);
  const sevSnp = cpu.sevSnp === undefined ? undefined : normalSevSnpPolicy(cpu.sevSnp);
  const nvidia = gpu.nvidia === undefined ? undefined : normalNvidiaPolicy(gpu.nvidia);
  const models: Record<string, ModelPolicy> = {};
  for (const [id, model] of Object.entries(value.models)) {
    models[id] = {
      weightsDigests: model.weightsDigests.map(normalHex),
      ...(model.tdx === undefined ? {} : { tdx: model.tdx.map(normalRule) }),
      ...(model.sevSnp === undefined ? {} : { sevSnp: model.sevSnp.map(normalRule) }),
    };
  }
  return markParsedPolicy({
    allowSimulated: value.allowSimulated ?? DEFAULT_BUNDLE_POLICY.allowSimulated,
    maxAgeSeconds: value.maxAgeSeconds ?? DEFAULT_BUNDLE_POLICY.maxAgeSeconds,
    maxClockSkewSeconds: value.maxClockSkewSeconds ?? DEFAULT_BUNDLE_POLICY.maxClockSkewSeconds,
    ...(value.clientNonce === undefined ? {} : { clientNonce: normalHex(value.clientNonce) }),
    cpu: {
      kinds: [...(cpu.kinds ?? DEFAULT_BUNDLE_POLICY.cpu.kinds)],
      ...(tdx ? { tdx } : {}),
      ...(sevSnp ? { sevSnp } : {}),
    },
    gpu: { required, minCount: gpu.minCount ?? (required ? 1 : 0), ...(nvidia ? { nvidia } : {}) },
    models,
  });
}

/** A measurement rule with its hex normalised (every member is hex; undefined members dropped). */
function normalRule<T extends object>(rule: T): T {
  const out: Record<string, string> = {};
  for (const [key, hex] of Object.entries(rule)) if (typeof hex === "string") out[key] = normalHex(hex);
  return out as T;
}
