import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import type * as Asn1 from "asn1js";
import type * as Pkijs from "pkijs";
import { bytesKey, equalBytes, toHex } from "../common/bytes.js";
import { AttestError, CollateralUnavailableError, EvidenceInvalidError } from "../common/errors.js";
import { lazyModule } from "../common/lazy-module.js";
import type { SignatureBackend } from "../common/signatures.js";
import {
  type Certificate,
  OID,
  parseCertificate,
  verifyCertificateSignature,
  verifySignedData,
} from "../common/x509.js";

/**
 * OCSP for NVIDIA device and RIM certificates (RFC 6960). NVIDIA publishes revocation only through
 * its OCSP responder (no CRLs), so a verifier that is online asks it about every non-root certificate.
 * Requests are built with pkijs; responses are parsed with pkijs and their signatures checked with
 * WebCrypto against the issuer or a delegated responder certificate the issuer signed. pkijs is
 * loaded on the first OCSP call, never at import.
 */
export const NVIDIA_OCSP_URL = "https://ocsp.ndis.nvidia.com/";
const OID_OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1";
const OID_OCSP_NONCE = "1.3.6.1.5.5.7.48.1.2";
const OID_KP_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";
const OID_EXT_KEY_USAGE = "2.5.29.37";
const OID_SHA1 = "1.3.14.3.2.26";

/** How OCSP answered for one certificate. */
export interface OcspCertificateStatus {
  readonly subject: string;
  readonly serialNumber: string;
  readonly status: "good" | "revoked" | "unknown";
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly revocationTime?: Date;
  /** RFC 5280 CRLReason name, e.g. `certificateHold`. */
  readonly revocationReason?: string;
}

const REASONS = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  "unused",
  "removeFromCRL",
  "privilegeWithdrawn",
  "aACompromise",
];

type Hash = (data: Uint8Array) => Uint8Array;

/**
 * pkijs and the asn1js it works with (the same copy: its CommonJS build), and @noble/hashes' SHA-1 for
 * CertIDs, loaded together on first use: importing `/nvidia` loads none of them. SHA-2 is a static
 * import: Node's build maps it to node:crypto (src/common/node-sha2.ts, a few lines), and a dynamic
 * import of it made that module an entry of its own, which split the shared errors and bytes code
 * every subpath loads into one more module to load at import.
 */
const loadPkijs = lazyModule(async () => {
  const [pkijs, asn1js, legacy] = await Promise.all([
    import("pkijs"),
    import("asn1js"),
    import("@noble/hashes/legacy.js"),
  ]);
  const hashes: Record<string, Hash> = {
    [OID_SHA1]: legacy.sha1,
    [OID.sha256]: sha256,
    [OID.sha384]: sha384,
    [OID.sha512]: sha512,
  };
  return { pkijs, asn1js, hashes };
});

/** pkijs' object model of a certificate, built from its DER once per certificate object. */
const pkijsCertificates = new WeakMap<Certificate, Pkijs.Certificate>();
function pkijsCertificate(pkijs: typeof Pkijs, cert: Certificate): Pkijs.Certificate {
  let raw = pkijsCertificates.get(cert);
  if (!raw) {
    raw = pkijs.Certificate.fromBER(cert.der as BufferSource);
    pkijsCertificates.set(cert, raw);
  }
  return raw;
}

function issuerNameDer(raw: Pkijs.Certificate): Uint8Array {
  const view = raw.subject.valueBeforeDecode;
  return view.byteLength > 0 ? new Uint8Array(view) : new Uint8Array(raw.subject.toSchema().toBER());
}

function issuerKeyBits(raw: Pkijs.Certificate): Uint8Array {
  return new Uint8Array(raw.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
}

function serialBytes(raw: Pkijs.Certificate): Uint8Array {
  return new Uint8Array(raw.serialNumber.valueBlock.valueHexView);
}

/**
 * Builds the DER OCSPRequest for `cert` issued by `issuer` (CertID with SHA-384, as NVIDIA's
 * verifiers send it), with an optional nonce extension.
 * @example
 * const der = await buildOcspRequest(leaf, intermediate, crypto.getRandomValues(new Uint8Array(32)));
 */
export async function buildOcspRequest(
  cert: Certificate,
  issuer: Certificate,
  nonce?: Uint8Array,
): Promise<Uint8Array> {
  const { pkijs, asn1js, hashes } = await loadPkijs();
  const sha384 = hashes[OID.sha384] as Hash;
  const issuerRaw = pkijsCertificate(pkijs, issuer);
  const certId = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OID.sha384,
      algorithmParams: new asn1js.Null(),
    }),
    issuerNameHash: new asn1js.OctetString({ valueHex: sha384(issuerNameDer(issuerRaw)) as BufferSource }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: sha384(issuerKeyBits(issuerRaw)) as BufferSource }),
    serialNumber: new asn1js.Integer({
      valueHex: serialBytes(pkijsCertificate(pkijs, cert)) as BufferSource,
    }),
  });
  const request = new pkijs.OCSPRequest();
  request.tbsRequest.requestList = [new pkijs.Request({ reqCert: certId })];
  if (nonce) {
    request.tbsRequest.requestExtensions = [
      new pkijs.Extension({
        extnID: OID_OCSP_NONCE,
        critical: false,
        extnValue: new asn1js.OctetString({ valueHex: nonce as BufferSource }).toBER(),
      }),
    ];
  }
  return new Uint8Array(request.toSchema(true).toBER());
}

function invalid(message: string, cause?: unknown): EvidenceInvalidError {
  return new EvidenceInvalidError(
    "nvidia_ocsp_response_invalid",
    message,
    cause === undefined ? undefined : { cause },
  );
}

function hasOcspSigning(pkijs: typeof Pkijs, cert: Certificate): boolean {
  const ext = pkijsCertificate(pkijs, cert).extensions?.find((e) => e.extnID === OID_EXT_KEY_USAGE);
  const purposes = (ext?.parsedValue as Pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  return purposes.includes(OID_KP_OCSP_SIGNING);
}

export interface OcspCheckOptions {
  readonly now: Date;
  /** When the request carried a nonce, the response must echo it (if it carries one at all). */
  readonly nonce?: Uint8Array;
  /** Seconds of clock skew tolerated on thisUpdate/nextUpdate (default 300). */
  readonly skewSeconds?: number;
  /** Where the signatures are checked (default: the process's). */
  readonly backend?: SignatureBackend;
}

/**
 * Parses and checks a DER OCSPResponse about `cert`: successful, basic, signed by the issuer (or by
 * a responder certificate the issuer signed for OCSP signing), a SingleResponse for this exact
 * CertID, current at `now`.
 * @throws EvidenceInvalidError `nvidia_ocsp_response_invalid`
 */
export async function checkOcspResponse(
  der: Uint8Array,
  cert: Certificate,
  issuer: Certificate,
  options: OcspCheckOptions,
): Promise<OcspCertificateStatus> {
  const { pkijs, asn1js, hashes } = await loadPkijs();
  let basic: Pkijs.BasicOCSPResponse;
  try {
    const asn = asn1js.fromBER(der as BufferSource);
    if (asn.offset === -1) throw new Error("not DER");
    const response = new pkijs.OCSPResponse({ schema: asn.result });
    const status = response.responseStatus.valueBlock.valueDec;
    if (status !== 0) throw invalid(`OCSP responder answered status ${status} (not successful)`);
    if (!response.responseBytes || response.responseBytes.responseType !== OID_OCSP_BASIC)
      throw invalid("OCSP response is not a BasicOCSPResponse");
    const inner = asn1js.fromBER(response.responseBytes.response.valueBlock.valueHexView);
    if (inner.offset === -1) throw new Error("BasicOCSPResponse is not DER");
    basic = new pkijs.BasicOCSPResponse({ schema: inner.result });
  } catch (cause) {
    if (AttestError.isInstance(cause)) throw cause;
    throw invalid("OCSP response is not valid DER", cause);
  }

  const tbs = new Uint8Array(basic.tbsResponseData.tbsView);
  const signature = new Uint8Array(basic.signature.valueBlock.valueHexView);
  const algorithm = basic.signatureAlgorithm.algorithmId;
  let signer: Certificate | undefined;
  if (
    await verifySignedData(
      issuer.publicKey,
      algorithm,
      basic.signatureAlgorithm.algorithmParams,
      signature,
      tbs,
      options.backend,
    )
  )
    signer = issuer;
  for (const candidate of basic.certs ?? []) {
    if (signer) break;
    const responder = parseCertificate(new Uint8Array(candidate.toSchema().toBER()));
    if (responder.issuer !== issuer.subject || !hasOcspSigning(pkijs, responder)) continue;
    if (!(await verifyCertificateSignature(responder, issuer, options.backend))) continue;
    const t = options.now.getTime();
    if (t < responder.notBefore.getTime() || t > responder.notAfter.getTime()) continue;
    if (
      await verifySignedData(
        responder.publicKey,
        algorithm,
        basic.signatureAlgorithm.algorithmParams,
        signature,
        tbs,
        options.backend,
      )
    )
      signer = responder;
  }
  if (!signer)
    throw invalid(
      `OCSP response about "${cert.subject}" is not signed by its issuer or an authorised responder`,
    );

  if (options.nonce) {
    const ext = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === OID_OCSP_NONCE);
    if (ext) {
      const value = new Uint8Array(ext.extnValue.valueBlock.valueHexView);
      const parsed = asn1js.fromBER(value as BufferSource);
      const echoed =
        parsed.result instanceof asn1js.OctetString
          ? new Uint8Array(parsed.result.valueBlock.valueHexView)
          : value;
      if (!equalBytes(echoed, options.nonce))
        throw invalid("OCSP response nonce does not match the request nonce");
    }
  }

  const serial = serialBytes(pkijsCertificate(pkijs, cert));
  const issuerRaw = pkijsCertificate(pkijs, issuer);
  const single = basic.tbsResponseData.responses.find((r) => {
    const hash = hashes[r.certID.hashAlgorithm.algorithmId];
    if (!hash) return false;
    return (
      equalBytes(new Uint8Array(r.certID.serialNumber.valueBlock.valueHexView), serial) &&
      equalBytes(
        new Uint8Array(r.certID.issuerNameHash.valueBlock.valueHexView),
        hash(issuerNameDer(issuerRaw)),
      ) &&
      equalBytes(
        new Uint8Array(r.certID.issuerKeyHash.valueBlock.valueHexView),
        hash(issuerKeyBits(issuerRaw)),
      )
    );
  });
  if (!single)
    throw invalid(`OCSP response carries no status for "${cert.subject}" (serial ${toHex(serial)})`);

  const skew = (options.skewSeconds ?? 300) * 1000;
  const t = options.now.getTime();
  if (single.thisUpdate.getTime() > t + skew)
    throw invalid(
      `OCSP status for "${cert.subject}" is from the future (${single.thisUpdate.toISOString()})`,
    );
  if (single.nextUpdate && single.nextUpdate.getTime() < t - skew) {
    throw invalid(
      `OCSP status for "${cert.subject}" is stale (nextUpdate ${single.nextUpdate.toISOString()})`,
    );
  }

  const status = single.certStatus as Asn1.BaseBlock & { idBlock: { tagNumber: number } };
  const tag = status.idBlock.tagNumber;
  const base = {
    subject: cert.subject,
    serialNumber: cert.serialNumber,
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
  };
  if (tag === 0) return { ...base, status: "good" };
  if (tag === 1) {
    const revoked = status as unknown as Asn1.Constructed;
    const children = revoked.valueBlock.value;
    const time = children[0] as Asn1.GeneralizedTime | undefined;
    const reasonNode = children[1] as Asn1.Constructed | undefined;
    const reasonEnum = reasonNode?.valueBlock.value[0] as Asn1.Enumerated | undefined;
    const reason = reasonEnum
      ? (REASONS[reasonEnum.valueBlock.valueDec] ?? `reason_${reasonEnum.valueBlock.valueDec}`)
      : undefined;
    return {
      ...base,
      status: "revoked",
      revocationTime: time?.toDate?.(),
      ...(reason ? { revocationReason: reason } : {}),
    };
  }
  return { ...base, status: "unknown" };
}

/** Bounded cache of checked OCSP answers, kept until their `nextUpdate`. Only "good" answers are stored. */
export class OcspCache {
  private readonly entries = new Map<string, OcspCertificateStatus>();
  constructor(private readonly limit = 1024) {}
  /** The issuer's exact DER and the serial: no hash to load for a cache key. */
  static key(cert: Certificate, issuer: Certificate): string {
    return `${bytesKey(issuer.der)}\u0000${cert.serialNumber}`;
  }
  get(cert: Certificate, issuer: Certificate, now: Date): OcspCertificateStatus | undefined {
    const hit = this.entries.get(OcspCache.key(cert, issuer));
    if (!hit) return undefined;
    if (hit.nextUpdate && hit.nextUpdate.getTime() < now.getTime()) return undefined;
    if (hit.thisUpdate.getTime() > now.getTime()) return undefined;
    return hit;
  }
  set(cert: Certificate, issuer: Certificate, status: OcspCertificateStatus): void {
    if (status.status !== "good") return;
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(OcspCache.key(cert, issuer), status);
  }
  clear(): void {
    this.entries.clear();
  }
}

const defaultOcspCache = new OcspCache();

export interface RevocationOptions {
  readonly now: Date;
  readonly fetch: typeof fetch;
  readonly cache?: OcspCache;
  /** Responder URL (default {@link NVIDIA_OCSP_URL}). */
  readonly url?: string;
  /** Label for messages ("GPU device", "RIM signer"). */
  readonly label: string;
  /** Where the signatures are checked (default: the process's). */
  readonly backend?: SignatureBackend;
}

/**
 * Asks the OCSP responder about every certificate of a verified path except the root (leaf first).
 * @throws CollateralUnavailableError `nvidia_ocsp_unavailable` when the responder cannot be reached
 * @throws EvidenceInvalidError `nvidia_certificate_revoked`, `nvidia_ocsp_status_unknown`, `nvidia_ocsp_response_invalid`
 */
export async function checkRevocation(
  path: readonly Certificate[],
  options: RevocationOptions,
): Promise<OcspCertificateStatus[]> {
  const cache = options.cache ?? defaultOcspCache;
  const out: OcspCertificateStatus[] = [];
  for (let i = 0; i + 1 < path.length; i++) {
    const cert = path[i] as Certificate;
    const issuer = path[i + 1] as Certificate;
    const cached = cache.get(cert, issuer, options.now);
    if (cached) {
      out.push(cached);
      continue;
    }
    const nonce = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const body = await buildOcspRequest(cert, issuer, nonce);
    let response: Response;
    let bytes: Uint8Array;
    try {
      response = await options.fetch(options.url ?? NVIDIA_OCSP_URL, {
        method: "POST",
        headers: { "content-type": "application/ocsp-request", accept: "application/ocsp-response" },
        body: body as BodyInit,
      });
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (cause) {
      throw new CollateralUnavailableError(
        "nvidia_ocsp_unavailable",
        `${options.label}: OCSP responder unreachable: ${(cause as Error).message}`,
        { cause },
      );
    }
    if (!response.ok) {
      throw new CollateralUnavailableError(
        "nvidia_ocsp_unavailable",
        `${options.label}: OCSP responder answered HTTP ${response.status}`,
      );
    }
    const status = await checkOcspResponse(bytes, cert, issuer, {
      now: options.now,
      nonce,
      ...(options.backend ? { backend: options.backend } : {}),
    });
    if (status.status === "revoked") {
      throw new EvidenceInvalidError(
        "nvidia_certificate_revoked",
        `${options.label}: "${cert.subject}" is revoked${status.revocationReason ? ` (${status.revocationReason})` : ""}`,
        { details: { serialNumber: cert.serialNumber, reason: status.revocationReason } },
      );
    }
    if (status.status === "unknown") {
      throw new EvidenceInvalidError(
        "nvidia_ocsp_status_unknown",
        `${options.label}: OCSP responder does not know "${cert.subject}"`,
      );
    }
    cache.set(cert, issuer, status);
    out.push(status);
  }
  return out;
}
