import { vectorPath } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { runCliCommand } from "./cli-harness.test-support.js";
import { verifyBundleCommand } from "./verify-bundle.js";
import { verifySevSnpCommand } from "./verify-sev-snp.js";
import { verifyTdxCommand } from "./verify-tdx.js";

/** What a new user hits first: each mistake is named, with the flag or file it is about. */
const QUOTE = vectorPath("tdx/phala-dcap-qvl/tdx_quote");
const COLLATERAL = vectorPath("tdx/phala-dcap-qvl/tdx_quote_collateral.json");
const NOW = ["--now", "2025-07-19T10:00:34Z"];

describe("peer-attest argument and input errors", () => {
  it("a PEM file where a quote is expected is named as PEM, not as bad base64", async () => {
    const run = await runCliCommand("tdx", verifyTdxCommand, [
      "--quote",
      vectorPath("roots/intel_sgx_root_ca.pem"),
      "--offline",
      ...NOW,
    ]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("[input_format_unexpected]");
    expect(run.err).toContain("input is PEM (CERTIFICATE)");
  });

  it("a JSON file where a quote is expected is named as JSON", async () => {
    const run = await runCliCommand("tdx", verifyTdxCommand, ["--quote", COLLATERAL, "--offline", ...NOW]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("input is JSON");
  });

  it("--vcek with certificates but no VCEK says so, rather than asking for a VCEK", async () => {
    const run = await runCliCommand("sev-snp", verifySevSnpCommand, [
      "--report",
      vectorPath("sev-snp/trustee/test-report.bin"),
      "--vcek",
      vectorPath("roots/amd/ask_milan.pem"),
      "--offline",
      "--now",
      "2024-01-01T00:00:00Z",
    ]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("[snp_vcek_not_found]");
    expect(run.err).toMatch(/hold no VCEK or VLEK.*\(a CA\)/);
  });

  it("--nonce that is not hex names the flag", async () => {
    const run = await runCliCommand("bundle", verifyBundleCommand, [
      "--bundle",
      QUOTE,
      "--nonce",
      "xyz",
      "--offline",
      ...NOW,
    ]);
    expect(run.code).toBe(2);
    expect(run.err).toContain('--nonce must be hex bytes, got "xyz"');
  });

  it("a flag given twice is refused, not last-one-wins", async () => {
    const run = await runCliCommand("tdx", verifyTdxCommand, [
      "--quote",
      QUOTE,
      "--collateral",
      COLLATERAL,
      "--now",
      "2025-07-19T10:00:34Z",
      "--now",
      "2030-01-01T00:00:00Z",
      "--offline",
    ]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("--now is given 2 times; give it once [cli_arguments_invalid]");
  });

  it("--offline without collateral is not called retryable (retrying the same run cannot help)", async () => {
    const run = await runCliCommand("tdx", verifyTdxCommand, ["--quote", QUOTE, "--offline", ...NOW]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("[collateral_unavailable]");
    expect(run.err).not.toContain("this is retryable");
    expect(run.err).toContain("not retryable as run: --offline forbids fetching it");
    const json = await runCliCommand("tdx", verifyTdxCommand, [
      "--quote",
      QUOTE,
      "--offline",
      "--json",
      ...NOW,
    ]);
    expect(JSON.parse(json.out).errors[0]).toMatchObject({
      code: "collateral_unavailable",
      retryable: false,
    });
  });
});
