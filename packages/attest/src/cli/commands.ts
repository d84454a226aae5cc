import { verifyBundleCommand } from "./verify-bundle.js";
import { verifyNvidiaCommand } from "./verify-nvidia.js";
import { verifySevSnpCommand } from "./verify-sev-snp.js";
import { verifyTdxCommand } from "./verify-tdx.js";

/** `peer-attest verify <kind>`: each kind's command takes the remaining argv and returns an exit code. */
export const verifyCommands: Record<string, (args: readonly string[]) => Promise<number>> = {
  tdx: verifyTdxCommand,
  "sev-snp": verifySevSnpCommand,
  nvidia: verifyNvidiaCommand,
  bundle: verifyBundleCommand,
};
