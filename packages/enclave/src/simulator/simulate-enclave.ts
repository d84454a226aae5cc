import { type AttestationBundle, encodeBundle } from "@peercycles/attest/bundle";
import { createAttestationBundle } from "../attestation.js";
import { createEnclaveKeys, type EnclaveKeys } from "../enclave-keys.js";
import { simulatedWeightsDigest } from "./simulated-measurements.js";
import { EnclaveSimulator, type EnclaveSimulatorOptions } from "./simulator.js";

/** Options of {@link simulateEnclave}: the simulator options plus what the binding carries. */
export interface SimulateEnclaveOptions extends EnclaveSimulatorOptions {
  readonly model: string;
  /** Default: {@link simulatedWeightsDigest}(model). */
  readonly weightsDigest?: Uint8Array;
  readonly clientNonce?: Uint8Array;
  /** Binding issue time. Default: `now`, else the current time. */
  readonly issuedAt?: Date;
  /** Reuse keys (default: fresh keys). */
  readonly keys?: EnclaveKeys;
}

/** A simulated enclave: its keys (private halves inside), its simulator and one attestation bundle. */
export interface SimulatedEnclave {
  readonly keys: EnclaveKeys;
  readonly simulator: EnclaveSimulator;
  readonly bundle: AttestationBundle;
  /** `encodeBundle(bundle)`. */
  readonly bytes: Uint8Array;
}

/**
 * One call for development: fresh enclave keys, a fresh simulator (new development roots) and a
 * bundle binding them to `model`.
 *
 * @example
 * ```ts
 * const enclave = await simulateEnclave({ model: "peer-mixtral", cpu: "tdx", gpus: 1 });
 * writeFileSync("bundle.cbor", enclave.bytes);
 * ```
 */
export async function simulateEnclave(options: SimulateEnclaveOptions): Promise<SimulatedEnclave> {
  const keys = options.keys ?? (await createEnclaveKeys());
  const simulator = await EnclaveSimulator.create(options);
  const bundle = await createAttestationBundle(keys, simulator, {
    model: options.model,
    weightsDigest: options.weightsDigest ?? simulatedWeightsDigest(options.model),
    ...(options.issuedAt ? { issuedAt: options.issuedAt } : options.now ? { issuedAt: options.now } : {}),
    ...(options.clientNonce ? { clientNonce: options.clientNonce } : {}),
  });
  return { keys, simulator, bundle, bytes: encodeBundle(bundle) };
}
