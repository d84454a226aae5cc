/**
 * `peer-attest verify <kind>`: each kind's command takes the remaining argv and returns an exit code.
 * Each is imported on first use, so `peer-attest --help` or `verify tdx` loads no SEV-SNP, NVIDIA or
 * bundle code (and none of their dependencies).
 */
export const verifyCommands: Record<string, (args: readonly string[]) => Promise<number>> = {
  tdx: async (args) => (await import("./verify-tdx.js")).verifyTdxCommand(args),
  "sev-snp": async (args) => (await import("./verify-sev-snp.js")).verifySevSnpCommand(args),
  nvidia: async (args) => (await import("./verify-nvidia.js")).verifyNvidiaCommand(args),
  bundle: async (args) => (await import("./verify-bundle.js")).verifyBundleCommand(args),
};
