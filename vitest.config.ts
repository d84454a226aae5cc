import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * Tests run against the TypeScript sources, not the built packages, so `pnpm test` needs no build.
 * `@peercycles/<pkg>` maps to `packages/<pkg>/src/index.ts`, `@peercycles/<pkg>/<sub>` to
 * `packages/<pkg>/src/<sub>/index.ts`.
 */
function workspaceSource(id: string): string {
  const match = /^@peercycles\/([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/.exec(id);
  if (!match) return id;
  const [, pkg, sub] = match;
  if (pkg === "internal-vectors") return `${root}internal/vectors/src/index.ts`;
  const file = sub ? `${root}packages/${pkg}/src/${sub}/index.ts` : `${root}packages/${pkg}/src/index.ts`;
  return existsSync(file) ? file : id;
}

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@peercycles\/[a-z0-9-]+(?:\/[a-z0-9-]+)?$/,
        replacement: "$&",
        customResolver: (id) => workspaceSource(id),
      },
    ],
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "internal/*/src/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 30_000,
    pool: "forks",
  },
});
