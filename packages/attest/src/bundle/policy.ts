import { fromHex, toHex } from "../common/bytes.js";
import { AttestArgumentError, AttestError } from "../common/errors.js";
import { isParsedPolicy, markParsedPolicy } from "../common/parsed-policy.js";
import { type NvidiaPolicy, parseNvidiaPolicy } from "../nvidia/policy.js";
import { parseSevSnpPolicy, type SevSnpPolicy } from "../sev-snp/policy.js";
import { parseTdxPolicy, type TdxPolicy } from "../tdx/policy.js";

/** Allowed TDX measurements for a model: every field given must match; omitted fields are not checked. */
export interface TdxMeasurementRule {
  readonly mrtd: string;
  readonly rtmr0?: string;
  readonly rtmr1?: string;
  readonly rtmr2?: string;
  readonly rtmr3?: string;
  readonly mrconfigid?: string;
}

/** Allowed SEV-SNP launch measurement (and optionally host data) for a model. */
export interface SevSnpMeasurementRule {
  readonly measurement: string;
  readonly hostData?: string;
}

/** What is accepted for one model id. */
export interface ModelPolicy {
  /** Accepted weights digests (hex). Required: a model without known weights is not accepted. */
  readonly weightsDigests: readonly string[];
  /** Accepted TDX measurement sets; a TDX bundle must match one. Omitted: TDX not accepted for this model. */
  readonly tdx?: readonly TdxMeasurementRule[];
  /** Accepted SNP measurements; an SNP bundle must match one. Omitted: SNP not accepted for this model. */
  readonly sevSnp?: readonly SevSnpMeasurementRule[];
}

/** The bundle policy, as parsed from JSON (see `schemas/bundle-policy.schema.json`). */
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
    readonly tdx?: TdxPolicy;
    /** The SEV-SNP policy (parsed with the bundle policy; passed to `verifySevSnpReport`). */
    readonly sevSnp?: SevSnpPolicy;
  };
  readonly gpu: {
    /** At least `minCount` GPUs must be attested. Default true. */
    readonly required: boolean;
    /** Default 1 (when required). */
    readonly minCount: number;
    /** The NVIDIA policy (parsed with the bundle policy; passed to `verifyNvidiaEvidence`). */
    readonly nvidia?: NvidiaPolicy;
  };
  /** Models accepted, by id. */
  readonly models: Readonly<Record<string, ModelPolicy>>;
}

/** The strictest useful default: real hardware only, GPU required, fresh within an hour, no models. */
export const DEFAULT_BUNDLE_POLICY: BundlePolicy = {
  allowSimulated: false,
  maxAgeSeconds: 3600,
  maxClockSkewSeconds: 300,
  cpu: { kinds: ["tdx", "sev-snp"] },
  gpu: { required: true, minCount: 1 },
  models: {},
};

class PolicyReader {
  constructor(private readonly prefix: string) {}
  invalid(path: string, message: string): never {
    throw new AttestArgumentError("policy_invalid", `${this.prefix}${path}: ${message}`, {
      details: { path },
    });
  }
  object(value: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      this.invalid(path, "must be an object");
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!keys.includes(key)) {
        throw new AttestArgumentError(
          "policy_invalid",
          `${this.prefix}${path}: unknown key "${key}" (policies are strict)`,
          {
            details: { path: `${path}.${key}`, allowed: keys },
          },
        );
      }
    }
    return obj;
  }
  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") this.invalid(path, "must be true or false");
    return value as boolean;
  }
  integer(value: unknown, path: string, fallback: number, min: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
      this.invalid(path, `must be an integer ≥ ${min}`);
    return value as number;
  }
  hex(value: unknown, path: string, sizes?: readonly number[]): string {
    if (typeof value !== "string") this.invalid(path, "must be a hex string");
    let bytes: Uint8Array;
    try {
      bytes = fromHex(value as string);
    } catch {
      return this.invalid(path, "must be a hex string");
    }
    if (sizes && !sizes.includes(bytes.length)) this.invalid(path, `must be ${sizes.join(" or ")} bytes`);
    return toHex(bytes);
  }
  hexList(value: unknown, path: string, sizes?: readonly number[]): string[] {
    if (!Array.isArray(value)) this.invalid(path, "must be an array");
    return (value as unknown[]).map((item, i) => this.hex(item, `${path}[${i}]`, sizes));
  }
  /**
   * A nested kind policy, read by that kind's parser now (not when evidence of that kind turns up),
   * its errors re-rooted at `path` (`$.cpu.tdx.mrTD`).
   */
  nested<T>(value: unknown, path: string, parse: (value: unknown) => T): T | undefined {
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (error) {
      if (!AttestError.isInstance(error) || error.code !== "policy_invalid") throw error;
      const inner = error.details?.path;
      const at = typeof inner === "string" && inner.startsWith("$") ? `${path}${inner.slice(1)}` : path;
      throw new AttestArgumentError("policy_invalid", `${this.prefix}${at}: ${error.message}`, {
        cause: error,
        details: { path: at },
      });
    }
  }
}

const TOP_KEYS = [
  "$schema",
  "description",
  "allowSimulated",
  "maxAgeSeconds",
  "maxClockSkewSeconds",
  "clientNonce",
  "cpu",
  "gpu",
  "models",
];

/**
 * Parses and checks a bundle policy (JSON value). Strict: unknown keys anywhere are rejected, so a
 * misspelt option can never silently turn a check off. The nested `cpu.tdx`, `cpu.sevSnp` and
 * `gpu.nvidia` policies are parsed here too, by their kinds' parsers, into one typed tree: a
 * misspelt nested key (`cpu.tdx.mrTD`) is refused now, with its JSON path, whatever evidence the
 * bundle carries. A tree this returned is handed back as is (it is parsed once).
 *
 * @example
 * ```ts
 * const policy = parseBundlePolicy(JSON.parse(readFileSync("docs/policies/confidential-tdx-h100.json", "utf8")));
 * ```
 * @throws AttestArgumentError `policy_invalid`, `policy_invalid`
 */
export function parseBundlePolicy(value: unknown): BundlePolicy {
  if (isParsedPolicy(value)) return value as BundlePolicy;
  const r = new PolicyReader("bundle policy ");
  const top = r.object(value, "$", TOP_KEYS);
  if (top.$schema !== undefined && typeof top.$schema !== "string")
    r.invalid("$.$schema", "must be a string");
  if (top.description !== undefined && typeof top.description !== "string")
    r.invalid("$.description", "must be a string");
  const cpuIn = top.cpu === undefined ? {} : r.object(top.cpu, "$.cpu", ["kinds", "tdx", "sevSnp"]);
  let kinds: ("tdx" | "sev-snp")[] = ["tdx", "sev-snp"];
  if (cpuIn.kinds !== undefined) {
    if (!Array.isArray(cpuIn.kinds) || cpuIn.kinds.length === 0)
      r.invalid("$.cpu.kinds", "must be a non-empty array");
    kinds = (cpuIn.kinds as unknown[]).map((kind, i) => {
      if (kind !== "tdx" && kind !== "sev-snp") r.invalid(`$.cpu.kinds[${i}]`, 'must be "tdx" or "sev-snp"');
      return kind as "tdx" | "sev-snp";
    });
  }
  const gpuIn = top.gpu === undefined ? {} : r.object(top.gpu, "$.gpu", ["required", "minCount", "nvidia"]);
  const required = r.boolean(gpuIn.required, "$.gpu.required", true);
  const minCount = r.integer(gpuIn.minCount, "$.gpu.minCount", required ? 1 : 0, 0);
  if (required && minCount < 1) r.invalid("$.gpu.minCount", "must be ≥ 1 when a GPU is required");
  if (top.models === undefined)
    r.invalid("$.models", "is required (the models, weights and measurements accepted)");
  const modelsIn = r.object(top.models, "$.models", Object.keys(top.models as object));
  const models: Record<string, ModelPolicy> = {};
  for (const [id, entry] of Object.entries(modelsIn)) {
    const path = `$.models[${JSON.stringify(id)}]`;
    const m = r.object(entry, path, ["weightsDigests", "tdx", "sevSnp"]);
    if (m.weightsDigests === undefined) r.invalid(`${path}.weightsDigests`, "is required");
    const tdx = m.tdx === undefined ? undefined : tdxRules(r, m.tdx, `${path}.tdx`);
    const sevSnp = m.sevSnp === undefined ? undefined : snpRules(r, m.sevSnp, `${path}.sevSnp`);
    models[id] = {
      weightsDigests: r.hexList(m.weightsDigests, `${path}.weightsDigests`, [32, 48, 64]),
      ...(tdx ? { tdx } : {}),
      ...(sevSnp ? { sevSnp } : {}),
    };
  }
  const tdxPolicy = r.nested(cpuIn.tdx, "$.cpu.tdx", parseTdxPolicy);
  const snpPolicy = r.nested(cpuIn.sevSnp, "$.cpu.sevSnp", parseSevSnpPolicy);
  const nvidiaPolicy = r.nested(gpuIn.nvidia, "$.gpu.nvidia", parseNvidiaPolicy);
  return markParsedPolicy({
    allowSimulated: r.boolean(top.allowSimulated, "$.allowSimulated", false),
    maxAgeSeconds: r.integer(top.maxAgeSeconds, "$.maxAgeSeconds", DEFAULT_BUNDLE_POLICY.maxAgeSeconds, 1),
    maxClockSkewSeconds: r.integer(
      top.maxClockSkewSeconds,
      "$.maxClockSkewSeconds",
      DEFAULT_BUNDLE_POLICY.maxClockSkewSeconds,
      0,
    ),
    ...(top.clientNonce === undefined ? {} : { clientNonce: r.hex(top.clientNonce, "$.clientNonce") }),
    cpu: { kinds, ...(tdxPolicy ? { tdx: tdxPolicy } : {}), ...(snpPolicy ? { sevSnp: snpPolicy } : {}) },
    gpu: { required, minCount, ...(nvidiaPolicy ? { nvidia: nvidiaPolicy } : {}) },
    models,
  });
}

function tdxRules(r: PolicyReader, value: unknown, path: string): TdxMeasurementRule[] {
  if (!Array.isArray(value)) r.invalid(path, "must be an array");
  return (value as unknown[]).map((entry, i) => {
    const p = `${path}[${i}]`;
    const o = r.object(entry, p, ["mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid"]);
    if (o.mrtd === undefined) r.invalid(`${p}.mrtd`, "is required");
    const rule: Record<string, string> = {};
    for (const key of ["mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid"]) {
      if (o[key] !== undefined) rule[key] = r.hex(o[key], `${p}.${key}`, [48]);
    }
    return rule as unknown as TdxMeasurementRule;
  });
}

function snpRules(r: PolicyReader, value: unknown, path: string): SevSnpMeasurementRule[] {
  if (!Array.isArray(value)) r.invalid(path, "must be an array");
  return (value as unknown[]).map((entry, i) => {
    const p = `${path}[${i}]`;
    const o = r.object(entry, p, ["measurement", "hostData"]);
    if (o.measurement === undefined) r.invalid(`${p}.measurement`, "is required");
    return {
      measurement: r.hex(o.measurement, `${p}.measurement`, [48]),
      ...(o.hostData === undefined ? {} : { hostData: r.hex(o.hostData, `${p}.hostData`, [32]) }),
    };
  });
}
