import { decodeBundle } from "../bundle/bundle.js";
import { DEFAULT_BUNDLE_POLICY, parseBundlePolicy } from "../bundle/policy.js";
import { type BundleVerificationResult, verifyBundle } from "../bundle/verify-bundle.js";
import { decodeEvidenceInput, toHex } from "../common/bytes.js";
import {
  COMMON_VERIFY_OPTIONS,
  EXIT_OK,
  exitCodeOf,
  hexOption,
  parseCommandArgs,
  parseNow,
  readInputFile,
  readJsonFile,
  renderReport,
  requireOption,
} from "./io.js";
import { shippedPath } from "./package-version.js";

const shipped = (relative: string) => shippedPath(import.meta.url, "@peercycles/attest", relative);

const HELP = `peer-attest verify bundle: verify an attestation bundle (CPU + GPU evidence bound to an enclave's keys).

Options:
  --bundle FILE     the bundle: CBOR bytes, or hex / base64 text of them (required)
  --policy FILE     bundle policy JSON. Examples ship with this package:
                      ${shipped("policies")}/*.json
                    schema: ${shipped("schemas/bundle-policy.schema.json")}
                    Without a policy no model is accepted and development roots are refused,
                    so the exit status is 1 unless the bundle fails earlier.
  --nonce HEX       expected client nonce (overrides the policy's clientNonce)
  --now ISO         verification time (ISO 8601 or Unix seconds; default: now)
  --offline         never use the network (collateral must be in the bundle)
  --json            print one JSON object

Exit status: 0 accepted, 1 rejected, 2 unusable input (including collateral unavailable).
`;

/** Byte fields as hex in JSON output; the raw SPDM structure of each GPU is left out (it is the input). */
function jsonReplacer(key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === "bigint") return value.toString();
  if (key === "evidence" || key === "measurementDetails" || key === "decodedBinding") return undefined;
  return value;
}

/** The JSON object printed by `--json`. */
export function bundleResultJson(result: BundleVerificationResult): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(
      {
        ok: result.ok,
        verified: result.verified,
        kind: result.kind,
        simulated: result.simulated,
        binding: result.binding,
        cpu: result.cpu,
        gpus: result.gpus,
        checks: result.checks,
        errors: result.errors,
        policyViolations: result.policyViolations,
      },
      jsonReplacer,
    ),
  ) as Record<string, unknown>;
}

/** Human report: the bundle's checks, then the CPU verifier's and each GPU verifier's checks. */
export function renderBundleReport(result: BundleVerificationResult): string {
  const b = result.binding;
  const parts = [
    renderReport(
      result.simulated ? "Attestation bundle (SIMULATED: development roots)" : "Attestation bundle",
      result,
      [
        ["simulated", result.simulated ? "yes (development roots, not hardware)" : "no"],
        ["model", b.model],
        ["weights digest", b.weightsDigest],
        ["issued at", b.issuedAt],
        ["client nonce", b.clientNonce ?? "none"],
        ["HPKE key", b.hpkePublicKey],
        ["signing key", b.signingPublicKey],
        [
          "CPU",
          `${result.cpu.kind} (${result.cpu.ok ? "accepted" : result.cpu.verified ? "policy not met" : "not verified"})`,
        ],
        ["GPUs", result.gpus.length],
      ],
      result.checks,
      result.errors.filter((e) => result.checks.some((c) => c.code === e.code)),
    ),
    renderReport(`  CPU evidence (${result.cpu.kind})`, result.cpu, [], result.cpu.checks, result.cpu.errors),
    ...result.gpus.map((gpu, i) =>
      renderReport(
        `  GPU ${i} evidence (${gpu.device?.leaf ?? "NVIDIA"})`,
        gpu,
        [
          ["driver", gpu.driverVersion],
          ["VBIOS", gpu.vbiosVersion],
        ],
        gpu.checks,
        gpu.errors,
      ),
    ),
  ];
  return parts.join("\n");
}

/** `peer-attest verify bundle --bundle FILE [--policy FILE] [--nonce HEX] [--now ISO] [--offline] [--json]`. */
export async function verifyBundleCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    bundle: { type: "string" },
    nonce: { type: "string" },
    ...COMMON_VERIFY_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  const clientNonce = hexOption(values.nonce, "--nonce"); // arguments first, then files
  const bundle = decodeBundle(
    decodeEvidenceInput(readInputFile(requireOption(values.bundle, "--bundle FILE"), "bundle")),
  );
  const policy =
    typeof values.policy === "string"
      ? parseBundlePolicy(readJsonFile(values.policy, "policy"))
      : DEFAULT_BUNDLE_POLICY;
  const now = parseNow(values.now as string | undefined);
  const result = await verifyBundle(bundle, {
    policy,
    now,
    ...(values.offline ? { offline: true } : {}),
    ...(clientNonce === undefined ? {} : { clientNonce }),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(bundleResultJson(result), null, 2)}\n`);
  else process.stdout.write(renderBundleReport(result));
  return exitCodeOf(result);
}
