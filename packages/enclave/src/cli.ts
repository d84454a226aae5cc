import { AttestError } from "@peercycles/attest";
import { packageVersion } from "./package-version.js";
import { SIMULATE_HELP, simulateCommand } from "./simulate-command.js";

const USAGE = `peer-enclave: worker-side tools for Peer Cycles enclaves.

Usage:
  peer-enclave --version
  peer-enclave simulate --model ID [--cpu tdx|sev-snp] [--gpus N] [--nonce HEX] --out FILE [--json]

${SIMULATE_HELP}`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-v" || command === "version") {
    process.stdout.write(`${packageVersion(import.meta.url, "@peercycles/enclave")}\n`);
    return 0;
  }
  if (command !== "simulate") {
    process.stderr.write(`peer-enclave: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await simulateCommand(rest, (text) => process.stdout.write(text));
  } catch (error) {
    if (!AttestError.isInstance(error)) throw error;
    process.stderr.write(`peer-enclave: ${error.message} [${error.code}]\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `peer-enclave: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 2;
  },
);
