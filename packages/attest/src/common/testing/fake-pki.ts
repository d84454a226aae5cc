import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/**
 * The one fake PKI the tests build certificates and CRLs with (pkijs over WebCrypto keys): the TDX
 * test PKI (P-256, Intel's shape), the fake AMD PKI (RSA-PSS ARK/ASK, P-384 VCEK) and the NVIDIA
 * OCSP tests (P-384) are each a few lines of roles on top of it. Nothing it makes chains to a
 * vendor's pinned root: a verifier accepts it only when its root is passed as `roots`.
 * Test-only code: nothing in the package imports it.
 */

/** A key for a test certificate: the ECDSA curves and RSA-PSS (2048 bits, e = 65537) the vendors use. */
export type TestKeyAlgorithm = "P-256" | "P-384" | "RSA-PSS";

/** A distinguished name as its attributes in order: `[oid, value]`, each a UTF8String. */
export type TestName = readonly (readonly [oid: string, value: string])[];

/** The commonName attribute. */
export const CN = "2.5.4.3";
/** The organizationName attribute. */
export const O = "2.5.4.10";

export function generateTestKey(algorithm: TestKeyAlgorithm): Promise<CryptoKeyPair> {
  const params =
    algorithm === "RSA-PSS"
      ? { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-384" }
      : { name: "ECDSA", namedCurve: algorithm };
  return globalThis.crypto.subtle.generateKey(params, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

export function distinguishedName(name: TestName): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: name.map(
      ([type, value]) => new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) }),
    ),
  });
}

/** An extension with its DER value as given (for vendor extensions the tests encode themselves). */
export function testExtension(
  oid: string,
  value: ArrayBuffer | Uint8Array,
  critical = false,
): pkijs.Extension {
  const bytes = value instanceof Uint8Array ? value : new Uint8Array(value);
  return new pkijs.Extension({ extnID: oid, critical, extnValue: new Uint8Array(bytes).buffer });
}

export interface TestCertificateSpec {
  readonly subject: TestName;
  /** Default: the subject (self-issued). */
  readonly issuer?: TestName;
  readonly serial: number;
  readonly publicKey: CryptoKey;
  readonly signingKey: CryptoKey;
  readonly hash: "SHA-256" | "SHA-384";
  /** Default 2020-01-01. */
  readonly notBefore?: Date;
  /** Default 2040-01-01. */
  readonly notAfter?: Date;
  /** A critical basicConstraints extension; absent when not given. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number };
  /** A critical keyUsage extension with this first octet (bit 0 = digitalSignature first); absent when not given. */
  readonly keyUsage?: number;
  /** Further extensions, after basicConstraints and keyUsage. */
  readonly extensions?: readonly pkijs.Extension[];
}

/** A signed X.509 v3 certificate, DER. */
export async function makeTestCertificate(spec: TestCertificateSpec): Promise<Uint8Array> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ value: spec.serial });
  cert.subject = distinguishedName(spec.subject);
  cert.issuer = distinguishedName(spec.issuer ?? spec.subject);
  cert.notBefore.value = spec.notBefore ?? new Date("2020-01-01T00:00:00Z");
  cert.notAfter.value = spec.notAfter ?? new Date("2040-01-01T00:00:00Z");
  const constraints = spec.basicConstraints;
  cert.extensions = [
    ...(constraints
      ? [
          new pkijs.Extension({
            extnID: "2.5.29.19",
            critical: true,
            extnValue: new pkijs.BasicConstraints({
              cA: constraints.ca,
              ...(constraints.pathLength !== undefined ? { pathLenConstraint: constraints.pathLength } : {}),
            })
              .toSchema()
              .toBER(false),
          }),
        ]
      : []),
    ...(spec.keyUsage !== undefined
      ? [
          new pkijs.Extension({
            extnID: "2.5.29.15",
            critical: true,
            extnValue: new asn1js.BitString({
              valueHex: Uint8Array.of(spec.keyUsage).buffer,
              unusedBits: 1,
            }).toBER(false),
          }),
        ]
      : []),
    ...(spec.extensions ?? []),
  ];
  await cert.subjectPublicKeyInfo.importKey(spec.publicKey);
  await cert.sign(spec.signingKey, spec.hash);
  return new Uint8Array(cert.toSchema(true).toBER(false));
}

export interface TestCrlSpec {
  readonly issuer: TestName;
  readonly signingKey: CryptoKey;
  readonly hash: "SHA-256" | "SHA-384";
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Serial numbers revoked (a number, or the serial's big-endian bytes), each revoked at thisUpdate. */
  readonly revoked?: readonly (number | Uint8Array)[];
}

/** A signed X.509 v2 CRL, DER. */
export async function makeTestCrl(spec: TestCrlSpec): Promise<Uint8Array> {
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer = distinguishedName(spec.issuer);
  crl.thisUpdate = new pkijs.Time({ type: 0, value: spec.thisUpdate });
  crl.nextUpdate = new pkijs.Time({ type: 0, value: spec.nextUpdate });
  const revoked = spec.revoked ?? [];
  if (revoked.length > 0) {
    crl.revokedCertificates = revoked.map(
      (serial) =>
        new pkijs.RevokedCertificate({
          userCertificate:
            typeof serial === "number"
              ? new asn1js.Integer({ value: serial })
              : new asn1js.Integer({ valueHex: serial as BufferSource }),
          revocationDate: new pkijs.Time({ type: 0, value: spec.thisUpdate }),
        }),
    );
  }
  await crl.sign(spec.signingKey, spec.hash);
  return new Uint8Array(crl.toSchema(true).toBER(false));
}
