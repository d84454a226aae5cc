import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vectorPath } from "@peercycles/internal-vectors";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runCommand } from "./io.js";
import { verifyTdxCommand } from "./verify-tdx.js";

let out = "";
let err = "";
let dir = "";
beforeEach(() => {
  out = "";
  err = "";
  dir = mkdtempSync(join(tmpdir(), "peer-attest-cli-"));
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the command the way main.ts does (AttestErrors escaping → exit 2). */
const run = (args: string[]) => runCommand("tdx", args.includes("--json"), () => verifyTdxCommand(args));
const json = () => JSON.parse(out) as Record<string, unknown>;

describe("peer-attest verify tdx", () => {
  it("accepts the phala quote with its collateral (exit 0, documented JSON fields)", async () => {
    const code = await run([
      "--quote",
      vectorPath("tdx/phala-dcap-qvl/tdx_quote"),
      "--collateral",
      vectorPath("tdx/phala-dcap-qvl/tdx_quote_collateral.json"),
      "--now",
      "2025-07-19T10:00:34Z",
      "--offline",
      "--json",
    ]);
    expect(code).toBe(0);
    const r = json();
    for (const key of [
      "ok",
      "verified",
      "kind",
      "quoteVersion",
      "teeType",
      "tcbStatus",
      "advisoryIds",
      "fmspc",
      "mrTd",
      "rtmr0",
      "rtmr1",
      "rtmr2",
      "rtmr3",
      "mrSeam",
      "tdAttributes",
      "xfam",
      "reportData",
      "debug",
      "mrEnclave",
      "mrSigner",
      "errors",
      "checks",
    ]) {
      expect(r, key).toHaveProperty(key);
    }
    expect(r).toMatchObject({
      ok: true,
      verified: true,
      kind: "tdx",
      quoteVersion: 4,
      tcbStatus: "UpToDate",
      mrEnclave: null,
      errors: [],
    });
    expect(r.mrTd).toBe(
      "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
    );
  });

  it("hex quote input, SGX quote: rejected by the default policy (exit 1), kind sgx", async () => {
    const code = await run([
      "--quote",
      vectorPath("tdx/phala-dcap-qvl/sgx_quote"),
      "--collateral",
      vectorPath("tdx/phala-dcap-qvl/sgx_quote_collateral.json"),
      "--now",
      "1752919277",
      "--json",
    ]);
    expect(code).toBe(1);
    expect(json()).toMatchObject({
      ok: false,
      verified: true,
      kind: "sgx",
      teeType: "SGX",
      tcbStatus: "ConfigurationAndSWHardeningNeeded",
      mrTd: null,
    });
  });

  it("a hex-text quote file and a policy file", async () => {
    const policy = join(dir, "policy.json");
    writeFileSync(policy, JSON.stringify({ mrTd: ["00".repeat(48)] }));
    const code = await run([
      "--quote",
      vectorPath("tdx/phala-dcap-qvl/near_quote_hex.txt"),
      "--collateral",
      vectorPath("tdx/phala-dcap-qvl/near_quote_collateral.json"),
      "--now",
      "2025-09-10T00:00:00Z",
      "--policy",
      policy,
      "--json",
    ]);
    expect(code).toBe(1);
    expect((json().errors as Array<{ code: string }>).map((e) => e.code)).toEqual([
      "tdx_policy_mrtd_not_allowed",
    ]);
  });

  it("--signatures-only without --allow-unchecked tcb: exit 1, tdx_tcb_unchecked (issue #11)", async () => {
    const args = [
      "--quote",
      vectorPath("tdx/google-go-tdx-guest/quote_v5_sample.dat"),
      "--signatures-only",
      "--offline",
      "--now",
      "2026-02-03T01:00:00Z",
      "--json",
    ];
    expect(await run(args)).toBe(1);
    const refused = JSON.parse(out);
    expect([refused.ok, refused.verified, refused.unchecked]).toEqual([false, true, []]);
    expect(refused.errors.map((e: { code: string }) => e.code)).toEqual(["tdx_tcb_unchecked"]);
    expect(await run([...args, "--allow-unchecked", "tcb"])).toBe(0);
    expect(out).toMatch(/"unchecked": \[\s*"tcb"\s*\]/);
    expect(await run([...args, "--allow-unchecked", "nonce"])).toBe(2);
  });

  it("the SPR quote lacks SEPT_VE_DISABLE: exit 1 by default; --allow-unchecked sept_ve_disable accepts it, echoed (issue 18)", async () => {
    const args = [
      "--quote",
      vectorPath("tdx/google-go-tdx-guest/tdx_prod_quote_SPR_E4.dat"),
      "--signatures-only",
      "--offline",
      "--now",
      "2023-07-01T01:00:00Z",
      "--json",
    ];
    expect(await run([...args, "--allow-unchecked", "tcb"])).toBe(1);
    const refused = JSON.parse(out);
    expect([refused.ok, refused.verified]).toEqual([false, true]);
    expect(refused.errors.map((e: { code: string }) => e.code)).toEqual([
      "tdx_policy_sept_ve_disable_required",
    ]);
    expect(refused.policyViolations.map((e: { code: string }) => e.code)).toEqual([
      "tdx_policy_sept_ve_disable_required",
    ]);
    out = "";
    expect(await run([...args, "--allow-unchecked", "tcb,sept_ve_disable"])).toBe(0);
    const accepted = JSON.parse(out);
    expect(accepted.unchecked).toEqual(["tcb", "sept_ve_disable"]);
    expect(accepted).toMatchObject({
      trailingBytes: 39,
      qeVendorId: "939a7233f79c4ca9940a0db3957f0607",
      mrOwner: "00".repeat(48),
      tcbInfoEvaluationDataNumber: null,
    });
    expect(accepted).toHaveProperty("mrSignerSeam");
    expect(accepted).toHaveProperty("seamAttributes");
    expect(accepted).toHaveProperty("mrOwnerConfig");
  });

  it("--signatures-only on the v5 sample: exit 0, tcbStatus NotEvaluated; readable table with ✓", async () => {
    const code = await run([
      "--quote",
      vectorPath("tdx/google-go-tdx-guest/quote_v5_sample.dat"),
      "--signatures-only",
      "--allow-unchecked",
      "tcb",
      "--offline",
      "--now",
      "2026-02-03T01:00:00Z",
    ]);
    expect(code).toBe(0);
    expect(out).toContain("ACCEPTED");
    expect(out).toContain("✓ Quote signed by the attestation key");
    expect(out).toContain("NotEvaluated");
  });

  it("a debug TD is rejected (exit 1) with tdx_policy_debug_forbidden in the readable output", async () => {
    const collateral = join(dir, "pcs.json");
    writeFileSync(
      collateral,
      JSON.stringify({
        tcbInfo: readFileSync(vectorPath("tdx/google-go-tdx-guest/sample_tcbInfo_response"), "utf8"),
        tcbInfoIssuerChain: readFileSync(
          vectorPath("tdx/google-go-tdx-guest/tcbInfoIssuerChain.pem"),
          "utf8",
        ),
        qeIdentity: readFileSync(vectorPath("tdx/google-go-tdx-guest/sample_qeIdentity_response"), "utf8"),
        qeIdentityIssuerChain: readFileSync(
          vectorPath("tdx/google-go-tdx-guest/qeIdentityIssuerChain.pem"),
          "utf8",
        ),
        pckCrl: readFileSync(vectorPath("tdx/google-go-tdx-guest/pckcrl")).toString("base64"),
        pckCrlIssuerChain: readFileSync(vectorPath("tdx/google-go-tdx-guest/pckCrlIssuerChain.pem"), "utf8"),
        rootCaCrl: readFileSync(vectorPath("tdx/google-go-tdx-guest/rootcrl.der")).toString("hex"),
      }),
    );
    const code = await run([
      "--quote",
      vectorPath("tdx/trustee/tdx_quote_4.dat"),
      "--collateral",
      collateral,
      "--now",
      "2023-07-01T01:00:00Z",
    ]);
    expect(code).toBe(1);
    expect(out).toContain("REJECTED by policy");
    expect(out).toContain("[tdx_policy_debug_forbidden]");
  });

  it("--offline without --collateral is unusable (exit 2, collateral_unavailable)", async () => {
    const code = await run([
      "--quote",
      vectorPath("tdx/phala-dcap-qvl/tdx_quote"),
      "--offline",
      "--now",
      "2025-07-19T10:00:34Z",
      "--json",
    ]);
    expect(code).toBe(2);
    expect(json()).toMatchObject({ ok: false, errors: [{ code: "collateral_unavailable" }] });
  });

  it("unusable input: a missing file, garbage bytes, an unknown option (exit 2)", async () => {
    expect(await run(["--quote", join(dir, "missing"), "--signatures-only"])).toBe(2);
    const garbage = join(dir, "garbage");
    writeFileSync(garbage, new Uint8Array([0xff, 0, 1, 2]));
    expect(await run(["--quote", garbage, "--signatures-only", "--json"])).toBe(2);
    expect(json()).toMatchObject({ errors: [{ code: "tdx_quote_truncated" }] });
    expect(await run(["--quote", garbage, "--bogus"])).toBe(2);
    expect(err).toContain("cli_arguments_invalid");
  });

  it("a tampered quote is rejected, not unusable (exit 1)", async () => {
    const bytes = new Uint8Array(readFileSync(vectorPath("tdx/phala-dcap-qvl/tdx_quote")));
    bytes[200] = (bytes[200] as number) ^ 1;
    const tampered = join(dir, "tampered");
    writeFileSync(tampered, bytes);
    const code = await run([
      "--quote",
      tampered,
      "--collateral",
      vectorPath("tdx/phala-dcap-qvl/tdx_quote_collateral.json"),
      "--now",
      "2025-07-19T10:00:34Z",
      "--json",
    ]);
    expect(code).toBe(1);
    expect(json()).toMatchObject({
      ok: false,
      verified: false,
      errors: [{ code: "tdx_quote_signature_invalid" }],
    });
  });
});
