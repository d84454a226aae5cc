import { decodeEvidenceInput } from "../common/bytes.js";
import { AttestArgumentError } from "../common/errors.js";
import { parseNvidiaPolicy } from "../nvidia/policy.js";
import { type NvidiaVerificationResult, verifyNvidiaEvidence } from "../nvidia/verify.js";
import {
  allowUncheckedOption,
  COMMON_VERIFY_OPTIONS,
  EXIT_OK,
  exitCodeOf,
  parseCommandArgs,
  parseNow,
  readInputFile,
  readJsonFile,
  renderReport,
  requireOption,
} from "./io.js";
import { shippedPath } from "./package-version.js";

const shipped = (relative: string) => shippedPath(import.meta.url, "@peercycles/attest", relative);

const HELP = `peer-attest verify nvidia: verify NVIDIA GPU or NVSwitch SPDM evidence.

Options:
  --evidence FILE      SPDM GET_MEASUREMENTS request + signed response: raw bytes or hex text (required)
  --cert-chain FILE    device certificate chain, leaf first: PEM, or base64 of PEM (required)
  --rim FILE           a RIM (SWID XML); repeat for driver and VBIOS RIMs
  --nonce HEX          the 32-byte nonce the evidence must answer (required unless
                       --allow-unchecked nonce)
  --allow-unchecked NAME[,NAME]  accept by name what was not checked: nonce (freshness),
                       measurements (no or incomplete RIMs); echoed as "unchecked"
  --offline            never use the network: no OCSP (revocationChecked: false), no RIM service
  --policy FILE        policy JSON (${shipped("docs/nvidia.md")},
                       schema ${shipped("schemas/nvidia-policy.schema.json")})
  --now ISO            verification time (ISO 8601 or Unix seconds; default: now)
  --json               print one JSON object

Without --rim and without --offline, RIMs are fetched from NVIDIA's RIM service.
Strict by default: evidence whose freshness (no --nonce) or measurements (no matching driver and
VBIOS RIMs) were not checked is rejected (exit 1) unless --allow-unchecked names them.
Exit status: 0 accepted, 1 rejected, 2 unusable input (including collateral unavailable).
`;

/** The JSON object printed by `--json`: the documented fields first, then details. */
export function nvidiaResultJson(result: NvidiaVerificationResult): Record<string, unknown> {
  return {
    ok: result.ok,
    verified: result.verified,
    kind: result.kind,
    device: result.device,
    nonce: result.nonce,
    driverVersion: result.driverVersion,
    vbiosVersion: result.vbiosVersion,
    revocationChecked: result.revocationChecked,
    measurements: result.measurements,
    errors: result.errors,
    checks: result.checks,
    mode: result.mode,
    rims: result.rims,
    trailingBytes: result.evidence.trailingBytes,
    unchecked: result.unchecked,
    policyViolations: result.policyViolations,
  };
}

/** `peer-attest verify nvidia --evidence FILE --cert-chain FILE [--rim FILE]... [--nonce HEX] [--offline] [--policy FILE] [--now ISO] [--json]`. */
export async function verifyNvidiaCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    evidence: { type: "string" },
    "cert-chain": { type: "string" },
    rim: { type: "string", multiple: true },
    nonce: { type: "string" },
    "allow-unchecked": { type: "string", multiple: true },
    ...COMMON_VERIFY_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  const evidence = decodeEvidenceInput(
    readInputFile(requireOption(values.evidence, "--evidence FILE"), "evidence"),
  );
  const certChain = new TextDecoder().decode(
    readInputFile(requireOption(values["cert-chain"], "--cert-chain FILE"), "certificate chain"),
  );
  const rimFiles = (values.rim as string[] | undefined) ?? [];
  const rims = rimFiles.map((file) => new TextDecoder().decode(readInputFile(file, "RIM")));
  const filePolicy =
    typeof values.policy === "string" ? parseNvidiaPolicy(readJsonFile(values.policy, "policy")) : {};
  const allowUnchecked = allowUncheckedOption(values["allow-unchecked"], ["nonce", "measurements"] as const);
  const policy = {
    ...filePolicy,
    ...(allowUnchecked.includes("nonce") ? { requireNonce: false } : {}),
    ...(allowUnchecked.includes("measurements") ? { requireRimMatch: false } : {}),
  };
  if (typeof values.nonce === "string" && !/^(0x)?[0-9a-fA-F]{64}$/.test(values.nonce)) {
    throw new AttestArgumentError("cli_arguments_invalid", "--nonce must be 32 bytes of hex");
  }
  const offline = values.offline === true;
  const result = await verifyNvidiaEvidence(evidence, {
    certChain,
    ...(rimFiles.length > 0 ? { rims } : {}),
    nonce: values.nonce as string | undefined,
    now: parseNow(values.now as string | undefined),
    policy,
    offline,
    // The network is reached only here, at the CLI boundary, and never with --offline.
    fetch: offline ? undefined : globalThis.fetch,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(nvidiaResultJson(result), null, 2)}\n`);
  else {
    const title = `NVIDIA ${result.device?.leaf ?? "device"} SPDM evidence`;
    const facts: Array<readonly [string, string | number | boolean | null]> = [
      ["architecture", result.device?.architecture ?? null],
      ["hardware model", result.device?.hardwareModel ?? null],
      ["ueid", result.device?.ueid ?? null],
      ["nonce", result.nonce],
      ["driver", result.driverVersion],
      ["VBIOS", result.vbiosVersion],
      ["mode", result.mode],
      ["revocation checked", result.revocationChecked],
      [
        "measurements",
        result.measurements
          ? `${result.measurements.matched}/${result.measurements.total} match`
          : "not compared (no RIMs)",
      ],
      [
        "mismatched indices",
        result.measurements && result.measurements.mismatched.length > 0
          ? result.measurements.mismatched.join(", ")
          : null,
      ],
    ];
    process.stdout.write(renderReport(title, result, facts, result.checks, result.errors));
  }
  return exitCodeOf(result);
}
