#!/usr/bin/env node
/**
 * The policy JSON Schemas (schemas/*.schema.json) are the single source of the policy formats. This
 * script compiles them, with their `$ref`s between each other, into:
 *
 * - src/common/generated/<kind>-policy-validator.js (+ .d.ts): Ajv standalone code, one module per
 *   kind (`matchesTdxPolicySchema`, …, and the keys the kind knows, for "did you mean" hints), so a
 *   subpath loads only its own. They import no Ajv at run time: the kinds' modules import nothing, and
 *   the bundle's imports the kinds' validators for `cpu.tdx`, `cpu.sevSnp` and `gpu.nvidia` (its
 *   schema's `$ref`s to their schemas) rather than carrying a copy of them.
 * - src/common/generated/policy-types.ts: the TypeScript types of the same schemas (`TdxPolicy`,
 *   `SevSnpPolicy`, `NvidiaPolicy`, `BundlePolicyJson`), with the schemas' descriptions as TSDoc.
 *
 * The schemas are checked first: every object closes its keys (`additionalProperties`), every string
 * has a pattern or an enum, or is free text by name. `--check` writes nothing and exits 1 when a
 * generated file is not current (a test runs it).
 *
 *   node packages/attest/scripts/policy-validators.mjs [--check]
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv, { _, Name, nil } from "ajv";
import names from "ajv/dist/compile/names.js";
import standaloneCode from "ajv/dist/standalone/index.js";
import { callValidateCode } from "ajv/dist/vocabularies/code.js";

/** Ajv's names of a generated function's locals (`vErrors`, `errors`); a CommonJS default export. */
const N = names.default;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = "src/common/generated";

/** Each schema file: its validator's export name and its TypeScript type's name. */
export const KINDS = [
  {
    file: "tdx-policy.schema.json",
    module: "tdx-policy-validator",
    validator: "matchesTdxPolicySchema",
    keys: "TDX_POLICY_KEYS",
    type: "TdxPolicy",
  },
  {
    file: "sev-snp-policy.schema.json",
    module: "sev-snp-policy-validator",
    validator: "matchesSevSnpPolicySchema",
    keys: "SEV_SNP_POLICY_KEYS",
    type: "SevSnpPolicy",
  },
  {
    file: "nvidia-policy.schema.json",
    module: "nvidia-policy-validator",
    validator: "matchesNvidiaPolicySchema",
    keys: "NVIDIA_POLICY_KEYS",
    type: "NvidiaPolicy",
  },
  {
    file: "bundle-policy.schema.json",
    module: "bundle-policy-validator",
    validator: "matchesBundlePolicySchema",
    keys: "BUNDLE_POLICY_KEYS",
    type: "BundlePolicyJson",
  },
];

/** Strings that are free text by design (everything else is a pattern or an enum). */
const FREE_TEXT = new Set([
  "$schema",
  "description",
  "advisoryIds",
  "allowedAdvisoryIds",
  "allowedDriverVersions",
]);
const ANNOTATIONS = new Set(["$schema", "title", "description", "default", "$comment", "examples"]);

function readSchemas() {
  const files = readdirSync(join(root, "schemas")).filter((f) => f.endsWith(".schema.json"));
  const known = KINDS.map((k) => k.file);
  const extra = files.filter((f) => !known.includes(f));
  if (extra.length > 0) throw new Error(`schemas/: no kind for ${extra.join(", ")} (add it to KINDS)`);
  return Object.fromEntries(
    known.map((f) => [f, JSON.parse(readFileSync(join(root, "schemas", f), "utf8"))]),
  );
}

/** The policy rules every schema follows; throws naming the first place that breaks one. */
function lint(schema, where, name) {
  if (Array.isArray(schema)) {
    for (const [i, item] of schema.entries()) lint(item, `${where}/${i}`, name);
    return;
  }
  if (typeof schema !== "object" || schema === null) return;
  // An `if` only tests (its `then` / `else` constrain); objects and strings are closed elsewhere.
  if (schema.type === "object" && schema.additionalProperties === undefined && !schema.$ref)
    throw new Error(`${where}: an object must say additionalProperties (policies are strict)`);
  if (schema.type === "string" && !schema.pattern && !schema.enum && !FREE_TEXT.has(name))
    throw new Error(`${where}: a string needs a pattern or an enum (or a FREE_TEXT name)`);
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" || key === "$defs") {
      for (const [k, v] of Object.entries(value)) lint(v, `${where}/${key}/${k}`, k);
    } else if (key === "items") lint(value, `${where}/items`, name);
    else if (key !== "if" && typeof value === "object") lint(value, `${where}/${key}`, name);
  }
}

/** The schema without annotations (descriptions and titles would only weigh on the generated code). */
function stripAnnotations(schema, inNames = false) {
  if (Array.isArray(schema)) return schema.map((s) => stripAnnotations(s));
  if (typeof schema !== "object" || schema === null) return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!inNames && ANNOTATIONS.has(key)) continue;
    out[key] = stripAnnotations(value, !inNames && (key === "properties" || key === "$defs"));
  }
  return out;
}

/** Every property name a schema (and the schemas it refers to) knows. */
function keysOf(schema, into = new Set()) {
  if (Array.isArray(schema)) for (const s of schema) keysOf(s, into);
  else if (typeof schema === "object" && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === "properties") for (const name of Object.keys(value)) into.add(name);
      keysOf(value, into);
    }
  }
  return into;
}

const HEADER = "// Generated by scripts/policy-validators.mjs from schemas/*.schema.json: do not edit.";

/**
 * The schema to compile for a kind: a `$ref` to another kind's whole schema becomes `policyKind`, a
 * keyword whose code calls that kind's generated validator (imported), as Ajv's own code for a `$ref`
 * to a separately compiled schema does. The published schema keeps the `$ref`.
 */
function toCompile(schema, own) {
  if (Array.isArray(schema)) return schema.map((s) => toCompile(s, own));
  if (typeof schema !== "object" || schema === null) return schema;
  const kind = KINDS.find((k) => k.file === schema.$ref);
  const { $ref, ...rest } = schema;
  const out = Object.fromEntries(
    Object.entries(kind ? rest : schema).map(([k, v]) => [k, toCompile(v, own)]),
  );
  return kind && kind.file !== own ? { ...out, policyKind: kind.file } : out;
}

/** The validator `policyKind` calls, with its errors (instance paths from the caller's) as its own. */
const policyKind = {
  keyword: "policyKind",
  schemaType: "string",
  code(cxt) {
    const validator = new Name(KINDS.find((k) => k.file === cxt.schema).validator);
    cxt.result(callValidateCode(cxt, validator, nil), undefined, () => {
      const errors = _`${validator}.errors`;
      cxt.gen.assign(N.vErrors, _`${N.vErrors} === null ? ${errors} : ${N.vErrors}.concat(${errors})`);
      cxt.gen.assign(N.errors, _`${N.vErrors}.length`);
    });
  },
};

function validatorModules(schemas) {
  const ajv = new Ajv({
    schemas: KINDS.map((k) => stripAnnotations(toCompile(schemas[k.file], k.file))),
    keywords: [policyKind],
    code: { source: true, esm: true, lines: true },
    allErrors: false,
    messages: false,
    strict: true,
  });
  const modules = {};
  for (const k of KINDS) {
    let code = standaloneCode(ajv, { [k.validator]: schemas[k.file].$id });
    if (/\brequire\(|^import /m.test(code))
      throw new Error("the standalone code needs Ajv's runtime: avoid that keyword");
    // Pure annotations let a bundler drop what a subpath does not use; a module is strict already.
    code = code.replaceAll("new RegExp(", "/* @__PURE__ */ new RegExp(").replace(/^"use strict";\n/m, "");
    const imports = [...KINDS]
      .sort((a, b) => (a.module < b.module ? -1 : 1))
      .filter((other) => other !== k && new RegExp(`\\b${other.validator}\\(`).test(code))
      .map((other) => `import { ${other.validator} } from "./${other.module}.js";\n`)
      .join("");
    const names = [...keysOf(schemas[k.file])].sort();
    modules[`${OUT}/${k.module}.js`] = [
      HEADER,
      "// biome-ignore-all lint: generated code",
      "// biome-ignore-all format: generated code",
      `${imports}${code}`,
      `/** Every key the ${k.type} schema knows (for "did you mean" hints). */`,
      `export const ${k.keys} = ${JSON.stringify(names)};`,
      "",
    ].join("\n");
    modules[`${OUT}/${k.module}.d.ts`] = [
      HEADER,
      `import type { ${["PolicySchemaValidator", k.type].sort().join(", ")} } from "./policy-types.js";`,
      "",
      `/** Validates a value against schemas/${k.file}. */`,
      `export declare const ${k.validator}: PolicySchemaValidator<${k.type}>;`,
      `/** Every key the ${k.type} schema knows. */`,
      `export declare const ${k.keys}: readonly string[];`,
      "",
    ].join("\n");
  }
  return modules;
}

const VALIDATOR_TYPES = `/** One schema violation, as Ajv reports it (the first only: \`allErrors: false\`). */
export interface PolicySchemaError {
  /** JSON Pointer of the value (\`/cpu/tdx/mrTd/0\`). */
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** A generated validator: true when the value matches the schema, else its \`errors\` say where not. */
export interface PolicySchemaValidator<T> {
  (value: unknown): value is T;
  errors?: readonly PolicySchemaError[] | null;
}
`;

// ---- TypeScript types from the schemas -------------------------------------------------------

function doc(text, indent) {
  if (!text) return "";
  const body = text.replaceAll("*/", "*\\/");
  return `${indent}/** ${body} */\n`;
}

function resolve(schemas, file, ref) {
  const [target, fragment = ""] = ref.split("#");
  const targetFile = target === "" ? file : target;
  let node = schemas[targetFile];
  if (!node) throw new Error(`${file}: $ref to unknown schema ${ref}`);
  for (const part of fragment.split("/").filter(Boolean)) node = node[part];
  if (node === undefined) throw new Error(`${file}: $ref ${ref} resolves to nothing`);
  return { file: targetFile, node, isRoot: fragment === "" || fragment === "/" };
}

function typeOf(schemas, file, schema, indent) {
  if (schema.$ref) {
    const { file: target, node, isRoot } = resolve(schemas, file, schema.$ref);
    if (isRoot && target !== file) {
      // A kind's policy with some of its keys refused here (`"mrTd": false`).
      const refused = Object.entries(schema.properties ?? {}).filter(([, v]) => v === false);
      const type = KINDS.find((k) => k.file === target).type;
      return refused.length === 0
        ? type
        : `Omit<${type}, ${refused.map(([k]) => JSON.stringify(k)).join(" | ")}>`;
    }
    return typeOf(schemas, target, node, indent);
  }
  if (schema.if && schema.then && schema.else)
    return `${typeOf(schemas, file, schema.then, indent)} | ${typeOf(schemas, file, schema.else, indent)}`;
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  switch (schema.type) {
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "integer":
    case "number":
      return "number";
    case "array": {
      const item = typeOf(schemas, file, schema.items, indent);
      return item.includes("|") || item.includes("{") ? `readonly (${item})[]` : `readonly ${item}[]`;
    }
    case "object": {
      if (schema.properties === undefined && typeof schema.additionalProperties === "object")
        return `{ readonly [key: string]: ${typeOf(schemas, file, schema.additionalProperties, indent)} }`;
      const inner = `${indent}  `;
      const required = new Set(schema.required ?? []);
      const members = Object.entries(schema.properties ?? {}).map(
        ([name, property]) =>
          `${doc(property.description, inner)}${inner}readonly ${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}${required.has(name) ? "" : "?"}: ${typeOf(schemas, file, property, inner)};`,
      );
      return `{\n${members.join("\n")}\n${indent}}`;
    }
    default:
      throw new Error(`${file}: no TypeScript type for ${JSON.stringify(schema).slice(0, 80)}`);
  }
}

function typesModule(schemas) {
  const parts = [HEADER, "// biome-ignore-all format: generated code", "", VALIDATOR_TYPES];
  for (const k of KINDS) {
    const schema = schemas[k.file];
    parts.push(
      `${doc(`${schema.title}: schemas/${k.file}. ${schema.description}`, "")}export interface ${k.type} ${typeOf(schemas, k.file, schema, "")}\n`,
    );
  }
  return parts.join("\n");
}

function main() {
  const schemas = readSchemas();
  for (const [file, schema] of Object.entries(schemas)) lint(schema, file, "");
  const outputs = { ...validatorModules(schemas), [`${OUT}/policy-types.ts`]: typesModule(schemas) };
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const [path, text] of Object.entries(outputs)) {
    let current = "";
    try {
      current = readFileSync(join(root, path), "utf8");
    } catch {}
    if (current === text) continue;
    stale++;
    if (check)
      console.error(`${path} is not current: run node packages/attest/scripts/policy-validators.mjs`);
    else writeFileSync(join(root, path), text);
  }
  if (check && stale) process.exit(1);
  if (!check) console.log(stale ? `wrote ${stale} file(s)` : "policy validators are current");
}

main();
