import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** `@peercycles/<pkg>[/<sub>]` → the workspace source, as the tests resolve it. */
const workspaceSources: Plugin = {
  name: "workspace-sources",
  setup(builder) {
    builder.onResolve({ filter: /^@peercycles\/[a-z0-9-]+(\/[a-z0-9-]+)?$/ }, (args) => {
      const [, pkg, sub] = /^@peercycles\/([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/.exec(args.path) ?? [];
      const file = sub ? `${root}packages/${pkg}/src/${sub}/index.ts` : `${root}packages/${pkg}/src/index.ts`;
      // As installed packages: every @peercycles package declares "sideEffects": false.
      return existsSync(file) ? { path: file, sideEffects: false } : undefined;
    });
  },
};

/** Records every import of a Node built-in, with who imported it. */
function nodeBuiltins(found: string[]): Plugin {
  return {
    name: "node-builtins",
    setup(builder) {
      builder.onResolve(
        {
          filter:
            /^(node:|(fs|path|os|crypto|http|https|net|tls|zlib|stream|url|util|buffer|child_process|worker_threads)(\/|$))/,
        },
        (args) => {
          found.push(`${args.path} (from ${args.importer.replace(root, "")})`);
          return { path: args.path, external: true };
        },
      );
    },
  };
}

describe("browser bundle", () => {
  it("bundles for the browser with no Node built-in, payments included", async () => {
    const found: string[] = [];
    const result = await build({
      entryPoints: [fileURLToPath(new URL("./index.ts", import.meta.url))],
      bundle: true,
      platform: "browser",
      format: "esm",
      splitting: true,
      outdir: "/virtual",
      write: false,
      minify: true,
      conditions: ["browser", "import"],
      plugins: [workspaceSources, nodeBuiltins(found)],
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    expect(found).toEqual([]);
    const entry = result.outputFiles.find((file) => file.path.endsWith("/index.js"));
    expect(entry).toBeDefined();
    // Payments (x402, Solana) and the heavy attestation parsers load on first use, in their own chunks.
    const sizes = result.outputFiles.map((file) => ({
      path: file.path,
      gzip: gzipSync(file.contents).length,
    }));
    const total = sizes.reduce((n, file) => n + file.gzip, 0);
    expect(total).toBeGreaterThan(0);
    console.log(
      `browser bundle: entry ${(gzipSync(entry!.contents).length / 1024).toFixed(1)} KiB gzip, ` +
        `all chunks ${(total / 1024).toFixed(1)} KiB gzip in ${sizes.length} files`,
    );
  }, 60_000);

  it("an app that uses only peerFetch does not bundle the openai client", async () => {
    const result = await build({
      stdin: {
        contents: 'import { peerFetch } from "@peercycles/client"; globalThis.peerFetch = peerFetch;',
        resolveDir: root,
        loader: "ts",
      },
      bundle: true,
      platform: "browser",
      format: "esm",
      splitting: true,
      outdir: "/virtual",
      write: false,
      metafile: true,
      plugins: [workspaceSources],
      logLevel: "silent",
    });
    const bundled = Object.values(result.metafile.outputs).flatMap((output) => Object.keys(output.inputs));
    expect(bundled.some((input) => input.includes("packages/client/src/peer-fetch.ts"))).toBe(true);
    expect(bundled.some((input) => input.includes("node_modules/openai"))).toBe(false);
  }, 60_000);
});
