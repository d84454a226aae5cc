import * as asn1js from "#asn1js";
import { decodeDer, isDerHeader } from "./asn1.js";
import { bytesKey, copyBytes, fromBase64, fromHex, toHex } from "./bytes.js";
import type { SharedErrorCode } from "./error-codes.js";
import { EvidenceInvalidError, EvidenceParseError } from "./errors.js";
import {
  derSignatureToRaw,
  type EcCurve,
  type HashName,
  pinPublicKey,
  type SignatureBackend,
  verifyEcdsa,
  verifyRsaPkcs1,
  verifyRsaPss,
} from "./signatures.js";

/**
 * X.509 certificates and CRLs, parsed with asn1js, checked with WebCrypto.
 * The signed spans (`tbs`) are the exact bytes from the input, never a re-encoding, so a signature
 * is checked over what the vendor signed.
 */

export const OID = {
  ecPublicKey: "1.2.840.10045.2.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsaPss: "1.2.840.113549.1.1.10",
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  ecdsaWithSha384: "1.2.840.10045.4.3.3",
  ecdsaWithSha512: "1.2.840.10045.4.3.4",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  sha384WithRsa: "1.2.840.113549.1.1.12",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extendedKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  crlDistributionPoints: "2.5.29.31",
} as const;

/** The keyUsage bits of RFC 5280 §4.2.1.3, by name (bit 0 first). */
export const KEY_USAGES = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

/**
 * Extensions this package processes when they are marked critical (RFC 5280 §6.1.4 (o): a
 * certificate with any other critical extension is refused). basicConstraints and keyUsage are
 * checked on every path; extKeyUsage and subjectAltName carry nothing a path check depends on here.
 */
const UNDERSTOOD_CRITICAL: ReadonlySet<string> = new Set([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extendedKeyUsage,
  OID.subjectAltName,
]);

const NAME_TYPES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.5": "serialNumber",
  "1.2.840.113549.1.9.1": "emailAddress",
};

export type PublicKeyInfo =
  | { readonly kind: "ec"; readonly curve: EcCurve; readonly point: Uint8Array; readonly spki: Uint8Array }
  | {
      readonly kind: "rsa";
      readonly spki: Uint8Array;
      /** Big-endian, as encoded (a leading zero byte may be present). */
      readonly modulus: Uint8Array;
      readonly exponent: Uint8Array;
    }
  | { readonly kind: "other"; readonly algorithm: string; readonly spki: Uint8Array };

export interface CertificateExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** DER of the extension's OCTET STRING content. */
  readonly value: Uint8Array;
}

/** A parsed X.509 certificate. Readonly; `der` and `tbs` are views of the input bytes. */
export interface Certificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly subject: string;
  readonly issuer: string;
  /** Serial number, lowercase hex without leading zero bytes. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithm: string;
  /**
   * DER of the signature AlgorithmIdentifier's parameters (RSA-PSS carries hash, MGF and salt
   * there); undefined when they are absent or NULL. Bytes, not a decoded tree: a memoised
   * certificate should not keep asn1js nodes alive.
   */
  readonly signatureParams: Uint8Array | undefined;
  readonly signature: Uint8Array;
  readonly publicKey: PublicKeyInfo;
  readonly extensions: readonly CertificateExtension[];
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint, when the certificate is a CA that sets one. */
  readonly pathLength: number | undefined;
  /** The keyUsage bits that are set; undefined when the certificate has no keyUsage extension. */
  readonly keyUsage: ReadonlySet<KeyUsage> | undefined;
}

/**
 * Certificates and CRLs are decoded with asn1js and their fields read straight from the decoded
 * tree. pkijs' schema-driven object model is never built here (OCSP builds its own, on the DER, after
 * loading pkijs on first use): building it for every certificate costs more than the signature checks
 * themselves, and loading pkijs costs ~100 ms.
 */
type Node = asn1js.AsnType;

const NOT_DER = { certificate: "certificate_not_der", crl: "crl_not_der" } as const;

class ShapeError extends Error {
  /** A precise code for the failure; plain shape errors become `certificate_malformed` / `crl_malformed`. */
  readonly code: SharedErrorCode | undefined;
  constructor(message: string, code?: SharedErrorCode) {
    super(message);
    this.code = code;
  }
}

/** Whether an element and everything inside it is DER: headers, and asn1js' re-encoding equals the input. */
function derTree(node: Node): boolean {
  if (!isDerHeader(node)) return false;
  const children = (node as asn1js.Sequence).valueBlock?.value;
  if ((node as asn1js.BaseBlock).idBlock.isConstructed && Array.isArray(children)) {
    if (!children.every((child) => derTree(child as Node))) return false;
  }
  return equalView(new Uint8Array(node.toBER(false)), encoding(node));
}

function equalView(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The unsigned envelope of a certificate or CRL (RFC 5280 §4.1.1): an outer SEQUENCE in DER around
 * the signed TBS, a signatureAlgorithm that is DER and byte-identical to the one inside the TBS
 * (parameters included, §4.1.1.2), and a primitive BIT STRING signature in DER. None of it is
 * covered by the signature, so any other encoding is a second byte string for the same object.
 */
function checkEnvelope(
  outer: Node,
  tbs: Node,
  algorithm: Node,
  innerAlgorithm: Node | undefined,
  signature: Node,
  prefix: "certificate" | "crl",
): void {
  const notDer = (what: string) => new ShapeError(`${what} is not DER`, NOT_DER[prefix]);
  if (!isUniversal(outer, 16) || !(outer as asn1js.BaseBlock).idBlock.isConstructed || !isDerHeader(outer))
    throw notDer("the outer SEQUENCE");
  if (!isUniversal(tbs, 16) || !isDerHeader(tbs)) throw notDer("the TBS header");
  if (!isUniversal(algorithm, 16) || !derTree(algorithm)) throw notDer("the signatureAlgorithm");
  if (
    !isUniversal(signature, 3) ||
    (signature as asn1js.BaseBlock).idBlock.isConstructed ||
    !isDerHeader(signature)
  )
    throw notDer("the signatureValue BIT STRING");
  if (!innerAlgorithm || !equalView(encoding(innerAlgorithm), encoding(algorithm))) {
    throw new ShapeError(
      "the outer signatureAlgorithm differs from the one inside the signed part",
      `${prefix}_signature_algorithm_mismatch`,
    );
  }
}

function kids(node: Node | undefined, what: string): Node[] {
  const value = (node as asn1js.Sequence | undefined)?.valueBlock?.value;
  if (!node || !(node as asn1js.BaseBlock).idBlock.isConstructed || !Array.isArray(value)) {
    throw new ShapeError(`${what} is not a constructed element`);
  }
  return value as Node[];
}

function isUniversal(node: Node | undefined, tag: number): boolean {
  const id = (node as asn1js.BaseBlock | undefined)?.idBlock;
  return id !== undefined && id.tagClass === 1 && id.tagNumber === tag;
}

function isContext(node: Node | undefined, tag: number): boolean {
  const id = (node as asn1js.BaseBlock | undefined)?.idBlock;
  return id !== undefined && id.tagClass === 3 && id.tagNumber === tag;
}

/** The element's own encoding, as a view of the decoded input (never a re-encoding). */
function encoding(node: Node): Uint8Array {
  return (node as asn1js.BaseBlock).valueBeforeDecodeView;
}

function oidOf(node: Node | undefined, what: string): string {
  if (!(node instanceof asn1js.ObjectIdentifier)) throw new ShapeError(`${what} is not an OBJECT IDENTIFIER`);
  return node.valueBlock.toString();
}

function timeOf(node: Node | undefined, what: string): Date {
  if (node instanceof asn1js.UTCTime || node instanceof asn1js.GeneralizedTime) {
    const date = node.toDate();
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new ShapeError(`${what} is not a valid time`);
}

function bitStringOf(node: Node | undefined, what: string): Uint8Array {
  if (!(node instanceof asn1js.BitString) || node.valueBlock.unusedBits !== 0) {
    throw new ShapeError(`${what} is not a whole-byte BIT STRING`);
  }
  return node.valueBlock.valueHexView;
}

function serialOf(node: Node | undefined, what: string): string {
  if (!(node instanceof asn1js.Integer)) throw new ShapeError(`${what} is not an INTEGER`);
  const bytes = node.valueBlock.valueHexView;
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return toHex(bytes.subarray(i));
}

function nameOf(node: Node | undefined, what: string): string {
  const parts: string[] = [];
  for (const rdn of kids(node, what)) {
    for (const attribute of kids(rdn, `${what} RDN`)) {
      const [type, value] = kids(attribute, `${what} attribute`);
      const id = oidOf(type, `${what} attribute type`);
      const text = (value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
      parts.push(`${NAME_TYPES[id] ?? id}=${typeof text === "string" ? text : ""}`);
    }
  }
  return parts.join(", ");
}

/** AlgorithmIdentifier: the OID and its parameters element (pkijs reads RSA-PSS parameters from it). */
function algorithmOf(node: Node | undefined, what: string): { id: string; params: Node | undefined } {
  const [id, params] = kids(node, what);
  return { id: oidOf(id, `${what} algorithm`), params: isUniversal(params, 5) ? undefined : params };
}

function publicKeyOf(node: Node, spki: Uint8Array): PublicKeyInfo {
  const [algorithmNode, key] = kids(node, "SubjectPublicKeyInfo");
  const { id, params } = algorithmOf(algorithmNode, "SubjectPublicKeyInfo");
  if (id === OID.ecPublicKey && params instanceof asn1js.ObjectIdentifier) {
    const curveOid = params.valueBlock.toString();
    const curve: EcCurve | undefined =
      curveOid === OID.p256 ? "P-256" : curveOid === OID.p384 ? "P-384" : undefined;
    if (curve) return { kind: "ec", curve, point: bitStringOf(key, "EC public key"), spki };
  }
  if (id === OID.rsaEncryption || id === OID.rsaPss) {
    const rsaPublicKey = decodeDer(bitStringOf(key, "RSA public key"));
    const [modulus, exponent, extra] = kids(rsaPublicKey, "RSAPublicKey");
    if (!(modulus instanceof asn1js.Integer) || !(exponent instanceof asn1js.Integer) || extra)
      throw new ShapeError("RSAPublicKey is not (modulus, publicExponent)");
    return {
      kind: "rsa",
      spki,
      modulus: modulus.valueBlock.valueHexView,
      exponent: exponent.valueBlock.valueHexView,
    };
  }
  return { kind: "other", algorithm: id, spki };
}

function extensionsOf(node: Node | undefined): CertificateExtension[] {
  const out: CertificateExtension[] = [];
  const [list] = kids(node, "extensions");
  for (const extension of kids(list, "extensions")) {
    const parts = kids(extension, "extension");
    const value = parts[parts.length - 1];
    if (parts.length < 2 || parts.length > 3 || !(value instanceof asn1js.OctetString)) {
      throw new ShapeError("extension is not (OID, [critical], OCTET STRING)");
    }
    const critical = parts.length === 3 && parts[1] instanceof asn1js.Boolean && parts[1].valueBlock.value;
    out.push({
      oid: oidOf(parts[0], "extension id"),
      critical,
      value: value.valueBlock.valueHexView,
    });
  }
  return out;
}

function basicConstraintsOf(extensions: readonly CertificateExtension[]): {
  ca: boolean;
  pathLength: number | undefined;
} {
  const ext = extensions.find((e) => e.oid === OID.basicConstraints);
  if (!ext) return { ca: false, pathLength: undefined };
  const decoded = decodeDer(ext.value);
  if (!decoded) throw new ShapeError("basicConstraints is not one DER element");
  const [first, second] = kids(decoded, "basicConstraints");
  const ca = first instanceof asn1js.Boolean && first.valueBlock.value === true;
  const lengthNode = first instanceof asn1js.Integer ? first : second;
  let pathLength: number | undefined;
  if (lengthNode instanceof asn1js.Integer) {
    if (lengthNode.valueBlock.valueHexView.length > 4 || lengthNode.valueBlock.valueDec < 0)
      throw new ShapeError("basicConstraints pathLenConstraint is out of range");
    pathLength = lengthNode.valueBlock.valueDec;
  }
  return { ca, pathLength: ca ? pathLength : undefined };
}

function keyUsageOf(extensions: readonly CertificateExtension[]): ReadonlySet<KeyUsage> | undefined {
  const ext = extensions.find((e) => e.oid === OID.keyUsage);
  if (!ext) return undefined;
  const decoded = decodeDer(ext.value);
  if (!(decoded instanceof asn1js.BitString)) throw new ShapeError("keyUsage is not a BIT STRING");
  const bits = decoded.valueBlock.valueHexView;
  const usages = new Set<KeyUsage>();
  KEY_USAGES.forEach((name, i) => {
    if (((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0) usages.add(name);
  });
  return usages;
}

function decodeOne(der: Uint8Array, prefix: "certificate" | "crl"): Node {
  const decoded = decodeDer(der);
  if (!decoded) {
    // One well-formed element followed by more bytes is an encoding problem, not a shape one.
    const first = asn1js.fromBER(der as BufferSource, { parseEmbedded: false, copyInput: false });
    if (first.offset > 0 && first.offset < der.length && !first.result.error)
      throw new ShapeError(`${der.length - first.offset} byte(s) follow the element`, NOT_DER[prefix]);
    throw new ShapeError("not a single DER element");
  }
  return decoded;
}

function certificateFromDer(der: Uint8Array): Certificate {
  const outer = decodeOne(der, "certificate");
  const [tbsNode, signatureAlgorithmNode, signatureNode, extra] = kids(outer, "certificate");
  if (!tbsNode || !signatureAlgorithmNode || !signatureNode || extra)
    throw new ShapeError("certificate is not (tbs, algorithm, signature)");
  const fields = kids(tbsNode, "tbsCertificate");
  const at = isContext(fields[0], 0) ? 1 : 0;
  const [serial, innerAlgorithm, issuer, validity, subject, spki] = fields.slice(at, at + 6);
  if (!spki) throw new ShapeError("tbsCertificate is too short");
  const algorithm = algorithmOf(signatureAlgorithmNode, "signatureAlgorithm");
  algorithmOf(innerAlgorithm, "tbsCertificate.signature");
  checkEnvelope(outer, tbsNode, signatureAlgorithmNode, innerAlgorithm, signatureNode, "certificate");
  const [notBefore, notAfter] = kids(validity, "validity");
  const extensionsNode = fields.slice(at + 6).find((node) => isContext(node, 3));
  const extensions = extensionsNode ? extensionsOf(extensionsNode) : [];
  const constraints = basicConstraintsOf(extensions);
  return {
    der,
    tbs: encoding(tbsNode),
    subject: nameOf(subject, "subject"),
    issuer: nameOf(issuer, "issuer"),
    serialNumber: serialOf(serial, "serialNumber"),
    notBefore: timeOf(notBefore, "notBefore"),
    notAfter: timeOf(notAfter, "notAfter"),
    signatureAlgorithm: algorithm.id,
    signatureParams: algorithm.params && encoding(algorithm.params),
    signature: bitStringOf(signatureNode, "signatureValue"),
    publicKey: publicKeyOf(spki, encoding(spki)),
    extensions,
    isCa: constraints.ca,
    pathLength: constraints.pathLength,
    keyUsage: keyUsageOf(extensions),
  };
}

const certificateCache = new Map<string, Certificate>();
const CERTIFICATE_CACHE_LIMIT = 1024;

/**
 * The package's pinned roots (Intel SGX Root CA, AMD ARKs and ASKs, NVIDIA roots) are constants of
 * the build: like a root store they are parsed once per process, their keys imported once, and they
 * survive `clearX509Caches()`. A certificate in the evidence with the same bytes *is* the anchor, so
 * a chain that repeats the root costs a byte comparison, not a parse.
 */
const anchors = new Map<string, Certificate>();
/** The registered anchors themselves (a certificate object is an anchor only if it came from here). */
const anchorSet = new WeakSet<Certificate>();
const ANCHOR_LIMIT = 128;
/** The pinned PEM constants already registered (the same string object hashes once). */
const anchorsByPem = new Map<string, readonly Certificate[]>();
/**
 * Anchors by the exact base64 text of their PEM block: a chain served as the same PEM text (AMD KDS
 * serves ASK + ARK with every VCEK) is matched without decoding it. Equal text is equal DER.
 */
const anchorsByPemBody = new Map<string, Certificate>();

/**
 * Parses pinned PEM constants (once per process) and registers them as trust anchors.
 * @throws EvidenceParseError `certificate_malformed` when a constant does not parse
 */
export function pinnedCertificates(pem: string): Certificate[] {
  const known = anchorsByPem.get(pem);
  if (known) return [...known];
  let allRegistered = true;
  const certs = certificateBlocks(pem).map((body) => {
    const der = fromBase64(body);
    const key = bytesKey(der);
    let anchor = anchors.get(key);
    if (!anchor) {
      anchor = certificateCache.get(key) ?? parseNewCertificate(der, key);
      // Callers may pin their own roots (the simulator's are fresh every run): bounded, so a
      // long-lived process that keeps pinning new roots does not grow without end.
      if (anchors.size >= ANCHOR_LIMIT) {
        allRegistered = false;
        return anchor;
      }
      anchors.set(key, anchor);
      anchorSet.add(anchor);
      pinPublicKey(anchor.publicKey.kind === "ec" ? anchor.publicKey.point : anchor.publicKey.spki);
    }
    if (anchorsByPemBody.size < ANCHOR_LIMIT) anchorsByPemBody.set(body, anchor);
    return anchor;
  });
  if (allRegistered && anchorsByPem.size < ANCHOR_LIMIT) anchorsByPem.set(pem, certs);
  return [...certs];
}

/**
 * Parses one DER certificate. Parsed certificates are memoised by their bytes (they are immutable:
 * the memo keeps its own copy), so verifying the same chain again skips the ASN.1 work.
 * @throws EvidenceParseError `certificate_malformed`
 */
export function parseCertificate(input: Uint8Array): Certificate {
  const key = bytesKey(input);
  return knownCertificate(key) ?? parseNewCertificate(copyBytes(input), key);
}

/** The anchor or memoised certificate with these bytes (`bytesKey`), if any. */
function knownCertificate(key: string): Certificate | undefined {
  return anchors.get(key) ?? certificateCache.get(key);
}

/** Parses and memoises DER this module owns (a copy, or bytes it decoded itself) under `key`. */
function parseNewCertificate(der: Uint8Array, key: string): Certificate {
  let parsed: Certificate;
  try {
    parsed = certificateFromDer(der);
  } catch (cause) {
    if (cause instanceof ShapeError && cause.code)
      throw new EvidenceParseError(cause.code, `certificate: ${cause.message}`, { cause });
    throw new EvidenceParseError("certificate_malformed", "certificate is not valid DER X.509", { cause });
  }
  if (certificateCache.size >= CERTIFICATE_CACHE_LIMIT)
    certificateCache.delete(certificateCache.keys().next().value as string);
  certificateCache.set(key, parsed);
  return parsed;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The base64 text of every PEM block with the given label, as it appears. */
function pemBodies(text: string, label: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) if (match[1] === label) out.push(match[2] as string);
  return out;
}

function certificateBlocks(text: string): string[] {
  return pemBodies(text, "CERTIFICATE");
}

/** Every PEM block of the given label (default CERTIFICATE) in a text, as DER. */
export function pemBlocks(text: string, label = "CERTIFICATE"): Uint8Array[] {
  return pemBodies(text, label).map(fromBase64);
}

/** DER of one certificate as PEM block text. */
export function toPem(der: Uint8Array, label = "CERTIFICATE"): string {
  let binary = "";
  for (let i = 0; i < der.length; i++) binary += String.fromCharCode(der[i] as number);
  const b64 = btoa(binary)
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/**
 * Certificates from PEM text (any number of blocks) or a single DER certificate.
 * @throws EvidenceParseError `certificate_malformed` when nothing parses
 */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  const text =
    typeof input === "string" ? input : looksLikeText(input) ? new TextDecoder().decode(input) : undefined;
  if (text !== undefined) {
    const bodies = certificateBlocks(text);
    if (bodies.length === 0)
      throw new EvidenceParseError("certificate_malformed", "no PEM CERTIFICATE block found");
    return bodies.map((body) => {
      const anchor = anchorsByPemBody.get(body);
      if (anchor) return anchor;
      const der = fromBase64(body);
      const key = bytesKey(der);
      return knownCertificate(key) ?? parseNewCertificate(der, key);
    });
  }
  return [parseCertificate(input as Uint8Array)];
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 64);
  for (let i = 0; i < n; i++) {
    const b = bytes[i] as number;
    if (!((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09)) return false;
  }
  return n > 0;
}

const MGF1 = "1.2.840.113549.1.1.8";
const PSS_HASHES: Record<string, HashName> = {
  [OID.sha256]: "SHA-256",
  [OID.sha384]: "SHA-384",
  [OID.sha512]: "SHA-512",
};

/**
 * RSASSA-PSS parameters (RFC 4055 §3.1) from the decoded AlgorithmIdentifier parameters: the hash,
 * MGF1 with that same hash (WebCrypto's only mask generation), the salt length and trailer field 1.
 * Absent fields take their DEFAULTs; SHA-1 (the default hash) is refused. `null` means the
 * parameters are malformed or name something WebCrypto cannot check, so the signature is not valid.
 */
export function rsaPssParams(
  paramsDer: Uint8Array | undefined,
): { hash: HashName; saltLength: number } | null {
  if (paramsDer === undefined) return null;
  // A vendor signs everything with one parameter set (AMD: SHA-384, MGF1-SHA-384, salt 48), so the
  // reading is memoised by the exact bytes (a few dozen), bounded.
  const key = bytesKey(paramsDer);
  const known = pssReadings.get(key);
  if (known !== undefined) return known;
  const reading = readRsaPssParams(paramsDer);
  if (reading) Object.freeze(reading);
  if (pssReadings.size >= 64) pssReadings.delete(pssReadings.keys().next().value as string);
  pssReadings.set(key, reading);
  return reading;
}

type PssReading = { hash: HashName; saltLength: number } | null;
const pssReadings = new Map<string, PssReading>();

function readRsaPssParams(paramsDer: Uint8Array): PssReading {
  const params = decodeDer(paramsDer);
  if (!params) return null;
  try {
    let hashOid = "1.3.14.3.2.26";
    let mgfHashOid = hashOid;
    let saltLength = 20;
    let last = -1;
    for (const field of kids(params as Node, "RSASSA-PSS-params")) {
      const id = (field as asn1js.BaseBlock).idBlock;
      if (id.tagClass !== 3 || id.tagNumber <= last || id.tagNumber > 3) return null;
      last = id.tagNumber;
      const [inner, extra] = kids(field, "RSASSA-PSS-params field");
      if (extra) return null;
      if (id.tagNumber === 0) hashOid = algorithmOf(inner, "hashAlgorithm").id;
      else if (id.tagNumber === 1) {
        const mgf = algorithmOf(inner, "maskGenAlgorithm");
        if (mgf.id !== MGF1) return null;
        mgfHashOid = algorithmOf(mgf.params, "MGF1 hash").id;
      } else {
        if (!(inner instanceof asn1js.Integer) || inner.valueBlock.valueHexView.length > 3) return null;
        const value = inner.valueBlock.valueDec;
        if (id.tagNumber === 2) saltLength = value;
        else if (value !== 1) return null;
      }
    }
    const hash = PSS_HASHES[hashOid];
    if (!hash || mgfHashOid !== hashOid || saltLength < 0) return null;
    return { hash, saltLength };
  } catch {
    return null;
  }
}

/**
 * Checks that `signature` by `algorithm` over `data` was made by `signer`'s key. Supports ECDSA with
 * SHA-256/384/512 on P-256/P-384, RSASSA-PSS and RSA PKCS#1 v1.5. Never throws for a bad signature.
 */
export async function verifySignedData(
  signer: PublicKeyInfo,
  algorithm: string,
  params: Uint8Array | undefined,
  signature: Uint8Array,
  data: Uint8Array,
  backend?: SignatureBackend,
): Promise<boolean> {
  if (
    algorithm === OID.ecdsaWithSha256 ||
    algorithm === OID.ecdsaWithSha384 ||
    algorithm === OID.ecdsaWithSha512
  ) {
    if (signer.kind !== "ec") return false;
    const hash: HashName =
      algorithm === OID.ecdsaWithSha256
        ? "SHA-256"
        : algorithm === OID.ecdsaWithSha384
          ? "SHA-384"
          : "SHA-512";
    const raw = derSignatureToRaw(signer.curve, signature);
    return raw !== null && verifyEcdsa(signer.curve, hash, signer.point, raw, data, backend);
  }
  if (algorithm === OID.rsaPss) {
    if (signer.kind !== "rsa") return false;
    const pss = rsaPssParams(params);
    return pss !== null && verifyRsaPss(signer, pss.hash, pss.saltLength, signature, data, backend);
  }
  if (algorithm === OID.sha256WithRsa || algorithm === OID.sha384WithRsa) {
    if (signer.kind !== "rsa") return false;
    return verifyRsaPkcs1(
      signer,
      algorithm === OID.sha256WithRsa ? "SHA-256" : "SHA-384",
      signature,
      data,
      backend,
    );
  }
  return false;
}

/**
 * Verdicts on signatures between trust anchors (a pinned root on itself, a pinned ARK on the pinned
 * ASK): facts about constants of the build, so each is checked once per process and then remembered,
 * as a root store checks its roots when it loads them. A corrupted constant still fails, every time.
 */
let anchorSignatures = new WeakMap<Certificate, Map<Certificate, Promise<boolean>>>();

/** Forgets the remembered anchor-to-anchor verdicts (tests that compare signature backends use it). */
export function clearAnchorVerdicts(): void {
  anchorSignatures = new WeakMap();
}

/**
 * Whether `issuer`'s key signed `cert`. When both are trust anchors ({@link pinnedCertificates}) the
 * verdict is computed once per process.
 */
export function verifyCertificateSignature(
  cert: Certificate,
  issuer: Certificate,
  backend?: SignatureBackend,
): Promise<boolean> {
  const check = () =>
    verifySignedData(
      issuer.publicKey,
      cert.signatureAlgorithm,
      cert.signatureParams,
      cert.signature,
      cert.tbs,
      backend,
    );
  if (!anchorSet.has(cert) || !anchorSet.has(issuer)) return check();
  let byIssuer = anchorSignatures.get(cert);
  if (!byIssuer) {
    byIssuer = new Map();
    anchorSignatures.set(cert, byIssuer);
  }
  let verdict = byIssuer.get(issuer);
  if (!verdict) {
    verdict = check();
    byIssuer.set(issuer, verdict);
  }
  return verdict;
}

export function equalDer(a: Certificate, b: Certificate): boolean {
  if (a.der.length !== b.der.length) return false;
  for (let i = 0; i < a.der.length; i++) if (a.der[i] !== b.der[i]) return false;
  return true;
}

/** A remembered "issuer signed child" verdict, so a warm verifier skips repeated chain signatures. */
export class SignatureVerdictCache {
  private readonly verified = new Set<string>();
  private readonly limit: number;
  constructor(limit = 4096) {
    this.limit = limit;
  }
  private key(child: Uint8Array, issuer: Uint8Array): string {
    return `${bytesKey(child)}\u0000${bytesKey(issuer)}`;
  }
  has(child: Uint8Array, issuer: Uint8Array): boolean {
    return this.verified.has(this.key(child, issuer));
  }
  add(child: Uint8Array, issuer: Uint8Array): void {
    if (this.verified.size >= this.limit) this.verified.delete(this.verified.values().next().value as string);
    this.verified.add(this.key(child, issuer));
  }
  clear(): void {
    this.verified.clear();
  }
}

/**
 * A signature-verdict cache keyed by the identity of the byte arrays of memoised certificates and
 * CRLs (`parseCertificate` / `parseCrl` own their bytes and never change them), so a lookup costs a WeakMap probe instead of
 * building a string from two certificates. Drop-in for `SignatureVerdictCache`.
 */
export class IdentityVerdictCache extends SignatureVerdictCache {
  private pairs = new WeakMap<Uint8Array, WeakSet<Uint8Array>>();
  override has(child: Uint8Array, issuer: Uint8Array): boolean {
    return this.pairs.get(child)?.has(issuer) === true;
  }
  override add(child: Uint8Array, issuer: Uint8Array): void {
    let set = this.pairs.get(child);
    if (!set) {
      set = new WeakSet();
      this.pairs.set(child, set);
    }
    set.add(issuer);
  }
  override clear(): void {
    this.pairs = new WeakMap();
  }
}

export interface ChainOptions {
  /** Pinned roots. The chain must end at one of these, byte-for-byte. */
  readonly roots: readonly Certificate[];
  /** Verification time; every certificate must be valid at it. */
  readonly now: Date;
  /** Optional cache of verified signatures (keyed by exact bytes of child and issuer). */
  readonly cache?: SignatureVerdictCache;
  /** Human label of the chain for messages, e.g. "PCK", "VCEK", "GPU device". */
  readonly label: string;
  /** Check validity dates (default true). */
  readonly checkValidity?: boolean;
  /** Vendor extensions the caller processes itself, accepted when marked critical. */
  readonly criticalExtensions?: readonly string[];
  /** Where the signatures are checked (default: the process's, `signatureBackend()`). */
  readonly backend?: SignatureBackend;
}

export interface VerifiedChain {
  /** leaf first, root last */
  readonly path: readonly Certificate[];
  readonly root: Certificate;
}

/**
 * Builds and verifies the path leaf → intermediates → pinned root: names chain, each signature
 * verifies, every issuer is a CA whose keyUsage (when present) allows keyCertSign, no CA's
 * pathLenConstraint is exceeded, no certificate carries a critical extension this package does not
 * process, every certificate is within validity at `now`, and the last certificate is one of the
 * pinned roots byte-for-byte (a self-signed look-alike is rejected). The RFC 5280 §6.1 checks that
 * apply to pinned-root paths without policies or name constraints.
 *
 * Every supplied certificate must be on the path, or be a pinned root byte for byte: a root copy
 * that differs, or a stray certificate, is refused rather than ignored.
 * @throws EvidenceInvalidError with codes `certificate_chain_incomplete`, `certificate_chain_untrusted`,
 *   `certificate_signature_invalid`, `certificate_not_ca`, `certificate_key_usage_invalid`,
 *   `certificate_path_length_exceeded`, `certificate_critical_extension_unknown`,
 *   `certificate_off_path`, `certificate_expired`, `certificate_not_yet_valid`
 */
export async function verifyCertificateChain(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  options: ChainOptions,
): Promise<VerifiedChain> {
  const path: Certificate[] = [leaf];
  const pool = [...intermediates];
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const pinned = options.roots.find((root) => root.subject === current.issuer);
    if (pinned && (equalDer(current, pinned) || current.subject !== current.issuer)) {
      if (!equalDer(current, pinned)) {
        await checkLink(current, pinned, options);
        path.push(pinned);
      }
      await checkSelfSigned(pinned, options);
      for (const cert of path) checkValidity(cert, options);
      checkPathRules(path, options);
      checkSupplied(intermediates, path, options);
      return { path, root: pinned };
    }
    if (current.subject === current.issuer) {
      throw new EvidenceInvalidError(
        "certificate_chain_untrusted",
        `${options.label} chain ends at "${current.subject}", which is not a pinned root`,
      );
    }
    const index = pool.findIndex((cert) => cert.subject === current.issuer && !equalDer(cert, current));
    if (index < 0) {
      throw new EvidenceInvalidError(
        "certificate_chain_incomplete",
        `${options.label} chain: no issuer certificate "${current.issuer}" for "${current.subject}"`,
      );
    }
    const issuer = pool.splice(index, 1)[0] as Certificate;
    await checkLink(current, issuer, options);
    path.push(issuer);
    current = issuer;
  }
  throw new EvidenceInvalidError(
    "certificate_chain_incomplete",
    `${options.label} chain is longer than 8 certificates`,
  );
}

/**
 * RFC 5280 §6.1.4 (l), (m), (o) on a built path (leaf first, root last): pathLenConstraint of each
 * CA against the certificates below it that are not self-issued, and no unprocessed critical
 * extension on any certificate.
 */
function checkPathRules(path: readonly Certificate[], options: ChainOptions): void {
  const understood = new Set(options.criticalExtensions ?? []);
  for (const cert of path) {
    const unknown = cert.extensions.find(
      (e) => e.critical && !UNDERSTOOD_CRITICAL.has(e.oid) && !understood.has(e.oid),
    );
    if (unknown) {
      throw new EvidenceInvalidError(
        "certificate_critical_extension_unknown",
        `${options.label} chain: "${cert.subject}" carries critical extension ${unknown.oid}, which is not processed`,
      );
    }
  }
  for (let i = 1; i < path.length; i++) {
    const ca = path[i] as Certificate;
    if (ca.pathLength === undefined) continue;
    const below = path.slice(1, i).filter((c) => c.subject !== c.issuer).length;
    if (below > ca.pathLength) {
      throw new EvidenceInvalidError(
        "certificate_path_length_exceeded",
        `${options.label} chain: "${ca.subject}" allows ${ca.pathLength} intermediate CA(s) below it, the path has ${below}`,
      );
    }
  }
}

/** Every supplied certificate is on the path or is a pinned root byte for byte. */
function checkSupplied(
  supplied: readonly Certificate[],
  path: readonly Certificate[],
  options: ChainOptions,
): void {
  for (const cert of supplied) {
    if (path.some((p) => equalDer(p, cert)) || options.roots.some((r) => equalDer(r, cert))) continue;
    if (cert.subject === cert.issuer) {
      throw new EvidenceInvalidError(
        "certificate_chain_untrusted",
        `${options.label} chain: the supplied root "${cert.subject}" is not the pinned root byte for byte`,
      );
    }
    throw new EvidenceInvalidError(
      "certificate_off_path",
      `${options.label} chain: the supplied certificate "${cert.subject}" is not on the path to the root`,
    );
  }
}

/** Whether a certificate may sign certificates: a CA, and keyCertSign when it states its key usage. */
function checkIssuerRole(issuer: Certificate, options: ChainOptions): void {
  if (!issuer.isCa) {
    throw new EvidenceInvalidError(
      "certificate_not_ca",
      `${options.label} chain: "${issuer.subject}" is not a CA certificate`,
    );
  }
  if (issuer.keyUsage && !issuer.keyUsage.has("keyCertSign")) {
    throw new EvidenceInvalidError(
      "certificate_key_usage_invalid",
      `${options.label} chain: the key usage of "${issuer.subject}" does not allow certificate signing`,
    );
  }
}

async function checkLink(child: Certificate, issuer: Certificate, options: ChainOptions): Promise<void> {
  checkIssuerRole(issuer, options);
  if (options.cache?.has(child.der, issuer.der)) return;
  if (!(await verifyCertificateSignature(child, issuer, options.backend))) {
    throw new EvidenceInvalidError(
      "certificate_signature_invalid",
      `${options.label} chain: signature on "${child.subject}" does not verify with "${issuer.subject}"`,
    );
  }
  options.cache?.add(child.der, issuer.der);
}

async function checkSelfSigned(root: Certificate, options: ChainOptions): Promise<void> {
  checkIssuerRole(root, options);
  if (options.cache?.has(root.der, root.der)) return;
  if (!(await verifyCertificateSignature(root, root, options.backend))) {
    throw new EvidenceInvalidError(
      "certificate_signature_invalid",
      `${options.label} root "${root.subject}" is not validly self-signed`,
    );
  }
  options.cache?.add(root.der, root.der);
}

function checkValidity(cert: Certificate, options: ChainOptions): void {
  if (options.checkValidity === false) return;
  const t = options.now.getTime();
  if (t < cert.notBefore.getTime()) {
    throw new EvidenceInvalidError(
      "certificate_not_yet_valid",
      `${options.label} chain: "${cert.subject}" is not valid before ${cert.notBefore.toISOString()} (now ${options.now.toISOString()})`,
    );
  }
  if (t > cert.notAfter.getTime()) {
    throw new EvidenceInvalidError(
      "certificate_expired",
      `${options.label} chain: "${cert.subject}" expired at ${cert.notAfter.toISOString()} (now ${options.now.toISOString()})`,
    );
  }
}

/** A parsed certificate revocation list. */
export interface Crl {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Revoked serial numbers, lowercase hex without leading zero bytes. */
  readonly revokedSerials: ReadonlySet<string>;
  readonly signatureAlgorithm: string;
  /** DER of the signature algorithm's parameters, as on {@link Certificate}. */
  readonly signatureParams: Uint8Array | undefined;
  readonly signature: Uint8Array;
}

const crlCache = new Map<string, Crl>();

function crlFromDer(der: Uint8Array): Crl {
  const outer = decodeOne(der, "crl");
  const [tbsNode, signatureAlgorithmNode, signatureNode, extra] = kids(outer, "CRL");
  if (!tbsNode || !signatureAlgorithmNode || !signatureNode || extra)
    throw new ShapeError("CRL is not (tbs, algorithm, signature)");
  const fields = kids(tbsNode, "tbsCertList");
  let at = isUniversal(fields[0], 2) ? 1 : 0;
  const [innerAlgorithm, issuer, thisUpdate] = fields.slice(at, at + 3);
  at += 3;
  const algorithm = algorithmOf(signatureAlgorithmNode, "signatureAlgorithm");
  algorithmOf(innerAlgorithm, "tbsCertList.signature");
  checkEnvelope(outer, tbsNode, signatureAlgorithmNode, innerAlgorithm, signatureNode, "crl");
  let nextUpdate: Date | undefined;
  if (fields[at] instanceof asn1js.UTCTime || fields[at] instanceof asn1js.GeneralizedTime) {
    nextUpdate = timeOf(fields[at], "nextUpdate");
    at++;
  }
  const revokedSerials = new Set<string>();
  if (isUniversal(fields[at], 16)) {
    for (const entry of kids(fields[at], "revokedCertificates")) {
      const [serial, date] = kids(entry, "revoked entry");
      timeOf(date, "revocationDate");
      revokedSerials.add(serialOf(serial, "revoked serial"));
    }
    at++;
  }
  if (fields.slice(at).some((node) => !isContext(node, 0)))
    throw new ShapeError("unexpected tbsCertList field");
  return {
    der,
    tbs: encoding(tbsNode),
    issuer: nameOf(issuer, "issuer"),
    thisUpdate: timeOf(thisUpdate, "thisUpdate"),
    nextUpdate,
    revokedSerials,
    signatureAlgorithm: algorithm.id,
    signatureParams: algorithm.params && encoding(algorithm.params),
    signature: bitStringOf(signatureNode, "signatureValue"),
  };
}

/**
 * Parses a DER CRL (PEM or hex text accepted too). Memoised by bytes.
 * @throws EvidenceParseError `crl_malformed`
 */
export function parseCrl(input: Uint8Array): Crl {
  let der = input;
  if (looksLikeText(input)) {
    const text = new TextDecoder().decode(input);
    const blocks = pemBlocks(text, "X509 CRL");
    if (blocks.length > 0) der = blocks[0] as Uint8Array;
    else if (/^\s*[0-9a-fA-F]+\s*$/.test(text)) der = fromHex(text);
  }
  const key = bytesKey(der);
  const cached = crlCache.get(key);
  if (cached) return cached;
  let parsed: Crl;
  try {
    parsed = crlFromDer(copyBytes(der));
  } catch (cause) {
    if (cause instanceof ShapeError && cause.code)
      throw new EvidenceParseError(cause.code, `CRL: ${cause.message}`, { cause });
    throw new EvidenceParseError("crl_malformed", "CRL is not valid DER", { cause });
  }
  if (crlCache.size >= 256) crlCache.delete(crlCache.keys().next().value as string);
  crlCache.set(key, parsed);
  return parsed;
}

/**
 * Checks a CRL: issued by `issuer` (name and signature) and current at `now`.
 * @throws EvidenceInvalidError `crl_issuer_mismatch`, `crl_issuer_key_usage_invalid`,
 *   `crl_signature_invalid`, `crl_not_yet_valid`, `crl_expired`
 */
export async function verifyCrl(
  crl: Crl,
  issuer: Certificate,
  now: Date,
  label: string,
  cache?: SignatureVerdictCache,
  backend?: SignatureBackend,
): Promise<void> {
  if (crl.issuer !== issuer.subject) {
    throw new EvidenceInvalidError(
      "crl_issuer_mismatch",
      `${label} CRL is issued by "${crl.issuer}", expected "${issuer.subject}"`,
    );
  }
  if (issuer.keyUsage && !issuer.keyUsage.has("cRLSign")) {
    throw new EvidenceInvalidError(
      "crl_issuer_key_usage_invalid",
      `${label} CRL issuer "${issuer.subject}" has a key usage that does not allow CRL signing`,
    );
  }
  if (!cache?.has(crl.der, issuer.der)) {
    if (
      !(await verifySignedData(
        issuer.publicKey,
        crl.signatureAlgorithm,
        crl.signatureParams,
        crl.signature,
        crl.tbs,
        backend,
      ))
    ) {
      throw new EvidenceInvalidError(
        "crl_signature_invalid",
        `${label} CRL signature does not verify with "${issuer.subject}"`,
      );
    }
    cache?.add(crl.der, issuer.der);
  }
  if (now.getTime() < crl.thisUpdate.getTime()) {
    throw new EvidenceInvalidError(
      "crl_not_yet_valid",
      `${label} CRL thisUpdate ${crl.thisUpdate.toISOString()} is after now ${now.toISOString()}`,
    );
  }
  if (crl.nextUpdate && now.getTime() > crl.nextUpdate.getTime()) {
    throw new EvidenceInvalidError(
      "crl_expired",
      `${label} CRL nextUpdate ${crl.nextUpdate.toISOString()} is before now ${now.toISOString()}`,
    );
  }
}

/** Whether `cert` is listed in `crl`. */
export function isRevoked(crl: Crl, cert: Certificate): boolean {
  return crl.revokedSerials.has(cert.serialNumber);
}

/** Finds an extension by OID. */
export function findExtension(cert: Certificate, oid: string): CertificateExtension | undefined {
  return cert.extensions.find((ext) => ext.oid === oid);
}

/**
 * Forgets every memoised certificate and CRL parse (benchmarks use it to measure a cold verifier).
 * Pinned trust anchors stay: they are constants, not evidence.
 */
export function clearX509Caches(): void {
  certificateCache.clear();
  crlCache.clear();
}
