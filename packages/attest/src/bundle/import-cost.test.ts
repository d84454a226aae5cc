import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The modules a source file loads when it is imported: every `import … from` / `export … from` /
 * bare `import "…"` except whole-statement `import type` / `export type` (erased). With
 * verbatimModuleSyntax, `import { type A } from "x"` still loads "x", so it counts.
 */
function staticImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers: string[] = [];
  const statement = /^(?:import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?"([^"]+)";/gms;
  for (const match of text.matchAll(statement)) if (match[1] === undefined) specifiers.push(match[2]!);
  return specifiers;
}

/** The static import closure of an entry: its source files (relative to src/) and its packages. */
function closure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [join(SRC, entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    const name = file.slice(SRC.length + 1);
    if (files.has(name)) continue;
    files.add(name);
    for (const specifier of staticImports(file)) {
      if (!specifier.startsWith(".")) {
        packages.add(specifier);
        continue;
      }
      const target = resolve(dirname(file), specifier);
      pending.push(
        target.endsWith(".js") && !target.includes("/generated/") ? target.replace(/\.js$/, ".ts") : target,
      );
    }
  }
  return { files, packages };
}

describe("what importing @peercycles/attest/bundle loads", () => {
  // Decoding a bundle, parsing a policy and checking a receipt need none of the certificate code:
  // asn1js, the X.509 layer and the signature backends arrive with verifyBundle's first call.
  const { files, packages } = closure("bundle/index.ts");

  it("reaches the bundle's own modules", () => {
    expect(files).toContain("bundle/bundle.ts");
    expect(files).toContain("bundle/policy.ts");
    expect(files).toContain("bundle/verify-bundle.ts");
  });

  it("loads neither asn1js nor pkijs nor the X.509 and signature modules", () => {
    expect([...packages].filter((p) => /asn1js|pkijs|@noble\/curves/.test(p))).toEqual([]);
    for (const heavy of [
      "common/x509.ts",
      "common/signatures.ts",
      "common/asn1.ts",
      "bundle/bundle-verification.ts",
    ])
      expect(files).not.toContain(heavy);
  });
});
