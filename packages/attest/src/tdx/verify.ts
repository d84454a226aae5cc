import { sha256 } from "@noble/hashes/sha2.js";
import { bytesKey, equalBytes, isAllZero, toHex } from "../common/bytes.js";
import { type Check, CheckList } from "../common/check.js";
import {
  AttestArgumentError,
  EvidenceInvalidError,
  EvidenceParseError,
  type VerificationIssue,
} from "../common/errors.js";
import {
  clearKeyCaches,
  derSignatureToRaw,
  type SignatureBackend,
  type SignatureCheck,
  startEcdsaVerify,
} from "../common/signatures.js";
import { type Verifier, verifierOf } from "../common/verifier.js";
import {
  type Certificate,
  type Crl,
  clearX509Caches,
  IdentityVerdictCache,
  isRevoked,
  type KeyUsage,
  OID,
  parseCertificate,
  parseCrl,
  pemBlocks,
  pinnedCertificates,
  verifyCertificateChain,
  verifyCertificateSignature,
  verifyCrl,
  verifySignedData,
} from "../common/x509.js";
import {
  normalizeTdxCollateral,
  parseQeIdentity,
  parseTcbInfo,
  type QeIdentity,
  type SignedCollateralBody,
  type TcbInfo,
  type TdxCollateral,
  type TdxCollateralInput,
} from "./collateral.js";
import { fetchTdxCollateral, type TdxCollateralCache } from "./collateral-fetcher.js";
import type { TdxErrorCode } from "./error-codes.js";
import { clearPckExtensionCache, type PckExtensions, parsePckExtensions } from "./pck-extensions.js";
import {
  DEFAULT_TDX_POLICY,
  parseTdxPolicy,
  type TdxPolicy,
  type TdxPolicyFacts,
  tdxPolicyWaivers,
  validateTdxPolicy,
} from "./policy.js";
import { INTEL_QE_VENDOR_ID, parseTdxQuote, type TdxQuote } from "./quote.js";
import { INTEL_SGX_ROOT_CA_PEM } from "./roots.js";
import { evaluateTcbStatus, type TcbEvaluation, type TcbStatus } from "./tcb-status.js";

/** Options of {@link verifyTdxQuote}. */
export interface VerifyTdxOptions {
  /** Verification time: a Date, an ISO 8601 string or Unix seconds. Required; the clock is never read. */
  readonly now: Date | string | number;
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

const chainVerdicts = new IdentityVerdictCache();

interface VerifiedCollateral {
  readonly tcbInfo: TcbInfo;
  readonly qeIdentity: QeIdentity;
  readonly pckCrl: Crl;
  readonly pckCrlIssuer: Certificate;
  readonly rootCaCrl: Crl;
  /** Every item and every certificate involved is valid in [notBefore, notAfter]. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly tcbSigner: Certificate;
  readonly qeSigner: Certificate;
}

const VERIFIED_COLLATERAL_LIMIT = 64;

/**
 * Collateral already verified, by its exact bytes (and roots): per verifier, never per process, so
 * one verifier's history never reaches another's results. A hit replays the same checks a fresh
 * verification passes; only the result's `collateralCached` says it was one.
 */
class VerifiedCollateralStore {
  private readonly buckets = new Map<
    number,
    Array<{ parts: readonly string[]; value: VerifiedCollateral }>
  >();
  private count = 0;

  find(hash: number, parts: readonly string[]): VerifiedCollateral | undefined {
    return this.buckets
      .get(hash)
      ?.find((e) => e.parts.length === parts.length && e.parts.every((part, i) => part === parts[i]))?.value;
  }

  add(hash: number, parts: readonly string[], value: VerifiedCollateral): void {
    if (this.count >= VERIFIED_COLLATERAL_LIMIT) {
      this.buckets.clear();
      this.count = 0;
    }
    const bucket = this.buckets.get(hash) ?? [];
    bucket.push({ parts, value });
    this.buckets.set(hash, bucket);
    this.count++;
  }
}

/** The key of the TDX state in a {@link Verifier}. */
const TDX_STATE = Symbol("peercycles.attest.tdx");

let defaultRoots: Certificate[] | undefined;

/**
 * Empties every TDX verification cache, and the shared certificate / key caches. The pinned Intel
 * root stays parsed (it is a constant of the package, not evidence).
 */
export function clearTdxCaches(): void {
  chainVerdicts.clear();
  pckChains.clear();
  pemChains.clear();
  clearPckExtensionCache();
  clearX509Caches();
  clearKeyCaches();
}

const rootIds = new WeakMap<Certificate, number>();
let nextRootId = 1;

/** Identifies a set of trust anchors (parsed certificates are memoised per bytes). */
function rootsKey(roots: readonly Certificate[]): string {
  return roots
    .map((root) => {
      let id = rootIds.get(root);
      if (id === undefined) {
        id = nextRootId++;
        rootIds.set(root, id);
      }
      return id;
    })
    .join(",");
}

const DCAP_FIELDS = [
  "tcb_info",
  "tcb_info_signature",
  "tcb_info_issuer_chain",
  "qe_identity",
  "qe_identity_signature",
  "qe_identity_issuer_chain",
  "pck_crl",
  "pck_crl_issuer_chain",
  "root_ca_crl",
] as const;

/**
 * The exact bytes of the collateral as given, as a cache key: the JSON text, the dcap-qvl fields'
 * strings, or the normalised form. Verified collateral is reused only for identical input.
 */
function collateralKey(input: TdxCollateralInput, normalized: () => TdxCollateral): string[] {
  if (typeof input === "string") return ["text", input];
  const record = input as unknown as Record<string, unknown>;
  if (DCAP_FIELDS.every((field) => typeof record[field] === "string")) {
    return ["dcap", ...DCAP_FIELDS.map((field) => record[field] as string)];
  }
  const c = normalized();
  return [
    "normalized",
    c.tcbInfo.body,
    bytesKey(c.tcbInfo.signature),
    c.tcbInfo.issuerChain,
    c.qeIdentity.body,
    bytesKey(c.qeIdentity.signature),
    c.qeIdentity.issuerChain,
    c.pckCrlIssuerChain,
    bytesKey(c.pckCrl),
    bytesKey(c.rootCaCrl),
  ];
}

/**
 * A cheap hash of the key parts (length and a sample of characters): it only picks the bucket;
 * a hit is confirmed by comparing every part in full, so the cache holds exact bytes only.
 */
function hashParts(parts: readonly string[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ part.length, 0x01000193);
    const step = Math.max(1, part.length >> 6);
    for (let i = 0; i < part.length; i += step) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/** PEM text (or one DER certificate) to certificates, with the fast DER reader. */
const pemChains = new Map<string, Certificate[]>();

function parseCertificates(input: string | Uint8Array): Certificate[] {
  if (typeof input === "string") {
    // Collateral repeats the same issuer chains (TCB info and QE identity share one).
    const hit = pemChains.get(input);
    if (hit) return hit;
    const certs = parsePemOrDer(input);
    if (pemChains.size >= 64) pemChains.clear();
    pemChains.set(input, certs);
    return certs;
  }
  return parsePemOrDer(input);
}

function parsePemOrDer(input: string | Uint8Array): Certificate[] {
  if (typeof input !== "string") {
    const text = input[0] === 0x30 ? undefined : new TextDecoder().decode(input);
    if (text === undefined) return [parseCertificate(input)];
    input = text;
  }
  const certs = pemBlocks(input).map(parseCertificate);
  if (certs.length === 0)
    throw new EvidenceParseError("certificate_malformed", "no PEM CERTIFICATE block found");
  return certs;
}

// ---------------------------------------------------------------------------------------------

/** Normalises `now` (Date, ISO string or Unix seconds). */
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
 * The P-256 signature checks of one verification, memoised by the signature's byte array: the
 * prefetch starts them all at once (WebCrypto runs them on the thread pool in parallel) and each
 * check later awaits the same promise instead of verifying again.
 */
class SignatureJobs {
  /** Where this verification checks its signatures (default: the process's). */
  constructor(readonly backend?: SignatureBackend) {}
  private readonly jobs = new Map<
    Uint8Array,
    Array<{ key: Uint8Array; data: Uint8Array; check: SignatureCheck }>
  >();
  /** Handed-over checks not yet awaited by `started()`. */
  private pending: Promise<void>[] = [];
  start(key: Uint8Array, signature: Uint8Array, data: Uint8Array): SignatureCheck {
    // A verdict is reused only for the same key, signature and signed bytes.
    const list = this.jobs.get(signature) ?? [];
    const job = list.find((j) => equalBytes(j.key, key) && (j.data === data || equalBytes(j.data, data)));
    if (job) return job.check;
    const check = startEcdsaVerify("P-256", "SHA-256", key, signature, data, this.backend);
    list.push({ key, data, check });
    this.jobs.set(signature, list);
    this.pending.push(check.started);
    return check;
  }
  ecdsa(key: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
    return this.start(key, signature, data).valid;
  }
  /** Tracks a check started elsewhere (certificate and CRL signatures) for `started()`. */
  track(check: SignatureCheck): Promise<boolean> {
    this.pending.push(check.started);
    return check.valid;
  }
  /**
   * Resolves once every check started so far runs on WebCrypto's threads. The prefetch awaits it
   * between parsing steps: without a yield the checks would only be handed over after all parsing.
   */
  async started(): Promise<void> {
    const waiting = this.pending;
    this.pending = [];
    await Promise.all(waiting);
  }
}

const encoder = new TextEncoder();

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

async function verifyBodySignature(
  jobs: SignatureJobs,
  body: SignedCollateralBody,
  signer: Certificate,
  code: "collateral_tcb_info_signature_invalid" | "collateral_qe_identity_signature_invalid",
  what: string,
): Promise<void> {
  if (signer.publicKey.kind !== "ec" || signer.publicKey.curve !== "P-256")
    throw new EvidenceInvalidError(code, `${what} signer key is not ECDSA P-256`);
  const ok = await jobs.ecdsa(signer.publicKey.point, body.signature, encoder.encode(body.body));
  if (!ok) throw new EvidenceInvalidError(code, `${what} signature does not verify with "${signer.subject}"`);
}

/**
 * Verifies a collateral CRL; its time window is reported with the item's own code
 * (`collateral_root_ca_crl_expired`, `collateral_pck_crl_not_yet_valid`, …), so that when several
 * items are out of date every one is named, in Intel's order (root CA CRL, PCK CRL, TCB info,
 * QE identity).
 */
async function verifyCollateralCrl(
  crl: Crl,
  issuer: Certificate,
  now: Date,
  label: string,
  prefix: "collateral_root_ca_crl" | "collateral_pck_crl",
  backend: SignatureBackend | undefined,
): Promise<void> {
  try {
    await verifyCrl(crl, issuer, now, label, chainVerdicts, backend);
  } catch (error) {
    if (
      error instanceof EvidenceInvalidError &&
      (error.code === "crl_expired" || error.code === "crl_not_yet_valid")
    )
      throw new EvidenceInvalidError(
        WINDOW_CODES[prefix][error.code === "crl_expired" ? "expired" : "notYetValid"],
        error.message,
        { cause: error },
      );
    throw error;
  }
}

/** The codes of each collateral item's time window, spelled out (no code is built at run time). */
const WINDOW_CODES = {
  collateral_root_ca_crl: {
    expired: "collateral_root_ca_crl_expired",
    notYetValid: "collateral_root_ca_crl_not_yet_valid",
  },
  collateral_pck_crl: {
    expired: "collateral_pck_crl_expired",
    notYetValid: "collateral_pck_crl_not_yet_valid",
  },
  collateral_tcb_info: {
    expired: "collateral_tcb_info_expired",
    notYetValid: "collateral_tcb_info_not_yet_valid",
  },
  collateral_qe_identity: {
    expired: "collateral_qe_identity_expired",
    notYetValid: "collateral_qe_identity_not_yet_valid",
  },
} as const satisfies Record<string, { expired: TdxErrorCode; notYetValid: TdxErrorCode }>;

function checkWindow(
  issue: Date,
  next: Date,
  now: Date,
  prefix: "collateral_tcb_info" | "collateral_qe_identity",
  what: string,
): void {
  if (now.getTime() < issue.getTime()) {
    throw new EvidenceInvalidError(
      WINDOW_CODES[prefix].notYetValid,
      `${what} issueDate ${issue.toISOString()} is after now ${now.toISOString()}`,
    );
  }
  if (now.getTime() > next.getTime()) {
    throw new EvidenceInvalidError(
      WINDOW_CODES[prefix].expired,
      `${what} nextUpdate ${next.toISOString()} is before now ${now.toISOString()}`,
    );
  }
}

/** The CN of a rendered X.509 name. */
function commonNameOf(name: string): string {
  return /(?:^|, )CN=([^,]*)/.exec(name)?.[1] ?? "";
}

/**
 * The roles of Intel's PKI, by position (Intel QVL's checks): the CN names the role (Intel's
 * "Intel SGX …"; a test or development PKI under its own pinned root prefixes it differently, and
 * the name is vouched for by that root), and the key usage allows what the role does.
 */
const ROLE = {
  pckLeaf: {
    name: /(?:^|\s)SGX PCK Certificate$/,
    ca: false,
    usages: ["digitalSignature"],
    what: "an SGX PCK Certificate",
  },
  pckCa: {
    name: /(?:^|\s)SGX PCK (?:Platform|Processor) CA$/,
    ca: true,
    usages: ["keyCertSign", "cRLSign"],
    what: "an SGX PCK Platform or Processor CA",
  },
  tcbSigning: {
    name: /(?:^|\s)SGX TCB Signing$/,
    ca: false,
    usages: ["digitalSignature"],
    what: "the SGX TCB Signing certificate",
  },
} as const satisfies Record<string, { name: RegExp; ca: boolean; usages: readonly KeyUsage[]; what: string }>;

/** Whether a certificate holds a role: name, CA flag and key usage (which must be present). */
function holdsRole(cert: Certificate, role: (typeof ROLE)[keyof typeof ROLE]): boolean {
  return (
    role.name.test(commonNameOf(cert.subject)) &&
    cert.isCa === role.ca &&
    cert.keyUsage !== undefined &&
    role.usages.every((usage) => cert.keyUsage?.has(usage))
  );
}

/**
 * Verifies a two-certificate signing chain (PEM, signer first, then the root) to the pinned roots,
 * with the signer in its role and issued directly by the root: the TCB Signing certificate for TCB
 * info and QE identity, a PCK CA for the PCK CRL. A PCK leaf, a PCK CA or anything else that
 * chains to the root is not a TCB signer.
 */
async function verifySigningChain(
  pem: string,
  roots: readonly Certificate[],
  now: Date,
  label: string,
  signer: "tcbSigning" | "pckCa",
  backend: SignatureBackend | undefined,
): Promise<Certificate> {
  let certs: Certificate[];
  try {
    certs = parseCertificates(pem);
  } catch (cause) {
    throw new EvidenceParseError("collateral_malformed", `${label} issuer chain is not PEM certificates`, {
      cause,
    });
  }
  const leaf = certs[0] as Certificate;
  const [lengthCode, roleCode] =
    signer === "tcbSigning"
      ? (["collateral_signing_chain_length_invalid", "collateral_signer_role_invalid"] as const)
      : (["tdx_pck_crl_issuer_chain_length_invalid", "tdx_pck_crl_issuer_role_invalid"] as const);
  if (!holdsRole(leaf, ROLE[signer])) {
    throw new EvidenceInvalidError(
      roleCode,
      `${label}: "${leaf.subject}" is not ${ROLE[signer].what} (subject, CA flag and key usage)`,
    );
  }
  const verified = await verifyCertificateChain(leaf, certs.slice(1), {
    roots,
    now,
    label,
    cache: chainVerdicts,
    backend,
  });
  if (verified.path.length !== 2 || certs.length > 2) {
    throw new EvidenceInvalidError(
      lengthCode,
      `${label} chain must be exactly ${ROLE[signer].what} and the root; it has ${Math.max(verified.path.length, certs.length)} certificates`,
    );
  }
  return leaf;
}

/**
 * Verifies the collateral itself (independent of any quote): the TCB info and QE identity signing
 * chains and signatures, both CRLs (issuer, signature, validity), and every item's validity at
 * `now`. Verified collateral is cached by its exact bytes and reused while `now` is inside the
 * window where all of it is valid.
 */
interface CollateralLookup {
  /** The TCB info and QE identity bodies, parsed once. */
  readonly bodies: () => { tcbInfo: TcbInfo; qeIdentity: QeIdentity };
  readonly parts: readonly string[];
  readonly hash: number;
  /** Verified collateral for these exact bytes whose window holds `now`. */
  readonly hit: VerifiedCollateral | undefined;
  readonly normalize: () => TdxCollateral;
}

function lookupCollateral(
  store: VerifiedCollateralStore,
  input: TdxCollateralInput,
  roots: readonly Certificate[],
  now: Date,
): CollateralLookup {
  let normalized: TdxCollateral | undefined;
  const normalize = () => {
    normalized ??= normalizeTdxCollateral(input);
    return normalized;
  };
  const parts = [rootsKey(roots), ...collateralKey(input, normalize)];
  const hash = hashParts(parts);
  const entry = store.find(hash, parts);
  const t = now.getTime();
  const hit = entry && t >= entry.notBefore && t <= entry.notAfter ? entry : undefined;
  let bodies: { tcbInfo: TcbInfo; qeIdentity: QeIdentity } | undefined;
  const parseBodies = () => {
    const c = normalize();
    bodies ??= { tcbInfo: parseTcbInfo(c.tcbInfo.body), qeIdentity: parseQeIdentity(c.qeIdentity.body) };
    return bodies;
  };
  return { parts, hash, hit, normalize, bodies: parseBodies };
}

async function verifyCollateralItems(
  store: VerifiedCollateralStore,
  lookup: CollateralLookup,
  roots: readonly Certificate[],
  now: Date,
  list: CheckList,
  jobs: SignatureJobs,
): Promise<VerifiedCollateral | undefined> {
  const { hit } = lookup;
  if (hit) {
    // The checks a fresh verification of these bytes passes (none carries a detail).
    for (const [id, label] of COLLATERAL_CHECKS) list.pass(id, label);
    return hit;
  }
  const collateral = lookup.normalize();
  const { tcbInfo: tcbInfoBody, qeIdentity: qeIdentityBody } = lookup.bodies();
  const rootCaCrl = await list.run("root_ca_crl", LABEL.root_ca_crl, async () => {
    const crl = parseCrl(collateral.rootCaCrl);
    const root = roots.find((r) => r.subject === crl.issuer);
    if (!root)
      throw new EvidenceInvalidError(
        "crl_issuer_mismatch",
        `Root CA CRL issuer "${crl.issuer}" is not a pinned root`,
      );
    await verifyCollateralCrl(crl, root, now, "Root CA", "collateral_root_ca_crl", jobs.backend);
    return crl;
  });
  const revokedByRoot = (
    cert: Certificate,
    code: "tdx_pck_ca_revoked" | "collateral_signing_certificate_revoked",
    what: string,
  ) => {
    if (rootCaCrl && isRevoked(rootCaCrl, cert))
      throw new EvidenceInvalidError(code, `${what} "${cert.subject}" is revoked by the Root CA CRL`);
  };
  const pck = await list.run("pck_crl", LABEL.pck_crl, async () => {
    const issuer = await verifySigningChain(
      collateral.pckCrlIssuerChain,
      roots,
      now,
      "PCK CRL issuer",
      "pckCa",
      jobs.backend,
    );
    revokedByRoot(issuer, "tdx_pck_ca_revoked", "PCK CA");
    const crl = parseCrl(collateral.pckCrl);
    await verifyCollateralCrl(crl, issuer, now, "PCK", "collateral_pck_crl", jobs.backend);
    return { crl, issuer };
  });
  const tcbSigner = await list.run("tcb_info_signature", LABEL.tcb_info_signature, async () => {
    const signer = await verifySigningChain(
      collateral.tcbInfo.issuerChain,
      roots,
      now,
      "TCB info signing",
      "tcbSigning",
      jobs.backend,
    );
    revokedByRoot(signer, "collateral_signing_certificate_revoked", "TCB signing certificate");
    await verifyBodySignature(
      jobs,
      collateral.tcbInfo,
      signer,
      "collateral_tcb_info_signature_invalid",
      "TCB info",
    );
    return signer;
  });
  await list.run("tcb_info_validity", LABEL.tcb_info_validity, () =>
    checkWindow(tcbInfoBody.issueDate, tcbInfoBody.nextUpdate, now, "collateral_tcb_info", "TCB info"),
  );
  const qeSigner = await list.run("qe_identity_signature", LABEL.qe_identity_signature, async () => {
    const signer = await verifySigningChain(
      collateral.qeIdentity.issuerChain,
      roots,
      now,
      "QE identity signing",
      "tcbSigning",
      jobs.backend,
    );
    revokedByRoot(signer, "collateral_signing_certificate_revoked", "QE identity signing certificate");
    await verifyBodySignature(
      jobs,
      collateral.qeIdentity,
      signer,
      "collateral_qe_identity_signature_invalid",
      "QE identity",
    );
    return signer;
  });
  await list.run("qe_identity_validity", LABEL.qe_identity_validity, () =>
    checkWindow(
      qeIdentityBody.issueDate,
      qeIdentityBody.nextUpdate,
      now,
      "collateral_qe_identity",
      "QE identity",
    ),
  );
  if (!rootCaCrl || !pck || !tcbSigner || !qeSigner || list.failed) return undefined;
  const starts = [
    tcbInfoBody.issueDate,
    qeIdentityBody.issueDate,
    rootCaCrl.thisUpdate,
    pck.crl.thisUpdate,
    tcbSigner.notBefore,
    qeSigner.notBefore,
    pck.issuer.notBefore,
  ];
  const ends = [
    tcbInfoBody.nextUpdate,
    qeIdentityBody.nextUpdate,
    rootCaCrl.nextUpdate,
    pck.crl.nextUpdate,
    tcbSigner.notAfter,
    qeSigner.notAfter,
    pck.issuer.notAfter,
  ];
  for (const root of roots) {
    starts.push(root.notBefore);
    ends.push(root.notAfter);
  }
  const verified: VerifiedCollateral = {
    tcbInfo: tcbInfoBody,
    qeIdentity: qeIdentityBody,
    pckCrl: pck.crl,
    pckCrlIssuer: pck.issuer,
    rootCaCrl,
    notBefore: Math.max(...starts.map((d) => d?.getTime() ?? 0)),
    notAfter: Math.min(...ends.map((d) => d?.getTime() ?? Number.POSITIVE_INFINITY)),
    tcbSigner,
    qeSigner,
  };
  store.add(lookup.hash, lookup.parts, verified);
  return verified;
}

/** The policy rules about the TCB and its collateral: moot when the TCB was not evaluated. */
const TCB_RULES: ReadonlySet<string> = new Set([
  "tdx_policy_tcb_status_not_allowed",
  "tdx_policy_advisory_not_allowed",
  "tdx_policy_tcb_info_evaluation_data_number_too_low",
  "tdx_policy_qe_identity_evaluation_data_number_too_low",
]);

const LABEL = {
  quote_structure: "Quote structure (header, body, signature data)",
  qe_vendor_id: "QE vendor is Intel",
  pck_chain: "PCK certificate chain to the Intel SGX Root CA",
  pck_extensions: "PCK certificate SGX extensions (FMSPC, PCE-ID, TCB)",
  qe_report_signature: "QE report signed by the PCK key",
  qe_report_data: "QE report data binds the attestation key (SHA-256(key || auth data))",
  quote_signature: "Quote signed by the attestation key",
  root_ca_crl: "Root CA CRL signed by the root and current",
  pck_crl: "PCK CRL signed by the PCK CA (chain to the root) and current",
  pck_not_revoked: "PCK certificate and PCK CA not revoked",
  tcb_info_signature: "TCB info signed by the Intel TCB signing chain",
  tcb_info_validity: "TCB info current (issueDate .. nextUpdate)",
  qe_identity_signature: "QE identity signed by the Intel TCB signing chain",
  qe_identity_validity: "QE identity current (issueDate .. nextUpdate)",
  platform_match: "TCB info is for this platform (FMSPC, PCE-ID)",
  tcb_status: "TCB status (platform, TDX module, QE identity)",
  policy: "Policy",
} as const;

const COLLATERAL_CHECKS: ReadonlyArray<readonly [string, string]> = [
  ["root_ca_crl", LABEL.root_ca_crl],
  ["pck_crl", LABEL.pck_crl],
  ["tcb_info_signature", LABEL.tcb_info_signature],
  ["tcb_info_validity", LABEL.tcb_info_validity],
  ["qe_identity_signature", LABEL.qe_identity_signature],
  ["qe_identity_validity", LABEL.qe_identity_validity],
];

function skipped(list: CheckList, id: string, label: string, why: string): undefined {
  list.skip(id, label, why);
  return undefined;
}

const pckChains = new Map<string, Certificate[]>();

/** The type-5 certification data: PEM certificates only (whitespace and NUL padding allowed). */
function parsePckChain(bytes: Uint8Array): Certificate[] {
  const text = new TextDecoder().decode(bytes);
  const hit = pckChains.get(text);
  if (hit) return hit;
  const certs = decodePckChain(text);
  if (pckChains.size >= 256) pckChains.delete(pckChains.keys().next().value as string);
  pckChains.set(text, certs);
  return certs;
}

function decodePckChain(text: string): Certificate[] {
  const rest = text.replace(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g, "");
  if (rest.replaceAll("\u0000", "").trim() !== "") {
    throw new EvidenceParseError(
      "tdx_pck_chain_malformed",
      "the quote's PCK certificate chain holds data that is not a PEM certificate",
    );
  }
  try {
    return parseCertificates(text);
  } catch (cause) {
    throw new EvidenceParseError(
      "tdx_pck_chain_malformed",
      "the quote's PCK certificate chain is not PEM certificates",
      { cause },
    );
  }
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
  await list.run("qe_report_data", LABEL.qe_report_data, () => {
    const hash = sha256.create().update(sd.attestationKey).update(sd.qeAuthData).digest();
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
  const stage = await checkSignatures(parsed, roots, toVerificationTime(options.now), list, jobs);
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
      mrtd: null,
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
    mrtd: toHex(b.mrTd),
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
  if (typeof options !== "object" || options === null)
    throw new AttestArgumentError("tdx_options_invalid", "options with `now` are required");
  const now = toVerificationTime(options.now);
  for (const item of options.allowUnchecked ?? []) {
    if (!TDX_UNCHECKABLE.includes(item))
      throw new AttestArgumentError(
        "tdx_options_invalid",
        `allowUnchecked: unknown check ${JSON.stringify(item)} (${TDX_UNCHECKABLE.map((n) => JSON.stringify(n)).join(", ")})`,
      );
  }
  // The policy is parsed at the edge, once; named opt-outs of allowUnchecked join it.
  const policy: TdxPolicy = {
    ...parseTdxPolicy(options.policy ?? DEFAULT_TDX_POLICY),
    ...(options.allowUnchecked?.includes("sept_ve_disable") ? { requireSeptVeDisable: false } : {}),
    ...(options.allowUnchecked?.includes("reserved_attribute_bits")
      ? { allowReservedAttributeBits: true }
      : {}),
  };
  const parsed = parseTdxQuote(quote);
  const verifier = verifierOf(options.verifier);
  const store = verifier.state(TDX_STATE, () => new VerifiedCollateralStore());
  const roots = resolveRoots(options.roots ?? verifier.roots.tdx);
  const list = new CheckList();
  list.pass(
    "quote_structure",
    LABEL.quote_structure,
    `v${parsed.header.version} ${parsed.kind.toUpperCase()} ${parsed.body.kind}, ${parsed.length} bytes${parsed.trailingBytes > 0 ? `, ${parsed.trailingBytes} trailing bytes ignored` : ""}`,
  );
  const jobs = new SignatureJobs(verifier.backend);
  // Provided collateral is looked up first, so one parallel batch covers every signature.
  const wantsCollateral = options.signaturesOnly !== true;
  let lookup =
    wantsCollateral && options.collateral !== undefined
      ? lookupCollateral(store, options.collateral, roots, now)
      : undefined;
  const prefetched = prefetchSignatures(
    jobs,
    roots,
    parsed,
    lookup && !lookup.hit ? lookup.normalize : undefined,
  );
  // Parsing that does not need the signatures runs while WebCrypto works on them.
  if (lookup && !lookup.hit) lookup.bodies();
  try {
    const leaf = parsePckChain(parsed.signatureData.pckChain)[0];
    if (leaf && !leaf.isCa) parsePckExtensions(leaf);
  } catch {
    // reported by the pck_chain / pck_extensions checks
  }
  await prefetched;
  const stage = await checkSignatures(parsed, roots, now, list, jobs);

  let tcb: TcbEvaluation | null = null;
  let evaluatedCollateral: VerifiedCollateral | undefined;
  let collateralWindow: TdxVerificationResult["collateralWindow"] = null;
  let collateralCached = false;
  let tcbStatus: TcbStatus = "NotEvaluated";
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
  } else {
    if (lookup === undefined) {
      if (!stage.pck || !stage.pckCa)
        throw new AttestArgumentError("internal_error", "unreachable: no PCK to fetch collateral for");
      const fetched = await fetchTdxCollateral(
        {
          fmspc: toHex(stage.pck.fmspc),
          teeType: parsed.kind,
          ca: /Processor/i.test(stage.pckCa.subject) ? "processor" : "platform",
        },
        {
          fetch: options.fetch ?? verifier.fetch,
          baseUrl: options.pcsBaseUrl,
          cache: options.cache ?? verifier.cache.tdx,
          offline: options.offline,
          now,
        },
      );
      lookup = lookupCollateral(store, fetched, roots, now);
      if (!lookup.hit) await prefetchSignatures(jobs, roots, parsed, lookup.normalize);
    }
    const verified = await verifyCollateralItems(store, lookup, roots, now, list, jobs);
    collateralCached = lookup.hit !== undefined;
    evaluatedCollateral = verified;
    if (verified) {
      collateralWindow = {
        notBefore: new Date(verified.notBefore).toISOString(),
        notAfter: new Date(verified.notAfter).toISOString(),
      };
    }
    if (verified && stage.pckLeaf && stage.pckCa) {
      const { pckLeaf, pckCa } = stage;
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
          throw new EvidenceInvalidError(
            "tdx_pck_revoked",
            `PCK certificate ${pckLeaf.serialNumber} is revoked`,
          );
        if (isRevoked(verified.rootCaCrl, pckCa))
          throw new EvidenceInvalidError(
            "tdx_pck_ca_revoked",
            `PCK CA "${pckCa.subject}" is revoked by the Root CA CRL`,
          );
      });
    } else
      list.skip("pck_not_revoked", LABEL.pck_not_revoked, "needs a verified PCK chain and verified CRLs");
    if (verified && stage.pck) {
      const pck = stage.pck;
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
      if (platformOk) {
        const evaluation = await list.run(
          "tcb_status",
          LABEL.tcb_status,
          () => {
            const result = evaluateTcbStatus({
              quote: parsed,
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
        if (evaluation) {
          tcb = evaluation;
          tcbStatus = evaluation.status;
        }
      } else list.skip("tcb_status", LABEL.tcb_status, "the TCB info is not for this platform");
    } else {
      list.skip("platform_match", LABEL.platform_match, "needs verified collateral and PCK extensions");
      list.skip("tcb_status", LABEL.tcb_status, "needs verified collateral and PCK extensions");
    }
  }

  const verified = !list.failed;
  const tcbAccepted = options.allowUnchecked?.includes("tcb") === true;
  const base = facts(parsed);
  const policyFacts: TdxPolicyFacts = {
    ...base,
    tcbStatus,
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
    collateralWindow,
    collateralCached,
    policyViolations,
    unchecked,
  };
}
