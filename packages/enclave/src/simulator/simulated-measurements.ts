import { sha256, sha384 } from "@noble/hashes/sha2.js";
import { toHex } from "@peercycles/attest";

const label = (text: string) => new TextEncoder().encode(`peercycles-simulator/${text}`);

/**
 * The measurements the simulator reports. They are fixed, documented values (SHA-384 of a label),
 * so a development policy can list them like real ones, and a test can change them to see the
 * policy reject a bundle.
 */
export const SIMULATED_MEASUREMENTS = {
  tdx: {
    mrTd: toHex(sha384(label("tdx/mrtd/v1"))),
    rtmr0: toHex(sha384(label("tdx/rtmr0/v1"))),
    rtmr1: toHex(sha384(label("tdx/rtmr1/v1"))),
    rtmr2: toHex(sha384(label("tdx/rtmr2/v1"))),
    rtmr3: toHex(new Uint8Array(48)),
  },
  sevSnp: {
    measurement: toHex(sha384(label("sev-snp/measurement/v1"))),
  },
} as const;

/** Default weights digest the simulator binds for a model: SHA-256("peercycles-simulator/weights/<model>"). */
export function simulatedWeightsDigest(model: string): Uint8Array {
  return sha256(label(`weights/${model}`));
}

/** SHA-384 of a label, for the simulator's other fixed values (MRSEAM, QE MRSIGNER, GPU blocks). */
export function simulatedDigest(text: string, size: 32 | 48 = 48): Uint8Array {
  return size === 48 ? sha384(label(text)) : sha256(label(text));
}
