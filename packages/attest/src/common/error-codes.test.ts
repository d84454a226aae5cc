import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { errorDocsUrl } from "./errors.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const UNIONS = {
  "src/common/error-codes.ts": "errors.md#shared-codes",
  "src/tdx/error-codes.ts": "tdx.md#error-codes",
  "src/sev-snp/error-codes.ts": "sev-snp.md#error-codes",
  "src/nvidia/error-codes.ts": "nvidia.md#error-codes",
  "src/bundle/error-codes.ts": "bundle.md#error-codes",
} as const;

const membersOf = (source: string) =>
  [...readFileSync(`${root}/${source}`, "utf8").matchAll(/\| "([a-z0-9_]+)"/g)].map((m) => m[1]!);

describe("error codes as a contract", () => {
  it("the docs' error tables and index are generated from the code unions and are current", () => {
    expect(() =>
      execFileSync(process.execPath, ["scripts/error-index.mjs", "--check"], { cwd: root, stdio: "pipe" }),
    ).not.toThrow();
  });

  it("every code's docsUrl is the page whose table lists it", () => {
    for (const [source, page] of Object.entries(UNIONS)) {
      for (const code of membersOf(source))
        expect(errorDocsUrl(code), code).toMatch(new RegExp(`/docs/${page}$`));
    }
  });

  it("policy violations are per kind; a malformed policy has one spelling", () => {
    const all = Object.keys(UNIONS).flatMap(membersOf);
    expect(all.filter((c) => c.startsWith("policy_"))).toEqual(["policy_invalid"]);
    expect(all.filter((c) => /(^|_)policy_(invalid|unknown_key)$/.test(c) && c !== "policy_invalid")).toEqual(
      [
        "snp_report_policy_invalid", // the report's guest policy field, not the caller's policy
      ],
    );
  });
});
