import { decodeEvidenceInput } from "../common/bytes.js";
import { DiskCollateralCache } from "../tdx/collateral-disk-cache.js";
import { parseTdxPolicy } from "../tdx/policy.js";
import { TDX_UNCHECKABLE, type TdxVerificationResult, verifyTdxQuote } from "../tdx/verify.js";
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

const HELP = `peer-attest verify tdx: verify an Intel TDX or SGX DCAP quote.

Options:
  --quote FILE         the quote: raw bytes, hex or base64 text (required)
  --collateral FILE    collateral JSON: dcap-qvl QuoteCollateralV3 or the PCS container (docs/tdx.md)
  --signatures-only    check the signatures and the PCK chain only (TCB status NotEvaluated);
                       rejected (tdx_tcb_unchecked) unless --allow-unchecked tcb
  --allow-unchecked NAME[,NAME]  accept by name what was not checked (echoed as "unchecked"):
                       tcb (TCB not evaluated), sept_ve_disable (a TD without SEPT_VE_DISABLE),
                       reserved_attribute_bits (TD_ATTRIBUTES / XFAM bits this package does not know)
  --offline            never use the network; without --collateral (or a cached entry) this is an error
  --policy FILE        policy JSON (default: UpToDate only, no advisories, no debug)
  --now ISO            verification time (ISO 8601 or Unix seconds; default: now)
  --pcs-url URL        Intel PCS or PCCS base URL when collateral is fetched
  --cache-dir DIR      on-disk collateral cache (also used with --offline)
  --json               print one JSON object

Exit status: 0 accepted, 1 rejected, 2 unusable input (including collateral unavailable).
`;

/** The JSON object printed by `--json`: the documented fields first, then the rest of the result. */
export function tdxResultJson(result: TdxVerificationResult): Record<string, unknown> {
  return {
    ok: result.ok,
    verified: result.verified,
    kind: result.kind,
    quoteVersion: result.quoteVersion,
    teeType: result.teeType,
    tcbStatus: result.tcbStatus,
    advisoryIds: result.advisoryIds,
    fmspc: result.fmspc,
    mrTd: result.mrTd,
    rtmr0: result.rtmr0,
    rtmr1: result.rtmr1,
    rtmr2: result.rtmr2,
    rtmr3: result.rtmr3,
    mrSeam: result.mrSeam,
    tdAttributes: result.tdAttributes,
    xfam: result.xfam,
    reportData: result.reportData,
    debug: result.debug,
    mrEnclave: result.mrEnclave,
    mrSigner: result.mrSigner,
    errors: result.errors,
    checks: result.checks,
    mrConfigId: result.mrConfigId,
    teeTcbSvn: result.teeTcbSvn,
    pceId: result.pceId,
    trailingBytes: result.trailingBytes,
    mrSignerSeam: result.mrSignerSeam,
    seamAttributes: result.seamAttributes,
    mrOwner: result.mrOwner,
    mrOwnerConfig: result.mrOwnerConfig,
    qeVendorId: result.qeVendorId,
    tcbInfoEvaluationDataNumber: result.tcbInfoEvaluationDataNumber,
    qeIdentityEvaluationDataNumber: result.qeIdentityEvaluationDataNumber,
    policyViolations: result.policyViolations,
    collateralWindow: result.collateralWindow,
    tcb: result.tcb,
    unchecked: result.unchecked,
  };
}

/** `peer-attest verify tdx --quote FILE [--collateral FILE] [--signatures-only] [--offline] [--policy FILE] [--now ISO] [--json]`. */
export async function verifyTdxCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    quote: { type: "string" },
    collateral: { type: "string" },
    "signatures-only": { type: "boolean" },
    "allow-unchecked": { type: "string", multiple: true },
    "pcs-url": { type: "string" },
    "cache-dir": { type: "string" },
    ...COMMON_VERIFY_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  const quote = decodeEvidenceInput(readInputFile(requireOption(values.quote, "--quote FILE"), "quote"));
  const collateral =
    typeof values.collateral === "string"
      ? new TextDecoder().decode(readInputFile(values.collateral, "collateral"))
      : undefined;
  const policy =
    typeof values.policy === "string" ? parseTdxPolicy(readJsonFile(values.policy, "policy")) : undefined;
  const now = parseNow(values.now as string | undefined);
  const offline = values.offline === true;
  const result = await verifyTdxQuote(quote, {
    now,
    collateral,
    policy,
    offline,
    signaturesOnly: values["signatures-only"] === true,
    allowUnchecked: allowUncheckedOption(values["allow-unchecked"], TDX_UNCHECKABLE),
    // The network is reached only here, at the CLI boundary, and never with --offline.
    fetch: offline ? undefined : globalThis.fetch,
    pcsBaseUrl: values["pcs-url"] as string | undefined,
    cache: typeof values["cache-dir"] === "string" ? new DiskCollateralCache(values["cache-dir"]) : undefined,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(tdxResultJson(result), null, 2)}\n`);
  else {
    const title = `${result.teeType} quote v${result.quoteVersion}`;
    const facts: Array<readonly [string, string | number | boolean | null]> = [
      ["TCB status", result.tcbStatus],
      ["advisories", result.advisoryIds.length > 0 ? result.advisoryIds.join(", ") : null],
      ["FMSPC", result.fmspc],
      ["debug", result.debug],
      ["MRTD", result.mrTd],
      ["RTMR0", result.rtmr0],
      ["RTMR1", result.rtmr1],
      ["RTMR2", result.rtmr2],
      ["RTMR3", result.rtmr3],
      ["MRSEAM", result.mrSeam],
      ["MRCONFIGID", result.mrConfigId],
      ["TD attributes", result.tdAttributes],
      ["XFAM", result.xfam],
      ["TEE TCB SVN", result.teeTcbSvn],
      ["MRENCLAVE", result.mrEnclave],
      ["MRSIGNER", result.mrSigner],
      ["report data", result.reportData],
      [
        "collateral valid",
        result.collateralWindow
          ? `${result.collateralWindow.notBefore} .. ${result.collateralWindow.notAfter}`
          : null,
      ],
    ];
    process.stdout.write(renderReport(title, result, facts, result.checks, result.errors));
  }
  return exitCodeOf(result);
}
