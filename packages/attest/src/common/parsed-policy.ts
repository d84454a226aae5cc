import { AttestArgumentError } from "./errors.js";
import type { PolicySchemaError, PolicySchemaValidator } from "./generated/policy-types.js";

/**
 * Policies are parsed once, at the edge: each `parse…Policy` runs its kind's validator, generated from
 * the JSON Schema in `schemas/` (scripts/policy-validators.mjs), normalises the value into a new tree
 * and marks it; a marked tree is handed back as is, so a bundle policy parsed by the caller (its
 * `cpu.tdx`, `cpu.sevSnp` and `gpu.nvidia` trees included) is not read again by the verifiers and
 * validators it reaches. The mark is object identity (a WeakSet): it decides no result, only whether
 * reading is needed.
 */
const parsed = new WeakSet<object>();

declare const parsedBrand: unique symbol;

/**
 * A policy tree a `parse…Policy` returned: validated against its schema, hex lowercase without `0x`.
 * The `validate…Policy` functions take only such a tree (they never parse).
 */
export type Parsed<T> = T & { readonly [parsedBrand]: true };

/** Marks a tree a parser built (never the caller's own object, which the caller may change). */
export function markParsedPolicy<T extends object>(policy: T): Parsed<T> {
  parsed.add(policy);
  return policy as Parsed<T>;
}

/** True for a tree one of the policy parsers returned. */
export function isParsedPolicy(value: unknown): boolean {
  return typeof value === "object" && value !== null && parsed.has(value);
}

/**
 * For the `validate…Policy` functions, which take a parsed tree and never parse: a JavaScript caller
 * that passes its own object is told to parse it (a TypeScript caller cannot, by type).
 * @throws AttestArgumentError `policy_invalid`
 */
export function requireParsedPolicy(value: unknown, kind: string, parser: string): void {
  if (!isParsedPolicy(value))
    throw new AttestArgumentError(
      "policy_invalid",
      `${kind} policy: pass the tree ${parser}() returns (validation does not parse)`,
      { details: { path: "$" } },
    );
}

/** Hex as every parsed tree holds it: lowercase, no `0x`. */
export function normalHex(hex: string): string {
  return (hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex).toLowerCase();
}

/**
 * The parsed tree of a value that matched its kind's schema (pure JSON data): a new, marked tree
 * without `$schema` or undefined members (possible from TypeScript callers, never in JSON), hex
 * normalised in the fields named, everything else copied, so the caller's object never becomes
 * the tree. A marked tree is handed back as is.
 */
export function normalPolicyTree<T extends object>(
  value: T,
  hex: { readonly lists?: ReadonlySet<string>; readonly values?: ReadonlySet<string> },
): Parsed<T> {
  if (isParsedPolicy(value)) return value as Parsed<T>;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || key === "$schema") continue;
    if (hex.lists?.has(key)) out[key] = (v as readonly string[]).map(normalHex);
    else if (hex.values?.has(key)) out[key] = normalHex(v as string);
    else out[key] = typeof v === "object" && v !== null ? structuredClone(v) : v;
  }
  return markParsedPolicy(out as T);
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * The JSON path (`$.cpu.tdx.mrTd[0]`, `$.models["peer-mixtral"]`) of a JSON Pointer into `value`,
 * plus `key` when given (the unknown or missing key of an object).
 */
export function jsonPath(value: unknown, pointer: string, key?: string): string {
  let path = "$";
  let node = value;
  const segments = pointer === "" ? [] : pointer.slice(1).split("/");
  for (const raw of segments) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    path += Array.isArray(node)
      ? `[${segment}]`
      : IDENTIFIER.test(segment)
        ? `.${segment}`
        : `[${JSON.stringify(segment)}]`;
    node = (node as Record<string, unknown> | undefined)?.[segment];
  }
  if (key !== undefined) path += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return path;
}

const TYPE_NAMES: Record<string, string> = {
  object: "a JSON object",
  array: "an array",
  string: "a string",
  boolean: "true or false",
  integer: "an integer",
  number: "a number",
};

/** What a hex pattern asks for: `48 bytes of hex (96 digits)`, or undefined for another pattern. */
function hexWanted(pattern: string): string | undefined {
  if (!pattern.startsWith("^(0x)?")) return undefined;
  if (pattern.includes("{2})+")) return "hex (whole bytes)";
  const sizes = [...pattern.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1]) / 2);
  return sizes.length === 0 ? undefined : `${sizes.join(" or ")} bytes of hex`;
}

function explain(error: PolicySchemaError, keys: readonly string[]): string {
  const p = error.params;
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(p.additionalProperty);
      const near = keys.find((k) => k.toLowerCase() === key.toLowerCase() && k !== key);
      return `is not a known key (policies are strict)${near ? `; did you mean "${near}"?` : ""}`;
    }
    case "required":
      return "is required";
    case "type":
      return `must be ${TYPE_NAMES[String(p.type)] ?? String(p.type)}`;
    case "pattern": {
      const hex = hexWanted(String(p.pattern));
      return hex ? `must be ${hex}, optionally 0x-prefixed` : `must match ${String(p.pattern)}`;
    }
    case "enum":
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "minimum":
      return `must be ≥ ${String(p.limit)}`;
    case "maximum":
      return `must be ≤ ${String(p.limit)}`;
    case "minItems":
      return "must not be empty";
    case "false schema":
      return "is not allowed here";
    default:
      return `does not match the schema (${error.schemaPath})`;
  }
}

/**
 * Runs a generated validator; on failure throws `policy_invalid` naming the JSON path of the first
 * offending value (`details.path`). `special` words a failure the schema keyword alone would explain
 * poorly (keyed by a part of its schema path).
 * @throws AttestArgumentError `policy_invalid`
 */
export function checkPolicySchema<T>(
  validate: PolicySchemaValidator<T>,
  value: unknown,
  kind: string,
  keys: readonly string[],
  special: Readonly<Record<string, string>> = {},
): asserts value is T {
  if (validate(value)) return;
  const error = validate.errors?.[0];
  if (!error)
    throw new AttestArgumentError("policy_invalid", `${kind} policy: invalid`, { details: { path: "$" } });
  const key =
    error.keyword === "additionalProperties"
      ? String(error.params.additionalProperty)
      : error.keyword === "required"
        ? String(error.params.missingProperty)
        : undefined;
  const path = jsonPath(value, error.instancePath, key);
  const specialMessage = Object.entries(special).find(([part]) => error.schemaPath.includes(part))?.[1];
  const message = specialMessage ?? explain(error, keys);
  throw new AttestArgumentError("policy_invalid", `${kind} policy: ${path} ${message}`, {
    details: { path },
  });
}
