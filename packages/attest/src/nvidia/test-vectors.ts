import { readVector, readVectorText } from "@peercycles/internal-vectors";

/**
 * Paths and pinned times for the real NVIDIA vectors (vectors/nvidia, README section C).
 * Test-only helper: not exported from the package entry.
 */
export const NV = {
  nvtrustReport: "nvidia/nvtrust/hopperAttestationReport.bin",
  nvtrustChain: "nvidia/nvtrust/hopperCertChain.txt",
  sdkReport: "nvidia/nvidia-attestation-sdk/hopperAttestationReport.bin",
  sdkReportHex: "nvidia/nvidia-attestation-sdk/hopperAttestationReport.txt",
  sdkChain: "nvidia/nvidia-attestation-sdk/hopperCertChain.txt",
  sample535: "nvidia/nvidia-attestation-sdk/sample_attestation_data/gpu/hopperAttestationReport.bin",
  sample535Chain: "nvidia/nvidia-attestation-sdk/sample_attestation_data/gpu/hopperCertChain.txt",
  expired: "nvidia/nvidia-attestation-sdk/sample_attestation_data/gpu/hopperAttestationReportExpired.bin",
  expiredChain: "nvidia/nvidia-attestation-sdk/sample_attestation_data/gpu/hopperCertChainExpired.txt",
  invalidSignature:
    "nvidia/nvidia-attestation-sdk/sample_attestation_data/gpu/hopperAttestationReportInvalidSignature.bin",
  blackwell: "nvidia/nvidia-attestation-sdk/sample_attestation_data/gpu/blackwellAttestationReport.bin",
  blackwellChain: "nvidia/nvidia-attestation-sdk/sample_attestation_data/gpu/blackwellCertChain.txt",
  switchReport: "nvidia/nvidia-attestation-sdk/sample_attestation_data/switch/switchAttestationReport.bin",
  switchChain: "nvidia/nvidia-attestation-sdk/sample_attestation_data/switch/switchCertChain.txt",
  switchInvalidSignature:
    "nvidia/nvidia-attestation-sdk/sample_attestation_data/switch/switchAttestationReportInvalidSignature.bin",
  rims: {
    driver550: "nvidia/nvidia-attestation-sdk/rims/NV_GPU_DRIVER_GH100_550.144.03.xml",
    driver550BadSignature: "nvidia/nvidia-attestation-sdk/rims/incorrect_signature_driver_rim.xml",
    driver535Mismatch:
      "nvidia/nvidia-attestation-sdk/rims/NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml",
    vbios5EMismatch:
      "nvidia/nvidia-attestation-sdk/rims/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml",
    driver570Expired: "nvidia/nvidia-attestation-sdk/rims/NV_GPU_DRIVER_GH100_570.124.03_expired.xml",
    incorrectChain: "nvidia/nvidia-attestation-sdk/rims/incorrect_cert_chain_driver_rim.xml",
    switchBios:
      "nvidia/nvidia-attestation-sdk/rims/switchVBIOSRim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml",
    switchBadSignature:
      "nvidia/nvidia-attestation-sdk/rims/NV_SWITCH_BIOS_5612_0002_890_9610550001_invalid_signature.xml",
    switchMismatch:
      "nvidia/nvidia-attestation-sdk/rims/NV_SWITCH_BIOS_5612_0002_890_9610550001_measurement_mismatch.xml",
    vbios5EProd: "nvidia/nvtrust/rims/1010_0200_882_96005E0001_PROD.swidtag",
    vbios5ETestNoGpu: "nvidia/nvtrust/rims/1010_0200_882_96005E0001_test_no_gpu.swidtag",
    driverTestNoGpu: "nvidia/nvtrust/rims/Driver_RIM_test_no_gpu.swidtag",
  },
  incorrectRimRoot: "nvidia/nvidia-attestation-sdk/incorrect_rim_root.crt",
} as const;

/** Request nonce 931d8dd0… shared by most NVIDIA samples. */
export const NONCE_931D = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";
export const NONCE_PPCIE = "4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e";

/** Pinned times inside each window (README C5). Device certificates are valid to 9999. */
export const AT = {
  device: new Date("2026-06-01T00:00:00Z"),
  /** VBIOS 96.00.5E.00.01 PROD RIM signer: 2023-06-23 .. 2025-06-22. */
  vbiosProd: new Date("2024-06-01T00:00:00Z"),
  /** Switch BIOS RIM signer: 2026-05-20T22:02:51Z .. 2027-11-02. */
  switchRim: new Date("2026-06-01T00:00:00Z"),
  /** Driver 550.144.03 RIM signer: 2024-12-30 .. 2026-12-30. */
  driver550: new Date("2026-01-15T00:00:00Z"),
  /** VBIOS mismatch RIM and the GH100-content switch mismatch RIM: 2023-12-13 .. 2025-12-12. */
  vbiosMismatch: new Date("2025-03-01T00:00:00Z"),
  /** Driver 535.86.09 mismatch RIM: 2025-05-24 .. 2027-04-30. */
  driver535: new Date("2026-01-15T00:00:00Z"),
  /** Switch invalid-signature RIM signer: 2024-05-20 .. 2026-05-20. */
  switchBadSignature: new Date("2025-06-01T00:00:00Z"),
  /** nvtrust test_no_gpu RIMs: 2023-06-27 .. 2025-06-22. */
  testNoGpu: new Date("2024-06-01T00:00:00Z"),
} as const;

export const bytes = (path: string): Uint8Array => new Uint8Array(readVector(path));
export const text = (path: string): string => readVectorText(path);
export const ppcieGpu = (i: number) => ({
  evidence: bytes(`nvidia/nvtrust/ppcie/decoded/gpu_evidence_${i}.evidence.bin`),
  certChain: text(`nvidia/nvtrust/ppcie/decoded/gpu_evidence_${i}.certchain.pem`),
});
export const ppcieSwitch = (i: number) => ({
  evidence: bytes(`nvidia/nvtrust/ppcie/decoded/switch_evidence_${i}.evidence.bin`),
  certChain: text(`nvidia/nvtrust/ppcie/decoded/switch_evidence_${i}.certchain.pem`),
});
