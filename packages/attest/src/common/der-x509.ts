import { EvidenceParseError } from "./errors.js";
import type { EcCurve } from "./webcrypto.js";
import {
  type Certificate,
  type Crl,
  OID,
  type PublicKeyInfo,
  parseCertificate,
  parseCrl,
  SignatureVerdictCache,
} from "./x509.js";

/**
 * A small, strict DER reader for X.509 certificates and CRLs, for hot paths. pkijs builds a full
 * object model through schema comparison (about 2 ms per certificate and 9 ms for a 2.6 KB CRL on
 * Node 20); this reads only the fields verification uses, straight from the bytes (tens of µs).
 *
 * It produces the same {@link Certificate} and {@link Crl} shapes as `x509.ts` (names formatted the
 * same way; `raw` is the pkijs object, built lazily on first access). Anything it does not
 * understand is handed to the pkijs parser, which either parses it or throws the usual
 * `certificate_malformed` / `crl_malformed`, so it never accepts what the full parser rejects
 * for structure, and never throws anything else.
 */

interface Tlv {
  readonly tag: number;
  /** Offset of the first byte of the TLV. */
  readonly start: number;
  /** Offset of the content. */
  readonly content: number;
  /** Offset after the content. */
  readonly end: number;
}

class DerError extends Error {}

function tlv(bytes: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new DerError("truncated");
  const tag = bytes[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tag");
  let length = bytes[offset + 1] as number;
  let content = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError("bad length");
    if (content + count > limit) throw new DerError("truncated length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[content + i] as number);
    content += count;
    if (length < 0x80 || (count > 1 && (bytes[offset + 2] as number) === 0))
      throw new DerError("non-minimal length");
  }
  const end = content + length;
  if (end > limit) throw new DerError("content overruns");
  return { tag, start: offset, content, end };
}

function expect(bytes: Uint8Array, offset: number, limit: number, tag: number): Tlv {
  const node = tlv(bytes, offset, limit);
  if (node.tag !== tag)
    throw new DerError(`expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

function children(bytes: Uint8Array, node: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let offset = node.content;
  while (offset < node.end) {
    const child = tlv(bytes, offset, node.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

const oidNames = new Map<string, string>();

/** Dotted OID; memoised by its encoding (certificates repeat the same few dozen OIDs). */
function oid(bytes: Uint8Array, node: Tlv): string {
  if (node.tag !== 0x06 || node.end === node.content) throw new DerError("not an OID");
  let encoded = "";
  for (let i = node.content; i < node.end; i++) encoded += String.fromCharCode(bytes[i] as number);
  let name = oidNames.get(encoded);
  if (name === undefined) {
    name = decodeOid(bytes, node);
    if (oidNames.size < 4096) oidNames.set(encoded, name);
  }
  return name;
}

function decodeOid(bytes: Uint8Array, node: Tlv): string {
  const parts: number[] = [];
  let value = 0;
  for (let i = node.content; i < node.end; i++) {
    const b = bytes[i] as number;
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

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

const utf8 = new TextDecoder("utf-8", { fatal: true });

function stringValue(bytes: Uint8Array, node: Tlv): string {
  const content = bytes.subarray(node.content, node.end);
  switch (node.tag) {
    case 0x0c: // UTF8String
      try {
        return utf8.decode(content);
      } catch {
        throw new DerError("invalid UTF-8");
      }
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: {
      // TeletexString: read as Latin-1, as pkijs does
      let text = "";
      for (let i = 0; i < content.length; i++) text += String.fromCharCode(content[i] as number);
      return text;
    }
    default:
      throw new DerError("unsupported string type");
  }
}

/** Formats a Name exactly as x509.ts does: `CN=…, O=…` in encoded order. */
function name(bytes: Uint8Array, node: Tlv): string {
  if (node.tag !== 0x30) throw new DerError("name is not a SEQUENCE");
  const parts: string[] = [];
  for (const set of children(bytes, node)) {
    if (set.tag !== 0x31) throw new DerError("RDN is not a SET");
    for (const attribute of children(bytes, set)) {
      const [type, value, extra] = children(bytes, attribute);
      if (!type || !value || extra) throw new DerError("bad attribute");
      const id = oid(bytes, type);
      parts.push(`${NAME_TYPES[id] ?? id}=${stringValue(bytes, value)}`);
    }
  }
  return parts.join(", ");
}

function digits(bytes: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = (bytes[i] as number) - 0x30;
    if (d < 0 || d > 9) throw new DerError("bad time digit");
    value = value * 10 + d;
  }
  return value;
}

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), the forms RFC 5280 allows. */
function time(bytes: Uint8Array, node: Tlv): Date {
  const length = node.end - node.content;
  let at = node.content;
  let year: number;
  if (node.tag === 0x17 && length === 13) {
    year = digits(bytes, at, 2);
    year = year >= 50 ? 1900 + year : 2000 + year;
    at += 2;
  } else if (node.tag === 0x18 && length === 15) {
    year = digits(bytes, at, 4);
    at += 4;
  } else throw new DerError("unsupported time");
  if (bytes[node.end - 1] !== 0x5a) throw new DerError("time is not UTC");
  const month = digits(bytes, at, 2);
  const day = digits(bytes, at + 2, 2);
  const hour = digits(bytes, at + 4, 2);
  const minute = digits(bytes, at + 6, 2);
  const second = digits(bytes, at + 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    throw new DerError("time out of range");
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of bytes via a lookup table (serial numbers of large CRLs, report fields). */
export function hexOf(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i] as number];
  return out;
}

function serial(bytes: Uint8Array, node: Tlv): string {
  if (node.tag !== 0x02 || node.end === node.content) throw new DerError("serial is not an INTEGER");
  let i = node.content;
  while (i < node.end - 1 && bytes[i] === 0) i++;
  return hexOf(bytes.subarray(i, node.end));
}

function bitString(bytes: Uint8Array, node: Tlv): Uint8Array {
  if (node.tag !== 0x03 || node.end === node.content || bytes[node.content] !== 0)
    throw new DerError("bad BIT STRING");
  return bytes.subarray(node.content + 1, node.end);
}

function algorithm(bytes: Uint8Array, node: Tlv): string {
  if (node.tag !== 0x30) throw new DerError("AlgorithmIdentifier is not a SEQUENCE");
  const [id, params, extra] = children(bytes, node);
  if (!id || extra) throw new DerError("bad AlgorithmIdentifier");
  // This fast path handles ECDSA only (no parameters); RSA-PSS goes to pkijs for its parameters.
  if (params && params.tag !== 0x05) throw new DerError("algorithm parameters need the full parser");
  return oid(bytes, id);
}

function publicKey(bytes: Uint8Array, node: Tlv): PublicKeyInfo {
  const [alg, key] = children(bytes, node);
  if (!alg || !key || alg.tag !== 0x30) throw new DerError("bad SubjectPublicKeyInfo");
  const [id, params] = children(bytes, alg);
  if (!id || !params || oid(bytes, id) !== OID.ecPublicKey || params.tag !== 0x06)
    throw new DerError("not an EC key");
  const curveOid = oid(bytes, params);
  const curve: EcCurve | undefined =
    curveOid === OID.p256 ? "P-256" : curveOid === OID.p384 ? "P-384" : undefined;
  if (!curve) throw new DerError("unsupported curve");
  return { kind: "ec", curve, point: bitString(bytes, key), spki: bytes.subarray(node.start, node.end) };
}

function fastCertificate(der: Uint8Array): Certificate {
  const top = expect(der, 0, der.length, 0x30);
  if (top.end !== der.length) throw new DerError("trailing data");
  const [tbsNode, sigAlgNode, sigNode, extra] = children(der, top);
  if (!tbsNode || !sigAlgNode || !sigNode || extra || tbsNode.tag !== 0x30)
    throw new DerError("bad certificate");
  const fields = children(der, tbsNode);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i++;
  const [serialNode, innerAlg, issuerNode, validityNode, subjectNode, spkiNode] = fields.slice(i, i + 6);
  if (!serialNode || !innerAlg || !issuerNode || !validityNode || !subjectNode || !spkiNode)
    throw new DerError("short TBS");
  const signatureAlgorithm = algorithm(der, sigAlgNode);
  if (algorithm(der, innerAlg) !== signatureAlgorithm) throw new DerError("signature algorithms differ");
  const [notBefore, notAfter] = children(der, validityNode);
  if (!notBefore || !notAfter) throw new DerError("bad validity");
  const extensions: { oid: string; critical: boolean; value: Uint8Array }[] = [];
  let isCa = false;
  for (const field of fields.slice(i + 6)) {
    if (field.tag === 0x81 || field.tag === 0x82) continue;
    if (field.tag !== 0xa3) throw new DerError("unexpected TBS field");
    const [list, more] = children(der, field);
    if (!list || more || list.tag !== 0x30) throw new DerError("bad extensions");
    for (const ext of children(der, list)) {
      const parts = children(der, ext);
      const id = parts[0];
      const critical = parts.length === 3 && parts[1]?.tag === 0x01 && der[(parts[1] as Tlv).content] !== 0;
      const value = parts[parts.length - 1];
      if (!id || !value || value.tag !== 0x04 || parts.length < 2 || parts.length > 3)
        throw new DerError("bad extension");
      const extOid = oid(der, id);
      const content = der.subarray(value.content, value.end);
      extensions.push({ oid: extOid, critical, value: content });
      if (extOid === OID.basicConstraints) {
        const bc = expect(content, 0, content.length, 0x30);
        const first = children(content, bc)[0];
        isCa = first?.tag === 0x01 && content[first.content] !== 0;
      }
    }
  }
  let raw: Certificate["raw"] | undefined;
  const cert: Certificate = {
    der,
    tbs: der.subarray(tbsNode.start, tbsNode.end),
    subject: name(der, subjectNode),
    issuer: name(der, issuerNode),
    serialNumber: serial(der, serialNode),
    notBefore: time(der, notBefore),
    notAfter: time(der, notAfter),
    signatureAlgorithm,
    signatureParams: undefined,
    signature: bitString(der, sigNode),
    publicKey: publicKey(der, spkiNode),
    extensions,
    isCa,
    get raw() {
      raw ??= parseCertificate(der).raw;
      return raw;
    },
  };
  return cert;
}

function fastCrl(der: Uint8Array): Crl {
  const top = expect(der, 0, der.length, 0x30);
  if (top.end !== der.length) throw new DerError("trailing data");
  const [tbsNode, sigAlgNode, sigNode, extra] = children(der, top);
  if (!tbsNode || !sigAlgNode || !sigNode || extra || tbsNode.tag !== 0x30) throw new DerError("bad CRL");
  const fields = children(der, tbsNode);
  let i = 0;
  if (fields[0]?.tag === 0x02) i++;
  const [innerAlg, issuerNode, thisUpdateNode] = fields.slice(i, i + 3);
  if (!innerAlg || !issuerNode || !thisUpdateNode) throw new DerError("short TBSCertList");
  i += 3;
  const signatureAlgorithm = algorithm(der, sigAlgNode);
  if (algorithm(der, innerAlg) !== signatureAlgorithm) throw new DerError("signature algorithms differ");
  let nextUpdate: Date | undefined;
  const maybeNext = fields[i];
  if (maybeNext && (maybeNext.tag === 0x17 || maybeNext.tag === 0x18)) {
    nextUpdate = time(der, maybeNext);
    i++;
  }
  const revokedSerials = new Set<string>();
  const maybeRevoked = fields[i];
  if (maybeRevoked && maybeRevoked.tag === 0x30) {
    for (const entry of children(der, maybeRevoked)) {
      const [serialNode, dateNode] = children(der, entry);
      // The revocation date is not used (a listed serial is revoked); only its type is checked.
      if (!serialNode || !dateNode || (dateNode.tag !== 0x17 && dateNode.tag !== 0x18))
        throw new DerError("bad revoked entry");
      revokedSerials.add(serial(der, serialNode));
    }
    i++;
  }
  for (const field of fields.slice(i))
    if (field.tag !== 0xa0) throw new DerError("unexpected TBSCertList field");
  return {
    der,
    tbs: der.subarray(tbsNode.start, tbsNode.end),
    issuer: name(der, issuerNode),
    thisUpdate: time(der, thisUpdateNode),
    nextUpdate,
    revokedSerials,
    signatureAlgorithm,
    signatureParams: undefined,
    signature: bitString(der, sigNode),
  };
}

/**
 * Memo keyed by a 32-bit FNV-1a hash of the bytes, confirmed byte for byte on a hit: building a
 * string key from a certificate costs more than parsing it with the fast reader.
 */
class BytesMemo<T extends { readonly der: Uint8Array }> {
  private readonly buckets = new Map<number, T[]>();
  private size = 0;
  constructor(private readonly limit: number) {}
  static hash(bytes: Uint8Array): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
    return h >>> 0;
  }
  get(bytes: Uint8Array, hash: number): T | undefined {
    const bucket = this.buckets.get(hash);
    if (!bucket) return undefined;
    for (const item of bucket) if (sameBytes(item.der, bytes)) return item;
    return undefined;
  }
  set(hash: number, value: T): void {
    if (this.size >= this.limit) this.clear();
    const bucket = this.buckets.get(hash);
    if (bucket) bucket.push(value);
    else this.buckets.set(hash, [value]);
    this.size++;
  }
  clear(): void {
    this.buckets.clear();
    this.size = 0;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const certificates = new BytesMemo<Certificate>(1024);
const crls = new BytesMemo<Crl>(256);

/**
 * Parses one DER certificate with the fast reader (ECDSA-signed, EC keys), else with pkijs.
 * Memoised by bytes.
 * @throws EvidenceParseError `certificate_malformed`
 */
export function parseCertificateDer(input: Uint8Array): Certificate {
  return parseCertificateBytes(input, false);
}

function parseCertificateBytes(input: Uint8Array, owned: boolean): Certificate {
  const hash = BytesMemo.hash(input);
  const hit = certificates.get(input, hash);
  if (hit) return hit;
  // Own a copy (unless freshly decoded here): parsed certificates are shared, and their bytes
  // must not change under them.
  const der = owned ? input : input.slice();
  let cert: Certificate;
  try {
    cert = fastCertificate(der);
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    cert = parseCertificate(der);
  }
  certificates.set(hash, cert);
  return cert;
}

/**
 * Parses a DER CRL with the fast reader, else with pkijs (which also takes PEM / hex). Memoised.
 * @throws EvidenceParseError `crl_malformed`
 */
export function parseCrlDer(input: Uint8Array): Crl {
  const hash = BytesMemo.hash(input);
  const hit = crls.get(input, hash);
  if (hit) return hit;
  const der = input.slice();
  let crl: Crl;
  try {
    crl = fastCrl(der);
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    crl = parseCrl(der);
  }
  crls.set(hash, crl);
  return crl;
}

/**
 * A signature-verdict cache keyed by the identity of the byte arrays of memoised certificates and
 * CRLs (which this module owns and never changes), so a lookup costs a WeakMap probe instead of
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

/** Forgets the memoised parses (benchmarks measure a cold verifier with it). */
export function clearDerX509Caches(): void {
  certificates.clear();
  crls.clear();
  oidNames.clear();
}

const BASE64_VALUES = (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/** Standard base64 with whitespace (PEM body) to bytes; undefined when it is not. */
function decodeBase64(text: string, start: number, end: number): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor(((end - start) * 3) / 4));
  let length = 0;
  let buffer = 0;
  let bits = 0;
  let padding = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (c === 0x3d) {
      padding++;
      continue;
    }
    const v = c < 128 ? (BASE64_VALUES[c] as number) : -1;
    if (v < 0 || padding > 0) return undefined;
    buffer = (buffer << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[length++] = (buffer >> bits) & 0xff;
    }
  }
  if (padding > 2 || bits >= 6) return undefined;
  return out.subarray(0, length);
}

const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";

/**
 * The DER of every CERTIFICATE block of a PEM text, decoded without regular expressions (the hot
 * path of DCAP verification decodes about ten PEM certificates).
 * @throws EvidenceParseError `certificate_malformed` for a block that is not base64
 */
export function pemCertificatesDer(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (;;) {
    const begin = text.indexOf(BEGIN, from);
    if (begin < 0) return out;
    const end = text.indexOf(END, begin + BEGIN.length);
    if (end < 0) return out;
    const der = decodeBase64(text, begin + BEGIN.length, end);
    if (!der)
      throw new EvidenceParseError("certificate_malformed", "a PEM CERTIFICATE block is not valid base64");
    out.push(der);
    from = end + END.length;
  }
}

/** A DER node: tag and the content's bounds within `bytes`. */
export interface DerNode {
  readonly tag: number;
  readonly bytes: Uint8Array;
  readonly content: Uint8Array;
}

/**
 * Minimal generic DER access for small structures (e.g. certificate extensions).
 * @throws EvidenceParseError with `code` when the bytes are not one well-formed DER element
 */
export function derRead(bytes: Uint8Array, code: string): DerNode {
  try {
    const node = tlv(bytes, 0, bytes.length);
    if (node.end !== bytes.length) throw new DerError("trailing data");
    return { tag: node.tag, bytes, content: bytes.subarray(node.content, node.end) };
  } catch (error) {
    if (error instanceof DerError) throw new EvidenceParseError(code, `not valid DER: ${error.message}`);
    throw error;
  }
}

/** The elements of a constructed node's content. */
export function derChildren(node: DerNode, code: string): DerNode[] {
  try {
    return children(node.content, { tag: node.tag, start: 0, content: 0, end: node.content.length }).map(
      (c) => ({
        tag: c.tag,
        bytes: node.content.subarray(c.start, c.end),
        content: node.content.subarray(c.content, c.end),
      }),
    );
  } catch (error) {
    if (error instanceof DerError) throw new EvidenceParseError(code, `not valid DER: ${error.message}`);
    throw error;
  }
}

/** Dotted OID of an OBJECT IDENTIFIER node. */
export function derOid(node: DerNode, code: string): string {
  try {
    return oid(node.content, { tag: node.tag, start: 0, content: 0, end: node.content.length });
  } catch (error) {
    if (error instanceof DerError) throw new EvidenceParseError(code, `not valid DER: ${error.message}`);
    throw error;
  }
}

/**
 * DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs) to fixed-size r || s, or undefined when malformed
 * (the caller then reports an invalid signature).
 */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const seq = tlv(der, 0, der.length);
    if (seq.tag !== 0x30 || seq.end !== der.length) return undefined;
    const [r, s, extra] = children(der, seq);
    if (!r || !s || extra || r.tag !== 0x02 || s.tag !== 0x02) return undefined;
    const out = new Uint8Array(2 * size);
    for (const [node, at] of [
      [r, 0],
      [s, size],
    ] as const) {
      let start = node.content;
      while (start < node.end - 1 && der[start] === 0) start++;
      const length = node.end - start;
      if (length > size || length === 0) return undefined;
      out.set(der.subarray(start, node.end), at + size - length);
    }
    return out;
  } catch (error) {
    if (error instanceof DerError) return undefined;
    throw error;
  }
}

/**
 * Every certificate of a PEM text, parsed (fast reader, memoised).
 * @throws EvidenceParseError `certificate_malformed`
 */
export function parsePemCertificates(text: string): Certificate[] {
  return pemCertificatesDer(text).map((der) => parseCertificateBytes(der, true));
}
