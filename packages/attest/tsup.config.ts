import { cpSync, rmSync } from "node:fs";
import { defineConfig, type Options } from "tsup";

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

/** The `verify <kind>` commands, in src/cli/ and, built, in dist/cli-commands/. */
const CLI_COMMANDS = ["verify-tdx", "verify-sev-snp", "verify-nvidia", "verify-bundle"];

/**
 * What both CLI builds share: an application build, its dependencies bundled, one file per entry. No
 * source maps: identifiers are kept (whitespace and syntax minification only), so a stack trace reads
 * as the source does, and maps of four self-contained commands would add ~7 MB to the package.
 */
const CLI_BUILD = {
  format: ["esm"],
  sourcemap: false,
  target: "node20",
  platform: "node",
  splitting: false,
  // The CLI is an application: its dependencies are bundled, from their ES module builds (asn1js and
  // pvtsutils point `main` at CommonJS, which Node would otherwise parse with its CJS lexer at start).
  noExternal: [/.*/],
} satisfies Options;

function cliEsbuildOptions(options: Parameters<NonNullable<Options["esbuildOptions"]>>[0]): void {
  options.mainFields = ["module", "main"];
  // Whitespace and syntax only (names kept, so stack traces and error names read as in the source):
  // every start compiles the file it loads, and `verify tdx` loads ~230 kB of bundled source.
  options.minifyWhitespace = true;
  options.minifySyntax = true;
}

/**
 * The front's `import("./verify-<kind>.js")` stays an import of the built command module
 * (dist/cli-commands/), instead of esbuild inlining the command, and everything it uses, into cli.js.
 */
const CLI_COMMANDS_EXTERNAL: NonNullable<Options["esbuildPlugins"]>[number] = {
  name: "cli-commands-external",
  setup(build) {
    const filter = new RegExp(`^\\./(${CLI_COMMANDS.join("|")})\\.js$`);
    build.onResolve({ filter }, (args) => ({ path: `./cli-commands/${args.path.slice(2)}`, external: true }));
  },
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
    // The CLI's front (usage, --version, argument dispatch): no verifier code. Each `verify <kind>`
    // command is a module of its own, imported on use (see below), so `--help` loads none of them.
    entry: { cli: "src/cli/main.ts" },
    ...CLI_BUILD,
    banner: { js: "#!/usr/bin/env node" },
    esbuildPlugins: [CLI_COMMANDS_EXTERNAL],
    esbuildOptions: cliEsbuildOptions,
  },
  {
    // One self-contained module per `verify <kind>` command, its dependencies bundled in: a command
    // loads one file. (Split into shared chunks, `verify tdx` loaded ten modules, and Node's ES module
    // loader cost ~10 ms more than compiling the same code from one file; the price is the shared code
    // repeated in each command's file.)
    entry: Object.fromEntries(CLI_COMMANDS.map((name) => [`cli-commands/${name}`, `src/cli/${name}.ts`])),
    ...CLI_BUILD,
    esbuildOptions: cliEsbuildOptions,
  },
]);
