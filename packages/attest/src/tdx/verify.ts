import { equalBytes, isAllZero, toHex } from "../common/bytes.js";
import { type Check, CheckList } from "../common/check.js";
import { AttestArgumentError, EvidenceInvalidError, type VerificationIssue } from "../common/errors.js";
import { clearKeyCaches, derSignatureToRaw, sha256Digest, startEcdsaVerify } from "../common/signatures.js";
import { isVerificationTime, type Verifier, verifierOf } from "../common/verifier.js";
import {
  type Certificate,
  type Crl,
  clearX509Caches,
  isRevoked,
  OID,
  parseCrl,
  pinnedCertificates,
  verifyCertificateChain,
  verifyCertificateSignature,
  verifySignedData,
} from "../common/x509.js";
import { clearCertificateMemos, parseCertificates, parsePckChain } from "./certificates.js";
import { COLLATERAL_CHECKS, LABEL, TCB_RULES } from "./check-labels.js";
import type { TdxCollateral, TdxCollateralInput } from "./collateral.js";
import { fetchTdxCollateral, type TdxCollateralCache } from "./collateral-fetcher.js";
import { clearPckExtensionCache, type PckExtensions, parsePckExtensions } from "./pck-extensions.js";
import {
  DEFAULT_TDX_POLICY,
  parseTdxPolicy,
  type TdxPolicy,
  type TdxPolicyFacts,
  tdxPolicyWaivers,
  validateTdxPolicy,
  withTdxOptOuts,
} from "./policy.js";
import { INTEL_QE_VENDOR_ID, parseTdxQuote, type TdxQuote } from "./quote.js";
import { INTEL_SGX_ROOT_CA_PEM } from "./roots.js";
import { chainVerdicts, SignatureJobs } from "./signature-jobs.js";
import { evaluateTcbStatus, type TcbEvaluation } from "./tcb-status.js";
import {
  encoder,
  holdsRole,
  lookupCollateral,
  ROLE,
  TDX_STATE,
  type VerifiedCollateral,
  VerifiedCollateralStore,
  verifyCollateralItems,
} from "./verify-collateral.js";

/** Options of {@link verifyTdxQuote}. */
export interface VerifyTdxOptions {
  /**
   * Verification time, as every verifier takes it: a valid `Date`. Required; the clock is never read.
   * (`toVerificationTime` turns an ISO 8601 string or Unix seconds into one, as the CLI's `--now` does.)
   */
  readonly now: Date;
  /** Collateral: dcap-qvl QuoteCollateralV3 or the PCS container, as an object or JSON text. */
  readonly collateral?: TdxCollateralInput;
  /** Policy (default: UpToDate only, no advisories, no debug). */
  readonly policy?: TdxPolicy | unknown;
  /**
   * Check signatures and the PCK chain only: no collateral, TCB status `NotEvaluated`; the policy's
   * TCB rules (statuses, advisories) do not apply, its other rules do.
   */
  readonly signaturesOnly?: boolean;
  /**
   * Checks the caller accepts as not done, by name. Strict by default: a quote whose TCB was not
   * evaluated (`signaturesOnly`) is `ok: false` with `tdx_tcb_unchecked` unless this lists `"tcb"`.
   * `"sept_ve_disable"` and `"reserved_attribute_bits"` are the policy's `requireSeptVeDisable:
   * false` and `allowReservedAttributeBits: true`. What was accepted unchecked is echoed in the
   * result's `unchecked`.
   */
  readonly allowUnchecked?: readonly TdxUncheckable[];
  /** Never touch the network: collateral must be given or be in `cache`. */
  readonly offline?: boolean;
  /** Trust anchors overriding the pinned Intel SGX Root CA (PEM text, DER, or parsed). */
  readonly roots?: readonly (string | Uint8Array | Certificate)[];
  /** Injected fetch for Intel PCS / PCCS when no collateral is given. */
  readonly fetch?: typeof globalThis.fetch;
  /** PCS / PCCS base URL for the fetcher. */
  readonly pcsBaseUrl?: string;
  /** Collateral cache for the fetcher. */
  readonly cache?: TdxCollateralCache;
  /**
   * The verifier whose state (collateral already verified) and environment (roots, fetch, cache)
   * this call uses; the options above win over its. Without one the call runs on fresh state.
   */
  readonly verifier?: Verifier;
}

/** What a TDX caller may accept unchecked by name (see `allowUnchecked`). */
export type TdxUncheckable = "tcb" | "sept_ve_disable" | "reserved_attribute_bits";

/** Every name `allowUnchecked` accepts. */
export const TDX_UNCHECKABLE: readonly TdxUncheckable[] = [
  "tcb",
  "sept_ve_disable",
  "reserved_attribute_bits",
];

/** The verification result: the fields the CLI prints with `--json`. Hex is lowercase. */
export interface TdxVerificationResult extends TdxPolicyFacts {
  /** Verified and the policy holds. */
  readonly ok: boolean;
  /** Genuine evidence: every signature, chain, CRL, collateral and TCB check passed. */
  readonly verified: boolean;
  readonly quoteVersion: number;
  readonly teeType: "TDX" | "SGX";
  readonly pceId: string | null;
  readonly errors: readonly VerificationIssue[];
  readonly checks: readonly Check[];
  /** TCB evaluation detail (platform, TDX module, QE), null when not evaluated. */
  readonly tcb: TcbEvaluation | null;
  /** Period in which the collateral used is valid (latest issue date .. earliest next update). */
  readonly collateralWindow: { readonly notBefore: string; readonly notAfter: string } | null;
  /** Policy violations only (also in `errors`). */
  readonly policyViolations: readonly VerificationIssue[];
  /**
   * True when the collateral was verified before by the same verifier (same bytes and roots, `now`
   * inside its window) and not again. The checks and the verdict are the same either way.
   */
  readonly collateralCached: boolean;
  /**
   * Checks not done that the caller accepted by name (`allowUnchecked`, or the policy's
   * `requireSeptVeDisable: false` / `allowReservedAttributeBits: true` where this quote needed
   * them), e.g. `["tcb"]`, `["sept_ve_disable"]`.
   */
  readonly unchecked: readonly TdxUncheckable[];
}

// ---------------------------------------------------------------------------------------------
// Caches: they only ever hold verified items; clearTdxCaches() empties all of them.

let defaultRoots: Certificate[] | undefined;

/**
 * Empties every TDX verification cache, and the shared certificate / key caches. The pinned Intel
 * root stays parsed (it is a constant of the package, not evidence).
 */
export function clearTdxCaches(): void {
  chainVerdicts.clear();
  clearCertificateMemos();
  clearPckExtensionCache();
  clearX509Caches();
  clearKeyCaches();
}

// ---------------------------------------------------------------------------------------------

/** `options.now`, which every verifier takes the same way: a valid Date. */
function checkedNow(now: unknown): Date {
  if (!isVerificationTime(now))
    throw new AttestArgumentError("tdx_now_invalid", "options.now must be a valid Date");
  return now;
}

/** A verification time from text or a number (ISO 8601 or Unix seconds), as the CLI's `--now` takes it. */
export function toVerificationTime(now: unknown): Date {
  const date =
    now instanceof Date
      ? now
      : typeof now === "number"
        ? new Date(now * 1000)
        : typeof now === "string"
          ? new Date(/^\d+$/.test(now) ? Number(now) * 1000 : now)
          : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new AttestArgumentError(
      "tdx_now_invalid",
      "options.now must be a Date, an ISO 8601 string or Unix seconds",
    );
  }
  return date;
}

/**
 * Trust anchors are inputs, not certificates to validate (RFC 5280 §6.1): trust comes from pinning
 * their exact bytes, so their self-signature is recorded as checked instead of spending a
 * signature verification on it in every chain.
 */
function trustAnchors(roots: Certificate[]): Certificate[] {
  for (const root of roots) chainVerdicts.add(root.der, root.der);
  return roots;
}

function resolveRoots(roots: VerifyTdxOptions["roots"]): Certificate[] {
  return trustAnchors(parseRoots(roots));
}

function parseRoots(roots: VerifyTdxOptions["roots"]): Certificate[] {
  if (!roots) {
    defaultRoots ??= pinnedCertificates(INTEL_SGX_ROOT_CA_PEM);
    return defaultRoots;
  }
  if (roots.length === 0) throw new AttestArgumentError("tdx_roots_invalid", "options.roots is empty");
  return roots.flatMap((root) =>
    typeof root === "string"
      ? parseCertificates(root)
      : root instanceof Uint8Array
        ? parseCertificates(root)
        : [root],
  );
}

/**
 * Starts every signature check a verification will need and waits for them: chain links and CRL
 * signatures land in the verdict cache, the others in `jobs`. Each check is handed to WebCrypto as
 * soon as its inputs are parsed, and parsing goes on while WebCrypto works. Never throws: a failure
 * here is reported by the check that needs it.
 */
async function prefetchSignatures(
  jobs: SignatureJobs,
  roots: readonly Certificate[],
  quote: TdxQuote,
  collateralOf: (() => TdxCollateral) | undefined,
): Promise<void> {
  const pending: Promise<unknown>[] = [];
  const seen = new Map<Certificate, Set<Certificate>>();
  // ECDSA-signed certificates and CRLs (all of Intel's) are started here directly; anything else
  // goes through the shared x509 verifier.
  const link = (
    child: { der: Uint8Array; signatureAlgorithm: string; signature: Uint8Array; tbs: Uint8Array },
    issuer: Certificate,
    other: () => Promise<boolean>,
  ) => {
    if (chainVerdicts.has(child.der, issuer.der)) return;
    const key = issuer.publicKey;
    const hash =
      child.signatureAlgorithm === OID.ecdsaWithSha256
        ? "SHA-256"
        : child.signatureAlgorithm === OID.ecdsaWithSha384
          ? "SHA-384"
          : undefined;
    const raw = key.kind === "ec" && hash ? derSignatureToRaw(key.curve, child.signature) : null;
    const valid =
      key.kind === "ec" && hash && raw
        ? jobs.track(startEcdsaVerify(key.curve, hash, key.point, raw, child.tbs))
        : other();
    pending.push(
      valid.then(
        (ok) => ok && chainVerdicts.add(child.der, issuer.der),
        () => undefined,
      ),
    );
  };
  const addChain = (chain: readonly Certificate[]) => {
    for (const cert of chain) {
      const selfSigned = cert.subject === cert.issuer;
      const issuer = selfSigned
        ? roots.find((r) => equalBytes(r.der, cert.der))
        : (chain.find((c) => c.subject === cert.issuer && c !== cert) ??
          roots.find((c) => c.subject === cert.issuer));
      if (!issuer) continue;
      const done = seen.get(cert) ?? new Set<Certificate>();
      seen.set(cert, done);
      if (done.has(issuer)) continue;
      done.add(issuer);
      link(cert, issuer, () => verifyCertificateSignature(cert, issuer, jobs.backend));
    }
  };
  const addCrl = (crl: Crl, issuer: Certificate) =>
    link(crl, issuer, () =>
      verifySignedData(
        issuer.publicKey,
        crl.signatureAlgorithm,
        crl.signatureParams,
        crl.signature,
        crl.tbs,
        jobs.backend,
      ),
    );

  const sd = quote.signatureData;
  pending.push(jobs.ecdsa(sd.attestationKey, sd.signature, quote.signedRegion));
  await jobs.started();
  try {
    const pck = parsePckChain(sd.pckChain);
    const leafKey = pck[0]?.publicKey;
    if (leafKey?.kind === "ec" && leafKey.curve === "P-256") {
      pending.push(jobs.ecdsa(leafKey.point, sd.qeReportSignature, sd.qeReport.raw));
    }
    addChain(pck);
  } catch {
    // reported by the pck_chain check
  }
  await jobs.started();
  if (collateralOf) {
    try {
      const collateral = collateralOf();
      for (const body of [collateral.tcbInfo, collateral.qeIdentity]) {
        const chain = parseCertificates(body.issuerChain);
        const key = chain[0]?.publicKey;
        if (key?.kind === "ec" && key.curve === "P-256")
          pending.push(jobs.ecdsa(key.point, body.signature, encoder.encode(body.body)));
        addChain(chain);
        await jobs.started();
      }
      const pckCrlChain = parseCertificates(collateral.pckCrlIssuerChain);
      addChain(pckCrlChain);
      const rootCrl = parseCrl(collateral.rootCaCrl);
      const root = roots.find((r) => r.subject === rootCrl.issuer);
      if (root) addCrl(rootCrl, root);
      await jobs.started();
      if (pckCrlChain[0]) addCrl(parseCrl(collateral.pckCrl), pckCrlChain[0]);
    } catch {
      // reported by the collateral checks
    }
  }
  await Promise.all(pending);
}

function skipped(list: CheckList, id: string, label: string, why: string): undefined {
  list.skip(id, label, why);
  return undefined;
}

interface SignatureStage {
  readonly pckLeaf: Certificate | undefined;
  readonly pckCa: Certificate | undefined;
  readonly pck: PckExtensions | undefined;
}

/**
 * The collateral-free part of verification: QE vendor, PCK chain to the roots, PCK extensions, QE
 * report signature and binding, quote signature. Records each check in `list`.
 */
async function checkSignatures(
  quote: TdxQuote,
  roots: readonly Certificate[],
  now: Date,
  list: CheckList,
  jobs: SignatureJobs,
): Promise<SignatureStage> {
  const sd = quote.signatureData;
  await list.run("qe_vendor_id", LABEL.qe_vendor_id, () => {
    if (toHex(quote.header.qeVendorId) !== INTEL_QE_VENDOR_ID) {
      throw new EvidenceInvalidError(
        "tdx_qe_vendor_id_unknown",
        `QE vendor id ${toHex(quote.header.qeVendorId)} is not Intel's ${INTEL_QE_VENDOR_ID}`,
      );
    }
  });
  const chain = await list.run(
    "pck_chain",
    LABEL.pck_chain,
    async () => {
      const certs = parsePckChain(sd.pckChain);
      const leaf = certs[0] as Certificate;
      if (leaf.isCa) {
        throw new EvidenceInvalidError(
          "tdx_pck_certificate_invalid",
          `the first certificate of the PCK chain ("${leaf.subject}") is a CA, not a PCK certificate`,
        );
      }
      const verified = await verifyCertificateChain(leaf, certs.slice(1), {
        roots,
        now,
        label: "PCK",
        cache: chainVerdicts,
        backend: jobs.backend,
      });
      // Every certificate the quote carries must be on the verified path: a root that is not the
      // pinned one byte for byte, or a stray certificate, means the chain was tampered with.
      for (const cert of certs) {
        if (!verified.path.some((p) => equalBytes(p.der, cert.der))) {
          if (cert.subject === cert.issuer) {
            throw new EvidenceInvalidError(
              "certificate_chain_untrusted",
              `the quote's root certificate "${cert.subject}" is not the pinned root`,
            );
          }
          throw new EvidenceInvalidError(
            "tdx_pck_chain_malformed",
            `the quote's PCK chain holds a certificate off the path: "${cert.subject}"`,
          );
        }
      }
      if (verified.path.length !== 3) {
        throw new EvidenceInvalidError(
          "tdx_pck_chain_length_invalid",
          `the PCK chain must be PCK certificate → PCK CA → root; its path has ${verified.path.length} certificates`,
        );
      }
      const [pckLeaf, pckCa] = verified.path as [Certificate, Certificate, Certificate];
      for (const [cert, role] of [
        [pckLeaf, ROLE.pckLeaf],
        [pckCa, ROLE.pckCa],
      ] as const) {
        if (!holdsRole(cert, role)) {
          throw new EvidenceInvalidError(
            "tdx_pck_chain_role_invalid",
            `PCK chain: "${cert.subject}" is not ${role.what} (subject, CA flag and key usage)`,
          );
        }
      }
      return verified.path;
    },
    (path) => path.map((c) => /CN=([^,]+)/.exec(c.subject)?.[1] ?? c.subject).join(" → "),
  );
  const pckLeaf = chain?.[0];
  const pckCa = chain?.[1];
  const pck = pckLeaf
    ? await list.run(
        "pck_extensions",
        LABEL.pck_extensions,
        () => parsePckExtensions(pckLeaf),
        (e) => `FMSPC ${toHex(e.fmspc)}, PCE-ID ${toHex(e.pceId)}, PCESVN ${e.pceSvn}`,
      )
    : skipped(list, "pck_extensions", LABEL.pck_extensions, "no verified PCK certificate");
  if (pckLeaf) {
    await list.run("qe_report_signature", LABEL.qe_report_signature, async () => {
      const key = pckLeaf.publicKey;
      const ok =
        key.kind === "ec" &&
        key.curve === "P-256" &&
        (await jobs.ecdsa(key.point, sd.qeReportSignature, sd.qeReport.raw));
      if (!ok)
        throw new EvidenceInvalidError(
          "tdx_qe_report_signature_invalid",
          "the QE report signature does not verify with the PCK certificate key",
        );
    });
  } else list.skip("qe_report_signature", LABEL.qe_report_signature, "no verified PCK certificate");
  await list.run("qe_report_data", LABEL.qe_report_data, async () => {
    const hash = await sha256Digest([sd.attestationKey, sd.qeAuthData], jobs.backend);
    const reportData = sd.qeReport.reportData;
    if (!equalBytes(reportData.subarray(0, 32), hash) || !isAllZero(reportData.subarray(32))) {
      throw new EvidenceInvalidError(
        "tdx_qe_report_data_mismatch",
        "QE report data is not SHA-256(attestation key || QE authentication data) followed by zeros",
      );
    }
  });
  await list.run("quote_signature", LABEL.quote_signature, async () => {
    if (!(await jobs.ecdsa(sd.attestationKey, sd.signature, quote.signedRegion))) {
      throw new EvidenceInvalidError(
        "tdx_quote_signature_invalid",
        "the quote signature does not verify with the attestation key",
      );
    }
  });
  return { pckLeaf, pckCa, pck };
}

/**
 * Verifies the quote signatures and the PCK chain only (no collateral). Throws on unparseable input.
 *
 * @example
 * ```ts
 * const { verified, checks } = await verifyQuoteSignatures(quoteBytes, { now: new Date() });
 * ```
 */
export async function verifyQuoteSignatures(
  quote: Uint8Array | TdxQuote,
  options: Pick<VerifyTdxOptions, "now" | "roots">,
): Promise<{
  verified: boolean;
  quote: TdxQuote;
  pck: PckExtensions | null;
  checks: readonly Check[];
  errors: readonly VerificationIssue[];
}> {
  const parsed = quote instanceof Uint8Array ? parseTdxQuote(quote) : quote;
  const list = new CheckList();
  const roots = resolveRoots(options.roots);
  const jobs = new SignatureJobs();
  await prefetchSignatures(jobs, roots, parsed, undefined);
  const stage = await checkSignatures(parsed, roots, checkedNow(options.now), list, jobs);
  return {
    verified: !list.failed,
    quote: parsed,
    pck: stage.pck ?? null,
    checks: list.checks,
    errors: list.errors,
  };
}

type QuoteFacts = Omit<
  TdxPolicyFacts,
  "tcbStatus" | "advisoryIds" | "fmspc" | "tcbInfoEvaluationDataNumber" | "qeIdentityEvaluationDataNumber"
>;

function facts(quote: TdxQuote): QuoteFacts {
  const b = quote.body;
  const common = { qeVendorId: toHex(quote.header.qeVendorId), trailingBytes: quote.trailingBytes };
  if (b.kind === "sgx") {
    return {
      ...common,
      kind: "sgx",
      debug: ((b.attributes[0] as number) & 0x02) !== 0,
      mrTd: null,
      rtmr0: null,
      rtmr1: null,
      rtmr2: null,
      rtmr3: null,
      mrSeam: null,
      mrConfigId: null,
      tdAttributes: null,
      xfam: null,
      mrEnclave: toHex(b.mrEnclave),
      mrSigner: toHex(b.mrSigner),
      reportData: toHex(b.reportData),
      teeTcbSvn: null,
      mrSignerSeam: null,
      seamAttributes: null,
      mrOwner: null,
      mrOwnerConfig: null,
    };
  }
  return {
    ...common,
    kind: "tdx",
    debug: ((b.tdAttributes[0] as number) & 0x01) !== 0,
    mrTd: toHex(b.mrTd),
    rtmr0: toHex(b.rtmr0),
    rtmr1: toHex(b.rtmr1),
    rtmr2: toHex(b.rtmr2),
    rtmr3: toHex(b.rtmr3),
    mrSeam: toHex(b.mrSeam),
    mrConfigId: toHex(b.mrConfigId),
    tdAttributes: toHex(b.tdAttributes),
    xfam: toHex(b.xfam),
    mrEnclave: null,
    mrSigner: null,
    reportData: toHex(b.reportData),
    teeTcbSvn: toHex(b.teeTcbSvn),
    mrSignerSeam: toHex(b.mrSignerSeam),
    seamAttributes: toHex(b.seamAttributes),
    mrOwner: toHex(b.mrOwner),
    mrOwnerConfig: toHex(b.mrOwnerConfig),
  };
}

/** One verification's inputs, parsed once, and the state it works with. */
interface TdxRun {
  readonly options: VerifyTdxOptions;
  readonly now: Date;
  readonly policy: ReturnType<typeof withTdxOptOuts>;
  readonly quote: TdxQuote;
  readonly verifier: Verifier;
  readonly store: VerifiedCollateralStore;
  readonly roots: Certificate[];
  readonly list: CheckList;
  readonly jobs: SignatureJobs;
}

/** What the collateral stage established: the TCB evaluation and the collateral it used. */
interface CollateralStage {
  readonly tcb: TcbEvaluation | null;
  readonly collateral: VerifiedCollateral | undefined;
  readonly cached: boolean;
}

/** `now`, `allowUnchecked` and the policy (parsed at the edge, once, with the named opt-outs). */
function tdxRunOptions(options: VerifyTdxOptions): Pick<TdxRun, "now" | "policy"> {
  if (typeof options !== "object" || options === null)
    throw new AttestArgumentError("tdx_options_invalid", "options with `now` are required");
  const now = checkedNow(options.now);
  for (const item of options.allowUnchecked ?? []) {
    if (!TDX_UNCHECKABLE.includes(item))
      throw new AttestArgumentError(
        "tdx_options_invalid",
        `allowUnchecked: unknown check ${JSON.stringify(item)} (${TDX_UNCHECKABLE.map((n) => JSON.stringify(n)).join(", ")})`,
      );
  }
  const policy = withTdxOptOuts(parseTdxPolicy(options.policy ?? DEFAULT_TDX_POLICY), options.allowUnchecked);
  return { now, policy };
}

/**
 * The quote's signatures and PCK chain. Provided collateral is looked up first, so one parallel
 * batch of signature checks covers the collateral's too; parsing that does not need the
 * signatures runs while the platform works on them.
 */
async function signatureStage(
  run: TdxRun,
): Promise<{ stage: SignatureStage; lookup: ReturnType<typeof lookupCollateral> | undefined }> {
  const { options, quote, roots, jobs } = run;
  const lookup =
    options.signaturesOnly !== true && options.collateral !== undefined
      ? lookupCollateral(run.store, options.collateral, roots, run.now)
      : undefined;
  const prefetched = prefetchSignatures(
    jobs,
    roots,
    quote,
    lookup && !lookup.hit ? lookup.normalize : undefined,
  );
  if (lookup && !lookup.hit) lookup.bodies();
  try {
    const leaf = parsePckChain(quote.signatureData.pckChain)[0];
    if (leaf && !leaf.isCa) parsePckExtensions(leaf);
  } catch {
    // reported by the pck_chain / pck_extensions checks
  }
  await prefetched;
  return { stage: await checkSignatures(quote, roots, run.now, run.list, jobs), lookup };
}

/** Collateral for this PCK's platform from the PCS (or the caller's fetch / cache), looked up in the store. */
async function fetchedCollateral(
  run: TdxRun,
  stage: SignatureStage,
): Promise<ReturnType<typeof lookupCollateral>> {
  const { options, verifier } = run;
  if (!stage.pck || !stage.pckCa)
    throw new AttestArgumentError("internal_error", "unreachable: no PCK to fetch collateral for");
  const fetched = await fetchTdxCollateral(
    {
      fmspc: toHex(stage.pck.fmspc),
      teeType: run.quote.kind,
      ca: /Processor/i.test(stage.pckCa.subject) ? "processor" : "platform",
    },
    {
      fetch: options.fetch ?? verifier.fetch,
      baseUrl: options.pcsBaseUrl,
      cache: options.cache ?? verifier.cache.tdx,
      offline: options.offline,
      now: run.now,
    },
  );
  const lookup = lookupCollateral(run.store, fetched, run.roots, run.now);
  if (!lookup.hit) await prefetchSignatures(run.jobs, run.roots, run.quote, lookup.normalize);
  return lookup;
}

/** The PCK and its CA against the verified CRLs (the PCK CRL issued by this PCK's CA). */
async function checkPckNotRevoked(
  list: CheckList,
  verified: VerifiedCollateral | undefined,
  stage: SignatureStage,
): Promise<void> {
  const { pckLeaf, pckCa } = stage;
  if (!verified || !pckLeaf || !pckCa) {
    list.skip("pck_not_revoked", LABEL.pck_not_revoked, "needs a verified PCK chain and verified CRLs");
    return;
  }
  await list.run("pck_not_revoked", LABEL.pck_not_revoked, () => {
    if (
      pckCa.subject !== verified.pckCrlIssuer.subject ||
      !equalBytes(pckCa.publicKey.spki, verified.pckCrlIssuer.publicKey.spki)
    ) {
      throw new EvidenceInvalidError(
        "tdx_pck_crl_issuer_mismatch",
        `the PCK CRL is issued by "${verified.pckCrlIssuer.subject}", the PCK by "${pckCa.subject}"`,
      );
    }
    if (isRevoked(verified.pckCrl, pckLeaf))
      throw new EvidenceInvalidError("tdx_pck_revoked", `PCK certificate ${pckLeaf.serialNumber} is revoked`);
    if (isRevoked(verified.rootCaCrl, pckCa))
      throw new EvidenceInvalidError(
        "tdx_pck_ca_revoked",
        `PCK CA "${pckCa.subject}" is revoked by the Root CA CRL`,
      );
  });
}

/** The TCB info is this platform's (FMSPC, PCE-ID), then the TCB status it gives this quote. */
async function checkPlatformAndTcb(
  run: TdxRun,
  verified: VerifiedCollateral | undefined,
  stage: SignatureStage,
): Promise<TcbEvaluation | null> {
  const { list } = run;
  const pck = stage.pck;
  if (!verified || !pck) {
    list.skip("platform_match", LABEL.platform_match, "needs verified collateral and PCK extensions");
    list.skip("tcb_status", LABEL.tcb_status, "needs verified collateral and PCK extensions");
    return null;
  }
  const platformOk = await list.run("platform_match", LABEL.platform_match, () => {
    if (!equalBytes(pck.fmspc, verified.tcbInfo.fmspc)) {
      throw new EvidenceInvalidError(
        "tdx_fmspc_mismatch",
        `TCB info FMSPC ${toHex(verified.tcbInfo.fmspc)} is not the PCK's ${toHex(pck.fmspc)}`,
      );
    }
    if (!equalBytes(pck.pceId, verified.tcbInfo.pceId)) {
      throw new EvidenceInvalidError(
        "tdx_pce_id_mismatch",
        `TCB info PCE-ID ${toHex(verified.tcbInfo.pceId)} is not the PCK's ${toHex(pck.pceId)}`,
      );
    }
    return true;
  });
  if (!platformOk) {
    list.skip("tcb_status", LABEL.tcb_status, "the TCB info is not for this platform");
    return null;
  }
  const evaluation = await list.run(
    "tcb_status",
    LABEL.tcb_status,
    () => {
      const result = evaluateTcbStatus({
        quote: run.quote,
        pck,
        tcbInfo: verified.tcbInfo,
        qeIdentity: verified.qeIdentity,
      });
      if (result.status === "Revoked")
        throw new EvidenceInvalidError("tdx_tcb_revoked", "the TCB status is Revoked");
      return result;
    },
    (r) =>
      `${r.status}${r.advisoryIds.length > 0 ? ` (${r.advisoryIds.join(", ")})` : ""}; platform ${r.platform.status}${r.tdxModule ? `, ${r.tdxModule.id} ${r.tdxModule.status}` : ""}, QE ${r.qe.status}`,
  );
  return evaluation ?? null;
}

/**
 * Collateral (given, or fetched for this PCK's platform), its verification, the PCK's revocation and
 * the TCB status; every one skipped, with why, under `signaturesOnly` or without a PCK to fetch for.
 */
async function collateralStage(
  run: TdxRun,
  stage: SignatureStage,
  given: ReturnType<typeof lookupCollateral> | undefined,
): Promise<CollateralStage> {
  const { options, list } = run;
  const cannotFetch = options.collateral === undefined && (!stage.pck || !stage.pckCa);
  if (options.signaturesOnly || cannotFetch) {
    const why = options.signaturesOnly
      ? "signatures only: no collateral"
      : "collateral cannot be fetched without a verified PCK certificate";
    for (const [id, label] of [
      ...COLLATERAL_CHECKS,
      ["pck_not_revoked", LABEL.pck_not_revoked],
      ["platform_match", LABEL.platform_match],
      ["tcb_status", LABEL.tcb_status],
    ] as const) {
      list.skip(id, label, why);
    }
    return { tcb: null, collateral: undefined, cached: false };
  }
  const lookup = given ?? (await fetchedCollateral(run, stage));
  const verified = await verifyCollateralItems(run.store, lookup, run.roots, run.now, list, run.jobs);
  await checkPckNotRevoked(list, verified, stage);
  const tcb = await checkPlatformAndTcb(run, verified, stage);
  return { tcb, collateral: verified, cached: lookup.hit !== undefined };
}

/** The policy over the facts of a verified quote, and the result. */
function tdxResult(run: TdxRun, stage: SignatureStage, collateral: CollateralStage): TdxVerificationResult {
  const { options, list, policy, quote: parsed } = run;
  const { tcb, collateral: evaluatedCollateral } = collateral;
  const verified = !list.failed;
  const tcbAccepted = options.allowUnchecked?.includes("tcb") === true;
  const policyFacts: TdxPolicyFacts = {
    ...facts(parsed),
    tcbStatus: tcb?.status ?? "NotEvaluated",
    advisoryIds: tcb?.advisoryIds ?? [],
    fmspc: stage.pck ? toHex(stage.pck.fmspc) : null,
    tcbInfoEvaluationDataNumber: tcb ? (evaluatedCollateral?.tcbInfo.tcbEvaluationDataNumber ?? null) : null,
    qeIdentityEvaluationDataNumber: tcb
      ? (evaluatedCollateral?.qeIdentity.tcbEvaluationDataNumber ?? null)
      : null,
  };
  const unchecked: TdxUncheckable[] = [
    ...(options.signaturesOnly && tcbAccepted ? (["tcb"] as const) : []),
    ...(verified ? tdxPolicyWaivers(policyFacts, policy) : []),
  ];
  // The policy speaks about genuine evidence only; with --signatures-only the TCB rules are moot
  // (the caller chose not to evaluate the TCB) and every other rule still applies.
  let policyViolations: VerificationIssue[] = [];
  if (!verified) list.skip("policy", LABEL.policy, "not evaluated: the evidence did not verify");
  else {
    policyViolations = validateTdxPolicy(policyFacts, policy);
    if (options.signaturesOnly) {
      policyViolations = policyViolations.filter((v) => !TCB_RULES.has(v.code));
      // Secure default: what was not checked is not accepted, unless the caller says so by name.
      if (!tcbAccepted)
        policyViolations.unshift({
          code: "tdx_tcb_unchecked",
          message:
            'the TCB was not evaluated (signatures only: no collateral); accept that by name with allowUnchecked: ["tcb"] (CLI: --allow-unchecked tcb)',
        });
    }
    if (policyViolations.length === 0)
      list.pass(
        "policy",
        LABEL.policy,
        options.signaturesOnly
          ? "every rule holds (TCB not evaluated: accepted unchecked by name)"
          : "every rule holds",
      );
    for (const violation of policyViolations) list.fail("policy", LABEL.policy, violation);
  }
  return {
    ok: verified && policyViolations.length === 0,
    verified,
    quoteVersion: parsed.header.version,
    teeType: parsed.kind === "tdx" ? "TDX" : "SGX",
    ...policyFacts,
    pceId: stage.pck ? toHex(stage.pck.pceId) : null,
    errors: list.errors,
    checks: list.checks,
    tcb,
    collateralWindow: evaluatedCollateral
      ? {
          notBefore: new Date(evaluatedCollateral.notBefore).toISOString(),
          notAfter: new Date(evaluatedCollateral.notAfter).toISOString(),
        }
      : null,
    collateralCached: collateral.cached,
    policyViolations,
    unchecked,
  };
}

/**
 * Verifies an Intel TDX or SGX DCAP quote end to end, then validates the policy.
 *
 * Throws only for unusable input: an unparseable quote (EvidenceParseError), malformed collateral
 * (`collateral_malformed`), collateral that cannot be obtained (CollateralUnavailableError), bad
 * arguments. A quote that is not genuine, or that the policy refuses, gives a result with
 * `verified` / `ok` false, every check, and every error code.
 *
 * @example
 * ```ts
 * import { verifyTdxQuote } from "@peercycles/attest/tdx";
 * const result = await verifyTdxQuote(quote, { collateral, now: new Date("2025-07-19T10:00:34Z") });
 * if (!result.ok) console.log(result.errors);
 * ```
 */
export async function verifyTdxQuote(
  quote: Uint8Array,
  options: VerifyTdxOptions,
): Promise<TdxVerificationResult> {
  const { now, policy } = tdxRunOptions(options);
  const parsed = parseTdxQuote(quote);
  const verifier = verifierOf(options.verifier);
  const run: TdxRun = {
    options,
    now,
    policy,
    quote: parsed,
    verifier,
    store: verifier.state(TDX_STATE, () => new VerifiedCollateralStore()),
    roots: resolveRoots(options.roots ?? verifier.roots.tdx),
    list: new CheckList(),
    jobs: new SignatureJobs(verifier.backend),
  };
  run.list.pass(
    "quote_structure",
    LABEL.quote_structure,
    `v${parsed.header.version} ${parsed.kind.toUpperCase()} ${parsed.body.kind}, ${parsed.length} bytes${parsed.trailingBytes > 0 ? `, ${parsed.trailingBytes} trailing bytes ignored` : ""}`,
  );
  const { stage, lookup } = await signatureStage(run);
  const collateral = await collateralStage(run, stage, lookup);
  return tdxResult(run, stage, collateral);
}
