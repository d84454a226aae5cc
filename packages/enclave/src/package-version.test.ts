import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packageVersion } from "./package-version.js";

describe("packageVersion (peer-enclave --version)", () => {
  it("reads the version of the named package above the running module", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(packageVersion(import.meta.url, "@peercycles/enclave")).toBe(manifest.version);
  });
  it("says unknown rather than another package's version", () => {
    expect(packageVersion(import.meta.url, "@peercycles/no-such-package")).toBe("unknown");
  });
});
