/**
 * The README's main job: builds what is stale, then runs `peer-cycles node --dev` (extra arguments
 * are passed on, e.g. `pnpm start --port 0 --data /tmp/node`).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BuildError, ensureBuilt } from "./lib/ensure-built.mjs";

try {
  ensureBuilt(["@peercycles/node"]);
} catch (error) {
  if (!(error instanceof BuildError)) throw error;
  process.stderr.write(`start: ${error.message}\n`);
  process.exit(1);
}
const bin = fileURLToPath(new URL("../packages/node/dist/bin.js", import.meta.url));
const child = spawn(process.execPath, [bin, "node", "--dev", ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
