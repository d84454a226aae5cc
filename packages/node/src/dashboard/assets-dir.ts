import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The folder this module's code lives in, from `src/dashboard/` (tests, tsx) or `dist/` (ESM or CJS). */
function moduleDirectory(): string {
  // CJS builds have `__dirname` and an empty `import.meta`; ESM has `import.meta.url` and no `__dirname`.
  if (typeof __dirname === "string") return __dirname;
  return dirname(fileURLToPath(import.meta.url));
}

/**
 * The absolute path of the dashboard's static files (`packages/node/dashboard/`: `index.html`,
 * `dashboard.js`, `dashboard.css`, `vendor/peercycles-client.js`). Works from the sources (`src/`) and
 * from the built package (`dist/`): it is the `dashboard` folder beside the nearest `package.json`
 * above this module.
 *
 * @throws Error when the package ships no dashboard (a broken install).
 *
 * @example
 * ```ts
 * import { readFile } from "node:fs/promises";
 * const html = await readFile(join(dashboardAssetsDir(), "index.html"), "utf8");
 * ```
 */
export function dashboardAssetsDir(): string {
  if (cached) return cached;
  let directory = moduleDirectory();
  for (let level = 0; level < 5; level++) {
    const candidate = join(directory, "dashboard");
    if (existsSync(join(directory, "package.json")) && existsSync(join(candidate, "index.html"))) {
      cached = candidate;
      return candidate;
    }
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  throw new Error(
    `@peercycles/node: the dashboard's files are missing (looked for dashboard/index.html above ${moduleDirectory()})`,
  );
}
