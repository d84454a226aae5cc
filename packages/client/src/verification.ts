import type { BundleVerificationResult, Receipt } from "@peercycles/attest/bundle";
import type { Tier } from "@peercycles/protocol";

/** One attested GPU, as the verification result shows it. */
export interface AttestedGpu {
  /** `hopper`, `blackwell`, … */
  readonly architecture: string | null;
  /** Hardware model (the device certificate's issuer name), e.g. `GH100 A01 GSP BROM`. */
  readonly model: string | null;
  readonly driverVersion: string | null;
  readonly vbiosVersion: string | null;
  /** Confidential-computing mode (`mpt`, `spt`, `ppcie`). */
  readonly mode: string | null;
}

/** What the client checked about the worker's attestation bundle. */
export interface AttestationSummary {
  /** CPU TEE kind: `tdx` or `sev-snp`. */
  readonly tee: "tdx" | "sev-snp";
  /** TDX TCB status (`UpToDate`, …), or the SEV-SNP firmware version. */
  readonly tcbStatus: string;
  /** Launch measurements, hex: `mrTd`, `rtmr0`..`rtmr3` (TDX) or `measurement` (SEV-SNP). */
  readonly measurements: Readonly<Record<string, string>>;
  readonly gpus: readonly AttestedGpu[];
  /** The model the enclave is bound to, and its weights digest (hex). */
  readonly model: string;
  readonly weightsDigest: string;
  /** Worker id the bundle was served for, and its RFC 9458 key id. */
  readonly worker: string;
  readonly keyId: number;
  /** Evidence rests on development roots (simulated TEE). */
  readonly simulated: boolean;
  /** When the binding was made, when the client verified it, and when the client stops trusting it. */
  readonly issuedAt: string;
  readonly verifiedAt: string;
  readonly expiresAt: string;
}

/** The receipt facts the client checked. */
export interface ReceiptSummary {
  /** Hex SHA-256 of the receipt body: a stable receipt id. */
  readonly id: string;
  /** Hex SHA-256 the receipt commits to (sealed request / request body; sealed response / output). */
  readonly requestHash: string;
  readonly responseHash: string;
  readonly model: string;
  readonly worker: string;
  /** Sampling seed: a number, or a decimal string above 2^53. */
  readonly seed: number | string;
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
  /** Receipt time, ISO 8601. */
  readonly time: string;
  /** Key that verified the receipt (hex): the attested enclave key, or the worker's registered key. */
  readonly signingKey: string;
}

/**
 * `peer.verification`, added by the client to every answer (the JSON completion's `peer` member, or
 * the final stream chunk's). A call that fails verification throws instead, so `ok` is `true` on
 * every answer a caller sees.
 */
export interface PeerVerification {
  readonly ok: boolean;
  /** The tier that was asked for and delivered. */
  readonly tier: Tier;
  readonly simulated: boolean;
  readonly worker: string | null;
  readonly receipt: ReceiptSummary | null;
  readonly attestation: AttestationSummary | null;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** The {@link ReceiptSummary} of a verified receipt. */
export function summarizeReceipt(receipt: Receipt, id: string, signingKey: Uint8Array): ReceiptSummary {
  const seed =
    typeof receipt.seed === "bigint"
      ? receipt.seed <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(receipt.seed)
        : receipt.seed.toString()
      : receipt.seed;
  return {
    id,
    requestHash: hex(receipt.requestHash),
    responseHash: hex(receipt.responseHash),
    model: receipt.model,
    worker: receipt.worker,
    seed,
    usage: { promptTokens: receipt.usage.promptTokens, completionTokens: receipt.usage.completionTokens },
    time: new Date(receipt.time * 1000).toISOString(),
    signingKey: hex(signingKey),
  };
}

/** The {@link AttestationSummary} of a verified bundle. */
export function summarizeAttestation(
  result: BundleVerificationResult,
  facts: { worker: string; keyId: number; verifiedAt: Date; expiresAt: Date },
): AttestationSummary {
  const cpu = result.cpu;
  const measurements: Record<string, string> = {};
  let tee: AttestationSummary["tee"];
  let tcbStatus: string;
  if (cpu.kind === "sev-snp") {
    tee = "sev-snp";
    tcbStatus = `firmware ${cpu.firmware}`;
    measurements.measurement = cpu.measurement;
  } else {
    tee = "tdx";
    tcbStatus = cpu.tcbStatus;
    for (const name of ["mrTd", "rtmr0", "rtmr1", "rtmr2", "rtmr3"] as const) {
      const value = cpu[name];
      if (value) measurements[name] = value;
    }
  }
  return {
    tee,
    tcbStatus,
    measurements,
    gpus: result.gpus.map((gpu) => ({
      architecture: gpu.device?.architecture ?? null,
      model: gpu.device?.hardwareModel ?? null,
      driverVersion: gpu.driverVersion,
      vbiosVersion: gpu.vbiosVersion,
      mode: gpu.mode,
    })),
    model: result.binding.model,
    weightsDigest: result.binding.weightsDigest,
    worker: facts.worker,
    keyId: facts.keyId,
    simulated: result.simulated,
    issuedAt: result.binding.issuedAt,
    verifiedAt: facts.verifiedAt.toISOString(),
    expiresAt: facts.expiresAt.toISOString(),
  };
}
