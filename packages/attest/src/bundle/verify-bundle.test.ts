import { readVector, readVectorJson } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { toHex } from "../common/bytes.js";
import { realEvidenceBundle, realSnpCpu, TDX_VECTOR_NOW } from "./test-fixtures.js";
import { verifyBundle } from "./verify-bundle.js";

const MRTD =
  "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7";
const policy = {
  maxAgeSeconds: 3600,
  models: { "peer-mixtral": { weightsDigests: ["33".repeat(32)], tdx: [{ mrTd: MRTD }] } },
};

describe("verifyBundle with real hardware evidence", () => {
  it("verifies the real TDX quote and H100 evidence, and rejects them as not bound to this binding", async () => {
    const result = await verifyBundle(realEvidenceBundle(), { policy, now: TDX_VECTOR_NOW, offline: true });
    expect(result.simulated).toBe(false);
    expect(result.cpu.verified).toBe(true);
    expect(result.cpu.kind).toBe("tdx");
    expect(result.ok).toBe(false);
    expect(result.verified).toBe(false);
    const codes = result.errors.map((e) => e.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        "bundle_report_data_mismatch",
        "bundle_gpu_nonce_mismatch",
        "nvidia_nonce_mismatch",
      ]),
    );
    // The GPU evidence itself is genuine: chain and signature pass; only its nonce is someone else's.
    const gpuChecks = Object.fromEntries(result.gpus[0]!.checks.map((c) => [c.id, c.status]));
    expect(gpuChecks).toMatchObject({ device_chain: "pass", spdm_signature: "pass", nonce: "fail" });
    expect(result.binding.reportData).toHaveLength(128);
    expect(result.checks.find((c) => c.id === "measurements")?.status).toBe("pass");
    expect(result.checks.find((c) => c.id === "roots")?.detail).toBe("pinned vendor roots");
  });

  it("reports the real quote's report_data in the mismatch", async () => {
    const result = await verifyBundle(realEvidenceBundle(), { policy, now: TDX_VECTOR_NOW, offline: true });
    const mismatch = result.errors.find((e) => e.code === "bundle_report_data_mismatch");
    expect(mismatch?.message).toContain("9a9d48e7f6799642d3d1b34e1e5e1742");
  });

  it("checks a real SEV-SNP report through the SNP verifier", async () => {
    const bundle = { ...realEvidenceBundle(new Date("2022-09-24T01:00:00Z")), cpu: realSnpCpu() };
    const result = await verifyBundle(bundle, {
      policy,
      now: new Date("2022-09-24T01:00:00Z"),
      offline: true,
    });
    expect(result.cpu.kind).toBe("sev-snp");
    expect(result.cpu.checks.find((c) => c.id === "report_signature")?.status).toBe("pass");
    // Genuine, but its guest policy allows debugging: the default SNP policy refuses it.
    expect(result.cpu.verified).toBe(true);
    expect(result.cpu.errors.map((e) => e.code)).toEqual(["snp_policy_debug_forbidden"]);
    expect(result.errors.map((e) => e.code)).toContain("bundle_cpu_policy_violation");
    expect(result.errors.map((e) => e.code)).toContain("bundle_report_data_mismatch");
  });

  it("rejects an SGX enclave quote in a bundle that declares TDX", async () => {
    const collateral = readVectorJson<Record<string, string>>("tdx/phala-dcap-qvl/sgx_quote_collateral.json");
    const now = new Date("2025-07-19T10:01:17Z");
    const bundle = {
      ...realEvidenceBundle(now),
      cpu: {
        kind: "tdx" as const,
        evidence: readVector("tdx/phala-dcap-qvl/sgx_quote"),
        certificates: [],
        collateral: Object.fromEntries(Object.entries(collateral).filter(([, v]) => typeof v === "string")),
      },
    };
    const result = await verifyBundle(bundle, { policy, now, offline: true });
    expect(result.cpu.verified).toBe(true);
    expect(result.verified).toBe(false);
    expect(result.errors.map((e) => e.code)).toContain("bundle_cpu_evidence_kind_mismatch");
  });

  it("needs now and a policy, and rejects an unknown policy key with a typed error", async () => {
    const bundle = realEvidenceBundle();
    await expect(verifyBundle(bundle, { policy, now: new Date(Number.NaN) })).rejects.toMatchObject({
      code: "bundle_now_required",
    });
    await expect(verifyBundle(bundle, { policy: undefined, now: TDX_VECTOR_NOW })).rejects.toMatchObject({
      code: "bundle_policy_required",
    });
    await expect(
      verifyBundle(bundle, { policy: { ...policy, allowSimulation: true }, now: TDX_VECTOR_NOW }),
    ).rejects.toMatchObject({
      code: "policy_invalid",
    });
  });

  it("derives the expected values from the binding bytes", async () => {
    const bundle = realEvidenceBundle();
    const result = await verifyBundle(bundle, { policy, now: TDX_VECTOR_NOW, offline: true });
    expect(result.binding.hex).toBe(toHex(bundle.binding));
    expect(result.decodedBinding.model).toBe("peer-mixtral");
  });
});
