import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { BundlePolicy, BundlePolicyJson } from "../bundle/policy.js";
import type { NvidiaArchitecture } from "../nvidia/device-chain.js";
import type { NvidiaFeatureMode } from "../nvidia/opaque-data.js";
import type { NvidiaPolicy } from "../nvidia/policy.js";
import type { SevSnpMinimumTcb } from "../sev-snp/policy.js";
import type { TCB_COMPONENTS } from "../sev-snp/tcb.js";
import type { TdxAcceptedTcbStatus, TdxPolicy } from "../tdx/policy.js";
import type { TcbStatus } from "../tdx/tcb-status.js";
import { matchesBundlePolicySchema } from "./generated/bundle-policy-validator.js";
import { matchesNvidiaPolicySchema } from "./generated/nvidia-policy-validator.js";
import { matchesSevSnpPolicySchema } from "./generated/sev-snp-policy-validator.js";
import { matchesTdxPolicySchema } from "./generated/tdx-policy-validator.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const schemaFiles = ["tdx", "sev-snp", "nvidia", "bundle"].map((kind) => `${kind}-policy.schema.json`);
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), "utf8"));

/** A value and variations of it: each key removed, retyped or joined by an unknown one, each list grown. */
function* mutations(value: unknown): Generator<unknown> {
  yield value;
  if (Array.isArray(value)) {
    yield [...value, "zz"];
    for (const [i, item] of value.entries())
      for (const changed of mutations(item)) yield value.map((v, j) => (j === i ? changed : v));
  } else if (typeof value === "object" && value !== null) {
    yield { ...value, unknownKey: true };
    for (const [key, item] of Object.entries(value)) {
      const { [key]: _, ...without } = value as Record<string, unknown>;
      yield without;
      for (const other of ["x", 1.5, -1, 0, null, [], {}, true, "00".repeat(48)])
        yield { ...value, [key]: other };
      for (const changed of mutations(item)) yield { ...value, [key]: changed };
    }
  }
}

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

  it("the generated validators give the published schemas' verdicts (Ajv at test time, on ~1,800 variants)", () => {
    const ajv = new Ajv2020({
      schemas: schemaFiles.map((file) => readJson(`schemas/${file}`)),
      strict: false,
    });
    const published = (file: string) => ajv.getSchema(readJson(`schemas/${file}`).$id)!;
    const pairs = [
      [matchesTdxPolicySchema, published("tdx-policy.schema.json")],
      [matchesSevSnpPolicySchema, published("sev-snp-policy.schema.json")],
      [matchesNvidiaPolicySchema, published("nvidia-policy.schema.json")],
      [matchesBundlePolicySchema, published("bundle-policy.schema.json")],
    ] as const;
    const examples = ["confidential-tdx-h100", "confidential-snp-h100", "development-simulated"].map((name) =>
      JSON.parse(readFileSync(join(root, `../../docs/policies/${name}.json`), "utf8")),
    );
    const samples: unknown[][] = [
      [
        {
          acceptedTcbStatuses: ["UpToDate", { status: "SWHardeningNeeded", advisoryIds: ["INTEL-SA-00615"] }],
          mrTd: [`0x${"AB".repeat(48)}`],
          minimumTeeTcbSvn: "00".repeat(16),
          fmspc: ["00".repeat(6)],
        },
      ],
      [
        {
          authorKeyDigests: ["11".repeat(48)],
          vmpl: { allowed: [0], max: 0 },
          minimumTcb: { snp: 8 },
          minimumFirmware: { major: 1, minor: 55 },
          signingKeys: ["vcek"],
        },
      ],
      [
        {
          allowedVbiosVersions: ["96.00.9F.00.01"],
          allowedModes: ["ppcie"],
          allowedArchitectures: ["hopper"],
        },
      ],
      examples,
    ];
    let compared = 0;
    let accepted = 0;
    for (const [i, [generated, reference]] of pairs.entries()) {
      const inputs =
        i === 3
          ? examples
          : [...samples[i]!, ...examples.flatMap((e) => [e.cpu?.tdx, e.cpu?.sevSnp, e.gpu?.nvidia][i] ?? [])];
      for (const input of inputs)
        for (const variant of mutations(input)) {
          const verdict = generated(variant);
          expect(verdict, JSON.stringify(variant)).toBe(reference(variant));
          compared++;
          if (verdict) accepted++;
        }
    }
    expect(compared).toBeGreaterThan(1500);
    expect(accepted).toBeGreaterThan(100);
    expect(compared - accepted).toBeGreaterThan(1000);
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
