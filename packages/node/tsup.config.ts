import { defineConfig } from "tsup";

// The node runs on Node only and is ESM only: it reads files beside its modules (the model's
// weights, policies, the dashboard) through import.meta.url.
export default defineConfig({
  entry: { index: "src/index.ts", bin: "src/bin.ts", "enclave-process": "src/worker/enclave-process.ts" },
  format: ["esm"],
  dts: { entry: { index: "src/index.ts" } },
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
  treeshake: true,
});
