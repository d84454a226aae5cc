import type { CpuEvidence, DevelopmentRoots } from "@peercycles/attest/bundle";
import { EnclaveError } from "../errors.js";
import type { EvidenceProvider, ProvidedEvidence } from "../provider.js";
import {
  createNvidiaPki,
  createSimulatedGpu,
  type NvidiaDevelopmentPki,
  type SimulatedGpu,
  simulateSpdmEvidence,
} from "./nvidia.js";
import { createSevSnpPki, type SevSnpDevelopmentPki, simulateSevSnpReport } from "./sev-snp.js";
import { SIMULATED_MEASUREMENTS } from "./simulated-measurements.js";
import {
  createTdxPki,
  simulateTdxQuote,
  type TdxDevelopmentPki,
  type TdxSimulatedMeasurements,
} from "./tdx.js";

/** Options of {@link EnclaveSimulator.create}. */
export interface EnclaveSimulatorOptions {
  /** CPU TEE to simulate. Default "tdx". */
  readonly cpu?: "tdx" | "sev-snp";
  /** Number of simulated GPUs (0..8). Default 1. */
  readonly gpus?: number;
  /** Issue time of the development PKI and collateral. Default: the current time. */
  readonly now?: Date;
  /** TDX measurements to report instead of {@link SIMULATED_MEASUREMENTS}.tdx. */
  readonly tdxMeasurements?: TdxSimulatedMeasurements;
  /** SNP launch measurement (hex) instead of {@link SIMULATED_MEASUREMENTS}.sevSnp.measurement. */
  readonly snpMeasurement?: string;
}

/**
 * Development TEE: produces evidence in the real formats (TDX v4 quote with PCK chain and DCAP
 * collateral, or SEV-SNP v3 report with VCEK/ASK/ARK; NVIDIA SPDM transcripts with device chains),
 * signed by development roots generated for this simulator instance (new keys every run). The
 * same verifiers accept it only when handed these roots, which `verifyBundle` does only under a
 * policy with `allowSimulated: true`; every result then says `simulated: true`.
 *
 * @example
 * ```ts
 * const simulator = await EnclaveSimulator.create({ cpu: "tdx", gpus: 1 });
 * const evidence = await simulator.getEvidence(bindingReportData(binding), bindingGpuNonce(binding));
 * ```
 */
export class EnclaveSimulator implements EvidenceProvider {
  readonly cpu: "tdx" | "sev-snp";
  readonly #tdx: TdxDevelopmentPki | undefined;
  readonly #snp: SevSnpDevelopmentPki | undefined;
  readonly #nvidia: NvidiaDevelopmentPki;
  readonly #gpus: readonly SimulatedGpu[];
  readonly #options: EnclaveSimulatorOptions;

  private constructor(
    options: EnclaveSimulatorOptions,
    tdx: TdxDevelopmentPki | undefined,
    snp: SevSnpDevelopmentPki | undefined,
    nvidia: NvidiaDevelopmentPki,
    gpus: SimulatedGpu[],
  ) {
    this.cpu = options.cpu ?? "tdx";
    this.#options = options;
    this.#tdx = tdx;
    this.#snp = snp;
    this.#nvidia = nvidia;
    this.#gpus = gpus;
  }

  /** Generates the development roots and the simulated devices. */
  static async create(options: EnclaveSimulatorOptions = {}): Promise<EnclaveSimulator> {
    const cpu = options.cpu ?? "tdx";
    if (cpu !== "tdx" && cpu !== "sev-snp")
      throw new EnclaveError(
        "enclave_simulator_invalid",
        `cpu must be "tdx" or "sev-snp", got "${String(cpu)}"`,
      );
    const count = options.gpus ?? 1;
    if (!Number.isInteger(count) || count < 0 || count > 8)
      throw new EnclaveError("enclave_simulator_invalid", "gpus must be an integer 0..8");
    const now = options.now ?? new Date();
    const [tdx, snp, nvidia] = await Promise.all([
      cpu === "tdx" ? createTdxPki(now) : undefined,
      cpu === "sev-snp" ? createSevSnpPki(now) : undefined,
      createNvidiaPki(now),
    ]);
    const gpus = await Promise.all(
      Array.from({ length: count }, (_, i) => createSimulatedGpu(nvidia, now, i)),
    );
    return new EnclaveSimulator(options, tdx, snp, nvidia, gpus);
  }

  /** The development roots this simulator's evidence chains to (DER), per verifier. */
  developmentRoots(): DevelopmentRoots {
    return {
      ...(this.#tdx ? { tdx: [this.#tdx.root.der] } : {}),
      ...(this.#snp ? { sevSnp: [this.#snp.ark.der, this.#snp.ask.der] } : {}),
      ...(this.#gpus.length > 0 ? { nvidia: [this.#nvidia.root.der] } : {}),
    };
  }

  async getEvidence(reportData: Uint8Array, gpuNonce: Uint8Array): Promise<ProvidedEvidence> {
    if (!(reportData instanceof Uint8Array) || reportData.length !== 64) {
      throw new EnclaveError("enclave_argument_invalid", "report data must be 64 bytes");
    }
    if (!(gpuNonce instanceof Uint8Array) || gpuNonce.length !== 32)
      throw new EnclaveError("enclave_argument_invalid", "GPU nonce must be 32 bytes");
    let cpu: CpuEvidence;
    if (this.#tdx) {
      cpu = {
        kind: "tdx",
        evidence: await simulateTdxQuote(
          this.#tdx,
          reportData,
          this.#options.tdxMeasurements ?? SIMULATED_MEASUREMENTS.tdx,
        ),
        certificates: [],
        collateral: this.#tdx.collateral,
      };
    } else {
      const snp = this.#snp as SevSnpDevelopmentPki;
      cpu = {
        kind: "sev-snp",
        evidence: await simulateSevSnpReport(
          snp,
          reportData,
          this.#options.snpMeasurement ?? SIMULATED_MEASUREMENTS.sevSnp.measurement,
        ),
        certificates: [snp.vcek.der, snp.ask.der, snp.ark.der],
        collateral: { crl: snp.crl },
      };
    }
    const gpus = await Promise.all(
      this.#gpus.map(async (gpu) => ({
        kind: "nvidia-spdm" as const,
        evidence: await simulateSpdmEvidence(gpu, gpuNonce),
        certificates: gpu.certificates,
      })),
    );
    return { cpu, gpus, developmentRoots: this.developmentRoots() };
  }
}
