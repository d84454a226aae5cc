#!/usr/bin/env node
// Bundles @peercycles/client for the dashboard's "try it" panel: one browser ES module at
// dashboard/vendor/peercycles-client.js, so the page needs no build step and no CDN. Runs from the
// package's `build` script (after tsup) and, once, from a node started on the sources when the bundle
// is missing. The client is bundled from its TypeScript sources (the workspace's `src/index.ts`), so it
// does not matter whether @peercycles/client was built first.
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const packagesDir = dirname(packageDir);
const defaultOutfile = join(packageDir, "dashboard", "vendor", "peercycles-client.js");

/** esbuild comes with tsup (a devDependency of the workspace root). */
async function loadEsbuild() {
  const require = createRequire(import.meta.url);
  const tsup = require.resolve("tsup");
  return import(createRequire(tsup).resolve("esbuild"));
}

/** `@peercycles/<pkg>` and `@peercycles/<pkg>/<sub>` resolve to the workspace's TypeScript sources. */
const workspaceSources = {
  name: "peercycles-workspace-sources",
  setup(build) {
    build.onResolve({ filter: /^@peercycles\/[a-z0-9-]+(?:\/[a-z0-9-]+)?$/ }, (args) => {
      const [, name, sub] = /^@peercycles\/([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/.exec(args.path);
      const file = sub
        ? join(packagesDir, name, "src", sub, "index.ts")
        : join(packagesDir, name, "src", "index.ts");
      return existsSync(file) ? { path: file } : undefined;
    });
  },
};

/**
 * Builds the browser bundle of @peercycles/client.
 * @param {{ outfile?: string, minify?: boolean }} [options]
 * @returns {Promise<string>} the path written
 */
export async function buildDashboardClient(options = {}) {
  const outfile = options.outfile ?? defaultOutfile;
  const entry = join(packagesDir, "client", "src", "index.ts");
  if (!existsSync(entry)) throw new Error(`build-dashboard: ${entry} is missing`);
  const esbuild = await loadEsbuild();
  await mkdir(dirname(outfile), { recursive: true });
  const temporary = `${outfile}.${process.pid}.tmp`;
  try {
    await esbuild.build({
      entryPoints: [entry],
      outfile: temporary,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: options.minify ?? true,
      legalComments: "eof",
      define: { "process.env.NODE_ENV": '"production"' },
      plugins: [workspaceSources],
      logLevel: "warning",
    });
    await rename(temporary, outfile);
  } finally {
    await rm(temporary, { force: true });
  }
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  const outfile = await buildDashboardClient();
  const ms = Math.round(performance.now() - started);
  console.log(`dashboard: ${outfile.substring(packageDir.length)} (${ms} ms)`);
}
