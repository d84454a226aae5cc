import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const path = fileURLToPath(new URL("../../../../docs/policies/development-simulated.json", import.meta.url));

/** `docs/policies/development-simulated.json`, as JSON, with `overrides` applied on top. */
export function developmentPolicy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { $schema: _schema, description: _description, ...policy } = JSON.parse(readFileSync(path, "utf8"));
  return { ...policy, ...overrides };
}
