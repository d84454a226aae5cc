import type { CpuEvidence, DevelopmentRoots, GpuEvidence } from "@peercycles/attest/bundle";

/** What a provider returns for one attestation: CPU evidence, GPU evidence, optional event log. */
export interface ProvidedEvidence {
  readonly cpu: CpuEvidence;
  readonly gpus: readonly GpuEvidence[];
  readonly eventLog?: Uint8Array;
  /** Only the simulator sets this: the development roots its evidence chains to. */
  readonly developmentRoots?: DevelopmentRoots;
}

/**
 * A source of hardware evidence for one binding. `reportData` (64 bytes) goes into the CPU quote or
 * report; `gpuNonce` (32 bytes) is the SPDM requester nonce for every GPU.
 */
export interface EvidenceProvider {
  getEvidence(reportData: Uint8Array, gpuNonce: Uint8Array): Promise<ProvidedEvidence>;
}

/** CPU-only evidence source (configfs-tsm). */
export interface CpuEvidenceSource {
  getCpuEvidence(reportData: Uint8Array): Promise<CpuEvidence>;
}

/** GPU-only evidence source (NVIDIA). */
export interface GpuEvidenceSource {
  getGpuEvidence(nonce: Uint8Array): Promise<GpuEvidence[]>;
}

/**
 * One provider from a CPU source and an optional GPU source; the two requests run in parallel.
 *
 * @example
 * ```ts
 * const provider = composeProvider(new ConfigfsTsmProvider(), new NvidiaCommandProvider({ command: "/usr/local/bin/gpu-evidence" }));
 * ```
 */
export function composeProvider(cpu: CpuEvidenceSource, gpu?: GpuEvidenceSource): EvidenceProvider {
  return {
    async getEvidence(reportData, gpuNonce) {
      const [cpuEvidence, gpus] = await Promise.all([
        cpu.getCpuEvidence(reportData),
        gpu ? gpu.getGpuEvidence(gpuNonce) : [],
      ]);
      return { cpu: cpuEvidence, gpus };
    },
  };
}
