import { fromBase64 } from "../common/bytes.js";
import { CollateralUnavailableError, EvidenceParseError } from "../common/errors.js";
import type { NvidiaDeviceIdentity } from "./device-chain.js";
import { parseRim, type Rim } from "./rim.js";
import type { SpdmEvidence } from "./spdm.js";

/** NVIDIA's RIM service: `GET {base}{id}` answers JSON with the RIM base64 in `rim`. */
export const NVIDIA_RIM_SERVICE_URL = "https://rim.attestation.nvidia.com/v1/rim/";

/**
 * RIM ids NVIDIA's verifiers ask the service for: `NV_GPU_DRIVER_<chip>_<driver>`,
 * `NV_GPU_VBIOS_<project>_<project sku>_<chip sku>_<VBIOS without dots>`, and for switches
 * `NV_SWITCH_BIOS_<project>_<project sku>_<chip sku>_<BIOS without dots>` (LS10: 5612_0002_890).
 */
export function rimIdsFor(
  evidence: SpdmEvidence,
  device: NvidiaDeviceIdentity,
): { driver?: string; vbios?: string } {
  const opaque = evidence.response.opaque;
  const vbios = opaque.vbiosVersion?.replace(/\./g, "").toUpperCase();
  if (device.kind === "switch") {
    return vbios
      ? {
          vbios: `NV_SWITCH_BIOS_${opaque.project ?? "5612"}_${opaque.projectSku ?? "0002"}_${opaque.chipSku ?? "890"}_${vbios}`,
        }
      : {};
  }
  const chip = device.architecture === "blackwell" ? "GB100" : "GH100";
  return {
    ...(opaque.driverVersion ? { driver: `NV_GPU_DRIVER_${chip}_${opaque.driverVersion}` } : {}),
    ...(vbios && opaque.project && opaque.projectSku && opaque.chipSku
      ? { vbios: `NV_GPU_VBIOS_${opaque.project}_${opaque.projectSku}_${opaque.chipSku}_${vbios}` }
      : {}),
  };
}

/** Bounded cache of RIMs by id. The verifier stores a RIM only after it verified it. */
export class RimCache {
  private readonly entries = new Map<string, Rim>();
  constructor(private readonly limit = 128) {}
  get(id: string): Rim | undefined {
    return this.entries.get(id);
  }
  set(id: string, rim: Rim): void {
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(id, rim);
  }
  clear(): void {
    this.entries.clear();
  }
}

export interface FetchRimOptions {
  readonly fetch: typeof fetch;
  readonly baseUrl?: string;
}

/**
 * Fetches and parses one RIM from the service. It is not verified here: pass it to `verifyRim`.
 * @throws CollateralUnavailableError `nvidia_rim_unavailable`; EvidenceParseError `nvidia_rim_malformed`
 * @example
 * const rim = await fetchRim("NV_GPU_DRIVER_GH100_550.90.07", { fetch });
 */
export async function fetchRim(id: string, options: FetchRimOptions): Promise<Rim> {
  if (!/^[A-Za-z0-9_.-]+$/.test(id))
    throw new CollateralUnavailableError("nvidia_rim_unavailable", `RIM id "${id}" is not a valid id`);
  const url = `${options.baseUrl ?? NVIDIA_RIM_SERVICE_URL}${id}`;
  let body: unknown;
  try {
    const response = await options.fetch(url, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await response.json();
  } catch (cause) {
    throw new CollateralUnavailableError(
      "nvidia_rim_unavailable",
      `RIM ${id} could not be fetched from ${url}: ${(cause as Error).message}`,
      { cause },
    );
  }
  const rim = (body as { rim?: unknown } | null)?.rim;
  if (typeof rim !== "string")
    throw new EvidenceParseError(
      "nvidia_rim_malformed",
      `RIM service answer for ${id} has no base64 "rim" field`,
    );
  return parseRim(fromBase64(rim));
}
