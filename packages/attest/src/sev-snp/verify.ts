import { equalBytes, isAllZero, toHex } from "../common/bytes.js";
import { type Check, CheckList } from "../common/check.js";
import { isEcdsaScalarInRange } from "../common/ecdsa-signature.js";
import { AttestArgumentError, EvidenceInvalidError, type VerificationIssue } from "../common/errors.js";
import { type SignatureBackend, verifyEcdsa } from "../common/signatures.js";
import { isVerificationTime, type Verifier, verifierOf } from "../common/verifier.js";
import { type Certificate, isRevoked, parseCertificates, parseCrl, verifyCrl } from "../common/x509.js";
import { SevSnpCache } from "./cache.js";
import {
  type CertificateInput,
  commonName,
  keyKindOf,
  pinSevSnpRoots,
  productFromIssuer,
  productFromName,
  toCertificates,
  verifySevSnpKeyChain,
} from "./chain.js";
import { KdsClient } from "./kds-fetcher.js";
import { parseSevSnpPolicy, validateSevSnpPolicy } from "./policy.js";
import { parseSevSnpReport, SEV_SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384, type SevSnpReport } from "./report.js";
import { SEV_SNP_PRODUCTS, type SevSnpProduct, type SevSnpProductRoots } from "./roots.js";
import { decodeTcb, type SevSnpTcb, tcbLayoutOf } from "./tcb.js";
import { readSevSnpKeyExtensions } from "./vcek-extensions.js";

/** Options of {@link verifySevSnpReport}. Only `now` is required. */
export interface SevSnpVerifyOptions {
  /** Verification time (never read from the clock here). */
  readonly now: Date;
  /**
   * The VCEK or VLEK, DER or PEM. A PEM may also carry the ASK/ASVK and ARK. Without it, a VCEK is
   * fetched from AMD KDS by chip ID and reported TCB (needs `fetch`, or a cached copy when `offline`).
   */
  readonly vcek?: CertificateInput;
  /** ASK+ARK (or ASVK+ARK) chain, PEM or DER. Default: the pinned intermediates of the product. */
  readonly chain?: CertificateInput | readonly CertificateInput[];
  /** Product line; otherwise taken from the report's CPUID (v3+) or the certificate issuer. */
  readonly product?: SevSnpProduct;
  /** AMD KDS CRL (DER or PEM), signed by the ARK. Checked when supplied. */
  readonly crl?: Uint8Array;
  /** Policy (JSON value, see `SevSnpPolicy`); default `{}`: debug and migration agent forbidden. */
  readonly policy?: unknown;
  /** Never touch the network. */
  readonly offline?: boolean;
  /** `fetch` for AMD KDS. */
  readonly fetch?: typeof globalThis.fetch;
  /** Trust roots per product (PEM); replaces the pinned AMD roots for the products given. */
  readonly roots?: Partial<Readonly<Record<SevSnpProduct, SevSnpProductRoots>>>;
  /** Verified-item cache; `false` disables caching. Default: the verifier's (fresh per call without one). */
  readonly cache?: SevSnpCache | false;
  /**
   * The verifier whose state and environment (roots, fetch, cache) this call uses; the options
   * above win over its. Without one the call runs on fresh state.
   */
  readonly verifier?: Verifier;
}

/** The key of the SEV-SNP state (its default cache) in a {@link Verifier}. */
const SEV_SNP_STATE = Symbol("peercycles.attest.sev-snp");

/** Decoded TCB components as reported (`fmc` only on Turin). */
export interface SevSnpTcbResult {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc?: number;
}

/** Result of {@link verifySevSnpReport}. JSON-serialisable. */
export interface SevSnpVerificationResult {
  /** Verified and accepted by the policy. */
  readonly ok: boolean;
  /** Genuine: signature, chain and certificate bindings all hold. */
  readonly verified: boolean;
  readonly kind: "sev-snp";
  readonly product: SevSnpProduct | null;
  readonly reportVersion: number;
  readonly signingKey: "vcek" | "vlek" | null;
  readonly measurement: string;
  readonly reportData: string;
  readonly hostData: string;
  readonly chipId: string;
  readonly vmpl: number;
  readonly guestSvn: number;
  readonly idKeyDigest: string;
  readonly authorKeyDigest: string;
  readonly policy: {
    readonly debug: boolean;
    readonly smt: boolean;
    readonly migrateMa: boolean;
    readonly singleSocket: boolean;
  };
  readonly reportedTcb: SevSnpTcbResult;
  /** Current firmware, e.g. `1.55 build 40`. */
  readonly firmware: string;
  /** Committed firmware (the rollback floor), same form. */
  readonly committedFirmware: string;
  /** Whether the ID block carried an author key (KEY_INFO.AUTHOR_KEY_EN). */
  readonly authorKeyEnabled: boolean;
  /** Bytes of the input after the 1184-byte report (accepted unless the policy rejects them). */
  readonly trailingBytes: number;
  readonly errors: readonly VerificationIssue[];
  readonly checks: readonly Check[];
}

/** Big-endian 48-byte value of a 72-byte little-endian component, or undefined if it has high bytes set. */
function componentToBigEndian(le: Uint8Array): Uint8Array | undefined {
  for (let i = 48; i < le.length; i++) if (le[i] !== 0) return undefined;
  const out = new Uint8Array(48);
  for (let i = 0; i < 48; i++) out[i] = le[47 - i] as number;
  return out;
}

/**
 * The raw r || s (big-endian, 96 bytes) of a report's signature, checking that each component is
 * a 48-byte value in [1, n-1].
 * @throws EvidenceInvalidError `snp_report_signature_out_of_range`
 */
export function reportSignatureRaw(report: SevSnpReport): Uint8Array {
  const r = componentToBigEndian(report.signatureR);
  const s = componentToBigEndian(report.signatureS);
  if (!r || !s) {
    throw new EvidenceInvalidError(
      "snp_report_signature_out_of_range",
      "report signature r or s has non-zero bytes above the 48-byte P-384 size",
    );
  }
  const raw = new Uint8Array(96);
  raw.set(r, 0);
  raw.set(s, 48);
  if (!isEcdsaScalarInRange("P-384", r) || !isEcdsaScalarInRange("P-384", s)) {
    throw new EvidenceInvalidError(
      "snp_report_signature_out_of_range",
      "report signature r or s is not in [1, n-1] of P-384",
    );
  }
  return raw;
}

/** The product-name extension, or undefined when the extensions do not parse (the TCB check reports that). */
function productNameOf(cert: Certificate): string | undefined {
  try {
    return readSevSnpKeyExtensions(cert).productName;
  } catch {
    return undefined;
  }
}

function tcbResult(tcb: SevSnpTcb): SevSnpTcbResult {
  const base = { bootloader: tcb.bootloader, tee: tcb.tee, snp: tcb.snp, microcode: tcb.microcode };
  return tcb.fmc === undefined ? base : { ...base, fmc: tcb.fmc };
}

/**
 * The report's signing certificate (VCEK or VLEK): the EC end-entity certificate among those passed,
 * or the VCEK fetched from AMD KDS by chip ID and reported TCB; and the other certificates passed.
 * @throws AttestArgumentError `snp_vcek_not_found`, `snp_vlek_required`, `snp_product_required`, `snp_vcek_required`
 * @throws EvidenceInvalidError `snp_report_not_signed`
 */
async function signingCertificate(
  report: SevSnpReport,
  options: SevSnpVerifyOptions,
  kds: KdsClient,
): Promise<{ vcek: Certificate; others: Certificate[]; fetchedUrl: string | undefined }> {
  // Certificates: the leaf (an EC key that is not a CA) and any ASK/ASVK/ARK that came with it.
  pinSevSnpRoots();
  const suppliedKeys = toCertificates(options.vcek);
  const supplied = [...suppliedKeys, ...toCertificates(options.chain)];
  let leaf = supplied.find((cert) => cert.publicKey.kind === "ec" && !cert.isCa);
  if (!leaf && suppliedKeys.length > 0) {
    // Certificates were passed as the VCEK but none of them is one: say so, rather than go on as if
    // no VCEK had been passed (and ask for one, or fetch it).
    throw new AttestArgumentError(
      "snp_vcek_not_found",
      `the certificates passed as vcek hold no VCEK or VLEK (an EC end-entity certificate); found: ${suppliedKeys
        .map((cert) => `"${commonName(cert.subject)}"${cert.isCa ? " (a CA)" : ""}`)
        .join(", ")}`,
    );
  }
  const others = supplied.filter((cert) => cert !== leaf);

  // The product line a KDS fetch needs: the caller's, or the report's CPUID (v3+).
  const product = options.product ?? report.cpuidProduct;

  let fetchedUrl: string | undefined;
  if (!leaf) {
    if (report.keyInfo.signingKey === "vlek") {
      throw new AttestArgumentError(
        "snp_vlek_required",
        "the report is signed by a VLEK, which AMD KDS does not serve by chip ID; pass it as vcek",
      );
    }
    if (report.keyInfo.signingKey === "none") {
      throw new EvidenceInvalidError(
        "snp_report_not_signed",
        "the report's key info says it is not signed (signing key 7)",
      );
    }
    if (!product) {
      throw new AttestArgumentError(
        "snp_product_required",
        "a v2 report does not name its product line: pass product (milan, genoa, turin) or the VCEK",
      );
    }
    if (report.keyInfo.maskChipId || isAllZero(report.chipId)) {
      throw new AttestArgumentError(
        "snp_vcek_required",
        "the report's chip ID is masked, so its VCEK cannot be fetched: pass the VCEK",
      );
    }
    fetchedUrl = kds.vcekUrl(product, report.chipId, report.reportedTcb);
    const der = await kds.get(fetchedUrl, "VCEK");
    leaf = parseCertificates(der)[0] as Certificate;
  }
  return { vcek: leaf, others, fetchedUrl };
}

/** The product line from every source (option, report CPUID, certificate issuer and name); all must agree. */
function checkProductLine(
  list: CheckList,
  option: SevSnpProduct | undefined,
  fromCpuid: SevSnpProduct | undefined,
  vcek: Certificate,
  keyLabel: string,
): Promise<SevSnpProduct | undefined> {
  return list.run(
    "product",
    "Product line identified and consistent",
    () => {
      const sources: [string, SevSnpProduct | undefined][] = [
        ["option", option],
        ["report CPUID", fromCpuid],
        [`${keyLabel} issuer`, productFromIssuer(vcek)],
        [`${keyLabel} product name`, productFromName(productNameOf(vcek))],
      ];
      const known = sources.filter((s): s is [string, SevSnpProduct] => s[1] !== undefined);
      if (known.length === 0)
        throw new EvidenceInvalidError(
          "snp_product_unknown",
          "the product line cannot be determined from the report or the certificate",
        );
      const first = known[0] as [string, SevSnpProduct];
      const conflict = known.find(([, p]) => p !== first[1]);
      if (conflict) {
        throw new EvidenceInvalidError(
          "snp_product_mismatch",
          `product lines disagree: ${known.map(([source, p]) => `${source} says ${p}`).join(", ")}`,
        );
      }
      return first[1];
    },
    (p) => p,
  );
}

/** The report's key info names the kind of certificate given, and its key is ECDSA P-384. */
async function checkSigningKey(
  list: CheckList,
  report: SevSnpReport,
  vcek: Certificate,
  kind: "vcek" | "vlek" | undefined,
  keyLabel: string,
): Promise<void> {
  await list.run(
    "signing_key",
    "Report signing key matches the certificate",
    () => {
      if (report.keyInfo.signingKey === "none")
        throw new EvidenceInvalidError(
          "snp_report_not_signed",
          "the report's key info says it is not signed (signing key 7)",
        );
      if (kind === undefined) {
        throw new EvidenceInvalidError(
          "snp_signing_key_mismatch",
          `certificate "${commonName(vcek.subject)}" is neither a VCEK nor a VLEK`,
        );
      }
      if (kind !== report.keyInfo.signingKey) {
        throw new EvidenceInvalidError(
          "snp_signing_key_mismatch",
          `the report says ${report.keyInfo.signingKey.toUpperCase()} signed it, but the certificate is a ${kind.toUpperCase()}`,
        );
      }
      if (vcek.publicKey.kind !== "ec" || vcek.publicKey.curve !== "P-384") {
        throw new EvidenceInvalidError(
          "snp_vcek_key_invalid",
          `the ${keyLabel} key is not an ECDSA P-384 key`,
        );
      }
      return kind;
    },
    (k) => k.toUpperCase(),
  );
}

/**
 * The report's ECDSA P-384 signature by the VCEK/VLEK, started at once so that it runs while the
 * chain's RSA checks are on the platform (node:crypto runs them on the thread pool).
 */
async function reportSignatureTask(
  report: SevSnpReport,
  vcek: Certificate,
  keyLabel: string,
  backend: SignatureBackend | undefined,
): Promise<void> {
  if (report.signatureAlgo !== SEV_SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384) {
    throw new EvidenceInvalidError(
      "snp_report_signature_algorithm_unsupported",
      `signature algorithm ${report.signatureAlgo} is not ECDSA P-384/SHA-384 (1)`,
    );
  }
  if (vcek.publicKey.kind !== "ec" || vcek.publicKey.curve !== "P-384") {
    throw new EvidenceInvalidError("snp_vcek_key_invalid", `the ${keyLabel} key is not an ECDSA P-384 key`);
  }
  const raw = reportSignatureRaw(report);
  const valid = await verifyEcdsa("P-384", "SHA-384", vcek.publicKey.point, raw, report.signedSpan, backend);
  if (!valid) {
    throw new EvidenceInvalidError(
      "snp_report_signature_invalid",
      `the report signature does not verify with the ${keyLabel}`,
    );
  }
}

/**
 * The key chain (leaf -> ASK for a VCEK or ASVK for a VLEK -> the product line's pinned ARK) and,
 * when a CRL was passed, that it is ARK-signed, current and revokes none of the chain.
 */
async function checkChainAndCrl(
  list: CheckList,
  step: {
    readonly vcek: Certificate;
    readonly others: readonly Certificate[];
    /** The product line, when it is known and agreed. */
    readonly product: SevSnpProduct | undefined;
    readonly options: SevSnpVerifyOptions;
    readonly roots: SevSnpVerifyOptions["roots"];
    readonly cache: SevSnpCache | undefined;
    readonly keyLabel: string;
    readonly backend: SignatureBackend | undefined;
  },
): Promise<void> {
  const { vcek, product, options, cache, keyLabel } = step;
  const now = options.now;
  let ark: Certificate | undefined;
  let chainIntermediates: readonly Certificate[] = [];
  if (product) {
    await list.run(
      "certificate_chain",
      `${keyLabel} chain to the pinned ARK (RSA-PSS, validity at now)`,
      async () => {
        const verified = await verifySevSnpKeyChain(vcek, {
          product,
          now,
          supplied: step.others,
          chainGiven: options.chain !== undefined,
          roots: step.roots,
          cache,
          backend: step.backend,
        });
        ark = verified.ark;
        chainIntermediates = verified.intermediates;
        return verified.cached
          ? "cached verified chain"
          : verified.path.map((c) => commonName(c.subject)).join(" → ");
      },
      (d) => d,
    );
  } else {
    list.skip("certificate_chain", `${keyLabel} chain to the pinned ARK`, "product line unknown");
  }
  const chainOk = list.checks.at(-1)?.status === "pass";

  if (options.crl === undefined) {
    list.skip("crl", "AMD KDS CRL", "no CRL supplied");
    return;
  }
  const crlBytes = options.crl;
  await list.run(
    "crl",
    "AMD KDS CRL (ARK-signed) current, no certificate revoked",
    async () => {
      if (!ark || !chainOk)
        throw new EvidenceInvalidError(
          "snp_crl_unchecked",
          "the CRL cannot be checked without a verified chain",
        );
      const crl = parseCrl(crlBytes);
      await verifyCrl(crl, ark, now, "AMD KDS", cache?.signatures, step.backend);
      for (const cert of [vcek, ...chainIntermediates]) {
        if (cert.issuer === crl.issuer && cert.subject !== cert.issuer && isRevoked(crl, cert)) {
          throw new EvidenceInvalidError(
            "snp_certificate_revoked",
            `"${commonName(cert.subject)}" (serial ${cert.serialNumber}) is revoked by the AMD KDS CRL`,
          );
        }
      }
      return crl.thisUpdate.toISOString();
    },
    (t) => `thisUpdate ${t}`,
  );
}

/** What binds the key to this report: its TCB extensions equal REPORTED_TCB, its hwID the CHIP_ID. */
async function checkReportBindings(
  list: CheckList,
  report: SevSnpReport,
  vcek: Certificate,
  kind: ReturnType<typeof keyKindOf>,
  keyLabel: string,
  reported: { readonly tcb: SevSnpTcb; readonly layout: ReturnType<typeof tcbLayoutOf> },
): Promise<void> {
  const { tcb: reportedTcb, layout } = reported;
  await list.run(
    "tcb_binding",
    `${keyLabel} TCB extensions equal the report's REPORTED_TCB`,
    () => {
      const ext = readSevSnpKeyExtensions(vcek);
      const diffs: string[] = [];
      for (const c of ["bootloader", "tee", "snp", "microcode"] as const) {
        if (ext[c] !== reportedTcb[c]) diffs.push(`${c} certificate ${ext[c]} ≠ report ${reportedTcb[c]}`);
      }
      if (layout === "turin" && (ext.fmc ?? 0) !== (reportedTcb.fmc ?? 0))
        diffs.push(`fmc certificate ${ext.fmc ?? "absent"} ≠ report ${reportedTcb.fmc}`);
      if (diffs.length > 0)
        throw new EvidenceInvalidError("snp_vcek_tcb_mismatch", `TCB mismatch: ${diffs.join("; ")}`);
      return `bl ${reportedTcb.bootloader}, tee ${reportedTcb.tee}, snp ${reportedTcb.snp}, ucode ${reportedTcb.microcode}${reportedTcb.fmc === undefined ? "" : `, fmc ${reportedTcb.fmc}`}`;
    },
    (d) => d,
  );

  if (kind === "vlek") {
    list.skip("chip_id_binding", "VCEK hwID equals the report's CHIP_ID", "a VLEK certifies no chip");
  } else if (report.keyInfo.maskChipId) {
    list.skip("chip_id_binding", "VCEK hwID equals the report's CHIP_ID", "the host masked CHIP_ID");
  } else {
    await list.run("chip_id_binding", "VCEK hwID equals the report's CHIP_ID", () => {
      const hwid = readSevSnpKeyExtensions(vcek).hwid;
      if (!hwid)
        throw new EvidenceInvalidError("snp_vcek_extension_invalid", "the VCEK has no hwID extension");
      const expected = hwid.length === 8 ? report.chipId.subarray(0, 8) : report.chipId;
      if (!equalBytes(hwid, expected)) {
        throw new EvidenceInvalidError(
          "snp_vcek_chip_id_mismatch",
          `VCEK hwID ${toHex(hwid)} differs from the report's chip ID ${toHex(expected)}`,
        );
      }
    });
  }
}

/** The result's summary of a report (what the policy and a caller read), with the checks made. */
function sevSnpResult(
  report: SevSnpReport,
  product: SevSnpProduct | undefined,
  reportedTcb: SevSnpTcb,
  list: CheckList,
  verified: boolean,
): SevSnpVerificationResult {
  return {
    ok: verified && !list.failed,
    verified,
    kind: "sev-snp",
    product: product ?? null,
    reportVersion: report.version,
    signingKey: report.keyInfo.signingKey === "none" ? null : report.keyInfo.signingKey,
    measurement: toHex(report.measurement),
    reportData: toHex(report.reportData),
    hostData: toHex(report.hostData),
    chipId: toHex(report.chipId),
    vmpl: report.vmpl,
    guestSvn: report.guestSvn,
    idKeyDigest: toHex(report.idKeyDigest),
    authorKeyDigest: toHex(report.authorKeyDigest),
    policy: {
      debug: report.policy.debug,
      smt: report.policy.smt,
      migrateMa: report.policy.migrateMa,
      singleSocket: report.policy.singleSocket,
    },
    reportedTcb: tcbResult(reportedTcb),
    firmware: `${report.currentVersion.major}.${report.currentVersion.minor} build ${report.currentVersion.build}`,
    committedFirmware: `${report.committedVersion.major}.${report.committedVersion.minor} build ${report.committedVersion.build}`,
    authorKeyEnabled: report.keyInfo.authorKeyEn,
    trailingBytes: report.trailingBytes,
    errors: list.errors,
    checks: list.checks,
  };
}

/**
 * Verifies an AMD SEV-SNP attestation report: parses it, finds the product line, checks the
 * VCEK/VLEK chain to the pinned ARK (RSA-PSS, validity at `now`, optional CRL), the report's ECDSA
 * P-384 signature over bytes [0, 0x2A0), that the key's TCB extensions equal REPORTED_TCB and (VCEK)
 * its hwID equals CHIP_ID, then validates the policy. Every check is listed in `checks`; every
 * failure in `errors` with a stable code.
 *
 * Throws only for unusable input: `EvidenceParseError` (report or certificates malformed),
 * `AttestArgumentError` (bad options or policy), `CollateralUnavailableError` (a VCEK had to be
 * fetched and could not be).
 *
 * @example
 * ```ts
 * import { verifySevSnpReport } from "@peercycles/attest/sev-snp";
 * const result = await verifySevSnpReport(reportBytes, { vcek: vcekDer, now: new Date() });
 * if (!result.ok) console.error(result.errors);
 * ```
 */
export async function verifySevSnpReport(
  input: Uint8Array | SevSnpReport,
  options: SevSnpVerifyOptions,
): Promise<SevSnpVerificationResult> {
  if (!options || !isVerificationTime(options.now)) {
    throw new AttestArgumentError("snp_now_required", "verifySevSnpReport needs options.now (a valid Date)");
  }
  if (options.product !== undefined && !SEV_SNP_PRODUCTS.includes(options.product)) {
    throw new AttestArgumentError(
      "snp_product_invalid",
      `product must be one of ${SEV_SNP_PRODUCTS.join(", ")}`,
    );
  }
  const policy = parseSevSnpPolicy(options.policy ?? {});
  const report = input instanceof Uint8Array ? parseSevSnpReport(input) : input;
  const verifier = verifierOf(options.verifier);
  const roots = options.roots ?? verifier.roots.sevSnp;
  const cache =
    options.cache === false
      ? undefined
      : (options.cache ?? verifier.cache.sevSnp ?? verifier.state(SEV_SNP_STATE, () => new SevSnpCache()));
  const list = new CheckList();
  list.pass(
    "report_format",
    "Report parsed (size, version, reserved fields)",
    `version ${report.version}${report.trailingBytes > 0 ? `, ${report.trailingBytes} trailing bytes ignored` : ""}`,
  );

  const kds = new KdsClient({
    fetch: options.fetch ?? verifier.fetch,
    offline: options.offline,
    cache: cache?.kds,
  });
  const { vcek, others, fetchedUrl } = await signingCertificate(report, options, kds);
  const fromCpuid = report.cpuidProduct;
  const kind = keyKindOf(vcek);
  const keyLabel = kind === "vlek" ? "VLEK" : "VCEK";

  const product =
    (await checkProductLine(list, options.product, fromCpuid, vcek, keyLabel)) ??
    options.product ??
    fromCpuid ??
    productFromIssuer(vcek);
  const productOk = product !== undefined && !list.failed;

  await checkSigningKey(list, report, vcek, kind, keyLabel);

  const signatureTask = reportSignatureTask(report, vcek, keyLabel, verifier.backend);
  signatureTask.catch(() => undefined);
  await checkChainAndCrl(list, {
    vcek,
    others,
    product: productOk ? product : undefined,
    options,
    roots,
    cache,
    keyLabel,
    backend: verifier.backend,
  });
  await list.run(
    "report_signature",
    `Report signed by the ${keyLabel} (ECDSA P-384/SHA-384)`,
    () => signatureTask,
  );
  // REPORTED_TCB, decoded once with the product line's layout (Turin adds FMC).
  const layout = tcbLayoutOf(product ?? report.cpuidProduct ?? "milan");
  const reportedTcb = decodeTcb(report.reportedTcb, layout);
  await checkReportBindings(list, report, vcek, kind, keyLabel, { tcb: reportedTcb, layout });

  const verified = !list.failed;
  // A fetched VCEK is cached only once it chained, signed this report and matched its chip and TCB.
  if (verified && fetchedUrl) kds.remember(fetchedUrl, vcek.der);
  if (verified && product) {
    const violations = validateSevSnpPolicy({ report, product }, policy);
    if (violations.length === 0) list.pass("policy", "Policy accepted");
    for (const v of violations) list.fail("policy", "Policy", v);
  } else {
    list.skip("policy", "Policy", "not checked: the report did not verify");
  }

  return sevSnpResult(report, product, reportedTcb, list, verified);
}
