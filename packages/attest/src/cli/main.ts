import { verifyCommands } from "./commands.js";
import { EXIT_UNUSABLE, runCommand } from "./io.js";
import { packageVersion } from "./package-version.js";

const USAGE = `peer-attest: verify confidential-computing evidence offline or online.

Usage:
  peer-attest --version
  peer-attest verify tdx      --quote FILE [--collateral FILE] [--signatures-only] [--offline] [--policy FILE] [--now ISO] [--json]
  peer-attest verify sev-snp  --report FILE --vcek FILE [--chain FILE] [--product milan|genoa|turin] [--crl FILE] [--offline] [--policy FILE] [--now ISO] [--json]
  peer-attest verify nvidia   --evidence FILE --cert-chain FILE [--rim FILE]... [--nonce HEX] [--offline] [--policy FILE] [--now ISO] [--json]
  peer-attest verify bundle   --bundle FILE [--policy FILE] [--nonce HEX] [--offline] [--now ISO] [--json]

Exit status: 0 accepted, 1 rejected (not genuine, or policy not met), 2 unusable input.
Run "peer-attest verify KIND --help" for the options of one kind.
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, kind, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return command === undefined ? EXIT_UNUSABLE : 0;
  }
  if (command === "--version" || command === "-v" || command === "version") {
    process.stdout.write(`${packageVersion(import.meta.url, "@peercycles/attest")}\n`);
    return 0;
  }
  if (command !== "verify") {
    process.stderr.write(`peer-attest: unknown command "${command}"\n\n${USAGE}`);
    return EXIT_UNUSABLE;
  }
  const run = kind === undefined ? undefined : verifyCommands[kind];
  if (!run) {
    process.stderr.write(
      `peer-attest: unknown evidence kind "${kind ?? ""}"; expected one of ${Object.keys(verifyCommands).join(", ")}\n`,
    );
    return EXIT_UNUSABLE;
  }
  const json = rest.includes("--json");
  return runCommand(kind as string, json, () => run(rest), { offline: rest.includes("--offline") });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `peer-attest: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = EXIT_UNUSABLE;
  },
);
