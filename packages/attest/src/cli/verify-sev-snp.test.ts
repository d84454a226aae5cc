import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vectorPath } from "@peercycles/internal-vectors";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCliCommand } from "./cli-harness.test-support.js";
import { verifySevSnpCommand } from "./verify-sev-snp.js";

const cli = (args: string[]) => runCliCommand("sev-snp", verifySevSnpCommand, args);

afterEach(() => vi.restoreAllMocks());

const V = (p: string) => vectorPath(`sev-snp/${p}`);

describe("peer-attest verify sev-snp", () => {
  it("accepts the virtee report (hex file) with its VCEK and chain: exit 0, JSON fields", async () => {
    const { code, out } = await cli([
      "--report",
      V("virtee-sev/report_milan.hex"),
      "--vcek",
      V("virtee-sev/vcek_milan.der"),
      "--chain",
      V("virtee-sev/cert_chain_milan"),
      "--now",
      "2024-01-01T00:00:00Z",
      "--json",
    ]);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json).toMatchObject({
      ok: true,
      verified: true,
      kind: "sev-snp",
      product: "milan",
      reportVersion: 2,
      signingKey: "vcek",
      vmpl: 0,
      measurement:
        "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
      policy: { debug: false, smt: true, migrateMa: false, singleSocket: false },
      reportedTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
      errors: [],
    });
    expect(json.chipId).toHaveLength(128);
    expect(json.hostData).toHaveLength(64);
    expect(json.reportData).toHaveLength(128);
    expect(json.checks.length).toBeGreaterThan(5);
  });

  it("rejects the debug report by default (exit 1) and accepts it with a policy allowing debug (exit 0)", async () => {
    const base = [
      "--report",
      V("google-go-sev-guest/attestation.bin"),
      "--vcek",
      V("google-go-sev-guest/vcek.testcer"),
      "--now",
      "2022-09-24T01:00:00Z",
    ];
    const rejected = await cli(base);
    expect(rejected.code).toBe(1);
    expect(rejected.out).toContain("REJECTED by policy");
    expect(rejected.out).toContain("✗ Policy [snp_policy_debug_forbidden]");
    expect(rejected.out).toContain("✓ Report signed by the VCEK");
    const dir = mkdtempSync(join(tmpdir(), "snp-cli-"));
    const policy = join(dir, "policy.json");
    writeFileSync(policy, JSON.stringify({ allowDebug: true }));
    const accepted = await cli([...base, "--policy", policy, "--product", "milan"]);
    expect(accepted.code).toBe(0);
    expect(accepted.out).toContain("ACCEPTED");
  });

  it("VLEK after its expiry: exit 1 with certificate_expired", async () => {
    const { code, out } = await cli([
      "--report",
      V("trustee/test-vlek-report.bin"),
      "--vcek",
      V("trustee/test-vlek.der"),
      "--now",
      "2026-01-01T00:00:00Z",
      "--json",
    ]);
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({
      ok: false,
      verified: false,
      signingKey: "vlek",
      errors: [{ code: "certificate_expired" }],
    });
  });

  it("a report file base64-encoded is accepted", async () => {
    const { readFileSync } = await import("node:fs");
    const dir = mkdtempSync(join(tmpdir(), "snp-cli-"));
    const file = join(dir, "report.b64");
    writeFileSync(
      file,
      Buffer.from(readFileSync(V("trustee/e2e_report.reconstructed.bin"))).toString("base64"),
    );
    const { code, out } = await cli([
      "--report",
      file,
      "--vcek",
      V("trustee/e2e_vcek.der"),
      "--now",
      "2026-01-01T00:00:00Z",
      "--json",
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ ok: true, product: "genoa" });
  });

  it.each([
    [["--report", "/nonexistent/report.bin", "--vcek", "x"], "input_file_unreadable"],
    [["--vcek", "x"], "cli_arguments_invalid"],
    [["--report", "x", "--bogus"], "cli_arguments_invalid"],
    [["--report", "x", "--product", "rome"], "cli_arguments_invalid"],
    [["--report", "x", "--now", "yesterday"], "cli_now_invalid"],
  ])("unusable input %j → exit 2 (%s)", async (args, code) => {
    const result = await cli([...(args as string[]), "--json"]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.out).errors[0].code).toBe(code);
  });

  it("a report file with 20 trailing bytes: exit 0 with trailingBytes 20; a policy rejecting them: exit 1 (issue 18)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "snp-cli-"));
    const file = join(dir, "report-with-suffix.bin");
    writeFileSync(file, Buffer.concat([readFileSync(V("trustee/test-report.bin")), Buffer.alloc(20, 0x5a)]));
    const base = ["--report", file, "--vcek", V("trustee/test-vcek.der"), "--now", "2024-01-01T00:00:00Z"];
    const accepted = await cli([...base, "--json"]);
    expect(accepted.code).toBe(0);
    expect(JSON.parse(accepted.out)).toMatchObject({
      ok: true,
      trailingBytes: 20,
      committedFirmware: "1.52 build 4",
    });
    const table = await cli(base);
    expect(table.out).toContain("20 trailing bytes ignored");
    const policy = join(dir, "policy.json");
    writeFileSync(policy, JSON.stringify({ rejectTrailingBytes: true }));
    const refused = await cli([...base, "--policy", policy, "--json"]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out).errors.map((e: { code: string }) => e.code)).toEqual([
      "snp_policy_trailing_bytes_rejected",
    ]);
  });

  it("truncated report → exit 2 snp_report_truncated; offline without a VCEK → exit 2 collateral_unavailable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "snp-cli-"));
    const file = join(dir, "short.bin");
    writeFileSync(file, new Uint8Array(100).fill(1));
    const truncated = await cli(["--report", file, "--vcek", V("trustee/test-vcek.der"), "--json"]);
    expect(truncated.code).toBe(2);
    expect(JSON.parse(truncated.out).errors[0].code).toBe("snp_report_truncated");
    const offline = await cli(["--report", V("trustee/test-report.bin"), "--product", "milan", "--offline"]);
    expect(offline.code).toBe(2);
    expect(offline.err).toContain("[collateral_unavailable]");
  });
});
