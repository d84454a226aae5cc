import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCertificates } from "@peercycles/attest";
import {
  type AttestationBundle,
  type BundleVerificationResult,
  decodeBinding,
  decodeBundle,
  encodeBinding,
  encodeBundle,
  parseBundlePolicy,
  verifyBundle,
} from "@peercycles/attest/bundle";
import { INTEL_SGX_ROOT_CA_PEM } from "@peercycles/attest/tdx";
import { repoRoot } from "@peercycles/internal-vectors";
import { beforeAll, describe, expect, it } from "vitest";
import { createAttestationBundle } from "./attestation.js";
import { type SimulatedEnclave, simulateEnclave } from "./simulator/simulate-enclave.js";
import { SIMULATED_MEASUREMENTS, simulatedWeightsDigest } from "./simulator/simulated-measurements.js";

const devPolicyJson = JSON.parse(
  readFileSync(join(repoRoot, "docs/policies/development-simulated.json"), "utf8"),
);
const devPolicy = parseBundlePolicy(devPolicyJson);
/** The same policy with simulation not allowed: what a production client runs. */
const strictPolicy = parseBundlePolicy({ ...devPolicyJson, allowSimulated: false });

const NOW = new Date("2026-11-25T12:00:00Z");
const codes = (result: BundleVerificationResult) => result.errors.map((e) => e.code);

describe("verifyBundle on simulated enclaves (real verifiers, development roots)", () => {
  let tdx: SimulatedEnclave;
  let snp: SimulatedEnclave;
  beforeAll(async () => {
    [tdx, snp] = await Promise.all([
      simulateEnclave({ model: "peer-mixtral", cpu: "tdx", gpus: 1, now: NOW }),
      simulateEnclave({ model: "peer-mixtral", cpu: "sev-snp", gpus: 2, now: NOW }),
    ]);
  });

  it("accepts a simulated TDX + H100 bundle under allowSimulated, and says simulated", async () => {
    const result = await verifyBundle(decodeBundle(tdx.bytes), {
      policy: devPolicy,
      now: NOW,
      offline: true,
    });
    expect(codes(result)).toEqual([]);
    expect(result).toMatchObject({ ok: true, verified: true, kind: "bundle", simulated: true });
    expect(result.cpu.kind).toBe("tdx");
    expect(result.cpu.verified).toBe(true);
    expect(result.gpus).toHaveLength(1);
    expect(result.gpus[0]?.ok).toBe(true);
    expect(result.binding.model).toBe("peer-mixtral");
    expect(result.checks.every((c) => c.status !== "fail")).toBe(true);
    expect(result.checks.map((c) => c.id)).toEqual(
      expect.arrayContaining([
        "roots",
        "cpu",
        "report_data",
        "gpu_0",
        "gpu_0_nonce",
        "issued_at",
        "model",
        "weights",
        "measurements",
      ]),
    );
  });

  it("accepts a simulated SEV-SNP + 2×H100 bundle under allowSimulated", async () => {
    const result = await verifyBundle(decodeBundle(snp.bytes), {
      policy: devPolicy,
      now: NOW,
      offline: true,
    });
    expect(codes(result)).toEqual([]);
    expect(result).toMatchObject({ ok: true, verified: true, simulated: true });
    expect(result.cpu.kind).toBe("sev-snp");
    expect(result.checks.find((c) => c.id === "gpu_distinct")?.status).toBe("pass");
  });

  it("refuses simulated bundles under the default policy, and each verifier's pinned roots reject the development roots", async () => {
    const forTdx = await verifyBundle(tdx.bundle, { policy: strictPolicy, now: NOW, offline: true });
    expect(forTdx).toMatchObject({ ok: false, verified: false, simulated: true });
    expect(codes(forTdx)).toContain("bundle_simulated_not_allowed");
    expect(forTdx.cpu.errors.map((e) => e.code)).toContain("certificate_chain_untrusted");
    expect(forTdx.gpus[0]?.errors.map((e) => e.code)).toContain("nvidia_device_certificate_chain_untrusted");

    const forSnp = await verifyBundle(snp.bundle, { policy: strictPolicy, now: NOW, offline: true });
    expect(codes(forSnp)).toContain("bundle_simulated_not_allowed");
    expect(forSnp.cpu.verified).toBe(false);
    expect(forSnp.cpu.errors.map((e) => e.code)).toContain("snp_ark_mismatch");

    // The package default (no models, no simulation) refuses it too.
    const defaults = await verifyBundle(tdx.bundle, { policy: { models: {} }, now: NOW, offline: true });
    expect(codes(defaults)).toEqual(
      expect.arrayContaining(["bundle_simulated_not_allowed", "bundle_model_not_allowed"]),
    );
  });

  it("a bundle stripped of its development roots fails on the vendor roots", async () => {
    const { developmentRoots: _dropped, ...stripped } = tdx.bundle;
    const result = await verifyBundle(stripped, { policy: devPolicy, now: NOW, offline: true });
    expect(result.simulated).toBe(false);
    expect(result.verified).toBe(false);
    expect(result.cpu.errors.map((e) => e.code)).toContain("certificate_chain_untrusted");
  });

  it("rejects a carried root without the development marker", async () => {
    const intel = parseCertificates(INTEL_SGX_ROOT_CA_PEM)[0]!.der;
    const bundle: AttestationBundle = {
      ...tdx.bundle,
      developmentRoots: { ...tdx.bundle.developmentRoots, tdx: [intel] },
    };
    const result = await verifyBundle(bundle, { policy: devPolicy, now: NOW, offline: true });
    expect(codes(result)).toContain("bundle_development_root_unmarked");
    expect(result.ok).toBe(false);
  });

  describe("every binding broken in turn", () => {
    const rebind = (
      bundle: AttestationBundle,
      change: Partial<ReturnType<typeof decodeBinding>>,
    ): AttestationBundle => ({
      ...bundle,
      binding: encodeBinding({ ...decodeBinding(bundle.binding), ...change }),
    });

    it("HPKE key swapped → report_data and GPU nonce no longer match", async () => {
      const swapped = rebind(tdx.bundle, { hpkePublicKey: new Uint8Array(32).fill(0x42) });
      const result = await verifyBundle(swapped, { policy: devPolicy, now: NOW, offline: true });
      expect(result.ok).toBe(false);
      expect(result.verified).toBe(false);
      expect(codes(result)).toEqual(
        expect.arrayContaining(["bundle_report_data_mismatch", "bundle_gpu_nonce_mismatch"]),
      );
    });

    it("signing key swapped → bundle_report_data_mismatch", async () => {
      const result = await verifyBundle(
        rebind(snp.bundle, { signingPublicKey: new Uint8Array(32).fill(1) }),
        {
          policy: devPolicy,
          now: NOW,
          offline: true,
        },
      );
      expect(codes(result)).toContain("bundle_report_data_mismatch");
    });

    it("model digest changed in the binding → bundle_report_data_mismatch", async () => {
      const result = await verifyBundle(
        rebind(tdx.bundle, { weightsDigest: simulatedWeightsDigest("peer-tiny") }),
        {
          policy: devPolicy,
          now: NOW,
          offline: true,
        },
      );
      expect(codes(result)).toContain("bundle_report_data_mismatch");
    });

    it("honestly attested but unlisted weights → bundle_weights_digest_not_allowed", async () => {
      const other = await simulateEnclave({
        model: "peer-mixtral",
        gpus: 1,
        now: NOW,
        weightsDigest: new Uint8Array(32).fill(9),
      });
      const result = await verifyBundle(other.bundle, { policy: devPolicy, now: NOW, offline: true });
      expect(result.verified).toBe(true);
      expect(codes(result)).toEqual(["bundle_weights_digest_not_allowed"]);
    });

    it("model not in the policy → bundle_model_not_allowed", async () => {
      const other = await simulateEnclave({ model: "peer-unknown", gpus: 1, now: NOW });
      const result = await verifyBundle(other.bundle, { policy: devPolicy, now: NOW, offline: true });
      expect(result.verified).toBe(true);
      expect(codes(result)).toEqual(["bundle_model_not_allowed"]);
    });

    it("measurements not allowed for the model → bundle_measurement_not_allowed", async () => {
      const other = await simulateEnclave({
        model: "peer-mixtral",
        gpus: 1,
        now: NOW,
        tdxMeasurements: { ...SIMULATED_MEASUREMENTS.tdx, rtmr2: "ab".repeat(48) },
      });
      const result = await verifyBundle(other.bundle, { policy: devPolicy, now: NOW, offline: true });
      expect(codes(result)).toEqual(["bundle_measurement_not_allowed"]);
      const snpOther = await simulateEnclave({
        model: "peer-mixtral",
        cpu: "sev-snp",
        gpus: 1,
        now: NOW,
        snpMeasurement: "cd".repeat(48),
      });
      expect(
        codes(await verifyBundle(snpOther.bundle, { policy: devPolicy, now: NOW, offline: true })),
      ).toEqual(["bundle_measurement_not_allowed"]);
    });

    it("GPU evidence made for another nonce → bundle_gpu_nonce_mismatch", async () => {
      const evidence = await tdx.simulator.getEvidence(new Uint8Array(64), new Uint8Array(32).fill(7));
      const bundle: AttestationBundle = { ...tdx.bundle, gpus: evidence.gpus };
      const result = await verifyBundle(bundle, { policy: devPolicy, now: NOW, offline: true });
      expect(result.verified).toBe(false);
      expect(codes(result)).toEqual(
        expect.arrayContaining(["bundle_gpu_nonce_mismatch", "nvidia_nonce_mismatch"]),
      );
      expect(codes(result)).not.toContain("bundle_report_data_mismatch");
    });

    it("CPU evidence from another binding (report_data not matching) → bundle_report_data_mismatch", async () => {
      const again = await createAttestationBundle(tdx.keys, tdx.simulator, {
        model: "peer-mixtral",
        weightsDigest: simulatedWeightsDigest("peer-mixtral"),
        issuedAt: new Date(NOW.getTime() + 1000),
      });
      const bundle: AttestationBundle = { ...tdx.bundle, cpu: again.cpu };
      const result = await verifyBundle(bundle, { policy: devPolicy, now: NOW, offline: true });
      expect(result.cpu.verified).toBe(true);
      expect(codes(result)).toEqual(["bundle_report_data_mismatch"]);
    });

    it("stale issued-at → bundle_stale; issued in the future → bundle_issued_in_future", async () => {
      const later = new Date(NOW.getTime() + (3600 + 1) * 1000);
      expect(codes(await verifyBundle(tdx.bundle, { policy: devPolicy, now: later, offline: true }))).toEqual(
        ["bundle_stale"],
      );
      const earlier = new Date(NOW.getTime() - 301 * 1000);
      expect(
        codes(await verifyBundle(tdx.bundle, { policy: devPolicy, now: earlier, offline: true })),
      ).toEqual(["bundle_issued_in_future"]);
      const justInTime = new Date(NOW.getTime() + 3600 * 1000);
      expect((await verifyBundle(tdx.bundle, { policy: devPolicy, now: justInTime, offline: true })).ok).toBe(
        true,
      );
    });

    it("replayed or wrong client nonce → bundle_client_nonce_mismatch; none → bundle_client_nonce_missing", async () => {
      const nonceA = new Uint8Array(16).fill(0xa1);
      const nonceB = new Uint8Array(16).fill(0xb2);
      const fresh = await createAttestationBundle(tdx.keys, tdx.simulator, {
        model: "peer-mixtral",
        weightsDigest: simulatedWeightsDigest("peer-mixtral"),
        issuedAt: NOW,
        clientNonce: nonceA,
      });
      const withBundleRoots = { ...fresh, developmentRoots: tdx.bundle.developmentRoots };
      expect(
        (
          await verifyBundle(withBundleRoots, {
            policy: devPolicy,
            now: NOW,
            offline: true,
            clientNonce: nonceA,
          })
        ).ok,
      ).toBe(true);
      const replayed = await verifyBundle(withBundleRoots, {
        policy: devPolicy,
        now: NOW,
        offline: true,
        clientNonce: nonceB,
      });
      expect(codes(replayed)).toEqual(["bundle_client_nonce_mismatch"]);
      const viaPolicy = await verifyBundle(withBundleRoots, {
        policy: { ...devPolicyJson, clientNonce: "b2".repeat(16) },
        now: NOW,
        offline: true,
      });
      expect(codes(viaPolicy)).toEqual(["bundle_client_nonce_mismatch"]);
      const missing = await verifyBundle(tdx.bundle, {
        policy: devPolicy,
        now: NOW,
        offline: true,
        clientNonce: nonceA,
      });
      expect(codes(missing)).toEqual(["bundle_client_nonce_missing"]);
    });

    it("GPU missing → bundle_gpu_required; one GPU listed twice → bundle_gpu_duplicate", async () => {
      const noGpu = await verifyBundle(
        { ...tdx.bundle, gpus: [] },
        { policy: devPolicy, now: NOW, offline: true },
      );
      expect(codes(noGpu)).toEqual(["bundle_gpu_required"]);
      const twice = await verifyBundle(
        { ...tdx.bundle, gpus: [tdx.bundle.gpus[0]!, tdx.bundle.gpus[0]!] },
        { policy: devPolicy, now: NOW, offline: true },
      );
      expect(codes(twice)).toEqual(["bundle_gpu_duplicate"]);
    });

    it("CPU kind outside the policy → bundle_cpu_kind_not_allowed", async () => {
      const result = await verifyBundle(tdx.bundle, {
        policy: { ...devPolicyJson, cpu: { ...devPolicyJson.cpu, kinds: ["sev-snp"] } },
        now: NOW,
        offline: true,
      });
      expect(codes(result)).toEqual(["bundle_cpu_kind_not_allowed"]);
    });

    it("GPU policy and CPU policy violations surface with bundle codes", async () => {
      const result = await verifyBundle(tdx.bundle, {
        policy: {
          ...devPolicyJson,
          gpu: { required: true, nvidia: { requireRimMatch: true } },
          cpu: { kinds: ["tdx"], tdx: { mrSeam: ["00".repeat(48)] } },
        },
        now: NOW,
        offline: true,
      });
      expect(result.verified).toBe(true);
      expect(codes(result)).toEqual(
        expect.arrayContaining([
          "bundle_cpu_policy_violation",
          "bundle_gpu_policy_violation",
          "nvidia_policy_rim_required",
        ]),
      );
    });
  });

  it("round-trips through CBOR", () => {
    const decoded = decodeBundle(tdx.bytes);
    expect(decoded).toEqual(tdx.bundle);
    expect(encodeBundle(decoded)).toEqual(tdx.bytes);
    expect(decodeBundle(snp.bytes)).toEqual(snp.bundle);
  });
});
