import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The version of the package a CLI ships in: read from the nearest `package.json` named `name` above
 * the running module (`dist/cli.js` when installed, `src/cli/*.ts` in a checkout), so `--version`
 * is always the published one and never a copy that can drift.
 */
export function packageVersion(moduleUrl: string, name: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === name && typeof manifest.version === "string") return manifest.version;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}
