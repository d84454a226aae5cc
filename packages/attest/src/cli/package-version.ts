import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The version of the package a CLI ships in: read from the nearest `package.json` named `name` above
 * the running module (`dist/cli.js` when installed, `src/cli/*.ts` in a checkout), so `--version`
 * is always the published one and never a copy that can drift.
 */
export function packageVersion(moduleUrl: string, name: string): string {
  return findPackage(moduleUrl, name)?.version ?? "unknown";
}

/**
 * The absolute path of a file shipped in the package (`policies/…`, `docs/…`, `schemas/…`), for
 * help texts that point at the copy an npm user has, not at a path in this repository.
 */
export function shippedPath(moduleUrl: string, name: string, relative: string): string {
  const found = findPackage(moduleUrl, name);
  return found ? join(found.dir, relative) : relative;
}

function findPackage(moduleUrl: string, name: string): { dir: string; version: string } | undefined {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === name && typeof manifest.version === "string")
        return { dir, version: manifest.version };
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
