import { cpSync, rmSync } from "node:fs";
import { defineConfig } from "tsup";

/**
 * The example policies live in the repository's docs/policies/ (one copy, edited there); the package
 * ships them in policies/ so an npm user has the files the CLI help and the docs point at.
 */
function copyExamplePolicies(): void {
  rmSync("policies", { recursive: true, force: true });
  cpSync("../../docs/policies", "policies", { recursive: true });
}

/** The package's subpaths, built twice: the shared build (bundlers, browsers, CommonJS) and Node's. */
const SUBPATHS = {
  index: "src/index.ts",
  "tdx/index": "src/tdx/index.ts",
  "sev-snp/index": "src/sev-snp/index.ts",
  "nvidia/index": "src/nvidia/index.ts",
  "bundle/index": "src/bundle/index.ts",
};

export default defineConfig([
  {
    entry: SUBPATHS,
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "es2022",
    platform: "neutral",
    treeshake: true,
    // `#asn1js` (package.json "imports") is asn1js' ES module build for `import`, its CommonJS build
    // for `require`: Node would otherwise load the CommonJS build (its `main`) and run its CJS lexer
    // over 140 kB at every start. It stays an external import, resolved in the user's install.
    external: ["#asn1js"],
    onSuccess: async () => copyExamplePolicies(),
  },
  {
    // The ES module build Node loads (package.json exports, "node" condition): the same entries with
    // asn1js bundled in, with its two helpers (pvtsutils, pvutils) from their ES module builds.
    // Imported from node_modules, asn1js' ES build pulls those two in as CommonJS (they have no
    // "exports"), and Node's CommonJS-from-ESM path (its loader, its lexer) costs every subpath about
    // 10 ms at import, more than asn1js itself. Bundlers take the build above, where asn1js stays an
    // import and is shared with pkijs (which the NVIDIA OCSP path loads), not duplicated.
    entry: SUBPATHS,
    outDir: "dist/node",
    format: ["esm"],
    sourcemap: true,
    target: "es2022",
    platform: "neutral",
    treeshake: true,
    noExternal: ["#asn1js", "@noble/hashes/sha2.js", "cbor-x/encode"],
    esbuildOptions(options) {
      options.mainFields = ["module", "main"];
      // SHA-2 on node:crypto in the Node build (src/common/node-sha2.ts): @noble/hashes costs ~10 ms at
      // import. cbor-x's encoder is bundled like asn1js: ~10 ms less at import than resolving and
      // loading it as its own module (its notice is kept; a cbor-x fix needs a release of this package).
      options.alias = { "@noble/hashes/sha2.js": "./src/common/node-sha2.ts" };
    },
  },
  {
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    sourcemap: true,
    target: "node20",
    platform: "node",
    banner: { js: "#!/usr/bin/env node" },
    // Each `verify <kind>` command is its own chunk, loaded on use: `--help` and `--version` load none.
    splitting: true,
    // The CLI is an application: its dependencies are bundled, from their ES module builds (asn1js and
    // pvtsutils point `main` at CommonJS, which Node would otherwise parse with its CJS lexer at start).
    noExternal: [/.*/],
    esbuildOptions(options) {
      options.chunkNames = "cli-chunks/[name]-[hash]";
      options.mainFields = ["module", "main"];
      // Whitespace and syntax only (names kept, so stack traces and error names read as in the source):
      // every start compiles the chunks it loads, and `verify tdx` loads ~450 kB of bundled source.
      options.minifyWhitespace = true;
      options.minifySyntax = true;
    },
  },
]);
