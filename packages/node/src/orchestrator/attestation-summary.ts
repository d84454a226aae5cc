import type { BundleVerificationResult } from "@peercycles/attest/bundle";
import type { AttestationSummary } from "@peercycles/protocol";

/** The evidence summary the network feed and the dashboard show for a verified bundle. */
export function summarizeBundle(result: BundleVerificationResult, keyId: number): AttestationSummary {
  const cpu = result.cpu;
  const measurements: Record<string, string> = {};
  let tee: string;
  let tcbStatus: string;
  if (cpu.kind === "sev-snp") {
    tee = "sev-snp";
    tcbStatus = cpu.verified ? `firmware ${cpu.firmware}` : "unverified";
    measurements.measurement = cpu.measurement;
  } else {
    tee = cpu.kind;
    tcbStatus = cpu.tcbStatus;
    for (const name of ["mrTd", "rtmr0", "rtmr1", "rtmr2", "rtmr3"] as const) {
      const value = cpu[name];
      if (value) measurements[name] = value;
    }
  }
  measurements.weights = result.binding.weightsDigest;
  return {
    ok: result.ok,
    simulated: result.simulated,
    tee,
    tcbStatus,
    measurements,
    gpus: result.gpus.length,
    keyId,
    errors: result.errors.map((error) => error.code),
  };
}
