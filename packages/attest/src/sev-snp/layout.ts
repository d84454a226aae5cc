import type { FieldLayout } from "../tdx/layout.js";

/**
 * Where each field of an SEV-SNP ATTESTATION_REPORT lies (AMD SEV-SNP ABI, Table 22 (rev 1.57)),
 * offsets and sizes in bytes, little-endian integers. The one table the parser reads with and the
 * development simulator (`@peercycles/enclave`) writes with.
 *
 * @example
 * ```ts
 * import { SEV_SNP_REPORT_LAYOUT as L } from "@peercycles/attest/sev-snp";
 * const measurement = report.subarray(L.measurement.offset, L.measurement.offset + L.measurement.size);
 * ```
 */
export const SEV_SNP_REPORT_LAYOUT = {
  version: { offset: 0x00, size: 4 },
  guestSvn: { offset: 0x04, size: 4 },
  policy: { offset: 0x08, size: 8 },
  familyId: { offset: 0x10, size: 16 },
  imageId: { offset: 0x20, size: 16 },
  vmpl: { offset: 0x30, size: 4 },
  signatureAlgo: { offset: 0x34, size: 4 },
  currentTcb: { offset: 0x38, size: 8 },
  platformInfo: { offset: 0x40, size: 8 },
  keyInfo: { offset: 0x48, size: 4 },
  reportData: { offset: 0x50, size: 64 },
  measurement: { offset: 0x90, size: 48 },
  hostData: { offset: 0xc0, size: 32 },
  idKeyDigest: { offset: 0xe0, size: 48 },
  authorKeyDigest: { offset: 0x110, size: 48 },
  reportId: { offset: 0x140, size: 32 },
  reportIdMa: { offset: 0x160, size: 32 },
  reportedTcb: { offset: 0x180, size: 8 },
  cpuidFamily: { offset: 0x188, size: 1 },
  cpuidModel: { offset: 0x189, size: 1 },
  cpuidStepping: { offset: 0x18a, size: 1 },
  chipId: { offset: 0x1a0, size: 64 },
  committedTcb: { offset: 0x1e0, size: 8 },
  currentBuild: { offset: 0x1e8, size: 1 },
  currentMinor: { offset: 0x1e9, size: 1 },
  currentMajor: { offset: 0x1ea, size: 1 },
  committedBuild: { offset: 0x1ec, size: 1 },
  committedMinor: { offset: 0x1ed, size: 1 },
  committedMajor: { offset: 0x1ee, size: 1 },
  launchTcb: { offset: 0x1f0, size: 8 },
  launchMitigationVector: { offset: 0x1f8, size: 8 },
  currentMitigationVector: { offset: 0x200, size: 8 },
  /** r, then s, each 72 bytes little-endian (48 used for P-384); the signed span ends here. */
  signature: { offset: 0x2a0, size: 144 },
} as const satisfies Record<string, FieldLayout>;
