import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The page is plain JavaScript with JSDoc types over @peercycles/protocol's NetworkEvent: type-check
// it here, so a change to the wire types that the page does not follow fails the suite.
describe("the dashboard's scripts", () => {
  it("type-check against @peercycles/protocol (tsconfig.page.json)", () => {
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const project = join(fileURLToPath(new URL(".", import.meta.url)), "tsconfig.page.json");
    const result = spawnSync(process.execPath, [tsc, "-p", project, "--pretty", "false"], {
      encoding: "utf8",
    });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  }, 120_000);
});
