import { toBase64, toHex } from "../common/bytes.js";
import { AttestArgumentError, EvidenceParseError } from "../common/errors.js";
import { type BindingJson, bindingToJson, decodeBinding } from "./binding.js";
import { type CborValue, decodeCbor, encodeCbor } from "./deterministic-cbor.js";

/** CPU TEE kinds a bundle can carry. */
export type CpuEvidenceKind = "tdx" | "sev-snp";

/** CPU evidence: a TDX quote or an SNP report, its certificates and optional collateral. */
export interface CpuEvidence {
  readonly kind: CpuEvidenceKind;
  /** The raw TDX quote (v4/v5) or SEV-SNP attestation report (1184 bytes). */
  readonly evidence: Uint8Array;
  /**
   * DER certificates. TDX: usually empty (the PCK chain travels inside the quote). SEV-SNP: VCEK (or
   * VLEK) first, then ASK/ASVK and ARK when the worker has them (from configfs-tsm `auxblob`).
   */
  readonly certificates: readonly Uint8Array[];
  /**
   * Verification collateral shipped with the evidence, by name. TDX: the DCAP collateral fields
   * (`tcb_info`, `tcb_info_signature`, `tcb_info_issuer_chain`, `qe_identity`, `qe_identity_signature`,
   * `qe_identity_issuer_chain`, `pck_crl`, `pck_crl_issuer_chain`, `root_ca_crl`); SEV-SNP: `crl`.
   * Text fields are strings, binary fields byte strings.
   */
  readonly collateral?: Readonly<Record<string, string | Uint8Array>>;
}

/** One GPU's evidence: an NVIDIA SPDM GET_MEASUREMENTS transcript, its device chain and RIMs. */
export interface GpuEvidence {
  readonly kind: "nvidia-spdm";
  /** SPDM request + signed response, as nvtrust / the attestation SDK capture it. */
  readonly evidence: Uint8Array;
  /** DER device certificates, leaf first. */
  readonly certificates: readonly Uint8Array[];
  /** Reference integrity manifests (SWID XML, as bytes) for the driver and VBIOS, when shipped. */
  readonly rims?: readonly Uint8Array[];
}

/**
 * Development roots carried by a simulated bundle, per verifier. They are used only when the
 * policy sets `allowSimulated: true`, and each must carry the development marker in its subject.
 */
export interface DevelopmentRoots {
  readonly tdx?: readonly Uint8Array[];
  readonly sevSnp?: readonly Uint8Array[];
  readonly nvidia?: readonly Uint8Array[];
}

/** The attestation bundle. */
export interface AttestationBundle {
  readonly version: 1;
  /** Exact deterministic-CBOR binding bytes (see {@link decodeBinding}); hashes are over these bytes. */
  readonly binding: Uint8Array;
  readonly cpu: CpuEvidence;
  readonly gpus: readonly GpuEvidence[];
  /** Optional event log (e.g. the TDX CCEL / UEFI event log) for replaying RTMRs. */
  readonly eventLog?: Uint8Array;
  /** Present only in simulated bundles. */
  readonly developmentRoots?: DevelopmentRoots;
}

const BUNDLE_VERSION = 1;
const MAX_GPUS = 64;

const bytesList = (list: readonly Uint8Array[]): Uint8Array[] => [...list];

/**
 * Encodes a bundle as CBOR (cbor-x). Map keys are text and written in a fixed order, so the same
 * bundle always encodes to the same bytes.
 *
 * @example
 * ```ts
 * const bytes = encodeBundle({ version: 1, binding, cpu: { kind: "tdx", evidence: quote, certificates: [] }, gpus: [] });
 * const again = decodeBundle(bytes);
 * ```
 */
export function encodeBundle(bundle: AttestationBundle): Uint8Array {
  if (bundle.version !== BUNDLE_VERSION) {
    throw new AttestArgumentError("bundle_version_unsupported", `bundle version must be ${BUNDLE_VERSION}`);
  }
  const cpu = new Map<string, CborValue>([
    ["kind", bundle.cpu.kind],
    ["evidence", bundle.cpu.evidence],
    ["certificates", bytesList(bundle.cpu.certificates)],
  ]);
  if (bundle.cpu.collateral) {
    cpu.set(
      "collateral",
      new Map(Object.entries(bundle.cpu.collateral).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    );
  }
  const gpus = bundle.gpus.map((gpu) => {
    const m = new Map<string, CborValue>([
      ["kind", gpu.kind],
      ["evidence", gpu.evidence],
      ["certificates", bytesList(gpu.certificates)],
    ]);
    if (gpu.rims) m.set("rims", bytesList(gpu.rims));
    return m;
  });
  const map = new Map<string, CborValue>([
    ["version", BUNDLE_VERSION],
    ["binding", bundle.binding],
    ["cpu", cpu],
    ["gpus", gpus],
  ]);
  if (bundle.eventLog) map.set("eventLog", bundle.eventLog);
  if (bundle.developmentRoots) {
    const roots = new Map<string, CborValue>();
    for (const key of ["tdx", "sevSnp", "nvidia"] as const) {
      const list = bundle.developmentRoots[key];
      if (list) roots.set(key, bytesList(list));
    }
    map.set("developmentRoots", roots);
  }
  return encodeCbor(map);
}

function parseFail(message: string): never {
  throw new EvidenceParseError("bundle_malformed", `bundle: ${message}`);
}

function asMap(
  value: unknown,
  where: string,
  keys: readonly string[],
  required: readonly string[],
): Map<string, unknown> {
  if (!(value instanceof Map)) parseFail(`${where} must be a map`);
  const map = value as Map<unknown, unknown>;
  for (const key of map.keys()) {
    if (typeof key !== "string" || !keys.includes(key))
      parseFail(`${where} has unknown key ${JSON.stringify(key)}`);
  }
  for (const key of required) if (!map.has(key)) parseFail(`${where} lacks "${key}"`);
  return map as Map<string, unknown>;
}

function asBytes(value: unknown, where: string): Uint8Array {
  if (!(value instanceof Uint8Array)) parseFail(`${where} must be a byte string`);
  if ((value as Uint8Array).length === 0) parseFail(`${where} is empty`);
  return value as Uint8Array;
}

function asBytesList(value: unknown, where: string, max = 16): Uint8Array[] {
  if (!Array.isArray(value)) parseFail(`${where} must be an array`);
  const list = value as unknown[];
  if (list.length > max) parseFail(`${where} has more than ${max} entries`);
  return list.map((item, i) => asBytes(item, `${where}[${i}]`));
}

/**
 * Decodes and shape-checks a CBOR bundle. Unknown keys, wrong types and trailing bytes are errors;
 * the binding is decoded strictly too (deterministic encoding required).
 * @throws EvidenceParseError `bundle_malformed`, `bundle_version_unsupported`, `bundle_binding_malformed`,
 *   `bundle_binding_not_canonical`
 */
export function decodeBundle(bytes: Uint8Array): AttestationBundle {
  const root = asMap(
    decodeCbor(bytes, "bundle_malformed", "bundle"),
    "bundle",
    ["version", "binding", "cpu", "gpus", "eventLog", "developmentRoots"],
    ["version", "binding", "cpu", "gpus"],
  );
  if (root.get("version") !== BUNDLE_VERSION) {
    throw new EvidenceParseError(
      "bundle_version_unsupported",
      `bundle version ${String(root.get("version"))} is not supported (expected 1)`,
    );
  }
  const binding = asBytes(root.get("binding"), "binding");
  decodeBinding(binding);
  const cpuMap = asMap(
    root.get("cpu"),
    "cpu",
    ["kind", "evidence", "certificates", "collateral"],
    ["kind", "evidence", "certificates"],
  );
  const kind = cpuMap.get("kind");
  if (kind !== "tdx" && kind !== "sev-snp")
    parseFail(`cpu.kind must be "tdx" or "sev-snp", got ${JSON.stringify(kind)}`);
  let collateral: Record<string, string | Uint8Array> | undefined;
  if (cpuMap.has("collateral")) {
    const c = cpuMap.get("collateral");
    if (!(c instanceof Map)) parseFail("cpu.collateral must be a map");
    collateral = {};
    for (const [k, v] of c as Map<unknown, unknown>) {
      if (typeof k !== "string") parseFail("cpu.collateral keys must be text");
      if (typeof v !== "string" && !(v instanceof Uint8Array))
        parseFail(`cpu.collateral.${k as string} must be text or bytes`);
      collateral[k as string] = v as string | Uint8Array;
    }
  }
  const cpu: CpuEvidence = {
    kind: kind as CpuEvidenceKind,
    evidence: asBytes(cpuMap.get("evidence"), "cpu.evidence"),
    certificates: asBytesList(cpuMap.get("certificates"), "cpu.certificates"),
    ...(collateral ? { collateral } : {}),
  };
  const gpuList = root.get("gpus");
  if (!Array.isArray(gpuList)) parseFail("gpus must be an array");
  if ((gpuList as unknown[]).length > MAX_GPUS) parseFail(`gpus has more than ${MAX_GPUS} entries`);
  const gpus = (gpuList as unknown[]).map((entry, i): GpuEvidence => {
    const m = asMap(
      entry,
      `gpus[${i}]`,
      ["kind", "evidence", "certificates", "rims"],
      ["kind", "evidence", "certificates"],
    );
    if (m.get("kind") !== "nvidia-spdm") parseFail(`gpus[${i}].kind must be "nvidia-spdm"`);
    return {
      kind: "nvidia-spdm",
      evidence: asBytes(m.get("evidence"), `gpus[${i}].evidence`),
      certificates: asBytesList(m.get("certificates"), `gpus[${i}].certificates`),
      ...(m.has("rims") ? { rims: asBytesList(m.get("rims"), `gpus[${i}].rims`, 32) } : {}),
    };
  });
  let developmentRoots: DevelopmentRoots | undefined;
  if (root.has("developmentRoots")) {
    const m = asMap(root.get("developmentRoots"), "developmentRoots", ["tdx", "sevSnp", "nvidia"], []);
    const roots: { tdx?: Uint8Array[]; sevSnp?: Uint8Array[]; nvidia?: Uint8Array[] } = {};
    for (const key of ["tdx", "sevSnp", "nvidia"] as const) {
      if (m.has(key)) roots[key] = asBytesList(m.get(key), `developmentRoots.${key}`, 4);
    }
    developmentRoots = roots;
  }
  return {
    version: 1,
    binding,
    cpu,
    gpus,
    ...(root.has("eventLog") ? { eventLog: asBytes(root.get("eventLog"), "eventLog") } : {}),
    ...(developmentRoots ? { developmentRoots } : {}),
  };
}

/** JSON view of a bundle: byte strings as base64 (evidence, certificates) or hex (binding). */
export interface BundleJson {
  readonly version: 1;
  readonly binding: BindingJson;
  readonly cpu: {
    readonly kind: CpuEvidenceKind;
    readonly evidence: string;
    readonly certificates: readonly string[];
    readonly collateral?: Readonly<Record<string, string>>;
  };
  readonly gpus: ReadonlyArray<{
    readonly kind: "nvidia-spdm";
    readonly evidence: string;
    readonly certificates: readonly string[];
    readonly rims?: readonly string[];
  }>;
  readonly eventLog?: string;
  readonly developmentRoots?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A readable JSON view of a bundle (for logs and `--json` output). Binary collateral fields are hex.
 * The CBOR bytes stay the interchange format; this view is for people.
 */
export function bundleToJson(bundle: AttestationBundle): BundleJson {
  const collateral = bundle.cpu.collateral
    ? Object.fromEntries(
        Object.entries(bundle.cpu.collateral).map(([k, v]) => [k, typeof v === "string" ? v : toHex(v)]),
      )
    : undefined;
  return {
    version: 1,
    binding: bindingToJson(bundle.binding),
    cpu: {
      kind: bundle.cpu.kind,
      evidence: toBase64(bundle.cpu.evidence),
      certificates: bundle.cpu.certificates.map(toBase64),
      ...(collateral ? { collateral } : {}),
    },
    gpus: bundle.gpus.map((gpu) => ({
      kind: gpu.kind,
      evidence: toBase64(gpu.evidence),
      certificates: gpu.certificates.map(toBase64),
      ...(gpu.rims ? { rims: gpu.rims.map(toBase64) } : {}),
    })),
    ...(bundle.eventLog ? { eventLog: toBase64(bundle.eventLog) } : {}),
    ...(bundle.developmentRoots
      ? {
          developmentRoots: Object.fromEntries(
            Object.entries(bundle.developmentRoots).map(([k, v]) => [k, (v as Uint8Array[]).map(toBase64)]),
          ),
        }
      : {}),
  };
}
