#!/usr/bin/env node
// Runs the whole vitest suite and ends with one plain summary line ("Tests: N passed, N failed,
// N skipped") that CI and people can read without knowing vitest's output format. The exit status is
// vitest's own.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const reportDir = join(root, "node_modules", ".cache", "peercycles");
const report = join(reportDir, "vitest-report.json");
mkdirSync(reportDir, { recursive: true });
rmSync(report, { force: true });

const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
const result = spawnSync(
  process.execPath,
  [
    vitest,
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: "inherit" },
);

let summary;
try {
  const data = JSON.parse(readFileSync(report, "utf8"));
  const skipped = (data.numPendingTests ?? 0) + (data.numTodoTests ?? 0);
  summary = `Tests: ${data.numPassedTests} passed, ${data.numFailedTests} failed, ${skipped} skipped`;
  if (data.numTotalTests === 0) summary += " (no tests ran)";
} catch {
  summary = "Tests: 0 passed, 1 failed (vitest wrote no report)";
}
console.log(`\n${summary}`);
process.exit(result.status ?? 1);
