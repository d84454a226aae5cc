import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/**
 * Small helpers over pkijs (with its WebCrypto engine) to issue the simulator's certificates and
 * CRLs. Everything is signed for real; only the roots are ours instead of a vendor's.
 */

let engineReady = false;

/** Points pkijs at the platform's WebCrypto (Node 20 and browsers have `globalThis.crypto`). */
export function ensurePkijsEngine(): void {
  if (engineReady) return;
  pkijs.setEngine(
    "peercycles-simulator",
    new pkijs.CryptoEngine({ name: "peercycles-simulator", crypto: globalThis.crypto }),
  );
  engineReady = true;
}

/** A distinguished name as (attribute, value) pairs, in order. */
export type NameParts = ReadonlyArray<readonly [type: "CN" | "O" | "OU" | "C" | "L" | "ST", value: string]>;

const NAME_OIDS = {
  CN: "2.5.4.3",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  C: "2.5.4.6",
  L: "2.5.4.7",
  ST: "2.5.4.8",
} as const;

function toName(parts: NameParts): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: parts.map(
      ([type, value]) =>
        new pkijs.AttributeTypeAndValue({
          type: NAME_OIDS[type],
          value: type === "C" ? new asn1js.PrintableString({ value }) : new asn1js.Utf8String({ value }),
        }),
    ),
  });
}

/** A key pair with its issuing identity, used to sign children. */
export interface Issuer {
  readonly name: NameParts;
  readonly keys: CryptoKeyPair;
  readonly hash: "SHA-256" | "SHA-384";
  readonly der: Uint8Array;
}

/** A fresh, extractable ECDSA key pair (WebCrypto). */
export function generateEcKeys(curve: "P-256" | "P-384"): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, [
    "sign",
    "verify",
  ]) as Promise<CryptoKeyPair>;
}

/**
 * RSA-PSS/SHA-384 key pair for AMD-style ARK/ASK. AMD's are RSA-4096; the simulator uses 2048 bits
 * (the verifier accepts any RSA size) because generating 4096-bit keys takes seconds.
 */
export function generateRsaPssKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-384" },
    true,
    ["sign", "verify"],
  ) as Promise<CryptoKeyPair>;
}

function randomSerial(): Uint8Array {
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  return serial;
}

/** What {@link issueCertificate} needs to issue one certificate. */
export interface CertificateRequest {
  readonly subject: NameParts;
  readonly publicKey: CryptoKey;
  /** The issuer; omitted for a self-signed root (then `selfKeys` signs). */
  readonly issuer?: Issuer;
  readonly selfKeys?: CryptoKeyPair;
  readonly hash: "SHA-256" | "SHA-384";
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca: boolean;
  /** Extra extensions: [oid, DER value, critical]. */
  readonly extensions?: ReadonlyArray<readonly [string, Uint8Array, boolean?]>;
  readonly serial?: Uint8Array;
}

/** Issues and signs one X.509 v3 certificate; returns its DER. */
export async function issueCertificate(request: CertificateRequest): Promise<Uint8Array> {
  ensurePkijsEngine();
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({
    valueHex: new Uint8Array(request.serial ?? randomSerial()).buffer,
  });
  cert.subject = toName(request.subject);
  cert.issuer = toName(request.issuer?.name ?? request.subject);
  cert.notBefore = new pkijs.Time({
    type: request.notBefore.getUTCFullYear() >= 2050 ? 1 : 0,
    value: request.notBefore,
  });
  cert.notAfter = new pkijs.Time({
    type: request.notAfter.getUTCFullYear() >= 2050 ? 1 : 0,
    value: request.notAfter,
  });
  const basic = new pkijs.BasicConstraints(request.ca ? { cA: true } : {});
  const keyUsage = new asn1js.BitString({
    valueHex: new Uint8Array([request.ca ? 0x06 : 0x80]).buffer,
    unusedBits: request.ca ? 1 : 7,
  });
  cert.extensions = [
    new pkijs.Extension({ extnID: "2.5.29.19", critical: true, extnValue: basic.toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: "2.5.29.15", critical: true, extnValue: keyUsage.toBER(false) }),
    ...(request.extensions ?? []).map(
      ([oid, value, critical]) =>
        new pkijs.Extension({
          extnID: oid,
          critical: critical ?? false,
          extnValue: new Uint8Array(value).buffer,
        }),
    ),
  ];
  await cert.subjectPublicKeyInfo.importKey(request.publicKey);
  const signer = request.issuer?.keys.privateKey ?? request.selfKeys?.privateKey;
  if (!signer) throw new Error("issueCertificate: no signing key");
  await cert.sign(signer, request.hash);
  return new Uint8Array(cert.toSchema(true).toBER(false));
}

/** Issues a CRL signed by `issuer`, listing `revoked` serials (DER bytes). */
export async function issueCrl(
  issuer: Issuer,
  thisUpdate: Date,
  nextUpdate: Date,
  revoked: readonly Uint8Array[] = [],
): Promise<Uint8Array> {
  ensurePkijsEngine();
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer = toName(issuer.name);
  crl.thisUpdate = new pkijs.Time({ type: 0, value: thisUpdate });
  crl.nextUpdate = new pkijs.Time({ type: 0, value: nextUpdate });
  if (revoked.length > 0) {
    crl.revokedCertificates = revoked.map(
      (serial) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({ valueHex: new Uint8Array(serial).buffer }),
          revocationDate: new pkijs.Time({ type: 0, value: thisUpdate }),
        }),
    );
  }
  await crl.sign(issuer.keys.privateKey, issuer.hash);
  return new Uint8Array(crl.toSchema(true).toBER(false));
}

/** Issues a self-signed CA root. */
export async function issueRoot(
  name: NameParts,
  keys: CryptoKeyPair,
  hash: "SHA-256" | "SHA-384",
  notBefore: Date,
  notAfter: Date,
): Promise<Issuer> {
  const der = await issueCertificate({
    subject: name,
    publicKey: keys.publicKey,
    selfKeys: keys,
    hash,
    notBefore,
    notAfter,
    ca: true,
  });
  return { name, keys, hash, der };
}

/** Issues a CA certificate under `parent`. */
export async function issueIntermediate(
  parent: Issuer,
  name: NameParts,
  keys: CryptoKeyPair,
  hash: "SHA-256" | "SHA-384",
  notBefore: Date,
  notAfter: Date,
): Promise<Issuer> {
  const der = await issueCertificate({
    subject: name,
    publicKey: keys.publicKey,
    issuer: parent,
    hash: parent.hash,
    notBefore,
    notAfter,
    ca: true,
  });
  return { name, keys, hash, der };
}

/** ECDSA signature, raw r || s (WebCrypto's format). */
export async function signEcdsa(
  privateKey: CryptoKey,
  hash: "SHA-256" | "SHA-384",
  data: Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash }, privateKey, data as BufferSource));
}

/** Raw public point x || y (no 0x04 prefix). */
export async function rawPublicKey(publicKey: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("raw", publicKey)).subarray(1);
}

/** DER serial of a certificate we issued (for CRL entries). */
export function serialOf(der: Uint8Array): Uint8Array {
  const cert = new pkijs.Certificate({ schema: asn1js.fromBER(der as BufferSource).result });
  return new Uint8Array(cert.serialNumber.valueBlock.valueHexView);
}

/** PEM block of a DER certificate. */
export function pem(der: Uint8Array): string {
  let binary = "";
  for (const b of der) binary += String.fromCharCode(b);
  const b64 = btoa(binary)
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}
