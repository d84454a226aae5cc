import * as asn1js from "#asn1js";
import { decodeDer } from "../common/asn1.js";
import { EvidenceInvalidError } from "../common/errors.js";
import { type Certificate, findExtension } from "../common/x509.js";

/** AMD's X.509 extension OIDs on VCEK and VLEK certificates (AMD KDS specification). */
export const AMD_OID = {
  structVersion: "1.3.6.1.4.1.3704.1.1",
  productName: "1.3.6.1.4.1.3704.1.2",
  bootloaderSpl: "1.3.6.1.4.1.3704.1.3.1",
  teeSpl: "1.3.6.1.4.1.3704.1.3.2",
  snpSpl: "1.3.6.1.4.1.3704.1.3.3",
  microcodeSpl: "1.3.6.1.4.1.3704.1.3.8",
  fmcSpl: "1.3.6.1.4.1.3704.1.3.9",
  hwid: "1.3.6.1.4.1.3704.1.4",
  cspId: "1.3.6.1.4.1.3704.1.5",
} as const;

/** The AMD facts a VCEK or VLEK certifies. */
export interface SevSnpKeyExtensions {
  /** Product name, e.g. "Milan-B0", "Genoa", "Turin". */
  readonly productName: string | undefined;
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** Turin only. */
  readonly fmc: number | undefined;
  /** The chip's hardware ID (64 bytes; 8 on Turin). Absent on a VLEK. */
  readonly hwid: Uint8Array | undefined;
  /** The cloud service provider a VLEK was issued to (VLEK only). */
  readonly cspId: string | undefined;
}

const cache = new WeakMap<Certificate, SevSnpKeyExtensions>();

function invalid(message: string): EvidenceInvalidError {
  return new EvidenceInvalidError("snp_vcek_extension_invalid", message);
}

function decode(value: Uint8Array, what: string): asn1js.AsnType {
  const node = decodeDer(value);
  if (!node) throw invalid(`${what} extension is not a single DER value`);
  return node;
}

function splOf(cert: Certificate, oid: string, what: string, required: boolean): number | undefined {
  const ext = findExtension(cert, oid);
  if (!ext) {
    if (required) throw invalid(`certificate has no ${what} SPL extension (${oid})`);
    return undefined;
  }
  const node = decode(ext.value, what);
  if (!(node instanceof asn1js.Integer)) throw invalid(`${what} SPL extension is not an INTEGER`);
  const bytes = node.valueBlock.valueHexView;
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  if (bytes.length === 0 || (bytes[0] as number) & 0x80 || value > 255) {
    throw invalid(`${what} SPL extension value is not in 0..255`);
  }
  return value;
}

function stringOf(cert: Certificate, oid: string, what: string): string | undefined {
  const ext = findExtension(cert, oid);
  if (!ext) return undefined;
  const node = decode(ext.value, what);
  if (
    node instanceof asn1js.IA5String ||
    node instanceof asn1js.Utf8String ||
    node instanceof asn1js.PrintableString
  ) {
    return node.valueBlock.value;
  }
  throw invalid(`${what} extension is not a string`);
}

function hwidOf(cert: Certificate): Uint8Array | undefined {
  const ext = findExtension(cert, AMD_OID.hwid);
  if (!ext) return undefined;
  const v = ext.value;
  // AMD KDS puts the raw ID bytes in the extension; some issued certificates wrap them in an OCTET
  // STRING (trustee's "new" encoding). Accept exactly those two shapes.
  if (
    v.length >= 2 &&
    v[0] === 0x04 &&
    v[1] === v.length - 2 &&
    (v.length - 2 === 64 || v.length - 2 === 8)
  ) {
    return v.subarray(2);
  }
  if (v.length === 64 || v.length === 8) return v;
  throw invalid(`hwID extension is ${v.length} bytes; expected 64 (8 on Turin)`);
}

/**
 * Reads the AMD extensions of a VCEK or VLEK: product name, the TCB SPLs (bootloader, TEE, SNP,
 * microcode; FMC on Turin) and the hardware ID. Memoised per parsed certificate.
 *
 * @throws EvidenceInvalidError `snp_vcek_extension_invalid` when a required SPL is missing or malformed
 * @example
 * ```ts
 * const ext = readSevSnpKeyExtensions(parseCertificate(vcekDer));
 * ext.microcode; // 68
 * ```
 */
export function readSevSnpKeyExtensions(cert: Certificate): SevSnpKeyExtensions {
  const hit = cache.get(cert);
  if (hit) return hit;
  const result: SevSnpKeyExtensions = Object.freeze({
    productName: stringOf(cert, AMD_OID.productName, "product name"),
    bootloader: splOf(cert, AMD_OID.bootloaderSpl, "bootloader", true) as number,
    tee: splOf(cert, AMD_OID.teeSpl, "TEE", true) as number,
    snp: splOf(cert, AMD_OID.snpSpl, "SNP", true) as number,
    microcode: splOf(cert, AMD_OID.microcodeSpl, "microcode", true) as number,
    fmc: splOf(cert, AMD_OID.fmcSpl, "FMC", false),
    hwid: hwidOf(cert),
    cspId: stringOf(cert, AMD_OID.cspId, "CSP ID"),
  });
  cache.set(cert, result);
  return result;
}
