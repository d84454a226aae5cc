import { readFileSync } from "node:fs";

/** The version of `@peercycles/node`, from its package.json (read from src/ and dist/ alike). */
export const NODE_VERSION: string = (() => {
  try {
    return (
      JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
    ).version;
  } catch {
    return "0.0.0";
  }
})();
