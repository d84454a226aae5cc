import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import type { AttestError } from "../common/errors.js";
import { parseNvidiaPolicy } from "../nvidia/index.js";
import { parseSevSnpPolicy } from "../sev-snp/index.js";
import { parseTdxPolicy } from "../tdx/index.js";
import { parseBundlePolicy } from "./policy.js";

const schema = JSON.parse(
  readFileSync(join(repoRoot, "packages/attest/schemas/bundle-policy.schema.json"), "utf8"),
);
const policiesDir = join(repoRoot, "docs/policies");
const base = { models: { m: { weightsDigests: ["aa".repeat(32)] } } };

describe("bundle policy", () => {
  it("applies the documented defaults: no simulation, GPU required, one hour", () => {
    const policy = parseBundlePolicy(base);
    expect(policy).toMatchObject({
      allowSimulated: false,
      maxAgeSeconds: 3600,
      maxClockSkewSeconds: 300,
      gpu: { required: true, minCount: 1 },
    });
    expect(policy.cpu.kinds).toEqual(["tdx", "sev-snp"]);
  });

  it("parses every example policy in docs/policies, and their nested verifier policies too", () => {
    const files = readdirSync(policiesDir).filter((f) => f.endsWith(".json"));
    expect(files).toEqual(
      expect.arrayContaining([
        "confidential-tdx-h100.json",
        "confidential-snp-h100.json",
        "development-simulated.json",
      ]),
    );
    for (const file of files) {
      const policy = parseBundlePolicy(JSON.parse(readFileSync(join(policiesDir, file), "utf8")));
      expect(policy.allowSimulated, file).toBe(file.startsWith("development"));
      if (policy.cpu.tdx) parseTdxPolicy(policy.cpu.tdx);
      if (policy.cpu.sevSnp) parseSevSnpPolicy(policy.cpu.sevSnp);
      if (policy.gpu.nvidia) parseNvidiaPolicy(policy.gpu.nvidia);
    }
  });

  it("rejects unknown keys at every level with policy_invalid", () => {
    const cases: unknown[] = [
      { ...base, allowSimulation: true },
      { ...base, cpu: { kind: ["tdx"] } },
      { ...base, gpu: { requried: true } },
      { models: { m: { weightsDigests: [], measurements: [] } } },
      { models: { m: { weightsDigests: [], tdx: [{ mrTd: "00".repeat(48), rtmr4: "00".repeat(48) }] } } },
      { models: { m: { weightsDigests: [], sevSnp: [{ measurement: "00".repeat(48), hostdata: "00" }] } } },
    ];
    for (const value of cases) {
      expect(() => parseBundlePolicy(value), JSON.stringify(value)).toThrowError(
        expect.objectContaining({ code: "policy_invalid" }),
      );
    }
  });

  it("rejects wrong types and sizes with policy_invalid", () => {
    const cases: unknown[] = [
      {},
      [],
      { ...base, allowSimulated: "yes" },
      { ...base, maxAgeSeconds: 0 },
      { ...base, clientNonce: "xyz" },
      { ...base, cpu: { kinds: [] } },
      { ...base, cpu: { kinds: ["sgx"] } },
      { ...base, gpu: { required: true, minCount: 0 } },
      { models: { m: { weightsDigests: ["aa"] } } },
      { models: { m: {} } },
      { models: { m: { weightsDigests: [], tdx: [{ rtmr0: "00".repeat(48) }] } } },
      { models: { m: { weightsDigests: [], tdx: [{ mrTd: "00".repeat(32) }] } } },
    ];
    for (const value of cases) {
      expect(() => parseBundlePolicy(value), JSON.stringify(value)).toThrowError(
        expect.objectContaining({ code: "policy_invalid" }),
      );
    }
  });

  it("normalises hex (case, 0x) so comparisons are exact", () => {
    const policy = parseBundlePolicy({
      models: { m: { weightsDigests: [`0x${"AB".repeat(32)}`] } },
      clientNonce: "0A0B0C0D0E0F1011",
    });
    expect(policy.models.m?.weightsDigests).toEqual(["ab".repeat(32)]);
    expect(policy.clientNonce).toBe("0a0b0c0d0e0f1011");
    // A parsed policy parses again to itself.
    expect(parseBundlePolicy(policy)).toEqual(policy);
  });

  it("publishes a schema whose keys are exactly the parser's, closed at every level", () => {
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        "$schema",
        "allowSimulated",
        "clientNonce",
        "cpu",
        "description",
        "gpu",
        "maxAgeSeconds",
        "maxClockSkewSeconds",
        "models",
      ].sort(),
    );
    expect(Object.keys(schema.properties.cpu.properties).sort()).toEqual(["kinds", "sevSnp", "tdx"]);
    expect(Object.keys(schema.properties.gpu.properties).sort()).toEqual(["minCount", "nvidia", "required"]);
    expect(Object.keys(schema.$defs.model.properties).sort()).toEqual(["sevSnp", "tdx", "weightsDigests"]);
    expect(Object.keys(schema.$defs.tdxMeasurements.properties).sort()).toEqual([
      "mrConfigId",
      "mrTd",
      "rtmr0",
      "rtmr1",
      "rtmr2",
      "rtmr3",
    ]);
    expect(Object.keys(schema.$defs.sevSnpMeasurement.properties).sort()).toEqual([
      "hostData",
      "measurement",
    ]);
    for (const def of [
      schema.properties.cpu,
      schema.properties.gpu,
      schema.$defs.model,
      schema.$defs.tdxMeasurements,
      schema.$defs.sevSnpMeasurement,
    ]) {
      expect(def.additionalProperties).toBe(false);
    }
    // Every key the schema allows is accepted by the parser (no key documented but refused).
    expect(() =>
      parseBundlePolicy({
        $schema: "x",
        description: "d",
        allowSimulated: false,
        maxAgeSeconds: 60,
        maxClockSkewSeconds: 0,
        clientNonce: "00".repeat(8),
        cpu: { kinds: ["tdx"], tdx: {}, sevSnp: {} },
        gpu: { required: false, minCount: 0, nvidia: {} },
        models: {
          m: {
            weightsDigests: [],
            tdx: [
              {
                mrTd: "00".repeat(48),
                rtmr0: "00".repeat(48),
                rtmr1: "00".repeat(48),
                rtmr2: "00".repeat(48),
                rtmr3: "00".repeat(48),
                mrConfigId: "00".repeat(48),
              },
            ],
            sevSnp: [{ measurement: "00".repeat(48), hostData: "00".repeat(32) }],
          },
        },
      }),
    ).not.toThrow();
  });

  it("parses the nested kind policies now, refusing a misspelt key with its JSON path", () => {
    const base = { models: {} };
    const refused = (policy: unknown) => {
      try {
        parseBundlePolicy(policy);
      } catch (error) {
        return error as AttestError;
      }
      throw new Error("accepted");
    };
    for (const [policy, path] of [
      [{ ...base, cpu: { tdx: { mrTD: [] } } }, "$.cpu.tdx.mrTD"],
      [{ ...base, cpu: { sevSnp: { allowDebugg: true } } }, "$.cpu.sevSnp.allowDebugg"],
      [{ ...base, gpu: { nvidia: { requireRimMatc: true } } }, "$.gpu.nvidia.requireRimMatc"],
      [{ ...base, cpu: { tdx: { mrTd: ["zz"] } } }, "$.cpu.tdx.mrTd[0]"],
      [
        { ...base, cpu: { sevSnp: { authorKeyDigests: ["00".repeat(48)] } } },
        "$.cpu.sevSnp.authorKeyDigests[0]",
      ],
      [
        { ...base, cpu: { tdx: { acceptedTcbStatuses: [{ status: "Fine" }] } } },
        "$.cpu.tdx.acceptedTcbStatuses[0].status",
      ],
      [{ ...base, gpu: { minCount: 0 } }, "$.gpu.minCount"],
      [
        { models: { "peer-mixtral": { weightsDigests: [], tdx: [{ mrtd: "00".repeat(48) }] } } },
        '$.models["peer-mixtral"].tdx[0].mrTd',
      ],
      [
        { models: { m: { weightsDigests: [], tdx: [{ mrTd: "00".repeat(48), rtmr4: "" }] } } },
        "$.models.m.tdx[0].rtmr4",
      ],
      [{ models: { m: { weightsDigests: ["aa"] } } }, "$.models.m.weightsDigests[0]"],
      [{ cpu: {} }, "$.models"],
    ] as const) {
      const error = refused(policy);
      expect(error.code).toBe("policy_invalid");
      expect(error.details).toEqual({ path });
    }
  });

  it("words the reason: a misspelt key names the right spelling, a GPU count its rule", () => {
    expect(() =>
      parseBundlePolicy({
        models: { m: { weightsDigests: [], tdx: [{ mrTd: "00".repeat(48), mrconfigid: "" }] } },
      }),
    ).toThrowError(/\$\.models\.m\.tdx\[0\]\.mrconfigid is not a known key .*did you mean "mrConfigId"\?/);
    expect(() => parseBundlePolicy({ ...base, gpu: { minCount: 0 } })).toThrowError(/when a GPU is required/);
    expect(() => parseBundlePolicy({ ...base, gpu: { required: false, minCount: 0 } })).not.toThrow();
  });

  it("pins launch measurements in one place: per model, not in cpu.tdx / cpu.sevSnp", () => {
    for (const [cpu, path] of [
      [{ tdx: { mrTd: ["00".repeat(48)] } }, "$.cpu.tdx.mrTd"],
      [{ tdx: { rtmr3: [] } }, "$.cpu.tdx.rtmr3"],
      [{ sevSnp: { measurements: ["00".repeat(48)] } }, "$.cpu.sevSnp.measurements"],
      [{ sevSnp: { hostData: "00".repeat(32) } }, "$.cpu.sevSnp.hostData"],
    ] as const) {
      expect(() => parseBundlePolicy({ models: {}, cpu })).toThrowError(
        expect.objectContaining({
          code: "policy_invalid",
          details: { path },
          message: expect.stringContaining("pinned in one place, per model"),
        }),
      );
    }
    // The kinds' own policies still pin them (verifyTdxQuote / verifySevSnpReport on their own).
    expect(() => parseTdxPolicy({ mrTd: ["00".repeat(48)] })).not.toThrow();
    expect(() => parseSevSnpPolicy({ measurements: ["00".repeat(48)] })).not.toThrow();
  });

  it("a parsed tree is a valid JSON form: a copy of it parses to an equal tree", () => {
    for (const file of readdirSync(policiesDir).filter((f) => f.endsWith(".json"))) {
      const policy = parseBundlePolicy(JSON.parse(readFileSync(join(policiesDir, file), "utf8")));
      const copy = JSON.parse(JSON.stringify(policy));
      expect(parseBundlePolicy(copy), file).toEqual(policy);
    }
  });

  it("returns one typed tree, parsed once", () => {
    const policy = parseBundlePolicy({ models: {}, cpu: { tdx: { mrSeam: ["AB".repeat(48)] } } });
    expect(policy.cpu.tdx?.mrSeam).toEqual(["ab".repeat(48)]);
    expect(parseBundlePolicy(policy)).toBe(policy);
  });
});
