import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readVectorJson, vectorPath } from "@peercycles/internal-vectors";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCliCommand } from "./cli-harness.test-support.js";
import { verifyNvidiaCommand } from "./verify-nvidia.js";

const cli = (args: string[]) => runCliCommand("nvidia", verifyNvidiaCommand, args);

afterEach(() => vi.restoreAllMocks());
const V = (p: string) => vectorPath(`nvidia/${p}`);
const SDK = "nvidia-attestation-sdk";
const NONCE = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";

describe("peer-attest verify nvidia", () => {
  it("switch evidence (hex file) + chain + RIM offline: exit 0 and the documented JSON", async () => {
    const { code, out } = await cli([
      "--evidence",
      V(`${SDK}/switchAttestationReport.txt`),
      "--cert-chain",
      V(`${SDK}/switchCertChain.txt`),
      "--rim",
      V(`${SDK}/rims/switchVBIOSRim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml`),
      "--nonce",
      NONCE,
      "--offline",
      "--now",
      "2026-06-01T00:00:00Z",
      "--json",
    ]);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json).toMatchObject({
      ok: true,
      verified: true,
      kind: "nvidia",
      device: {
        kind: "switch",
        architecture: "ls10",
        ueid: "694931143880983876767046803400974855445978836716",
      },
      nonce: NONCE,
      driverVersion: null,
      vbiosVersion: "96.10.55.00.01",
      revocationChecked: false,
      measurements: { total: 31, matched: 31, mismatched: [] },
      errors: [],
    });
    expect(Object.keys(json).slice(0, 11)).toEqual([
      "ok",
      "verified",
      "kind",
      "device",
      "nonce",
      "driverVersion",
      "vbiosVersion",
      "revocationChecked",
      "measurements",
      "errors",
      "checks",
    ]);
  });

  it("binary evidence with the base64-of-PEM chain from nvtrust's JSON: exit 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nv-cli-"));
    const [entry] = readVectorJson<{ certificate: string }[]>("nvidia/nvtrust/ppcie/gpu_evidence.json");
    writeFileSync(join(dir, "chain.b64"), entry?.certificate ?? "");
    const { code, out } = await cli([
      "--evidence",
      V("nvtrust/ppcie/decoded/gpu_evidence_0.evidence.bin"),
      "--cert-chain",
      join(dir, "chain.b64"),
      "--allow-unchecked",
      "nonce,measurements",
      "--offline",
      "--now",
      "2026-06-01T00:00:00Z",
    ]);
    expect(code).toBe(0);
    expect(out).toContain("ACCEPTED");
    expect(out).toContain("✓ SPDM response signed by the device leaf key");
    expect(out).toContain("– Device certificates not revoked (OCSP)  (offline)");
  });

  it("invalid signature: exit 1 with the code", async () => {
    const { code, out } = await cli([
      "--evidence",
      V(`${SDK}/sample_attestation_data/switch/switchAttestationReportInvalidSignature.bin`),
      "--cert-chain",
      V(`${SDK}/sample_attestation_data/switch/switchCertChain.txt`),
      "--allow-unchecked",
      "nonce",
      "--allow-unchecked",
      "measurements",
      "--offline",
      "--now",
      "2026-06-01T00:00:00Z",
      "--json",
    ]);
    expect(code).toBe(1);
    expect(JSON.parse(out).errors.map((e: { code: string }) => e.code)).toEqual([
      "nvidia_spdm_signature_invalid",
    ]);
  });

  it("no --nonce and no RIM: exit 1 with both reasons unless named (issue #11)", async () => {
    const args = [
      "--evidence",
      V("nvtrust/hopperAttestationReport.bin"),
      "--cert-chain",
      V("nvtrust/hopperCertChain.txt"),
      "--offline",
      "--now",
      "2026-06-01T00:00:00Z",
      "--json",
    ];
    const refused = await cli(args);
    expect(refused.code).toBe(1);
    const json = JSON.parse(refused.out);
    expect([json.ok, json.verified, json.unchecked]).toEqual([false, true, []]);
    expect(json.errors.map((e: { code: string }) => e.code)).toEqual([
      "nvidia_policy_rim_required",
      "nvidia_policy_nonce_unchecked",
    ]);
    const onlyNonce = await cli([...args, "--allow-unchecked", "nonce"]);
    expect(onlyNonce.code).toBe(1);
    const accepted = await cli([...args, "--allow-unchecked", "nonce,measurements"]);
    expect(accepted.code).toBe(0);
    expect(JSON.parse(accepted.out).unchecked).toEqual(["nonce", "measurements"]);
    expect((await cli([...args, "--allow-unchecked", "tcb"])).code).toBe(2);
  });

  it("a policy file that the evidence does not meet: exit 1, verified true", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nv-cli-"));
    writeFileSync(
      join(dir, "policy.json"),
      JSON.stringify({ requireRevocationChecked: true, requireRimMatch: true }),
    );
    const { code, out } = await cli([
      "--evidence",
      V("nvtrust/hopperAttestationReport.bin"),
      "--cert-chain",
      V("nvtrust/hopperCertChain.txt"),
      "--allow-unchecked",
      "nonce",
      "--offline",
      "--policy",
      join(dir, "policy.json"),
      "--now",
      "2026-06-01T00:00:00Z",
      "--json",
    ]);
    expect(code).toBe(1);
    const json = JSON.parse(out);
    expect([json.verified, json.ok]).toEqual([true, false]);
    expect(json.errors.map((e: { code: string }) => e.code)).toEqual([
      "nvidia_policy_rim_required",
      "nvidia_policy_revocation_unchecked",
    ]);
  });

  it("unusable input: exit 2 (missing option, truncated evidence, unknown policy key)", async () => {
    expect((await cli(["--cert-chain", V("nvtrust/hopperCertChain.txt")])).code).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), "nv-cli-"));
    writeFileSync(join(dir, "short.bin"), new Uint8Array([0x11, 0xe0, 0x01]));
    const truncated = await cli([
      "--evidence",
      join(dir, "short.bin"),
      "--cert-chain",
      V("nvtrust/hopperCertChain.txt"),
      "--offline",
      "--json",
    ]);
    expect([truncated.code, JSON.parse(truncated.out).errors[0].code]).toEqual([2, "nvidia_spdm_truncated"]);
    writeFileSync(join(dir, "policy.json"), JSON.stringify({ requireEverything: true }));
    const policy = await cli([
      "--evidence",
      V("nvtrust/hopperAttestationReport.bin"),
      "--cert-chain",
      V("nvtrust/hopperCertChain.txt"),
      "--allow-unchecked",
      "nonce",
      "--offline",
      "--policy",
      join(dir, "policy.json"),
    ]);
    expect(policy.code).toBe(2);
    expect(policy.err).toContain("policy_invalid");
  });
});
