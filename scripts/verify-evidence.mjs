#!/usr/bin/env node
// The main job, until the reference node exists: run `peer-attest` over the real evidence in
// vectors/ at the repository root (offline, at a pinned time inside each vector's collateral window)
// and show that each verdict is the one its source asserts. Prints the full report of the first case,
// then one row per case. Exits 1 if any verdict differs from the expected one.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const vectors = process.env.PEER_VECTORS_DIR
  ? isAbsolute(process.env.PEER_VECTORS_DIR)
    ? process.env.PEER_VECTORS_DIR
    : resolve(root, process.env.PEER_VECTORS_DIR)
  : join(root, "vectors");
if (!existsSync(join(vectors, "README.md"))) {
  console.error(
    `verify-evidence: real-evidence vectors not found at ${vectors} (expected vectors/ at the repository root, or PEER_VECTORS_DIR; a checkout without it is incomplete)`,
  );
  process.exit(2);
}
const cli = join(root, "packages/attest/dist/cli.js");

/** Newest modification time (ms) of the files under `path` (a file or a folder). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

// `--build`: build @peercycles/attest (the only package this job runs) when its dist is missing or
// older than its sources; an up-to-date build is not redone.
if (process.argv.includes("--build")) {
  const attest = join(root, "packages/attest");
  const inputs = ["src", "package.json", "tsup.config.ts", "../../docs/policies"].map((p) => join(attest, p));
  const stale = !existsSync(cli) || Math.max(...inputs.map(newest)) > statSync(cli).mtimeMs;
  if (stale) {
    console.log("verify-evidence: building @peercycles/attest (dist is missing or older than src)");
    const pnpm = spawnSync("npx", ["-y", "pnpm@10", "--filter", "@peercycles/attest", "run", "build"], {
      cwd: root,
      stdio: "inherit",
    });
    if (pnpm.status !== 0) process.exit(pnpm.status ?? 2);
  } else {
    console.log("verify-evidence: @peercycles/attest is built and up to date (no rebuild)");
  }
}
if (!existsSync(cli)) {
  console.error(`verify-evidence: ${cli} is missing; run the build first (pnpm build), or pass --build`);
  process.exit(2);
}
const v = (p) => join(vectors, p);
const cases = JSON.parse(readFileSync(join(root, "scripts/evidence-cases.json"), "utf8"));

function run(args) {
  const out = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

// Cases with collateral served by Intel PCS as separate files (go-tdx-guest's samples) get a PCS
// container JSON written to a temporary folder; the files are read as they are, never changed.
const scratch = mkdtempSync(join(tmpdir(), "peer-evidence-"));
function pcsContainer(c) {
  const field = (name, rel) => {
    const bytes = readFileSync(v(rel));
    const text = name === "pckCrl" || name === "rootCaCrl" ? bytes.toString("hex") : bytes.toString("utf8");
    return [name, text];
  };
  const file = join(scratch, `${c.name.replace(/[^a-z0-9]+/gi, "-")}.json`);
  writeFileSync(
    file,
    JSON.stringify(Object.fromEntries(Object.entries(c.pcsCollateral).map(([k, rel]) => field(k, rel)))),
  );
  return file;
}
for (const c of cases) {
  if (c.pcsCollateral) c.collateralFile = pcsContainer(c);
}
const expandCase = (c) =>
  c.args.map((a) => (a === "$collateral" ? c.collateralFile : a.startsWith("@") ? v(a.slice(1)) : a));

const first = cases[0];
console.log(
  `$ peer-attest ${expandCase(first)
    .map((a) => a.replace(vectors, relative(process.cwd(), vectors) || "."))
    .join(" ")}\n`,
);
process.stdout.write(run(expandCase(first)).stdout);

const rows = [];
let mismatches = 0;
for (const c of cases) {
  const out = run([...expandCase(c), "--json"]);
  let result;
  try {
    result = JSON.parse(out.stdout);
  } catch {
    result = {
      ok: false,
      verified: false,
      errors: [{ code: "cli_output_not_json", message: out.stderr.trim() }],
    };
  }
  const codes = (result.errors ?? []).map((e) => e.code);
  const problems = [];
  if (out.status !== c.expect.exit) problems.push(`exit ${out.status} (expected ${c.expect.exit})`);
  for (const [key, want] of Object.entries(c.expect)) {
    if (key === "exit" || key === "code") continue;
    if (JSON.stringify(result[key]) !== JSON.stringify(want)) {
      problems.push(`${key}=${JSON.stringify(result[key])} (expected ${JSON.stringify(want)})`);
    }
  }
  if (c.expect.code && !codes.includes(c.expect.code))
    problems.push(`missing error ${c.expect.code} (got ${codes.join(",") || "none"})`);
  if (problems.length > 0) mismatches++;
  const verdict = result.ok ? "accepted" : result.verified ? "rejected (policy)" : "rejected";
  const detail = [result.tcbStatus, ...codes.slice(0, 2)].filter(Boolean).join(" ");
  rows.push([problems.length === 0 ? "✓" : "✗", c.kind, c.name, verdict, detail, problems.join("; ")]);
}

console.log("\nAll real-evidence vectors (offline, pinned time):\n");
const widths = [1, 8, 52, 18, 44];
for (const r of rows) {
  console.log(
    `  ${r
      .slice(0, 5)
      .map((cell, i) => String(cell).padEnd(widths[i]))
      .join("  ")}${r[5] ? `  <- ${r[5]}` : ""}`,
  );
}
console.log(`\n${rows.length - mismatches} of ${rows.length} verdicts as the sources assert.`);
process.exit(mismatches === 0 ? 0 : 1);
