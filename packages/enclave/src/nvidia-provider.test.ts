import { fromHex } from "@peercycles/attest";
import { readVectorJson, vectorPath } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { gpuEvidenceFromSerialized, NvidiaCommandProvider, NvidiaFileProvider } from "./nvidia-provider.js";

const FILE = "nvidia/nvidia-attestation-sdk/serialized/hopper_evidence.json";
const NONCE = fromHex("e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576");

describe("NVIDIA evidence providers (real attestation-SDK output)", () => {
  it("reads serialised evidence and its 5-certificate device chain", async () => {
    const gpus = await new NvidiaFileProvider(vectorPath(FILE)).getGpuEvidence(NONCE);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]?.evidence).toHaveLength(4274);
    expect(gpus[0]?.certificates).toHaveLength(5);
  });

  it("rejects evidence made for another nonce", async () => {
    const other = NONCE.slice();
    other[0]! ^= 1;
    await expect(new NvidiaFileProvider(vectorPath(FILE)).getGpuEvidence(other)).rejects.toMatchObject({
      code: "enclave_gpu_nonce_mismatch",
    });
  });

  it("runs a capture command with the nonce and parses its stdout", async () => {
    const script = `const [nonce] = process.argv.slice(-1); if (nonce !== "${"e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576"}") process.exit(3); process.stdout.write(require("fs").readFileSync(${JSON.stringify(vectorPath(FILE))}, "utf8"));`;
    const provider = new NvidiaCommandProvider({
      command: process.execPath,
      args: ["-e", script, "{nonce}"],
    });
    expect(await provider.getGpuEvidence(NONCE)).toHaveLength(1);
    const failing = new NvidiaCommandProvider({ command: process.execPath, args: ["-e", "process.exit(2)"] });
    await expect(failing.getGpuEvidence(NONCE)).rejects.toMatchObject({
      code: "enclave_gpu_evidence_unavailable",
    });
  });

  it("rejects malformed containers", () => {
    expect(() => gpuEvidenceFromSerialized({}, NONCE)).toThrowError(
      expect.objectContaining({ code: "enclave_gpu_evidence_malformed" }),
    );
    const [entry] = readVectorJson<{ certificate: string; evidence: string }[]>(FILE);
    expect(() => gpuEvidenceFromSerialized([{ ...entry, evidence: "AAAA" }], NONCE)).toThrowError(
      expect.objectContaining({ code: "enclave_gpu_evidence_malformed" }),
    );
  });
});
