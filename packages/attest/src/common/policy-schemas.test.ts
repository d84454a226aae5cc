import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { BundlePolicy, BundlePolicyJson } from "../bundle/policy.js";
import type { NvidiaArchitecture } from "../nvidia/device-chain.js";
import type { NvidiaFeatureMode } from "../nvidia/opaque-data.js";
import type { NvidiaPolicy } from "../nvidia/policy.js";
import type { SevSnpMinimumTcb } from "../sev-snp/policy.js";
import type { TCB_COMPONENTS } from "../sev-snp/tcb.js";
import type { TdxAcceptedTcbStatus, TdxPolicy } from "../tdx/policy.js";
import type { TcbStatus } from "../tdx/tcb-status.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

describe("policy schemas: the single source of the policy formats", () => {
  it("the generated validators and types are current (scripts/policy-validators.mjs --check)", () => {
    expect(() =>
      execFileSync(process.execPath, ["scripts/policy-validators.mjs", "--check"], {
        cwd: root,
        stdio: "pipe",
      }),
    ).not.toThrow();
  });

  it("the generated validators import no Ajv: only each other (the bundle's, the kinds')", () => {
    for (const kind of ["tdx", "sev-snp", "nvidia", "bundle"]) {
      const code = readFileSync(join(root, `src/common/generated/${kind}-policy-validator.js`), "utf8");
      expect(code, kind).not.toMatch(/\brequire\(|\bimport\(/);
      const imports = [...code.matchAll(/^import .* from "(.*)";$/gm)].map((m) => m[1]);
      expect(imports, kind).toEqual(
        kind === "bundle"
          ? ["./nvidia-policy-validator.js", "./sev-snp-policy-validator.js", "./tdx-policy-validator.js"]
          : [],
      );
    }
  });

  it("the policy types are the schemas' types, and agree with the verifiers' own names", () => {
    // The schema's enums are the code's unions: a status, mode or architecture added on one side only
    // fails the type check.
    expectTypeOf<Extract<TdxAcceptedTcbStatus, string>>().toEqualTypeOf<TcbStatus>();
    expectTypeOf<NonNullable<NvidiaPolicy["allowedModes"]>[number]>().toEqualTypeOf<NvidiaFeatureMode>();
    expectTypeOf<NonNullable<NvidiaPolicy["allowedArchitectures"]>[number]>().toEqualTypeOf<
      Exclude<NvidiaArchitecture, "unknown">
    >();
    expectTypeOf<keyof SevSnpMinimumTcb>().toEqualTypeOf<(typeof TCB_COMPONENTS)[number]>();
    // The parsed bundle tree has exactly the JSON form's keys at every level, and is itself a valid
    // JSON form (parseBundlePolicy(JSON.parse(JSON.stringify(tree))) is the same tree).
    expectTypeOf<keyof BundlePolicy>().toEqualTypeOf<
      Exclude<keyof BundlePolicyJson, "$schema" | "description">
    >();
    expectTypeOf<keyof BundlePolicy["cpu"]>().toEqualTypeOf<keyof NonNullable<BundlePolicyJson["cpu"]>>();
    expectTypeOf<keyof BundlePolicy["gpu"]>().toEqualTypeOf<keyof NonNullable<BundlePolicyJson["gpu"]>>();
    expectTypeOf<BundlePolicy>().toMatchTypeOf<BundlePolicyJson>();
    expectTypeOf<NonNullable<BundlePolicy["cpu"]["tdx"]>>().toMatchTypeOf<TdxPolicy>();
  });

  it("one spelling per field: the bundle's TDX measurement rules use the TDX policy's keys", () => {
    const read = (file: string) => JSON.parse(readFileSync(join(root, "schemas", file), "utf8"));
    const tdx = read("tdx-policy.schema.json");
    const bundle = read("bundle-policy.schema.json");
    for (const key of Object.keys(bundle.$defs.tdxMeasurements.properties))
      expect(Object.keys(tdx.properties), key).toContain(key);
  });
});
