import { ByteReader } from "../common/bytes.js";
import { EvidenceParseError } from "../common/errors.js";
import { SEV_SNP_REPORT_LAYOUT as L } from "./layout.js";
import type { SevSnpProduct } from "./roots.js";
import { productFromCpuid } from "./tcb.js";

/**
 * SEV-SNP ATTESTATION_REPORT (AMD SEV-SNP firmware ABI specification, table "ATTESTATION_REPORT
 * Structure"). Versions 2, 3, 4 and 5 share one 1184-byte layout; v3 added the CPUID
 * family/model/stepping at 0x188, v5 the mitigation vectors at 0x1F8. Everything before the
 * signature at 0x2A0 is signed.
 */
export const SEV_SNP_REPORT_SIZE = 0x4a0;
/** End of the signed span; the signature starts here. */
export const SEV_SNP_SIGNED_SPAN_END = L.signature.offset;
/** Size of each little-endian, zero-padded signature component (r, s). */
export const SEV_SNP_SIGNATURE_COMPONENT_SIZE = 72;
/** SIGNATURE_ALGO value for ECDSA P-384 with SHA-384, the only one defined. */
export const SEV_SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1;
/** Lowest and highest report versions this parser accepts. */
export const SEV_SNP_MIN_REPORT_VERSION = 2;
export const SEV_SNP_MAX_REPORT_VERSION = 5;

/** Which key signed the report (KEY_INFO / signer info bits 4:2). */
export type SevSnpSigningKey = "vcek" | "vlek" | "none";

/** Guest policy (report offset 0x08), decoded. */
export interface SevSnpGuestPolicy {
  /** The raw u64 as hex. */
  readonly raw: string;
  readonly abiMinor: number;
  readonly abiMajor: number;
  /** Bit 16: SMT allowed. */
  readonly smt: boolean;
  /** Bit 18: a migration agent may be associated. */
  readonly migrateMa: boolean;
  /** Bit 19: debugging (host access to guest memory) allowed. */
  readonly debug: boolean;
  /** Bit 20: guest may run on a single socket only. */
  readonly singleSocket: boolean;
  /** Bit 21: CXL may be populated with devices or memory. */
  readonly cxlAllowed: boolean;
  /** Bit 22: AES-256-XTS memory encryption required. */
  readonly memAes256Xts: boolean;
  /** Bit 23: RAPL must be disabled. */
  readonly raplDisabled: boolean;
  /** Bit 24: ciphertext hiding must be enabled. */
  readonly ciphertextHiding: boolean;
  /** Bit 25: page swap commands disabled for the guest. */
  readonly pageSwapDisabled: boolean;
}

/** PLATFORM_INFO (offset 0x40), decoded. Unknown bits are kept in `raw`. */
export interface SevSnpPlatformInfo {
  readonly raw: string;
  readonly smtEnabled: boolean;
  readonly tsmeEnabled: boolean;
  readonly eccEnabled: boolean;
  readonly raplDisabled: boolean;
  readonly ciphertextHidingEnabled: boolean;
  readonly aliasCheckComplete: boolean;
}

/** KEY_INFO (offset 0x48), decoded. */
export interface SevSnpKeyInfo {
  readonly signingKey: SevSnpSigningKey;
  /** Bit 1: the host masked CHIP_ID (it reads as zeros). */
  readonly maskChipId: boolean;
  /** Bit 0: the ID block carried an author key. */
  readonly authorKeyEn: boolean;
}

/** A firmware version triple (major.minor, build). */
export interface SevSnpFirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

/**
 * A parsed SEV-SNP attestation report. Readonly; byte fields are views of the input, and
 * `signedSpan` is exactly the bytes the signature covers. TCB values are raw u64s: their meaning
 * depends on the product line (see `decodeTcb`).
 */
export interface SevSnpReport {
  /** The 1184 bytes of the report (without any trailing bytes of the input). */
  readonly bytes: Uint8Array;
  /** Bytes of the input after the 1184-byte report: accepted, reported, never signed. */
  readonly trailingBytes: number;
  readonly signedSpan: Uint8Array;
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: SevSnpGuestPolicy;
  readonly policyRaw: bigint;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: bigint;
  readonly platformInfo: SevSnpPlatformInfo;
  readonly keyInfo: SevSnpKeyInfo;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: bigint;
  /** CPUID family/model/stepping (v3+ only; undefined in v2). */
  readonly cpuid: { readonly family: number; readonly model: number; readonly stepping: number } | undefined;
  /** Product line implied by `cpuid` (v3+ with a known family/model). */
  readonly cpuidProduct: SevSnpProduct | undefined;
  readonly chipId: Uint8Array;
  readonly committedTcb: bigint;
  readonly currentVersion: SevSnpFirmwareVersion;
  readonly committedVersion: SevSnpFirmwareVersion;
  readonly launchTcb: bigint;
  /** v5 only. */
  readonly launchMitigationVector: bigint | undefined;
  /** v5 only. */
  readonly currentMitigationVector: bigint | undefined;
  /** Signature r, little-endian as stored (72 bytes). */
  readonly signatureR: Uint8Array;
  /** Signature s, little-endian as stored (72 bytes). */
  readonly signatureS: Uint8Array;
}

const REPORT = "SEV-SNP report";

function mustBeZero(reader: ByteReader, from: number, to: number, field: string): void {
  const span = reader.slice(from, to - from, field);
  for (let i = 0; i < span.length; i++) {
    if (span[i] !== 0) {
      throw new EvidenceParseError(
        "snp_report_reserved_nonzero",
        `${REPORT}: reserved ${field} [0x${from.toString(16)}, 0x${to.toString(16)}) must be zero, byte 0x${(from + i).toString(16)} is 0x${(span[i] as number).toString(16)}`,
        { details: { field, offset: from + i } },
      );
    }
  }
}

function bit(value: bigint, index: number): boolean {
  return ((value >> BigInt(index)) & 1n) === 1n;
}

function parsePolicy(raw: bigint): SevSnpGuestPolicy {
  // Bit 17 is reserved and must be one; bits 63:26 are reserved and must be zero.
  if (!bit(raw, 17)) {
    throw new EvidenceParseError(
      "snp_report_policy_invalid",
      `${REPORT}: guest policy bit 17 is reserved and must be 1`,
    );
  }
  if (raw >> 26n !== 0n) {
    throw new EvidenceParseError(
      "snp_report_policy_invalid",
      `${REPORT}: guest policy bits 63:26 are reserved and must be 0 (policy 0x${raw.toString(16)})`,
    );
  }
  return {
    raw: raw.toString(16).padStart(16, "0"),
    abiMinor: Number(raw & 0xffn),
    abiMajor: Number((raw >> 8n) & 0xffn),
    smt: bit(raw, 16),
    migrateMa: bit(raw, 18),
    debug: bit(raw, 19),
    singleSocket: bit(raw, 20),
    cxlAllowed: bit(raw, 21),
    memAes256Xts: bit(raw, 22),
    raplDisabled: bit(raw, 23),
    ciphertextHiding: bit(raw, 24),
    pageSwapDisabled: bit(raw, 25),
  };
}

function parsePlatformInfo(raw: bigint): SevSnpPlatformInfo {
  // Newer firmware defines more bits; unknown ones are reported in `raw`, not rejected (the spec
  // does not call them must-be-zero for verifiers, and go-sev-guest's parser keeps them too).
  return {
    raw: raw.toString(16).padStart(16, "0"),
    smtEnabled: bit(raw, 0),
    tsmeEnabled: bit(raw, 1),
    eccEnabled: bit(raw, 2),
    raplDisabled: bit(raw, 3),
    ciphertextHidingEnabled: bit(raw, 4),
    aliasCheckComplete: bit(raw, 5),
  };
}

function parseKeyInfo(raw: number): SevSnpKeyInfo {
  if (raw >>> 5 !== 0) {
    throw new EvidenceParseError(
      "snp_report_reserved_nonzero",
      `${REPORT}: key info bits 31:5 are reserved and must be 0 (0x${raw.toString(16)})`,
      {
        details: { field: "key_info", offset: 0x48 },
      },
    );
  }
  const key = (raw >>> 2) & 7;
  const signingKey: SevSnpSigningKey | undefined =
    key === 0 ? "vcek" : key === 1 ? "vlek" : key === 7 ? "none" : undefined;
  if (signingKey === undefined) {
    throw new EvidenceParseError(
      "snp_report_signing_key_reserved",
      `${REPORT}: signing key value ${key} is reserved (0 VCEK, 1 VLEK, 7 none)`,
    );
  }
  return { signingKey, maskChipId: (raw & 2) !== 0, authorKeyEn: (raw & 1) !== 0 };
}

/**
 * Parses a raw SEV-SNP attestation report (1184 bytes). Checks the version (2–5), every
 * must-be-zero range of the ABI table for that version, the guest policy's reserved bits and the
 * key info; never returns a partial result. Bytes after the report (real files carry some, e.g.
 * a 20-byte suffix in Constellation's test data) are accepted and counted in `trailingBytes`, as
 * a TDX quote's are; a policy can refuse them (`rejectTrailingBytes`).
 *
 * @throws EvidenceParseError `snp_report_truncated`, `snp_report_size_invalid`,
 *   `snp_report_version_unsupported`, `snp_report_policy_invalid`, `snp_report_signing_key_reserved`,
 *   `snp_report_reserved_nonzero`
 * @example
 * ```ts
 * import { parseSevSnpReport } from "@peercycles/attest/sev-snp";
 * const report = parseSevSnpReport(bytes);
 * console.log(report.version, report.policy.debug, toHex(report.measurement));
 * ```
 */
export function parseSevSnpReport(input: Uint8Array): SevSnpReport {
  if (!(input instanceof Uint8Array)) {
    throw new EvidenceParseError("snp_report_size_invalid", `${REPORT} must be bytes`);
  }
  if (input.length < SEV_SNP_REPORT_SIZE) {
    throw new EvidenceParseError(
      "snp_report_truncated",
      `${REPORT} is ${input.length} bytes; a report is ${SEV_SNP_REPORT_SIZE}`,
      {
        details: { length: input.length },
      },
    );
  }
  const trailingBytes = input.length - SEV_SNP_REPORT_SIZE;
  const report = input.subarray(0, SEV_SNP_REPORT_SIZE);
  const r = new ByteReader(report, REPORT, "snp_report_truncated");
  const version = r.u32(L.version.offset, "version");
  if (version < SEV_SNP_MIN_REPORT_VERSION || version > SEV_SNP_MAX_REPORT_VERSION) {
    throw new EvidenceParseError(
      "snp_report_version_unsupported",
      `${REPORT} version ${version} is not supported (expected ${SEV_SNP_MIN_REPORT_VERSION}..${SEV_SNP_MAX_REPORT_VERSION})`,
      { details: { version } },
    );
  }
  const policyRaw = r.u64(L.policy.offset, "policy");
  const policy = parsePolicy(policyRaw);
  const signatureAlgo = r.u32(L.signatureAlgo.offset, "signature_algo");
  const keyInfo = parseKeyInfo(r.u32(L.keyInfo.offset, "key_info"));
  mustBeZero(r, 0x4c, 0x50, "reserved after key_info");

  let cpuid: SevSnpReport["cpuid"];
  if (version >= 3) {
    cpuid = {
      family: r.u8(L.cpuidFamily.offset, "cpuid_fam_id"),
      model: r.u8(L.cpuidModel.offset, "cpuid_mod_id"),
      stepping: r.u8(L.cpuidStepping.offset, "cpuid_step"),
    };
    mustBeZero(r, 0x18b, 0x1a0, "reserved after cpuid");
  } else {
    mustBeZero(r, 0x188, 0x1a0, "reserved after reported_tcb");
  }
  mustBeZero(r, 0x1eb, 0x1ec, "reserved after current_major");
  mustBeZero(r, 0x1ef, 0x1f0, "reserved after committed_major");
  let launchMitigationVector: bigint | undefined;
  let currentMitigationVector: bigint | undefined;
  if (version >= 5) {
    launchMitigationVector = r.u64(L.launchMitigationVector.offset, "launch_mit_vector");
    currentMitigationVector = r.u64(L.currentMitigationVector.offset, "current_mit_vector");
    mustBeZero(r, 0x208, SEV_SNP_SIGNED_SPAN_END, "reserved before signature");
  } else {
    mustBeZero(r, 0x1f8, SEV_SNP_SIGNED_SPAN_END, "reserved before signature");
  }
  if (signatureAlgo === SEV_SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384) {
    mustBeZero(
      r,
      SEV_SNP_SIGNED_SPAN_END + 2 * SEV_SNP_SIGNATURE_COMPONENT_SIZE,
      SEV_SNP_REPORT_SIZE,
      "reserved after signature",
    );
  }

  return Object.freeze({
    bytes: report,
    trailingBytes,
    signedSpan: r.slice(0, SEV_SNP_SIGNED_SPAN_END, "signed span"),
    version,
    guestSvn: r.u32(L.guestSvn.offset, "guest_svn"),
    policy: Object.freeze(policy),
    policyRaw,
    familyId: r.slice(L.familyId.offset, L.familyId.size, "family_id"),
    imageId: r.slice(L.imageId.offset, L.imageId.size, "image_id"),
    vmpl: r.u32(L.vmpl.offset, "vmpl"),
    signatureAlgo,
    currentTcb: r.u64(L.currentTcb.offset, "current_tcb"),
    platformInfo: Object.freeze(parsePlatformInfo(r.u64(L.platformInfo.offset, "platform_info"))),
    keyInfo: Object.freeze(keyInfo),
    reportData: r.slice(L.reportData.offset, L.reportData.size, "report_data"),
    measurement: r.slice(L.measurement.offset, L.measurement.size, "measurement"),
    hostData: r.slice(L.hostData.offset, L.hostData.size, "host_data"),
    idKeyDigest: r.slice(L.idKeyDigest.offset, L.idKeyDigest.size, "id_key_digest"),
    authorKeyDigest: r.slice(L.authorKeyDigest.offset, L.authorKeyDigest.size, "author_key_digest"),
    reportId: r.slice(L.reportId.offset, L.reportId.size, "report_id"),
    reportIdMa: r.slice(L.reportIdMa.offset, L.reportIdMa.size, "report_id_ma"),
    reportedTcb: r.u64(L.reportedTcb.offset, "reported_tcb"),
    cpuid: cpuid === undefined ? undefined : Object.freeze(cpuid),
    cpuidProduct: cpuid === undefined ? undefined : productFromCpuid(cpuid.family, cpuid.model),
    chipId: r.slice(L.chipId.offset, L.chipId.size, "chip_id"),
    committedTcb: r.u64(L.committedTcb.offset, "committed_tcb"),
    currentVersion: Object.freeze({
      build: r.u8(L.currentBuild.offset, "current_build"),
      minor: r.u8(L.currentMinor.offset, "current_minor"),
      major: r.u8(L.currentMajor.offset, "current_major"),
    }),
    committedVersion: Object.freeze({
      build: r.u8(L.committedBuild.offset, "committed_build"),
      minor: r.u8(L.committedMinor.offset, "committed_minor"),
      major: r.u8(L.committedMajor.offset, "committed_major"),
    }),
    launchTcb: r.u64(L.launchTcb.offset, "launch_tcb"),
    launchMitigationVector,
    currentMitigationVector,
    signatureR: r.slice(SEV_SNP_SIGNED_SPAN_END, SEV_SNP_SIGNATURE_COMPONENT_SIZE, "signature r"),
    signatureS: r.slice(
      SEV_SNP_SIGNED_SPAN_END + SEV_SNP_SIGNATURE_COMPONENT_SIZE,
      SEV_SNP_SIGNATURE_COMPONENT_SIZE,
      "signature s",
    ),
  });
}
