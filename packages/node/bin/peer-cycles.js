#!/usr/bin/env node
// Launcher for the built CLI. It lives outside dist/ so that package managers can link the bin of a
// workspace checkout before the first build; in a published package dist/ is always present.
import("../dist/bin.js").catch((error) => {
  if (error && error.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/bin.js")) {
    process.stderr.write("peer-cycles: this checkout is not built yet; run `npx -y pnpm@10 build` first\n");
    process.exit(2);
  }
  throw error;
});
