import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Check } from "../common/check.js";
import {
  AttestArgumentError,
  AttestError,
  EvidenceParseError,
  type VerificationIssue,
} from "../common/errors.js";

/** Exit codes shared by every `peer-attest verify` kind. */
export const EXIT_OK = 0;
export const EXIT_REJECTED = 1;
export const EXIT_UNUSABLE = 2;

/** Reads a file named on the command line; a missing file is unusable input (exit 2). */
export function readInputFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (cause) {
    throw new EvidenceParseError(
      "input_file_unreadable",
      `cannot read ${what} file ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** Reads and parses a JSON file named on the command line. */
export function readJsonFile(path: string, what: string): unknown {
  const text = new TextDecoder().decode(readInputFile(path, what));
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new EvidenceParseError(
      "input_json_invalid",
      `${what} file ${path} is not valid JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** `--now ISO` (or a Unix time in seconds); defaults to the wall clock only at the CLI boundary. */
export function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const date = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new AttestArgumentError(
      "cli_now_invalid",
      `--now must be an ISO 8601 time or Unix seconds, got "${value}"`,
    );
  }
  return date;
}

const useColor = () => process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint = (code: string, text: string) => (useColor() ? `\u001b[${code}m${text}\u001b[0m` : text);

/** Renders the human report: a header, the facts, and every check with ✓ / ✗ / –. */
export function renderReport(
  title: string,
  verdict: { ok: boolean; verified: boolean },
  facts: ReadonlyArray<readonly [string, string | number | boolean | null | undefined]>,
  checks: readonly Check[],
  errors: readonly VerificationIssue[],
): string {
  const lines: string[] = [];
  const status = verdict.ok
    ? paint("32;1", "ACCEPTED")
    : verdict.verified
      ? paint("33;1", "REJECTED by policy")
      : paint("31;1", "REJECTED: not verified");
  lines.push(`${title}: ${status}`, "");
  const width = Math.max(0, ...facts.map(([label]) => label.length));
  for (const [label, value] of facts) {
    if (value === undefined || value === null) continue;
    lines.push(`  ${label.padEnd(width)}  ${String(value)}`);
  }
  if (facts.length > 0) lines.push("");
  lines.push("  checks:");
  for (const check of checks) {
    const mark =
      check.status === "pass"
        ? paint("32", "✓")
        : check.status === "fail"
          ? paint("31", "✗")
          : paint("90", "–");
    const detail = check.detail ? `  (${check.detail})` : "";
    const code = check.code ? ` [${check.code}]` : "";
    lines.push(`  ${mark} ${check.label}${code}${detail}`);
  }
  const unlisted = errors.filter((e) => !checks.some((c) => c.code === e.code && c.detail === e.message));
  if (unlisted.length > 0) {
    lines.push("", "  errors:");
    for (const e of unlisted) lines.push(`  ${paint("31", "✗")} [${e.code}] ${e.message}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Exit code for a finished verification. */
export function exitCodeOf(result: { ok: boolean }): number {
  return result.ok ? EXIT_OK : EXIT_REJECTED;
}

/**
 * Runs one CLI command: errors that mean "unusable input" (parse errors, bad arguments, collateral
 * that could not be obtained) print a clear message (or a JSON object with `--json`) and exit 2.
 * Collateral that could not be obtained is retryable, except under `--offline`, where the run itself
 * forbade fetching it: retrying the same command cannot help, so it is not called retryable.
 */
export async function runCommand(
  kind: string,
  json: boolean,
  body: () => Promise<number>,
  options: { readonly offline?: boolean } = {},
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!AttestError.isInstance(error)) throw error;
    const retryable = error.retryable && !options.offline;
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ ok: false, verified: false, kind, errors: [{ code: error.code, message: error.message, retryable }] }, null, 2)}\n`,
      );
    } else {
      process.stderr.write(`peer-attest: ${error.message} [${error.code}]\n`);
      if (retryable)
        process.stderr.write("peer-attest: this is retryable: the collateral could not be obtained now.\n");
      else if (error.retryable)
        process.stderr.write(
          "peer-attest: not retryable as run: --offline forbids fetching it; pass it on the command line (see --help) or drop --offline.\n",
        );
    }
    return EXIT_UNUSABLE;
  }
}

/** Option parsing for a command: unknown options are an error, never ignored. */
export function parseCommandArgs<T extends NonNullable<Parameters<typeof parseArgs>[0]>["options"]>(
  args: readonly string[],
  options: T,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false; tokens: true }>
  >;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: false, tokens: true });
  } catch (cause) {
    throw new AttestArgumentError("cli_arguments_invalid", (cause as Error).message, { cause });
  }
  // An option given twice is refused, never "last one wins": `--policy a.json --policy b.json`
  // silently dropping a policy is how a check goes missing. Options declared `multiple` repeat.
  const seen = new Map<string, number>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== "option") continue;
    const option = (options as Record<string, { multiple?: boolean } | undefined>)[token.name];
    if (option?.multiple) continue;
    seen.set(token.name, (seen.get(token.name) ?? 0) + 1);
  }
  for (const [name, count] of seen) {
    if (count > 1)
      throw new AttestArgumentError(
        "cli_arguments_invalid",
        `--${name} is given ${count} times; give it once`,
      );
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/**
 * The value of a hex option (`--nonce HEX`), checked here so the message names the flag.
 * @throws AttestArgumentError `cli_arguments_invalid`
 */
export function hexOption(value: unknown, flag: string, bytes?: number): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const hex = text.replace(/^0x/i, "");
  const ok = /^([0-9a-fA-F]{2})+$/.test(hex) && (bytes === undefined || hex.length === 2 * bytes);
  if (!ok) {
    throw new AttestArgumentError(
      "cli_arguments_invalid",
      `${flag} must be ${bytes === undefined ? "hex bytes" : `${bytes} bytes of hex (${2 * bytes} hex digits)`}, got "${text}"`,
    );
  }
  return hex;
}

/** Options every `peer-attest verify` kind takes. */
export const COMMON_VERIFY_OPTIONS = {
  offline: { type: "boolean" },
  policy: { type: "string" },
  now: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The value of a required `--flag FILE` option. */
export function requireOption(value: unknown, usage: string): string {
  if (typeof value !== "string")
    throw new AttestArgumentError("cli_arguments_invalid", `${usage} is required`);
  return value;
}

/**
 * The checks named by `--allow-unchecked NAME[,NAME]` (repeatable), each one of `known`. Verification
 * is strict by default: a check that did not happen makes the result `ok: false` unless it is named
 * here, and the JSON output echoes the names in `unchecked`.
 * @throws AttestArgumentError `cli_arguments_invalid` for a name not in `known`
 */
export function allowUncheckedOption<T extends string>(value: unknown, known: readonly T[]): T[] {
  const names = ((value as string[] | undefined) ?? []).flatMap((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  );
  for (const name of names) {
    if (!known.includes(name as T))
      throw new AttestArgumentError(
        "cli_arguments_invalid",
        `--allow-unchecked: unknown check "${name}" (${known.join(", ")})`,
      );
  }
  return [...new Set(names)] as T[];
}
