import { toHex } from "../common/bytes.js";
import { EvidenceParseError } from "../common/errors.js";

/**
 * NVIDIA's opaque data: the TLV list (type u16 LE, length u16 LE, value) that GPUs and NVSwitches put
 * in the signed SPDM MEASUREMENTS response. Type numbers follow NVIDIA's verifiers (nvtrust
 * `spdm_msrt_resp_msg.py`, attestation-sdk `GpuOpaqueDataType`).
 */
export const OPAQUE_FIELD_NAMES: Readonly<Record<number, string>> = {
  1: "cert_issuer_name",
  2: "cert_authority_key_identifier",
  3: "driver_version",
  4: "gpu_info",
  5: "sku",
  6: "vbios_version",
  7: "manufacturer_id",
  8: "tamper_detection",
  9: "smc",
  10: "vpr",
  11: "nvdec0_status",
  12: "msrscnt",
  13: "cprinfo",
  14: "board_id",
  15: "chip_sku",
  16: "chip_sku_mod",
  17: "project",
  18: "project_sku",
  19: "project_sku_mod",
  20: "fwid",
  21: "protected_pcie_status",
  22: "switch_pdi",
  23: "floorswept_ports",
  24: "position_id",
  25: "lock_switch_status",
  32: "gpu_link_conn",
  33: "sys_enable_status",
  34: "opaque_data_version",
  35: "chip_info",
  36: "feature_flag",
  255: "invalid",
};

/** The GPU operating mode NVIDIA reports in opaque field 36 (attestation-sdk `OpaqueDataFeatureFlag`). */
export type NvidiaFeatureMode = "mpt" | "spt" | "ppcie";
const FEATURE_MODES: Record<number, NvidiaFeatureMode> = { 0: "mpt", 1: "spt", 2: "ppcie" };

/** One TLV of the opaque data, value kept as the exact signed bytes. */
export interface OpaqueField {
  readonly type: number;
  /** Name from {@link OPAQUE_FIELD_NAMES}, or `unknown_<type>` for a type this version does not know. */
  readonly name: string;
  readonly value: Uint8Array;
}

/** Opaque data parsed into its TLVs plus the decoded fields verifiers use. */
export interface OpaqueData {
  readonly fields: readonly OpaqueField[];
  /** Tag 3, ASCII without the NUL terminator (GPUs only). */
  readonly driverVersion: string | undefined;
  /** Tag 6: GPU binary form printed as NVIDIA prints it (`96.00.74.00.20`), NVSwitch ASCII as is. */
  readonly vbiosVersion: string | undefined;
  /** Tag 20: 48-byte FWID that must match the device leaf certificate's FWID extension. */
  readonly fwid: Uint8Array | undefined;
  /** Tag 12: measurement count per block index, u32 LE each. */
  readonly measurementCounts: readonly number[] | undefined;
  /** Tags 17, 18, 15, 16 as ASCII (NUL stripped; used to name the VBIOS RIM); tag 19 is binary, given as hex. */
  readonly project: string | undefined;
  readonly projectSku: string | undefined;
  readonly projectSkuMod: string | undefined;
  readonly chipSku: string | undefined;
  readonly chipSkuMod: string | undefined;
  /** Tag 21 as a character (`U` unprotected, `P`...); undefined when absent. */
  readonly protectedPcieStatus: string | undefined;
  /** Tag 34 (u32/u64 LE). */
  readonly opaqueDataVersion: number | undefined;
  /** Tag 36 decoded; `invalid` for a value this version does not know. */
  readonly featureMode: NvidiaFeatureMode | "invalid" | undefined;
}

const ascii = (bytes: Uint8Array): string => {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  let out = "";
  for (let i = 0; i < end; i++) out += String.fromCharCode(bytes[i] as number);
  return out;
};

const isPrintableVersion = (bytes: Uint8Array): boolean => {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0) return false;
  for (let i = 0; i < end; i++) {
    const b = bytes[i] as number;
    if (!((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66) || b === 0x2e))
      return false;
  }
  return true;
};

const hex2 = (b: number | undefined): string => (b ?? 0).toString(16).padStart(2, "0").toUpperCase();

/**
 * Formats the VBIOS version TLV. GPUs store it binary (b0..b4 print as b3.b2.b1.b0.b4), NVSwitches
 * store ASCII; the ASCII form is recognised by every byte being a hex digit or a dot.
 */
export function formatVbiosVersion(value: Uint8Array): string {
  if (isPrintableVersion(value)) return ascii(value).toUpperCase();
  if (value.length < 5)
    throw new EvidenceParseError(
      "nvidia_opaque_data_invalid",
      `VBIOS version field is ${value.length} bytes, expected at least 5`,
    );
  return `${hex2(value[3])}.${hex2(value[2])}.${hex2(value[1])}.${hex2(value[0])}.${hex2(value[4])}`;
}

function littleEndian(value: Uint8Array, field: string): number {
  if (value.length === 0 || value.length > 6) {
    throw new EvidenceParseError(
      "nvidia_opaque_data_invalid",
      `opaque field ${field} has ${value.length} bytes, expected 1 to 6`,
    );
  }
  let n = 0;
  for (let i = value.length - 1; i >= 0; i--) n = n * 256 + (value[i] as number);
  return n;
}

/**
 * Parses the opaque data TLVs. Every TLV must fit exactly; a type may appear once (a repeated
 * field would let a device show two driver versions to two verifiers). Unknown types are kept.
 * @throws EvidenceParseError `nvidia_opaque_data_truncated`, `nvidia_opaque_data_invalid`
 * @example
 * const opaque = parseOpaqueData(evidence.response.opaqueData);
 * opaque.driverVersion; // "550.90.07"
 */
export function parseOpaqueData(bytes: Uint8Array): OpaqueData {
  const fields: OpaqueField[] = [];
  const seen = new Set<number>();
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) {
      throw new EvidenceParseError(
        "nvidia_opaque_data_truncated",
        `opaque data truncated: TLV header at ${offset} needs 4 bytes, ${bytes.length - offset} left`,
      );
    }
    const type = (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
    const length = (bytes[offset + 2] as number) | ((bytes[offset + 3] as number) << 8);
    offset += 4;
    if (offset + length > bytes.length) {
      throw new EvidenceParseError(
        "nvidia_opaque_data_truncated",
        `opaque data truncated: field type ${type} needs ${length} bytes, ${bytes.length - offset} left`,
      );
    }
    if (seen.has(type))
      throw new EvidenceParseError("nvidia_opaque_data_invalid", `opaque data repeats field type ${type}`);
    seen.add(type);
    fields.push({
      type,
      name: OPAQUE_FIELD_NAMES[type] ?? `unknown_${type}`,
      value: bytes.subarray(offset, offset + length),
    });
    offset += length;
  }
  const get = (type: number) => fields.find((f) => f.type === type)?.value;
  const text = (type: number) => {
    const v = get(type);
    return v === undefined ? undefined : ascii(v);
  };
  const counts = get(12);
  if (counts !== undefined && counts.length % 4 !== 0) {
    throw new EvidenceParseError(
      "nvidia_opaque_data_invalid",
      `measurement count field is ${counts.length} bytes, not a multiple of 4`,
    );
  }
  const fwid = get(20);
  const vbios = get(6);
  const pcie = get(21);
  const version = get(34);
  const flag = get(36);
  return {
    fields,
    driverVersion: text(3),
    vbiosVersion: vbios === undefined ? undefined : formatVbiosVersion(vbios),
    fwid: fwid === undefined || fwid.length === 0 ? undefined : fwid,
    measurementCounts:
      counts === undefined
        ? undefined
        : Array.from({ length: counts.length / 4 }, (_, i) =>
            new DataView(counts.buffer, counts.byteOffset + i * 4, 4).getUint32(0, true),
          ),
    project: text(17),
    projectSku: text(18),
    projectSkuMod: get(19) === undefined ? undefined : toHex(get(19) as Uint8Array),
    chipSku: text(15),
    chipSkuMod: text(16),
    protectedPcieStatus:
      pcie === undefined || pcie.length === 0 ? undefined : String.fromCharCode(pcie[0] as number),
    opaqueDataVersion: version === undefined ? undefined : littleEndian(version, "opaque_data_version"),
    featureMode:
      flag === undefined ? undefined : (FEATURE_MODES[littleEndian(flag, "feature_flag")] ?? "invalid"),
  };
}

/** Hex of every TLV by name, for reports and JSON output. */
export function opaqueFieldsAsHex(opaque: OpaqueData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of opaque.fields) out[field.name] = toHex(field.value);
  return out;
}
