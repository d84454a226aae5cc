import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fromHex, toHex } from "@peercycles/attest";
import { bindingToJson } from "@peercycles/attest/bundle";
import { EnclaveError } from "./errors.js";
import { simulateEnclave } from "./simulator/simulate-enclave.js";

/** Help text of `peer-enclave simulate`. */
export const SIMULATE_HELP = `peer-enclave simulate: write an attestation bundle from a SIMULATED enclave (development roots).

Usage:
  peer-enclave simulate --model ID [--cpu tdx|sev-snp] [--gpus N] [--nonce HEX] --out FILE [--json]

Options:
  --model ID        model id to bind (required)
  --cpu KIND        tdx (default) or sev-snp
  --gpus N          simulated H100 GPUs, 0..8 (default 1)
  --nonce HEX       client nonce to bind (8..64 bytes)
  --out FILE        where to write the bundle (CBOR) (required)
  --json            print what was written as JSON

The evidence is in the real formats but signed by development roots made for this run: it is
accepted only by a policy with "allowSimulated": true (docs/policies/development-simulated.json).
`;

/** `peer-enclave simulate ...`: writes the bundle and returns the lines it printed. */
export async function simulateCommand(
  args: readonly string[],
  print: (text: string) => void,
): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        model: { type: "string" },
        cpu: { type: "string" },
        gpus: { type: "string" },
        nonce: { type: "string" },
        out: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (cause) {
    throw new EnclaveError("enclave_argument_invalid", (cause as Error).message, { cause });
  }
  if (values.help) {
    print(SIMULATE_HELP);
    return 0;
  }
  if (typeof values.model !== "string")
    throw new EnclaveError("enclave_argument_invalid", "--model ID is required");
  if (typeof values.out !== "string")
    throw new EnclaveError("enclave_argument_invalid", "--out FILE is required");
  const cpu = (values.cpu ?? "tdx") as string;
  if (cpu !== "tdx" && cpu !== "sev-snp")
    throw new EnclaveError("enclave_argument_invalid", `--cpu must be tdx or sev-snp, got "${cpu}"`);
  const gpus = values.gpus === undefined ? 1 : Number(values.gpus);
  if (!Number.isInteger(gpus) || gpus < 0 || gpus > 8)
    throw new EnclaveError("enclave_argument_invalid", "--gpus must be an integer 0..8");
  const clientNonce = typeof values.nonce === "string" ? fromHex(values.nonce) : undefined;
  const enclave = await simulateEnclave({
    model: values.model,
    cpu,
    gpus,
    ...(clientNonce ? { clientNonce } : {}),
  });
  try {
    writeFileSync(values.out, enclave.bytes);
  } catch (cause) {
    throw new EnclaveError(
      "enclave_argument_invalid",
      `cannot write ${values.out}: ${(cause as Error).message}`,
      { cause },
    );
  }
  const binding = bindingToJson(enclave.bundle.binding);
  const summary = {
    out: values.out,
    bytes: enclave.bytes.length,
    simulated: true,
    cpu,
    cpuEvidenceBytes: enclave.bundle.cpu.evidence.length,
    gpus: enclave.bundle.gpus.length,
    binding,
    developmentRoots: Object.fromEntries(
      Object.entries(enclave.bundle.developmentRoots ?? {}).map(([k, v]) => [k, (v as Uint8Array[]).length]),
    ),
  };
  if (values.json) {
    print(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `wrote ${values.out} (${enclave.bytes.length} bytes): attestation bundle from a SIMULATED enclave`,
    `  model           ${binding.model}`,
    `  weights digest  ${binding.weightsDigest}`,
    `  issued at       ${binding.issuedAt}`,
    `  client nonce    ${binding.clientNonce ?? "none"}`,
    `  HPKE key        ${binding.hpkePublicKey}`,
    `  signing key     ${binding.signingPublicKey}`,
    `  CPU evidence    ${cpu === "tdx" ? "TDX v4 quote + DCAP collateral" : "SEV-SNP v3 report + VCEK/ASK/ARK + CRL"} (${enclave.bundle.cpu.evidence.length} bytes), report_data ${binding.reportData.slice(0, 16)}…`,
    `  GPU evidence    ${enclave.bundle.gpus.length} × SPDM GET_MEASUREMENTS (nonce ${binding.gpuNonce.slice(0, 16)}…)`,
    `  binding         ${toHex(enclave.bundle.binding).slice(0, 32)}… (${enclave.bundle.binding.length} bytes)`,
    "  development roots are new for this run; accept only with a policy that sets allowSimulated: true",
    "",
  ];
  print(lines.join("\n"));
  return 0;
}
