import { toHex } from "../common/bytes.js";
import { type Check, CheckList } from "../common/check.js";
import { AttestError, EvidenceInvalidError, type VerificationIssue } from "../common/errors.js";
import { lazyModule } from "../common/lazy-module.js";
import { type SignatureBackend, sha256Digest } from "../common/signatures.js";
import { type Certificate, type SignatureVerdictCache, verifyCertificateChain } from "../common/x509.js";
import { chainCode, RIM_CHAIN_CODES } from "./certificate-codes.js";
import { checkRevocation, type OcspCache } from "./ocsp.js";
import { type Rim, XMLDSIG_NAMESPACE } from "./rim.js";
import { defaultRimRoots } from "./roots.js";

const C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const C14N_11 = "http://www.w3.org/2006/12/xml-c14n11";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SIGNATURE_METHODS = new Set([
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
]);

/**
 * Canonical XML 1.1 differs from 1.0 only in how `xml:id` and `xml:base` are inherited into a
 * document subset. xmldsigjs implements 1.0, not 1.1; we register 1.0 under the 1.1 URI and refuse
 * any RIM that carries an `xml:*` attribute, so the two algorithms provably give the same bytes for
 * every document we accept. No canonicalization is written here.
 *
 * xmldsigjs (and the XML stack under it) is loaded by the first RIM signature check, never at
 * import, and set up once: WebCrypto as its engine, Canonical XML 1.0 registered under the 1.1 URI.
 */
const loadXmlDsig = lazyModule(async () => {
  const xmldsig = await import("xmldsigjs");
  class XmlDsigC14N11Transform extends xmldsig.XmlDsigC14NTransform {
    constructor() {
      super();
      this.Algorithm = C14N_11;
    }
  }
  xmldsig.Application.setEngine("WebCrypto", globalThis.crypto as Crypto);
  xmldsig.CryptoConfig.RegisterTransform(C14N_11, XmlDsigC14N11Transform);
  return xmldsig;
});

/** Outcome of verifying one RIM. */
export interface RimVerificationResult {
  /** Signature, signer chain (and OCSP when online) all hold. */
  readonly ok: boolean;
  readonly rim: Rim;
  readonly signer:
    | { readonly subject: string; readonly notBefore: Date; readonly notAfter: Date }
    | undefined;
  readonly revocationChecked: boolean;
  readonly checks: readonly Check[];
  readonly errors: readonly VerificationIssue[];
}

export interface VerifyRimOptions {
  /** Verification time for the signer chain. */
  readonly now: Date;
  /** Pinned RIM roots (default: the NVIDIA CoRIM signing Root CA). */
  readonly rimRoots?: readonly Certificate[];
  /** Never touch the network: OCSP is skipped and `revocationChecked` is false. */
  readonly offline?: boolean;
  readonly fetch?: typeof fetch;
  readonly ocspCache?: OcspCache;
  readonly signatureCache?: SignatureVerdictCache;
  /** Where the signer chain's signatures are checked (default: the process's). */
  readonly backend?: SignatureBackend;
}

/** RIM texts whose XML signature verified (time-independent), keyed by SHA-256 of the text. */
const verifiedSignatures = new Set<string>();

function structuralChecks(rim: Rim): Element {
  const signatures = Array.from(
    rim.document.getElementsByTagNameNS(XMLDSIG_NAMESPACE, "Signature") as unknown as ArrayLike<Element>,
  );
  if (signatures.length !== 1)
    throw new EvidenceInvalidError(
      "nvidia_rim_signature_invalid",
      `RIM has ${signatures.length} ds:Signature elements, expected exactly 1`,
    );
  const signature = signatures[0] as Element;
  if (signature.parentNode !== rim.document.documentElement) {
    throw new EvidenceInvalidError(
      "nvidia_rim_signature_invalid",
      "RIM signature is not enveloped in the SoftwareIdentity element",
    );
  }
  const references = Array.from(
    signature.getElementsByTagNameNS(XMLDSIG_NAMESPACE, "Reference") as unknown as ArrayLike<Element>,
  );
  if (references.length !== 1 || references[0]?.getAttribute("URI") !== "") {
    throw new EvidenceInvalidError(
      "nvidia_rim_signature_invalid",
      'RIM signature must have exactly one Reference with URI="" (the whole document)',
    );
  }
  for (const transform of Array.from(
    signature.getElementsByTagNameNS(XMLDSIG_NAMESPACE, "Transform") as unknown as ArrayLike<Element>,
  )) {
    const algorithm = transform.getAttribute("Algorithm");
    if (algorithm !== ENVELOPED && algorithm !== C14N_11 && algorithm !== C14N_10) {
      throw new EvidenceInvalidError(
        "nvidia_rim_signature_invalid",
        `RIM signature uses unsupported transform ${algorithm}`,
      );
    }
  }
  const method =
    signature.getElementsByTagNameNS(XMLDSIG_NAMESPACE, "SignatureMethod")[0]?.getAttribute("Algorithm") ??
    "";
  if (!SIGNATURE_METHODS.has(method))
    throw new EvidenceInvalidError(
      "nvidia_rim_signature_invalid",
      `RIM signature method ${method} is not ECDSA`,
    );
  if (/\sxml:(id|base|lang|space)\s*=/.test(rim.text)) {
    throw new EvidenceInvalidError(
      "nvidia_rim_signature_invalid",
      "RIM carries xml:* attributes, where Canonical XML 1.1 and 1.0 may differ; refused",
    );
  }
  return signature;
}

async function verifyXmlSignature(rim: Rim): Promise<void> {
  const key = toHex(await sha256Digest([new TextEncoder().encode(rim.text)]));
  const signatureElement = structuralChecks(rim);
  const signer = rim.certificates[0];
  if (!signer)
    throw new EvidenceInvalidError("nvidia_rim_signature_invalid", "RIM KeyInfo holds no signer certificate");
  if (verifiedSignatures.has(key)) return;
  if (signer.publicKey.kind !== "ec")
    throw new EvidenceInvalidError("nvidia_rim_signature_invalid", "RIM signer key is not an EC key");
  let valid = false;
  try {
    const cryptoKey = await globalThis.crypto.subtle.importKey(
      "spki",
      signer.publicKey.spki as BufferSource,
      { name: "ECDSA", namedCurve: signer.publicKey.curve },
      true, // xmldsigjs exports the key to check it against KeyInfo

      ["verify"],
    );
    const xmldsig = await loadXmlDsig();
    const signed = new xmldsig.SignedXml(rim.document);
    signed.LoadXml(signatureElement);
    // xmldsigjs re-imports a given public key with the signature algorithm, which for ECDSA lacks the
    // curve; add it so the signer certificate's key (and only it) is used.
    const algorithm = signed.Algorithm as (Algorithm & { namedCurve?: string }) | undefined;
    if (algorithm)
      signed.Algorithm = { ...algorithm, namedCurve: signer.publicKey.curve } as typeof signed.Algorithm;
    valid = await signed.Verify(cryptoKey);
  } catch (cause) {
    // xmldsigjs throws for a digest mismatch (a changed document) and returns false for a bad signature value.
    throw new EvidenceInvalidError(
      "nvidia_rim_signature_invalid",
      `RIM XML signature does not verify: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!valid)
    throw new EvidenceInvalidError(
      "nvidia_rim_signature_invalid",
      "RIM XML signature does not verify with its signer certificate",
    );
  if (verifiedSignatures.size >= 256)
    verifiedSignatures.delete(verifiedSignatures.values().next().value as string);
  verifiedSignatures.add(key);
}

/**
 * Verifies a RIM: the enveloped XML-DSig signature (xmldsigjs, WebCrypto), the signer chain from
 * `ds:KeyInfo` to the pinned CoRIM root at `now`, and (online) OCSP for the signer chain. Every
 * check runs, so an expired signer and a bad signature are both reported.
 * @throws CollateralUnavailableError `nvidia_ocsp_unavailable` (online only)
 * @example
 * const result = await verifyRim(await parseRim(xml), { now: new Date("2026-06-01T00:00:00Z"), offline: true });
 * result.ok; // true
 */
export async function verifyRim(rim: Rim, options: VerifyRimOptions): Promise<RimVerificationResult> {
  const list = new CheckList();
  const label = `RIM ${rim.version}`;
  await list.run("rim_signature", `${label}: XML signature`, () => verifyXmlSignature(rim));
  const chain = await list.run("rim_chain", `${label}: signer chain to NVIDIA RIM root`, async () => {
    const [signer, ...rest] = rim.certificates;
    if (!signer)
      throw new EvidenceInvalidError(
        "nvidia_rim_certificate_chain_incomplete",
        "RIM carries no signer certificate",
      );
    // The first KeyInfo certificate signs the document: an end entity whose key usage, when
    // stated, allows signing. A CA key that happens to chain to the root is not a RIM signer.
    if (signer.isCa || (signer.keyUsage && !signer.keyUsage.has("digitalSignature"))) {
      throw new EvidenceInvalidError(
        "nvidia_rim_signer_role_invalid",
        `RIM signer "${signer.subject}" is ${signer.isCa ? "a CA certificate" : "not allowed to sign (key usage)"}`,
      );
    }
    try {
      return await verifyCertificateChain(signer, rest, {
        roots: options.rimRoots ?? defaultRimRoots(),
        now: options.now,
        cache: options.signatureCache,
        label: "RIM signer",
        backend: options.backend,
      });
    } catch (error) {
      const code = AttestError.isInstance(error) ? chainCode(RIM_CHAIN_CODES, error.code) : undefined;
      if (code) throw new EvidenceInvalidError(code, (error as Error).message, { cause: error });
      throw error;
    }
  });
  let revocationChecked = false;
  if (options.offline) {
    list.skip("rim_ocsp", `${label}: signer chain revocation (OCSP)`, "offline");
  } else if (chain) {
    const fetchImpl = options.fetch ?? globalThis.fetch;
    const statuses = await list.run("rim_ocsp", `${label}: signer chain revocation (OCSP)`, () =>
      checkRevocation(chain.path, {
        now: options.now,
        fetch: fetchImpl,
        cache: options.ocspCache,
        label: "RIM signer",
        backend: options.backend,
      }),
    );
    revocationChecked = statuses !== undefined;
  } else {
    list.skip("rim_ocsp", `${label}: signer chain revocation (OCSP)`, "chain not verified");
  }
  const signer = rim.certificates[0];
  return {
    ok: !list.failed,
    rim,
    signer: signer
      ? { subject: signer.subject, notBefore: signer.notBefore, notAfter: signer.notAfter }
      : undefined,
    revocationChecked,
    checks: list.checks,
    errors: list.errors,
  };
}
