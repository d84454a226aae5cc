import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { readVector, repoRoot, vectorsDir } from "./index.js";

/** Files in the vectors folder that are ours, not copies of the shared set. */
const OURS = new Set(["SHA256SUMS", "ORIGIN.md"]);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe("vectors/ (in-repository copy of the real evidence)", () => {
  const dir = vectorsDir();
  const manifest = new Map(
    readFileSync(join(dir, "SHA256SUMS"), "utf8")
      .trim()
      .split("\n")
      .map((line) => {
        const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
        if (!match) throw new Error(`SHA256SUMS: malformed line ${JSON.stringify(line)}`);
        return [match[2]!, match[1]!] as const;
      }),
  );

  it("is found at the repository root unless PEER_VECTORS_DIR says otherwise", () => {
    if (!process.env.PEER_VECTORS_DIR) expect(dir).toBe(join(repoRoot, "vectors"));
  });

  it("holds exactly the files SHA256SUMS lists, byte for byte (no line-ending conversion)", () => {
    const files = listFiles(dir)
      .map((file) => relative(dir, file).split("\\").join("/"))
      .filter((file) => !OURS.has(file))
      .sort();
    expect(files).toEqual([...manifest.keys()].sort());
    const changed = files.filter(
      (file) =>
        createHash("sha256")
          .update(readFileSync(join(dir, file)))
          .digest("hex") !== manifest.get(file),
    );
    expect(changed).toEqual([]);
  });

  it("keeps the CRLF root as CRLF", () => {
    const text = new TextDecoder().decode(readVector("roots/intel_sgx_root_ca_crlf.pem"));
    expect(text).toContain("\r\n");
  });
});
