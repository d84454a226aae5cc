import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { parseNvidiaPolicy, validateNvidiaPolicy } from "./policy.js";

const here = dirname(fileURLToPath(import.meta.url));
const schema = JSON.parse(readFileSync(join(here, "../../schemas/nvidia-policy.schema.json"), "utf8")) as {
  properties: Record<string, unknown>;
};
const docs = readFileSync(join(here, "../../docs/nvidia.md"), "utf8");

const facts = {
  architecture: "hopper" as const,
  kind: "gpu" as const,
  driverVersion: "590.12",
  vbiosVersion: "96.00.A5.00.01",
  mode: "ppcie" as const,
  revocationChecked: true,
  nonceChecked: true,
  rimKinds: ["driver", "vbios"] as ("driver" | "vbios")[],
  measurements: { total: 33, mismatched: [] },
};

describe("NVIDIA policy", () => {
  it("the JSON Schema lists exactly the keys the parser accepts", () => {
    const all = {
      requireRimMatch: true,
      allowedDriverVersions: [],
      allowedVbiosVersions: [],
      requireCcMode: true,
      allowedModes: [],
      requireRevocationChecked: true,
      requireNonce: true,
      allowedArchitectures: [],
    };
    expect(
      Object.keys(schema.properties)
        .filter((k) => k !== "$schema")
        .sort(),
    ).toEqual(Object.keys(all).sort());
    expect(() => parseNvidiaPolicy(all)).not.toThrow();
  });

  it("is strict about keys and types", () => {
    for (const bad of [
      null,
      [],
      "x",
      { requireRimMatch: "yes" },
      { allowedModes: ["cc"] },
      { allowedArchitectures: ["ampere"] },
      { allowedDriverVersions: [1] },
      { unknown: true },
      { allowedVbiosVersions: ["96.00.9F"] },
    ]) {
      try {
        parseNvidiaPolicy(bad);
        expect.unreachable(JSON.stringify(bad));
      } catch (error) {
        expect(AttestError.isInstance(error) && error.code).toBe("policy_invalid");
      }
    }
  });

  it("names the JSON path of the offending value", () => {
    for (const [bad, path] of [
      [{ requireRimMatc: true }, "$.requireRimMatc"],
      [{ allowedModes: ["spt", "cc"] }, "$.allowedModes[1]"],
      [{ allowedDriverVersions: [1] }, "$.allowedDriverVersions[0]"],
    ] as const) {
      expect(() => parseNvidiaPolicy(bad)).toThrowError(
        expect.objectContaining({ code: "policy_invalid", details: { path } }),
      );
    }
  });

  it("passes matching facts and reports mismatches one by one", () => {
    const policy = parseNvidiaPolicy({
      requireRimMatch: true,
      allowedDriverVersions: ["590.12"],
      allowedVbiosVersions: ["96.00.a5.00.01"],
      requireCcMode: true,
      allowedModes: ["ppcie"],
      requireRevocationChecked: true,
      requireNonce: true,
      allowedArchitectures: ["hopper"],
    });
    expect(validateNvidiaPolicy(facts, policy)).toEqual([]);
    expect(
      validateNvidiaPolicy({ ...facts, measurements: { total: 33, mismatched: [4] } }, policy).map(
        (v) => v.code,
      ),
    ).toEqual(["nvidia_policy_measurement_mismatch"]);
    expect(validateNvidiaPolicy({ ...facts, rimKinds: ["vbios"] }, policy).map((v) => v.code)).toEqual([
      "nvidia_policy_rim_required",
    ]);
    expect(
      validateNvidiaPolicy(
        { ...facts, kind: "switch", rimKinds: ["vbios"], driverVersion: null },
        parseNvidiaPolicy({ requireRimMatch: true, allowedDriverVersions: ["1"] }),
      ),
    ).toEqual([]);
    expect(
      validateNvidiaPolicy({ ...facts, mode: null }, parseNvidiaPolicy({ requireCcMode: true })).map(
        (v) => v.code,
      ),
    ).toEqual(["nvidia_policy_cc_mode"]);
  });

  it("docs/nvidia.md lists every error code the NVIDIA sources can produce", () => {
    const codes = new Set<string>();
    for (const file of readdirSync(here).filter(
      (f) => f.endsWith(".ts") && !f.includes(".test.") && f !== "test-vectors.ts",
    )) {
      for (const m of readFileSync(join(here, file), "utf8").matchAll(/"(nvidia_[a-z0-9_]+)"/g))
        codes.add(m[1] as string);
    }
    expect(codes.size).toBeGreaterThan(40);
    const missing = [...codes].filter((code) => {
      if (docs.includes(`\`${code}\``) || docs.includes(code)) return false;
      if (code.startsWith("nvidia_device_certificate_") || code.startsWith("nvidia_rim_certificate_"))
        return !docs.includes(`${code.slice(0, code.indexOf("certificate_"))}certificate_*`);
      return !(code.startsWith("nvidia_policy_") && docs.includes("`nvidia_policy_*`"));
    });
    expect(missing).toEqual([]);
  });
});
