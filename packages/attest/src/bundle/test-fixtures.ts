import { readVector, readVectorJson } from "@peercycles/internal-vectors";
import { fromBase64 } from "../common/bytes.js";
import { pemBlocks } from "../common/x509.js";
import { encodeBinding } from "./binding.js";
import type { AttestationBundle } from "./bundle.js";

/** Verification time inside the tdx/phala-dcap-qvl/tdx_quote collateral window (vectors README). */
export const TDX_VECTOR_NOW = new Date("2025-07-19T10:00:34Z");

/**
 * A bundle assembled from REAL evidence that was never made for a binding: the dcap-qvl TDX quote
 * with its collateral and an H100's SPDM evidence from the attestation SDK. Every piece verifies on
 * its own; the binding cannot match either (their report_data and nonce were chosen by others).
 */
export function realEvidenceBundle(issuedAt = TDX_VECTOR_NOW): AttestationBundle {
  const collateral = readVectorJson<Record<string, string>>("tdx/phala-dcap-qvl/tdx_quote_collateral.json");
  const [gpu] = readVectorJson<{ certificate: string; evidence: string }[]>(
    "nvidia/nvidia-attestation-sdk/serialized/hopper_evidence.json",
  );
  const chain = pemBlocks(new TextDecoder().decode(fromBase64((gpu as { certificate: string }).certificate)));
  return {
    version: 1,
    binding: encodeBinding({
      hpkePublicKey: new Uint8Array(32).fill(0x11),
      signingPublicKey: new Uint8Array(32).fill(0x22),
      model: "peer-mixtral",
      weightsDigest: new Uint8Array(32).fill(0x33),
      issuedAt: Math.floor(issuedAt.getTime() / 1000),
    }),
    cpu: {
      kind: "tdx",
      evidence: readVector("tdx/phala-dcap-qvl/tdx_quote"),
      certificates: [],
      collateral: Object.fromEntries(Object.entries(collateral).filter(([, v]) => typeof v === "string")),
    },
    gpus: [
      {
        kind: "nvidia-spdm",
        evidence: fromBase64((gpu as { evidence: string }).evidence),
        certificates: chain,
      },
    ],
  };
}

/** The real SEV-SNP report of go-sev-guest with its VCEK (chain to the pinned Milan ARK). */
export function realSnpCpu(): AttestationBundle["cpu"] {
  return {
    kind: "sev-snp",
    evidence: readVector("sev-snp/google-go-sev-guest/attestation.bin"),
    certificates: [readVector("sev-snp/google-go-sev-guest/vcek.testcer")],
  };
}
