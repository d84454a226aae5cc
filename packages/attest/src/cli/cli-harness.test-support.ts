import { vi } from "vitest";
import { runCommand } from "./io.js";

/**
 * Test-only: runs a `peer-attest verify <kind>` command the way `main.ts` does (an AttestError that
 * escapes → exit 2) and captures what it writes to stdout and stderr.
 */
export async function runCliCommand(
  kind: string,
  command: (args: readonly string[]) => Promise<number>,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await runCommand(kind, args.includes("--json"), () => command(args), {
      offline: args.includes("--offline"),
    });
    return { code, out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
