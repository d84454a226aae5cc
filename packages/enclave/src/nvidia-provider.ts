import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { equalBytes } from "@noble/curves/utils.js";
import { fromBase64, fromHex, toHex } from "@peercycles/attest";
import type { GpuEvidence } from "@peercycles/attest/bundle";
import { EnclaveError } from "./errors.js";
import type { GpuEvidenceSource } from "./provider.js";

/**
 * NVIDIA GPU evidence on a worker. Capturing SPDM evidence from a confidential-computing GPU needs
 * the GPU, NVIDIA's CC-enabled driver and NVIDIA's tooling (nvtrust `nv-attestation-sdk` /
 * `nvtrust` local GPU verifier, or NVML's `nvmlDeviceGetConfComputeGpuAttestationReport`). This
 * package does not talk to the driver itself; it takes what that tooling produces, in the JSON
 * form the attestation SDK serialises (`[{ "arch", "certificate": base64 PEM chain, "evidence":
 * base64 SPDM transcript, "nonce": hex }]`), and checks that every GPU answered *our* nonce.
 * There is no fake capture: on a machine without a GPU these providers fail with
 * `enclave_gpu_evidence_unavailable`.
 */

/** One entry of the attestation SDK's serialised evidence list. */
export interface NvidiaSerializedEvidence {
  readonly arch?: string;
  readonly certificate: string;
  readonly evidence: string;
  readonly nonce?: string;
}

const SPDM_REQUEST_NONCE = [4, 36] as const;

function pemToDer(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const match of text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    out.push(fromBase64(match[1] as string));
  }
  return out;
}

/**
 * Converts the SDK's serialised evidence to bundle GPU entries and checks the requester nonce of
 * each SPDM request (bytes 4..36, which the GPU signs together with its response) equals `nonce`.
 * @throws EnclaveError `enclave_gpu_evidence_malformed`, `enclave_gpu_nonce_mismatch`
 */
export function gpuEvidenceFromSerialized(json: unknown, nonce: Uint8Array): GpuEvidence[] {
  if (!Array.isArray(json) || json.length === 0) {
    throw new EnclaveError("enclave_gpu_evidence_malformed", "GPU evidence must be a non-empty JSON array");
  }
  return json.map((entry, i) => {
    const e = entry as Partial<NvidiaSerializedEvidence>;
    if (typeof e?.certificate !== "string" || typeof e?.evidence !== "string") {
      throw new EnclaveError(
        "enclave_gpu_evidence_malformed",
        `GPU evidence [${i}] needs "certificate" and "evidence" (base64)`,
      );
    }
    let evidence: Uint8Array;
    let certificates: Uint8Array[];
    try {
      evidence = fromBase64(e.evidence);
      certificates = pemToDer(new TextDecoder().decode(fromBase64(e.certificate)));
    } catch (cause) {
      throw new EnclaveError("enclave_gpu_evidence_malformed", `GPU evidence [${i}] is not valid base64`, {
        cause,
      });
    }
    if (certificates.length === 0)
      throw new EnclaveError("enclave_gpu_evidence_malformed", `GPU evidence [${i}] has no certificates`);
    if (evidence.length < SPDM_REQUEST_NONCE[1] || evidence[0] !== 0x11 || evidence[1] !== 0xe0) {
      throw new EnclaveError(
        "enclave_gpu_evidence_malformed",
        `GPU evidence [${i}] does not start with an SPDM GET_MEASUREMENTS request`,
      );
    }
    const requested = evidence.subarray(...SPDM_REQUEST_NONCE);
    if (!equalBytes(requested, nonce)) {
      throw new EnclaveError(
        "enclave_gpu_nonce_mismatch",
        `GPU evidence [${i}] answers nonce ${toHex(requested)}, not the binding's ${toHex(nonce)}`,
      );
    }
    return { kind: "nvidia-spdm", evidence, certificates };
  });
}

/** How {@link NvidiaCommandProvider} runs the capture tool. */
export interface NvidiaCommandProviderOptions {
  /** Executable that captures evidence, e.g. a script around nv-attestation-sdk's `get_evidence`. */
  readonly command: string;
  /** Arguments; the literal `{nonce}` is replaced by the nonce in hex. Default `["--nonce", "{nonce}"]`. */
  readonly args?: readonly string[];
  /** Milliseconds before the capture is abandoned. Default 60 000. */
  readonly timeoutMs?: number;
}

/**
 * Runs NVIDIA's tooling (through a command you install on the worker) with the binding's nonce and
 * reads the serialised evidence it prints on stdout.
 *
 * @example
 * ```ts
 * const gpus = new NvidiaCommandProvider({ command: "/opt/peer/gpu-evidence.py", args: ["--nonce", "{nonce}"] });
 * ```
 */
export class NvidiaCommandProvider implements GpuEvidenceSource {
  readonly #options: NvidiaCommandProviderOptions;
  constructor(options: NvidiaCommandProviderOptions) {
    this.#options = options;
  }

  async getGpuEvidence(nonce: Uint8Array): Promise<GpuEvidence[]> {
    const nonceHex = toHex(nonce);
    const args = (this.#options.args ?? ["--nonce", "{nonce}"]).map((a) => a.replaceAll("{nonce}", nonceHex));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        this.#options.command,
        args,
        { timeout: this.#options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
        (error, out) => {
          if (error) {
            reject(
              new EnclaveError(
                "enclave_gpu_evidence_unavailable",
                `GPU evidence command failed: ${error.message}`,
                { cause: error, retryable: true },
              ),
            );
          } else resolve(out);
        },
      );
    });
    let json: unknown;
    try {
      json = JSON.parse(stdout);
    } catch (cause) {
      throw new EnclaveError("enclave_gpu_evidence_malformed", "GPU evidence command did not print JSON", {
        cause,
      });
    }
    return gpuEvidenceFromSerialized(json, nonce);
  }
}

/**
 * Reads serialised evidence from a file written by NVIDIA's tooling for the given nonce (for
 * workers where capture runs as a separate step). The nonce check still applies, so a stale file
 * is rejected, never relayed.
 */
export class NvidiaFileProvider implements GpuEvidenceSource {
  readonly #path: string;
  constructor(path: string) {
    this.#path = path;
  }

  async getGpuEvidence(nonce: Uint8Array): Promise<GpuEvidence[]> {
    let text: string;
    try {
      text = await readFile(this.#path, "utf8");
    } catch (cause) {
      throw new EnclaveError(
        "enclave_gpu_evidence_unavailable",
        `cannot read GPU evidence file ${this.#path}`,
        { cause, retryable: true },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new EnclaveError(
        "enclave_gpu_evidence_malformed",
        `GPU evidence file ${this.#path} is not JSON`,
        { cause },
      );
    }
    return gpuEvidenceFromSerialized(json, nonce);
  }
}

/** The nonce hex of serialised evidence, parsed (helper for tooling that records it). */
export function serializedNonce(entry: NvidiaSerializedEvidence): Uint8Array | undefined {
  return entry.nonce ? fromHex(entry.nonce) : undefined;
}
