import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { encodeBundle } from "../bundle/bundle.js";
import { realEvidenceBundle } from "../bundle/test-fixtures.js";
import { verifyBundleCommand } from "./verify-bundle.js";

const dir = mkdtempSync(join(tmpdir(), "peer-attest-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { code: await verifyBundleCommand(args), out };
  } finally {
    spy.mockRestore();
  }
}

describe("peer-attest verify bundle", () => {
  const file = join(dir, "real.cbor");
  writeFileSync(file, encodeBundle(realEvidenceBundle()));
  const policy = join(dir, "policy.json");
  writeFileSync(
    policy,
    JSON.stringify({ models: { "peer-mixtral": { weightsDigests: ["33".repeat(32)] } } }),
  );

  it("prints the documented JSON and exits 1 for real evidence that is not bound to the binding", async () => {
    const { code, out } = await run([
      "--bundle",
      file,
      "--policy",
      policy,
      "--now",
      "2025-07-19T10:00:34Z",
      "--offline",
      "--json",
    ]);
    expect(code).toBe(1);
    const json = JSON.parse(out);
    expect(Object.keys(json)).toEqual([
      "ok",
      "verified",
      "kind",
      "simulated",
      "binding",
      "cpu",
      "gpus",
      "checks",
      "errors",
      "policyViolations",
    ]);
    expect(json).toMatchObject({ ok: false, verified: false, kind: "bundle", simulated: false });
    expect(json.cpu.verified).toBe(true);
    expect(json.errors.map((e: { code: string }) => e.code)).toContain("bundle_report_data_mismatch");
    expect(json.gpus[0].evidence).toBeUndefined();
  });

  it("prints the ✓/✗ tables", async () => {
    const { code, out } = await run([
      "--bundle",
      file,
      "--policy",
      policy,
      "--now",
      "2025-07-19T10:00:34Z",
      "--offline",
    ]);
    expect(code).toBe(1);
    expect(out).toContain("Attestation bundle: REJECTED");
    expect(out).toContain("✗ CPU report_data = SHA-512(binding) [bundle_report_data_mismatch]");
    expect(out).toContain("CPU evidence (tdx): ACCEPTED");
  });

  it("treats a missing --bundle and unknown options as unusable input", async () => {
    await expect(verifyBundleCommand([])).rejects.toMatchObject({ code: "cli_arguments_invalid" });
    await expect(verifyBundleCommand(["--bundle", file, "--bogus"])).rejects.toMatchObject({
      code: "cli_arguments_invalid",
    });
    await expect(verifyBundleCommand(["--bundle", join(dir, "missing")])).rejects.toMatchObject({
      code: "input_file_unreadable",
    });
  });
});
