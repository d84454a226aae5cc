import { decodeEvidenceInput } from "../common/bytes.js";
import { AttestArgumentError } from "../common/errors.js";
import { SEV_SNP_PRODUCTS, type SevSnpProduct, verifySevSnpReport } from "../sev-snp/index.js";
import {
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

const HELP = `peer-attest verify sev-snp: verify an AMD SEV-SNP attestation report.

Options:
  --report FILE     the 1184-byte report (raw, hex or base64); bytes after it are reported as
                    trailingBytes and ignored unless the policy sets rejectTrailingBytes
  --vcek FILE       the VCEK or VLEK (DER or PEM; a PEM may also hold the ASK/ASVK and ARK).
                    Without it the VCEK is fetched from AMD KDS (not with --offline).
  --chain FILE      ASK+ARK (or ASVK+ARK) chain, PEM or DER (default: the pinned AMD certificates)
  --product NAME    milan | genoa | turin (default: from the report CPUID or the certificate)
  --crl FILE        AMD KDS CRL (DER or PEM), checked when given
  --offline         never touch the network
  --policy FILE     JSON policy (see ${shipped("docs/sev-snp.md")});
                    default forbids debug and migration agents
  --now ISO         verification time (ISO 8601 or Unix seconds; default: now)
  --json            print the result as JSON

Exit status: 0 accepted, 1 rejected, 2 unusable input.
`;

/**
 * `peer-attest verify sev-snp --report FILE --vcek FILE [--chain FILE] [--product milan|genoa|turin]
 * [--crl FILE] [--offline] [--policy FILE] [--now ISO] [--json]`.
 *
 * Prints the ✓/✗ table (or JSON with `--json`) and returns 0 accepted, 1 rejected. Unusable input
 * (unreadable or malformed files, bad options, collateral that cannot be fetched) throws and the
 * CLI wrapper exits 2.
 *
 * @example
 * ```sh
 * peer-attest verify sev-snp --report report.bin --vcek vcek.der --now 2024-01-01T00:00:00Z --json
 * ```
 */
export async function verifySevSnpCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    report: { type: "string" },
    vcek: { type: "string" },
    chain: { type: "string" },
    product: { type: "string" },
    crl: { type: "string" },
    ...COMMON_VERIFY_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  const product = values.product?.toLowerCase();
  if (product !== undefined && !SEV_SNP_PRODUCTS.includes(product as SevSnpProduct)) {
    throw new AttestArgumentError(
      "cli_arguments_invalid",
      `--product must be one of ${SEV_SNP_PRODUCTS.join(", ")}, got "${values.product}"`,
    );
  }
  const now = parseNow(values.now);
  const report = decodeEvidenceInput(readInputFile(requireOption(values.report, "--report FILE"), "report"));
  const result = await verifySevSnpReport(report, {
    now,
    vcek: values.vcek === undefined ? undefined : readInputFile(values.vcek, "VCEK"),
    chain: values.chain === undefined ? undefined : readInputFile(values.chain, "certificate chain"),
    crl: values.crl === undefined ? undefined : readInputFile(values.crl, "CRL"),
    product: product as SevSnpProduct | undefined,
    policy: values.policy === undefined ? undefined : readJsonFile(values.policy, "policy"),
    offline: values.offline === true,
    fetch: values.offline === true ? undefined : globalThis.fetch,
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const tcb = result.reportedTcb;
    process.stdout.write(
      renderReport(
        "SEV-SNP report",
        result,
        [
          ["product", result.product],
          ["report version", result.reportVersion],
          ["signing key", result.signingKey?.toUpperCase()],
          ["measurement", result.measurement],
          ["report data", result.reportData],
          ["host data", result.hostData],
          ["chip id", result.chipId],
          ["vmpl", result.vmpl],
          [
            "guest policy",
            `debug ${result.policy.debug}, smt ${result.policy.smt}, migrate ma ${result.policy.migrateMa}, single socket ${result.policy.singleSocket}`,
          ],
          [
            "reported tcb",
            `bl ${tcb.bootloader}, tee ${tcb.tee}, snp ${tcb.snp}, ucode ${tcb.microcode}${tcb.fmc === undefined ? "" : `, fmc ${tcb.fmc}`}`,
          ],
          ["firmware", result.firmware],
          ["committed firmware", result.committedFirmware],
          ["trailing bytes", result.trailingBytes > 0 ? result.trailingBytes : null],
          ["verified at", now.toISOString()],
        ],
        result.checks,
        result.errors,
      ),
    );
  }
  return exitCodeOf(result);
}
