import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeBundle, parseBundlePolicy, verifyBundle } from "@peercycles/attest/bundle";
import { repoRoot } from "@peercycles/internal-vectors";
import { afterAll, describe, expect, it } from "vitest";
import { simulateCommand } from "./simulate-command.js";

const dir = mkdtempSync(join(tmpdir(), "peer-enclave-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("peer-enclave simulate", () => {
  it("writes a CBOR bundle that the development policy accepts, and prints what it wrote", async () => {
    const out = join(dir, "bundle.cbor");
    const printed: string[] = [];
    const code = await simulateCommand(
      [
        "--model",
        "peer-tiny",
        "--cpu",
        "sev-snp",
        "--gpus",
        "2",
        "--nonce",
        "0011223344556677",
        "--out",
        out,
      ],
      (t) => printed.push(t),
    );
    expect(code).toBe(0);
    expect(printed.join("")).toContain(`wrote ${out}`);
    expect(printed.join("")).toContain("SIMULATED");
    const bundle = decodeBundle(new Uint8Array(readFileSync(out)));
    expect(bundle.cpu.kind).toBe("sev-snp");
    expect(bundle.gpus).toHaveLength(2);
    const policy = parseBundlePolicy(
      JSON.parse(readFileSync(join(repoRoot, "docs/policies/development-simulated.json"), "utf8")),
    );
    const result = await verifyBundle(bundle, { policy, now: new Date(), clientNonce: "0011223344556677" });
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it("prints JSON with --json and rejects bad arguments with typed errors", async () => {
    const out = join(dir, "b2.cbor");
    const printed: string[] = [];
    await simulateCommand(["--model", "m", "--gpus", "0", "--out", out, "--json"], (t) => printed.push(t));
    expect(JSON.parse(printed.join(""))).toMatchObject({ out, simulated: true, cpu: "tdx", gpus: 0 });
    const noop = () => {};
    await expect(simulateCommand(["--out", out], noop)).rejects.toMatchObject({
      code: "enclave_argument_invalid",
    });
    await expect(simulateCommand(["--model", "m"], noop)).rejects.toMatchObject({
      code: "enclave_argument_invalid",
    });
    await expect(simulateCommand(["--model", "m", "--out", out, "--cpu", "sgx"], noop)).rejects.toMatchObject(
      { code: "enclave_argument_invalid" },
    );
    await expect(simulateCommand(["--model", "m", "--out", out, "--gpus", "9"], noop)).rejects.toMatchObject({
      code: "enclave_argument_invalid",
    });
    await expect(simulateCommand(["--model", "m", "--out", out, "--bogus"], noop)).rejects.toMatchObject({
      code: "enclave_argument_invalid",
    });
  });
});
