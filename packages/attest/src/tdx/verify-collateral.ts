/**
 * Verification of Intel collateral, independent of any quote: the TCB info and QE identity signing
 * chains and signatures, both CRLs, every item's validity at `now`; and the per-verifier store of
 * collateral already verified (`VerifiedCollateralStore`).
 */
import { bytesKey } from "../common/bytes.js";
import type { CheckList } from "../common/check.js";
import { EvidenceInvalidError, EvidenceParseError } from "../common/errors.js";
import type { SignatureBackend } from "../common/signatures.js";
import type { Verifier } from "../common/verifier.js";
import {
  type Certificate,
  type Crl,
  isRevoked,
  type KeyUsage,
  parseCrl,
  verifyCertificateChain,
  verifyCrl,
} from "../common/x509.js";
import { parseCertificates } from "./certificates.js";
import { COLLATERAL_CHECKS, LABEL } from "./check-labels.js";
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
import type { TdxErrorCode } from "./error-codes.js";
import { chainVerdicts, type SignatureJobs } from "./signature-jobs.js";

export interface VerifiedCollateral {
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
export class VerifiedCollateralStore {
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
export const TDX_STATE = Symbol("peercycles.attest.tdx");

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

export const encoder = new TextEncoder();

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
export const ROLE = {
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
export function holdsRole(cert: Certificate, role: (typeof ROLE)[keyof typeof ROLE]): boolean {
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
export interface CollateralLookup {
  /** The TCB info and QE identity bodies, parsed once. */
  readonly bodies: () => { tcbInfo: TcbInfo; qeIdentity: QeIdentity };
  readonly parts: readonly string[];
  readonly hash: number;
  /** Verified collateral for these exact bytes whose window holds `now`. */
  readonly hit: VerifiedCollateral | undefined;
  readonly normalize: () => TdxCollateral;
}

export function lookupCollateral(
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

export async function verifyCollateralItems(
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
