/**
 * Builds the workspace packages whose `dist` is missing or older than their sources, in dependency
 * order, and nothing else: the main job stays fast on a warm checkout and correct after an edit.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry === "dist") continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

function oldest(path) {
  if (!existsSync(path)) return 0;
  let earliest = Number.POSITIVE_INFINITY;
  for (const entry of readdirSync(path)) {
    const full = join(path, entry);
    const stat = statSync(full);
    earliest = Math.min(earliest, stat.isDirectory() ? oldest(full) : stat.mtimeMs);
  }
  return earliest === Number.POSITIVE_INFINITY ? 0 : earliest;
}

function workspacePackages() {
  const dir = join(root, "packages");
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, "package.json")))
    .map((name) => {
      const manifest = JSON.parse(readFileSync(join(dir, name, "package.json"), "utf8"));
      const deps = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies };
      return {
        name: manifest.name,
        dir: join(dir, name),
        deps: Object.keys(deps).filter((d) => d.startsWith("@peercycles/")),
        buildable: Boolean(manifest.scripts?.build),
      };
    });
}

/** The packages `targets` need (themselves included), dependencies first. */
function closure(targets, all) {
  const byName = new Map(all.map((p) => [p.name, p]));
  const order = [];
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name) || !byName.has(name)) return;
    seen.add(name);
    for (const dep of byName.get(name).deps) visit(dep);
    order.push(byName.get(name));
  };
  for (const target of targets) visit(target);
  return order;
}

/** A package failed to build; its own output has been printed already. */
export class BuildError extends Error {}

/** How to run pnpm from a script: the pnpm that runs us (`npm_execpath`), else the one on PATH. */
function pnpmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath) && /\.(c|m)?js$/.test(execPath))
    return [process.execPath, [execPath]];
  return ["pnpm", []];
}

/** Builds what is stale among `targets` and their workspace dependencies. Prints one line per build. */
export function ensureBuilt(targets, { log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const all = workspacePackages();
  const rebuilt = new Set();
  for (const pkg of closure(targets, all)) {
    if (!pkg.buildable) continue;
    const dist = join(pkg.dir, "dist");
    const sources = Math.max(
      newest(join(pkg.dir, "src")),
      newest(join(pkg.dir, "package.json")),
      newest(join(pkg.dir, "tsup.config.ts")),
    );
    const depChanged = pkg.deps.some((d) => rebuilt.has(d));
    if (!depChanged && existsSync(dist) && oldest(dist) >= sources) continue;
    log(`building ${pkg.name}…`);
    const started = Date.now();
    const [command, prefix] = pnpmCommand();
    try {
      execFileSync(command, [...prefix, "--filter", pkg.name, "run", "build"], {
        cwd: root,
        stdio: ["ignore", "ignore", "inherit"],
        env: process.env,
      });
    } catch {
      throw new BuildError(`building ${pkg.name} failed (its output is above)`);
    }
    log(`built ${pkg.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    rebuilt.add(pkg.name);
  }
  return [...rebuilt];
}
