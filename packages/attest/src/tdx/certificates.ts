/** Certificate inputs of TDX evidence and collateral (PEM chains, the quote's PCK chain), memoised by exact bytes. */
import { EvidenceParseError } from "../common/errors.js";
import { type Certificate, parseCertificate, pemBlocks } from "../common/x509.js";

/** PEM text (or one DER certificate) to certificates, with the fast DER reader. */
export const pemChains = new Map<string, Certificate[]>();

export function parseCertificates(input: string | Uint8Array): Certificate[] {
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

export const pckChains = new Map<string, Certificate[]>();

/** The type-5 certification data: PEM certificates only (whitespace and NUL padding allowed). */
export function parsePckChain(bytes: Uint8Array): Certificate[] {
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

/** Forgets the memoised PEM and PCK chains (see `clearTdxCaches`). */
export function clearCertificateMemos(): void {
  pckChains.clear();
  pemChains.clear();
}
