import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { peerTinyWeightsPath } from "./peer-tiny.js";
import { TOKEN_PATTERN } from "./tokenizer.js";

const script = fileURLToPath(new URL("../../scripts/train-peer-tiny.mjs", import.meta.url));

describe("scripts/train-peer-tiny.mjs", () => {
  it("reproduces the committed weights byte for byte", async () => {
    const out = join(await mkdtemp(join(tmpdir(), "peer-tiny-train-")), "peer-tiny.bin");
    await promisify(execFile)(process.execPath, [script, "--out", out]);
    const trained = await readFile(out);
    const committed = await readFile(peerTinyWeightsPath());
    expect(trained.length).toBe(committed.length);
    expect(trained.equals(committed)).toBe(true);
  });

  it("uses the same tokenizer as the runtime", async () => {
    const module: { TOKEN_PATTERN: RegExp } = await import(pathToFileURL(script).href);
    expect(module.TOKEN_PATTERN.source).toBe(TOKEN_PATTERN.source);
    expect(module.TOKEN_PATTERN.flags).toBe(TOKEN_PATTERN.flags);
  });
});
