import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The real-hardware vectors live in the repository, in `vectors/` at the repo root (see that folder's
 * README.md for provenance and ORIGIN.md for how it was copied; SHA256SUMS pins every file).
 * `PEER_VECTORS_DIR` points at another copy. Nothing here falls back to anything else: a missing folder
 * or file is an error that names the path it looked at.
 */
function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`peer vectors: no pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
}

/** Repository root (the folder holding `pnpm-workspace.yaml`). */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/** Absolute path of the vectors folder (`<repo root>/vectors`); throws if it does not exist. */
export function vectorsDir(): string {
  const fromEnv = process.env.PEER_VECTORS_DIR;
  const dir = fromEnv
    ? isAbsolute(fromEnv)
      ? fromEnv
      : resolve(repoRoot, fromEnv)
    : join(repoRoot, "vectors");
  if (!existsSync(join(dir, "README.md"))) {
    throw new Error(
      `peer vectors: real-evidence vectors not found at ${dir} (expected vectors/ at the repository root, or PEER_VECTORS_DIR; a checkout without it is incomplete)`,
    );
  }
  return dir;
}

/** Absolute path of one vector file, relative to the vectors folder; throws if it is missing. */
export function vectorPath(relative: string): string {
  const file = join(vectorsDir(), relative);
  if (!existsSync(file)) throw new Error(`peer vectors: missing vector file ${file}`);
  return file;
}

/** Bytes of one vector file (a fresh copy: tests may tamper with it in memory). */
export function readVector(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(relative)));
}

/** Text of one vector file. */
export function readVectorText(relative: string): string {
  return readFileSync(vectorPath(relative), "utf8");
}

/** Parsed JSON of one vector file. */
export function readVectorJson<T = unknown>(relative: string): T {
  return JSON.parse(readVectorText(relative)) as T;
}
