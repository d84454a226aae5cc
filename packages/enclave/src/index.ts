/**
 * `@peercycles/enclave`: the worker side of a confidential call. Evidence providers (Linux
 * configfs-tsm for TDX and SEV-SNP, NVIDIA tooling output for GPUs, a development simulator),
 * attestation bundles bound to the enclave's keys, and enclave key custody.
 *
 * @example
 * ```ts
 * import { ConfigfsTsmProvider, NvidiaCommandProvider, composeProvider, createAttestationBundle, createEnclaveKeys } from "@peercycles/enclave";
 * const keys = await createEnclaveKeys();
 * const provider = composeProvider(new ConfigfsTsmProvider(), new NvidiaCommandProvider({ command: "/opt/peer/gpu-evidence" }));
 * const bundle = await createAttestationBundle(keys, provider, { model: "peer-mixtral", weightsDigest });
 * ```
 */
export { type AttestOptions, createAttestationBundle } from "./attestation.js";
export {
  CONFIGFS_TSM_REPORT_ROOT,
  type ConfigfsTsmOptions,
  ConfigfsTsmProvider,
  type TsmFileSystem,
  type TsmReport,
} from "./configfs-tsm.js";
export {
  type CreateEnclaveKeysOptions,
  createEnclaveKeys,
  type EnclaveKeys,
  type EnclavePublicKeys,
  type OpenedChunkedRequest,
  type OpenedRequest,
  type ResponseHandle,
} from "./enclave-keys.js";
export { EnclaveError } from "./errors.js";
export {
  gpuEvidenceFromSerialized,
  NvidiaCommandProvider,
  type NvidiaCommandProviderOptions,
  NvidiaFileProvider,
  type NvidiaSerializedEvidence,
} from "./nvidia-provider.js";
export {
  type CpuEvidenceSource,
  composeProvider,
  type EvidenceProvider,
  type GpuEvidenceSource,
  type ProvidedEvidence,
} from "./provider.js";
export {
  encodeSevSnpCertTable,
  parseSevSnpCertTable,
  SEV_SNP_CERT_GUIDS,
  type SevSnpCertTableEntry,
} from "./sev-snp-cert-table.js";
export { SIMULATED_GPU } from "./simulator/nvidia.js";
export { SIMULATED_SNP_TCB } from "./simulator/sev-snp.js";
export {
  type SimulatedEnclave,
  type SimulateEnclaveOptions,
  simulateEnclave,
} from "./simulator/simulate-enclave.js";
export { SIMULATED_MEASUREMENTS, simulatedWeightsDigest } from "./simulator/simulated-measurements.js";
export { EnclaveSimulator, type EnclaveSimulatorOptions } from "./simulator/simulator.js";
export { SIMULATED_TDX_PLATFORM, type TdxSimulatedMeasurements } from "./simulator/tdx.js";
