import { bytesKey, equalBytes } from "../common/bytes.js";
import { AttestArgumentError, EvidenceInvalidError } from "../common/errors.js";
import type { SignatureBackend } from "../common/signatures.js";
import {
  type Certificate,
  parseCertificates,
  pinnedCertificates,
  verifyCertificateSignature,
} from "../common/x509.js";
import type { SevSnpCache } from "./cache.js";
import { AMD_SEV_SNP_ROOTS, SEV_SNP_PRODUCTS, type SevSnpProduct, type SevSnpProductRoots } from "./roots.js";

/** Certificates as DER bytes, PEM text (any number of blocks) or PEM bytes. */
export type CertificateInput = Uint8Array | string;

const PINNED_PEMS: ReadonlySet<string> = new Set(
  SEV_SNP_PRODUCTS.flatMap((product) => {
    const roots = AMD_SEV_SNP_ROOTS[product];
    return [roots.ark, roots.ask, roots.asvk];
  }),
);

/**
 * The single certificate of a root PEM: one of the package's pinned AMD constants (a trust anchor,
 * parsed once per process), or a caller's root, parsed like any certificate and never registered as
 * an anchor (a caller's roots do not outlive its call).
 */
export function pinnedCertificate(pem: string): Certificate {
  const parsed = PINNED_PEMS.has(pem) ? pinnedCertificates(pem) : parseCertificates(pem);
  if (parsed.length !== 1)
    throw new AttestArgumentError(
      "snp_roots_invalid",
      "each pinned root must be exactly one PEM certificate",
    );
  return parsed[0] as Certificate;
}

/**
 * Registers the ARK, ASK and ASVK of every product line as trust anchors (parsed once per process),
 * before any supplied chain is parsed: a chain that repeats them (KDS serves ASK + ARK with every
 * VCEK) then costs byte comparisons, not RSA-4096 certificate parses. A malformed custom root is
 * skipped here and reported where it is used.
 */
export function pinSevSnpRoots(): void {
  for (const product of SEV_SNP_PRODUCTS) {
    const trust = AMD_SEV_SNP_ROOTS[product];
    for (const pem of [trust.ark, trust.ask, trust.asvk]) {
      try {
        pinnedCertificates(pem);
      } catch {
        // reported by verifySevSnpKeyChain when this product line is used
      }
    }
  }
}

/** Forgets memoised certificate inputs (benchmarks use it to measure a cold verifier). */
export function clearSevSnpInputCache(): void {
  textInputs.clear();
  byteInputs.clear();
}

/** The CN of an X.509 name string as `Certificate` renders it. */
export function commonName(name: string): string | undefined {
  return /(?:^|, )CN=([^,]*)/.exec(name)?.[1];
}

const PRODUCT_NAMES: Record<string, SevSnpProduct> = { milan: "milan", genoa: "genoa", turin: "turin" };

/** Product line from a VCEK/VLEK issuer CN ("SEV-Milan", "SEV-VLEK-Genoa", …). */
export function productFromIssuer(cert: Certificate): SevSnpProduct | undefined {
  const match = /^SEV-(?:VLEK-)?([A-Za-z]+)$/.exec(commonName(cert.issuer) ?? "");
  return match ? PRODUCT_NAMES[(match[1] as string).toLowerCase()] : undefined;
}

/** Product line from the AMD product-name extension ("Milan-B0", "Genoa", "Turin"). */
export function productFromName(name: string | undefined): SevSnpProduct | undefined {
  const match = /^([A-Za-z]+)/.exec(name ?? "");
  return match ? PRODUCT_NAMES[(match[1] as string).toLowerCase()] : undefined;
}

/** Whether a leaf is a VCEK or a VLEK (by subject CN, or an ASVK issuer). */
export function keyKindOf(cert: Certificate): "vcek" | "vlek" | undefined {
  const subject = commonName(cert.subject);
  const issuer = commonName(cert.issuer) ?? "";
  if (subject === "SEV-VLEK" || issuer.startsWith("SEV-VLEK-")) return "vlek";
  if (subject === "SEV-VCEK") return "vcek";
  return undefined;
}

const INPUT_CACHE_LIMIT = 128;
const textInputs = new Map<string, readonly Certificate[]>();
const byteInputs = new Map<string, readonly Certificate[]>();

/**
 * Certificates of one input, memoised by its exact content (PEM text or bytes). Nothing memoised
 * aliases the caller's bytes: `parseCertificate` parses a copy of each DER certificate, and PEM
 * text is decoded into new bytes.
 */
function certificatesOf(input: CertificateInput): readonly Certificate[] {
  const memo = typeof input === "string" ? textInputs : byteInputs;
  const key = typeof input === "string" ? input : bytesKey(input);
  let certs = memo.get(key);
  if (!certs) {
    certs = parseCertificates(input);
    if (memo.size >= INPUT_CACHE_LIMIT) memo.delete(memo.keys().next().value as string);
    memo.set(key, certs);
  }
  return certs;
}

/** Parses certificate inputs (DER, PEM text or PEM bytes; one or many). */
export function toCertificates(
  input: CertificateInput | readonly CertificateInput[] | undefined,
): Certificate[] {
  if (input === undefined) return [];
  if (typeof input === "string" || input instanceof Uint8Array) return [...certificatesOf(input)];
  return input.flatMap((item) => [...certificatesOf(item)]);
}

let nextCertificateId = 1;
const certificateIds = new WeakMap<Certificate, number>();

/**
 * Key of a chain by certificate identity. Parsed certificates are memoised by exact bytes, so equal
 * bytes give the same object; a re-parse after eviction gives a new id and merely misses the cache.
 */
function chainKey(certs: readonly Certificate[]): string {
  let key = "";
  for (const cert of certs) {
    let id = certificateIds.get(cert);
    if (id === undefined) {
      id = nextCertificateId++;
      certificateIds.set(cert, id);
    }
    key += `${id}.`;
  }
  return key;
}

const PRODUCT_CN: Record<SevSnpProduct, string> = { milan: "Milan", genoa: "Genoa", turin: "Turin" };

/**
 * The roles of AMD's key chain by position: the leaf is an end entity named SEV-VCEK (issued by the
 * ASK, "SEV-<Product>") or SEV-VLEK (issued by the ASVK, "SEV-VLEK-<Product>"), for the product line
 * being verified; the issuer is a CA whose key usage, when stated, allows certificate signing.
 * @throws EvidenceInvalidError `snp_chain_role_invalid`
 */
function checkRoles(
  leaf: Certificate,
  issuer: Certificate,
  kind: "vcek" | "vlek" | undefined,
  label: string,
  product: SevSnpProduct,
): void {
  const fail = (why: string) => {
    throw new EvidenceInvalidError("snp_chain_role_invalid", `${label} chain: ${why}`);
  };
  const subject = commonName(leaf.subject);
  const expectedIssuer = kind === "vlek" ? `SEV-VLEK-${PRODUCT_CN[product]}` : `SEV-${PRODUCT_CN[product]}`;
  if (subject !== (kind === "vlek" ? "SEV-VLEK" : "SEV-VCEK"))
    fail(`the leaf "${subject}" is neither SEV-VCEK under an ASK nor SEV-VLEK under an ASVK`);
  if (leaf.isCa) fail(`the ${label} "${subject}" is a CA certificate`);
  if (leaf.keyUsage && !leaf.keyUsage.has("digitalSignature"))
    fail(`the key usage of the ${label} does not allow signing`);
  if (commonName(issuer.subject) !== expectedIssuer)
    fail(`the ${label} is issued by "${commonName(issuer.subject)}", expected "${expectedIssuer}"`);
  if (issuer.keyUsage && !issuer.keyUsage.has("keyCertSign"))
    fail(`the key usage of "${commonName(issuer.subject)}" does not allow certificate signing`);
}

export interface SevSnpKeyChainOptions {
  readonly product: SevSnpProduct;
  readonly now: Date;
  /** ASK/ASVK (and optionally the ARK) supplied by the caller. */
  readonly supplied?: readonly Certificate[];
  /** Whether the caller supplied a chain (if not and `supplied` is empty, the pinned ASK/ASVK is used). */
  readonly chainGiven?: boolean;
  readonly roots?: Partial<Readonly<Record<SevSnpProduct, SevSnpProductRoots>>>;
  readonly cache?: SevSnpCache;
  /** Where the signatures are checked (default: the process's). */
  readonly backend?: SignatureBackend;
}

export interface SevSnpVerifiedKeyChain {
  /** VCEK/VLEK first, ARK last (empty when answered from the cache). */
  readonly path: readonly Certificate[];
  readonly intermediates: readonly Certificate[];
  readonly ark: Certificate;
  readonly cached: boolean;
}

/**
 * Verifies a VCEK or VLEK up to the pinned ARK of a product line: exactly VCEK → ASK → ARK or
 * VLEK → ASVK → ARK (names chain, RSASSA-PSS signatures, CA flags, validity at `now`). A self-signed
 * certificate the caller supplies must be byte-identical to the pinned ARK. Chains that verified
 * are cached by their exact bytes with their validity window.
 *
 * The roles are checked by position (VCEK/VLEK issued by ASK/ASVK issued by ARK, by subject and
 * key usage), and any other supplied certificate must be a pinned one of the product line.
 *
 * @throws EvidenceInvalidError `snp_ark_mismatch`, `snp_chain_shape_invalid`, `snp_chain_role_invalid`,
 *   `certificate_off_path`,
 *   `certificate_chain_incomplete`, `certificate_not_ca`, `certificate_signature_invalid`,
 *   `certificate_not_yet_valid`, `certificate_expired` (the shared X.509 codes)
 * @example
 * ```ts
 * await verifySevSnpKeyChain(parseCertificate(vcekDer), { product: "turin", now, supplied: parseCertificates(chainPem) });
 * ```
 */
export async function verifySevSnpKeyChain(
  leaf: Certificate,
  options: SevSnpKeyChainOptions,
): Promise<SevSnpVerifiedKeyChain> {
  const roots = options.roots?.[options.product] ?? AMD_SEV_SNP_ROOTS[options.product];
  const ark = pinnedCertificate(roots.ark);
  const kind = keyKindOf(leaf);
  const label = kind === "vlek" ? "VLEK" : "VCEK";
  const intermediates: Certificate[] = [];
  for (const cert of options.supplied ?? []) {
    if (cert.subject === cert.issuer) {
      // A self-signed certificate in the supplied chain claims to be a root: it must be the pinned one.
      if (!equalBytes(cert.der, ark.der)) {
        throw new EvidenceInvalidError(
          "snp_ark_mismatch",
          `supplied root "${commonName(cert.subject)}" is not the pinned ARK of ${options.product} ("${commonName(ark.subject)}")`,
        );
      }
      continue;
    }
    intermediates.push(cert);
  }
  if (!options.chainGiven && intermediates.length === 0)
    intermediates.push(pinnedCertificate(kind === "vlek" ? roots.asvk : roots.ask));
  if (leaf.issuer === ark.subject) {
    throw new EvidenceInvalidError(
      "snp_chain_shape_invalid",
      `${label} chain must be ${label} → ${kind === "vlek" ? "ASVK" : "ASK"} → ARK, but the ${label} names the ARK as its issuer`,
    );
  }
  const issuer = intermediates.find((cert) => cert.subject === leaf.issuer);
  if (!issuer) {
    throw new EvidenceInvalidError(
      "certificate_chain_incomplete",
      `${label} chain: no issuer certificate "${leaf.issuer}" for "${leaf.subject}"`,
    );
  }
  if (issuer.issuer !== ark.subject) {
    throw new EvidenceInvalidError(
      "certificate_chain_incomplete",
      `${label} chain: "${commonName(issuer.subject)}" is issued by "${issuer.issuer}", not by the pinned ARK "${ark.subject}"`,
    );
  }
  checkRoles(leaf, issuer, kind, label, options.product);
  // Every other supplied certificate must be one of this product line's pinned AMD certificates,
  // byte for byte: a stray or altered copy is refused, not ignored.
  for (const cert of intermediates) {
    if (cert === issuer || equalBytes(cert.der, issuer.der)) continue;
    const pinned = [roots.ask, roots.asvk].some((pem) => {
      try {
        return equalBytes(pinnedCertificate(pem).der, cert.der);
      } catch {
        return false;
      }
    });
    if (!pinned) {
      throw new EvidenceInvalidError(
        "certificate_off_path",
        `${label} chain: the supplied certificate "${commonName(cert.subject)}" is neither on the path nor a pinned ${options.product} certificate`,
      );
    }
  }
  const path = [leaf, issuer, ark] as const;
  const key = chainKey(path);
  if (options.cache?.hasChain(key, options.now))
    return { path: [], intermediates: [issuer], ark, cached: true };
  for (const ca of [issuer, ark]) {
    if (!ca.isCa)
      throw new EvidenceInvalidError(
        "certificate_not_ca",
        `${label} chain: "${ca.subject}" is not a CA certificate`,
      );
  }
  // The fixed AMD shape lets every signature be checked at once (native work off the main thread);
  // verdicts are then reported link by link, leaf first, as a path builder would.
  const signatures = options.cache?.signatures;
  const link = async (child: Certificate, parent: Certificate) =>
    signatures?.has(child.der, parent.der) === true ||
    (await verifyCertificateSignature(child, parent, options.backend));
  const [leafOk, issuerOk, arkOk] = await Promise.all([
    link(leaf, issuer),
    link(issuer, ark),
    verifyCertificateSignature(ark, ark, options.backend),
  ]);
  if (!leafOk) {
    throw new EvidenceInvalidError(
      "certificate_signature_invalid",
      `${label} chain: signature on "${leaf.subject}" does not verify with "${issuer.subject}"`,
    );
  }
  if (!issuerOk) {
    throw new EvidenceInvalidError(
      "certificate_signature_invalid",
      `${label} chain: signature on "${issuer.subject}" does not verify with "${ark.subject}"`,
    );
  }
  if (!arkOk)
    throw new EvidenceInvalidError(
      "certificate_signature_invalid",
      `${label} root "${ark.subject}" is not validly self-signed`,
    );
  signatures?.add(leaf.der, issuer.der);
  signatures?.add(issuer.der, ark.der);
  const t = options.now.getTime();
  for (const cert of path) {
    if (t < cert.notBefore.getTime()) {
      throw new EvidenceInvalidError(
        "certificate_not_yet_valid",
        `${label} chain: "${cert.subject}" is not valid before ${cert.notBefore.toISOString()} (now ${options.now.toISOString()})`,
      );
    }
    if (t > cert.notAfter.getTime()) {
      throw new EvidenceInvalidError(
        "certificate_expired",
        `${label} chain: "${cert.subject}" expired at ${cert.notAfter.toISOString()} (now ${options.now.toISOString()})`,
      );
    }
  }
  const notBefore = new Date(Math.max(...path.map((c) => c.notBefore.getTime())));
  const notAfter = new Date(Math.min(...path.map((c) => c.notAfter.getTime())));
  options.cache?.rememberChain(key, notBefore, notAfter);
  return { path, intermediates: [issuer], ark, cached: false };
}
