import { ModelError } from "./errors.js";
import type { Prng } from "./prng.js";
import { identifierWords, type PromptFacts } from "./prompt-facts.js";

/**
 * An address the common validators accept (zod's and the HTML form pattern's shape: dot-separated
 * local part, domain labels that start with a letter or digit, a top-level domain of two letters or
 * more). A prompt may mention `A@0.A`; the value must still match `format: "email"` everywhere.
 */
/** A prompt's `YYYY-MM-DD` that names a real day (not 2025-13-45 or 2025-02-30). */
function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const COMMON_EMAIL =
  /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/;

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

type Schema = Record<string, unknown>;

/** Property-name words that ask for a proper name: a capitalised phrase of the prompt. */
const NAME_FIELDS = new Set(
  (
    "name city location place country town region destination origin person author company " +
    "organization organisation user username brand product artist team capital venue recipient sender"
  ).split(" "),
);

/** Property-name words that ask for free text: a quoted string of the prompt, else its whole text. */
const TEXT_FIELDS = new Set(
  "query q text prompt question input message content search keywords keyword sentence topic".split(" "),
);

const MAX_DEPTH = 64;
/** Below this depth optional properties are left out and arrays get only `minItems` items. */
const SHALLOW_DEPTH = 8;

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Synthesises a JSON value that validates against a JSON Schema, from the facts of a prompt and a
 * seeded PRNG. The rule, documented in the model README ("Tool calls and structured output"):
 *
 * - `$ref` (local JSON pointers, `$defs`, `definitions`) is followed; `allOf` branches are merged;
 *   `anyOf`/`oneOf` take the first branch that is not `null`; a type list takes its first non-null type.
 * - `const` is used as is; `enum` takes the value the prompt mentions first, else the first value.
 * - strings: a `format` (date, date-time, time, email, uri, uuid, ipv4, ipv6, hostname) gets a value of
 *   that format (from the prompt when it has one); a property named like a proper name (`city`,
 *   `location`, `name`, …) takes the next capitalised phrase of the prompt; one named like free text
 *   (`query`, `text`, `question`, …) the next quoted string, else the prompt's text; any other takes the
 *   prompt's next content word. Lengths are padded or cut to `minLength`/`maxLength`; `pattern` is not
 *   honoured.
 * - numbers and integers take the prompt's next number, else a seeded one, then are fitted to
 *   `minimum`/`maximum` (exclusive too) and `multipleOf`.
 * - booleans are `false` when the prompt has a negation word, else `true`.
 * - arrays get `minItems` items (at least one, at most `maxItems`); `prefixItems` and tuple `items`
 *   are honoured; `uniqueItems` is kept.
 * - objects get every declared property in order (below depth 8 only the `required` ones), plus any
 *   `required` name that is not declared.
 *
 * Throws a `model_request_invalid` {@link ModelError} for a schema it cannot satisfy (`false`, a
 * dangling `$ref`, recursion deeper than 64).
 *
 * @example
 * ```ts
 * const facts = promptFacts("What is the weather in Paris in celsius?");
 * synthesizeFromSchema(
 *   { type: "object", properties: { city: { type: "string" }, unit: { enum: ["fahrenheit", "celsius"] } } },
 *   facts,
 *   createPrng(1),
 * ); // { city: "Paris", unit: "celsius" }
 * ```
 */
export function synthesizeFromSchema(schema: unknown, facts: PromptFacts, random: Prng): JsonValue {
  return new Synthesizer(schema, facts, random).value(schema, "", 0);
}

class Synthesizer {
  private nameCursor = 0;
  private quotedCursor = 0;
  private wordCursor = 0;
  private numberCursor = 0;
  /** JSON of the items already in the array being filled, when it wants `uniqueItems`. */
  private avoid: ReadonlySet<string> = new Set();

  constructor(
    private readonly root: unknown,
    private readonly facts: PromptFacts,
    private readonly random: Prng,
  ) {}

  value(input: unknown, field: string, depth: number): JsonValue {
    if (depth > MAX_DEPTH) throw invalidSchema("is recursive or nested deeper than 64 levels");
    if (input === false) throw invalidSchema("is `false`: no value validates");
    const schema = this.resolve(input);
    if ("const" in schema) return schema.const as JsonValue;
    if (Array.isArray(schema.enum) && schema.enum.length > 0)
      return this.pickEnum(schema.enum as JsonValue[]);
    const allOf = schema.allOf;
    if (Array.isArray(allOf) && allOf.length > 0) {
      const { allOf: _, ...rest } = schema;
      return this.value(this.merge([rest, ...allOf.map((part) => this.resolve(part))]), field, depth + 1);
    }
    const branches = Array.isArray(schema.anyOf) ? schema.anyOf : schema.oneOf;
    if (Array.isArray(branches) && branches.length > 0) {
      const { anyOf: _a, oneOf: _o, ...rest } = schema;
      const chosen =
        branches.find((branch) => this.resolve(branch).type !== "null") ?? (branches[0] as unknown);
      return this.value(this.merge([rest, this.resolve(chosen)]), field, depth + 1);
    }
    switch (this.typeOf(schema)) {
      case "null":
        return null;
      case "boolean":
        return !this.facts.negated;
      case "integer":
        return this.number(schema, true);
      case "number":
        return this.number(schema, false);
      case "array":
        return this.array(schema, field, depth);
      case "object":
        return this.object(schema, depth);
      default:
        return this.string(schema, field);
    }
  }

  private resolve(input: unknown): Schema {
    let schema: unknown = input;
    for (let hops = 0; isSchema(schema) && typeof schema.$ref === "string"; hops++) {
      if (hops > 32) throw invalidSchema("has a $ref cycle");
      const { $ref, ...rest } = schema;
      const target = this.pointer($ref as string);
      schema = Object.keys(rest).length === 0 ? target : this.merge([rest, this.resolve(target)]);
    }
    if (schema === true || schema === undefined) return {};
    if (!isSchema(schema)) throw invalidSchema("is not a JSON Schema object");
    return schema;
  }

  private pointer(ref: string): unknown {
    if (!ref.startsWith("#")) throw invalidSchema(`has a non-local $ref "${ref}"`);
    let node: unknown = this.root;
    for (const raw of ref
      .slice(1)
      .split("/")
      .filter((part) => part.length > 0)) {
      const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      if (!isSchema(node) && !Array.isArray(node)) throw invalidSchema(`has a dangling $ref "${ref}"`);
      node = (node as Record<string, unknown>)[key];
      if (node === undefined) throw invalidSchema(`has a dangling $ref "${ref}"`);
    }
    return node;
  }

  private merge(parts: readonly unknown[]): Schema {
    const merged: Schema = {};
    const properties: Schema = {};
    const required: string[] = [];
    for (const part of parts) {
      const schema = this.resolve(part);
      for (const [key, value] of Object.entries(schema)) {
        if (key === "properties" && isSchema(value)) Object.assign(properties, value);
        else if (key === "required" && Array.isArray(value)) required.push(...value.map(String));
        else if (!(key in merged)) merged[key] = value;
      }
    }
    if (Object.keys(properties).length > 0) merged.properties = properties;
    if (required.length > 0) merged.required = [...new Set(required)];
    return merged;
  }

  private typeOf(schema: Schema): string {
    const { type } = schema;
    if (typeof type === "string") return type;
    if (Array.isArray(type)) {
      return (
        (type.find((entry) => entry !== "null") as string | undefined) ?? (type.length ? "null" : "string")
      );
    }
    if (isSchema(schema.properties) || Array.isArray(schema.required)) return "object";
    if ("items" in schema || "prefixItems" in schema) return "array";
    if (
      ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"].some((k) => k in schema)
    ) {
      return "number";
    }
    return "string";
  }

  private pickEnum(values: readonly JsonValue[]): JsonValue {
    const text = this.facts.text.toLowerCase();
    let best: JsonValue | undefined;
    let bestAt = Number.POSITIVE_INFINITY;
    for (const value of values) {
      if (typeof value !== "string" && typeof value !== "number") continue;
      const needle = String(value).toLowerCase();
      if (needle.length === 0) continue;
      const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const at = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, "u").exec(text)?.index;
      if (at !== undefined && at < bestAt && !this.avoid.has(JSON.stringify(value))) {
        best = value;
        bestAt = at;
      }
    }
    const fresh = (value: JsonValue): boolean => !this.avoid.has(JSON.stringify(value));
    return best !== undefined && fresh(best) ? best : (values.find(fresh) ?? (values[0] as JsonValue));
  }

  private string(schema: Schema, field: string): string {
    const formatted = this.formatted(schema.format);
    if (formatted !== undefined) return formatted;
    const words = identifierWords(field);
    const { facts } = this;
    let value: string;
    if (words.some((word) => NAME_FIELDS.has(word)) && facts.names.length > 0) {
      value = facts.names[this.nameCursor++ % facts.names.length] ?? "";
    } else if (words.some((word) => TEXT_FIELDS.has(word))) {
      value =
        this.quotedCursor < facts.quoted.length ? (facts.quoted[this.quotedCursor++] ?? "") : facts.text;
    } else if (facts.words.length > 0) {
      value = facts.words[this.wordCursor++ % facts.words.length] ?? "";
    } else {
      value = words.join(" ") || "value";
    }
    return fitLength(value, schema);
  }

  private formatted(format: unknown): string | undefined {
    const { facts } = this;
    const date = facts.dates.find(isCalendarDate) ?? "2025-01-01";
    switch (format) {
      case "date":
        return date;
      case "date-time":
        return `${date}T00:00:00Z`;
      case "time":
        return "00:00:00Z";
      case "email":
        return facts.emails.find((email) => COMMON_EMAIL.test(email)) ?? "user@example.com";
      case "uri":
      case "url":
      case "iri":
        // A URL the WHATWG parser accepts, as `format: "uri"` validators require.
        return facts.urls.find((url) => URL.canParse(url)) ?? "https://example.com/";
      case "hostname":
        return "example.com";
      case "ipv4":
        return "127.0.0.1";
      case "ipv6":
        return "::1";
      case "uuid": {
        const hex = Array.from({ length: 4 }, () =>
          this.random.nextUint32().toString(16).padStart(8, "0"),
        ).join("");
        const variant = "89ab"[Number.parseInt(hex.charAt(16), 16) % 4] ?? "8";
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
      }
      default:
        return undefined;
    }
  }

  private number(schema: Schema, integer: boolean): number {
    let low = Number.NEGATIVE_INFINITY;
    let high = Number.POSITIVE_INFINITY;
    let lowExclusive = false;
    let highExclusive = false;
    if (typeof schema.minimum === "number") {
      low = schema.minimum;
      lowExclusive = schema.exclusiveMinimum === true;
    }
    if (typeof schema.exclusiveMinimum === "number" && schema.exclusiveMinimum >= low) {
      low = schema.exclusiveMinimum;
      lowExclusive = true;
    }
    if (typeof schema.maximum === "number") {
      high = schema.maximum;
      highExclusive = schema.exclusiveMaximum === true;
    }
    if (typeof schema.exclusiveMaximum === "number" && schema.exclusiveMaximum <= high) {
      high = schema.exclusiveMaximum;
      highExclusive = true;
    }
    const step =
      typeof schema.multipleOf === "number" && schema.multipleOf > 0 ? schema.multipleOf : undefined;
    let value: number;
    if (this.numberCursor < this.facts.numbers.length) {
      value = this.facts.numbers[this.numberCursor++] ?? 0;
    } else {
      const spread = this.random.nextUint32() % 100;
      value = Number.isFinite(low)
        ? Number.isFinite(high)
          ? low + (this.random.nextUint32() % Math.max(1, Math.floor(high - low) + 1))
          : low + spread
        : Number.isFinite(high)
          ? high - spread
          : spread;
    }
    if (integer || step !== undefined) {
      const unit = step ?? 1;
      const lowest = Number.isFinite(low)
        ? (lowExclusive ? Math.floor(low / unit) + 1 : Math.ceil(low / unit)) * unit
        : Number.NEGATIVE_INFINITY;
      const highest = Number.isFinite(high)
        ? (highExclusive ? Math.ceil(high / unit) - 1 : Math.floor(high / unit)) * unit
        : Number.POSITIVE_INFINITY;
      value = Math.min(Math.max(Math.round(value / unit) * unit, lowest), highest);
      if (integer && !Number.isInteger(value)) value = Math.ceil(lowest);
      return Number(value.toPrecision(15));
    }
    if (value < low || (lowExclusive && value <= low)) {
      value = lowExclusive ? (Number.isFinite(high) ? (low + high) / 2 : low + 1) : low;
    }
    if (value > high || (highExclusive && value >= high)) {
      value = highExclusive ? (Number.isFinite(low) ? (low + high) / 2 : high - 1) : high;
    }
    return value;
  }

  private array(schema: Schema, field: string, depth: number): JsonValue[] {
    const prefix = Array.isArray(schema.prefixItems)
      ? schema.prefixItems
      : Array.isArray(schema.items)
        ? schema.items
        : [];
    const itemSchema = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
    const minItems = typeof schema.minItems === "number" ? schema.minItems : 0;
    const maxItems = typeof schema.maxItems === "number" ? schema.maxItems : Number.POSITIVE_INFINITY;
    const wanted = Math.min(Math.max(minItems, depth >= SHALLOW_DEPTH ? 0 : 1, prefix.length), maxItems);
    const items: JsonValue[] = [];
    const seen = new Set<string>();
    for (let attempt = 0; items.length < wanted && attempt < wanted * 8 + 8; attempt++) {
      const index = items.length;
      const outer = this.avoid;
      this.avoid = schema.uniqueItems === true ? seen : new Set();
      const item =
        index < prefix.length
          ? this.value(prefix[index], field, depth + 1)
          : itemSchema === false
            ? undefined
            : this.value(itemSchema, field, depth + 1);
      this.avoid = outer;
      if (item === undefined) break;
      const key = JSON.stringify(item);
      if (schema.uniqueItems === true && seen.has(key)) continue;
      seen.add(key);
      items.push(item);
    }
    return items;
  }

  private object(schema: Schema, depth: number): { [key: string]: JsonValue } {
    const properties = isSchema(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? schema.required.map(String) : [];
    const result: { [key: string]: JsonValue } = {};
    for (const [key, property] of Object.entries(properties)) {
      if (depth >= SHALLOW_DEPTH && !required.includes(key)) continue;
      result[key] = this.value(property, key, depth + 1);
    }
    for (const key of required) {
      if (!(key in result)) result[key] = this.value({}, key, depth + 1);
    }
    return result;
  }
}

function fitLength(value: string, schema: Schema): string {
  const chars = [...value];
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  const max = typeof schema.maxLength === "number" ? schema.maxLength : Number.POSITIVE_INFINITY;
  while (chars.length < min) chars.push(...(chars.length === 0 ? ["x"] : [" ", ...[...value]]));
  return chars.slice(0, Math.max(min, Math.min(max, chars.length))).join("");
}

function invalidSchema(message: string): ModelError {
  return new ModelError("model_request_invalid", `schema: ${message}`, { details: { argument: "schema" } });
}
