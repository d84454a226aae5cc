import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";

/** Every TypeScript code block in the READMEs and docs runs; see ../README.md for the conventions. */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const generated = join(dirname(fileURLToPath(import.meta.url)), "..", ".generated");

function markdownFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "node_modules" && entry.name !== "dist") walk(path);
      else if (entry.isFile() && entry.name.endsWith(".md")) out.push(path);
    }
  };
  out.push(join(root, "README.md"));
  for (const pkg of readdirSync(join(root, "packages"))) {
    out.push(join(root, "packages", pkg, "README.md"));
    walk(join(root, "packages", pkg, "docs"));
  }
  walk(join(root, "docs"));
  for (const example of readdirSync(join(root, "examples")))
    out.push(join(root, "examples", example, "README.md"));
  return out.filter((file) => {
    try {
      readFileSync(file);
      return true;
    } catch {
      return false;
    }
  });
}

interface Example {
  readonly file: string;
  readonly line: number;
  readonly code: string;
  readonly setup: string;
  readonly skip: string | undefined;
}

/** The ```ts blocks of one file, each with the example-setup / example-skip comment right before it. */
function extractExamples(file: string, text: string): Example[] {
  const examples: Example[] = [];
  const fence = /^```(ts|typescript)\s*$([\s\S]*?)^```\s*$/gm;
  for (let match = fence.exec(text); match; match = fence.exec(text)) {
    const before = text.slice(0, match.index).trimEnd();
    const open = before.lastIndexOf("<!--");
    const directive = open >= 0 && before.endsWith("-->") ? before.slice(open + 4, -3).trim() : "";
    const setup = directive.startsWith("example-setup") ? directive.slice("example-setup".length) : "";
    const skip = directive.startsWith("example-skip:")
      ? directive.slice("example-skip:".length).trim()
      : undefined;
    const line = text.slice(0, match.index).split("\n").length;
    examples.push({ file, line, code: match[2] ?? "", setup, skip });
  }
  return examples;
}

afterEach(() => {
  vi.useRealTimers();
});

const files = markdownFiles();
rmSync(generated, { recursive: true, force: true });
mkdirSync(generated, { recursive: true });

describe("code examples in the READMEs and docs", () => {
  it("finds the examples", () => {
    expect(files.flatMap((file) => extractExamples(file, readFileSync(file, "utf8"))).length).toBeGreaterThan(
      5,
    );
  });

  for (const file of files) {
    const examples = extractExamples(file, readFileSync(file, "utf8"));
    const name = relative(root, file);
    for (const [i, example] of examples.entries()) {
      const title = `${name}:${example.line}`;
      if (example.skip !== undefined) {
        if (example.skip === "") throw new Error(`${title}: example-skip needs a reason`);
        it.skip(`${title} (skipped: ${example.skip})`, () => {});
        continue;
      }
      it(title, async () => {
        const module = join(generated, `${name.replace(/[^a-z0-9]+/gi, "-")}-${i + 1}.ts`);
        writeFileSync(
          module,
          `// Generated from ${title}; do not edit.\nimport { vi } from "vitest";\n${example.setup}\n// ---- the example ----\n${example.code}\nexport {};\n`,
        );
        await import(/* @vite-ignore */ module);
      });
    }
  }
});
