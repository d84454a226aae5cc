#!/usr/bin/env node
// Bundles @peercycles/client for the dashboard's "try it" panel: a browser ES module at
// dashboard/vendor/peercycles-client.js (what the client loads on first use, such as the attestation
// verifiers, split into vendor/chunks/), so the page needs no build step and no CDN. Runs from the
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
const defaultOutdir = join(packageDir, "dashboard", "vendor");
const ENTRY_NAME = "peercycles-client";

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
 * Builds the browser bundle of @peercycles/client into `outdir` (replaced as a whole once the build
 * succeeded, so a running node never serves half a bundle).
 * @param {{ outdir?: string, minify?: boolean }} [options]
 * @returns {Promise<string>} the entry module written
 */
export async function buildDashboardClient(options = {}) {
  const outdir = options.outdir ?? defaultOutdir;
  const entry = join(packagesDir, "client", "src", "index.ts");
  if (!existsSync(entry)) throw new Error(`build-dashboard: ${entry} is missing`);
  const esbuild = await loadEsbuild();
  await mkdir(dirname(outdir), { recursive: true });
  const temporary = `${outdir}.${process.pid}.tmp`;
  const previous = `${outdir}.${process.pid}.old`;
  try {
    await esbuild.build({
      entryPoints: { [ENTRY_NAME]: entry },
      outdir: temporary,
      chunkNames: "chunks/[name]-[hash]",
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: options.minify ?? true,
      legalComments: "eof",
      define: { "process.env.NODE_ENV": '"production"' },
      plugins: [workspaceSources],
      logLevel: "warning",
    });
    if (existsSync(outdir)) await rename(outdir, previous);
    await rename(temporary, outdir);
  } finally {
    await rm(temporary, { recursive: true, force: true });
    await rm(previous, { recursive: true, force: true });
  }
  return join(outdir, `${ENTRY_NAME}.js`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  const entry = await buildDashboardClient();
  const ms = Math.round(performance.now() - started);
  console.log(`dashboard: ${entry.substring(packageDir.length)} (${ms} ms)`);
}
