import { fromBase64, toHex } from "../common/bytes.js";
import { AttestError, EvidenceInvalidError, EvidenceParseError } from "../common/errors.js";
import type { SignatureBackend } from "../common/signatures.js";
import {
  type Certificate,
  parseCertificates,
  type SignatureVerdictCache,
  type VerifiedChain,
  verifyCertificateChain,
} from "../common/x509.js";
import { chainCode, DEVICE_CHAIN_CODES } from "./certificate-codes.js";

/** What kind of NVIDIA device a chain belongs to, from the leaf's common name. */
export type NvidiaDeviceKind = "gpu" | "switch";
export type NvidiaArchitecture = "hopper" | "blackwell" | "ls10" | "unknown";

/** Identity of the device, read from its verified certificate chain. */
export interface NvidiaDeviceIdentity {
  readonly kind: NvidiaDeviceKind;
  readonly architecture: NvidiaArchitecture;
  /** Common name of the leaf, e.g. "GH100 A01 GSP FMC LF". */
  readonly leaf: string;
  /** Common name of the leaf's issuer (the NRAS `hwmodel` claim), e.g. "GH100 A01 GSP BROM". */
  readonly hardwareModel: string | undefined;
  /** Leaf serial number in decimal (the NRAS `ueid` claim). */
  readonly ueid: string;
  /**
   * The leaf's SubjectPublicKeyInfo (hex DER): the key that signed the evidence. Devices are told
   * apart by this and by `ueid`, both inside the signed part of the certificate, never by the
   * certificate's bytes (its envelope and ECDSA signature can be re-encoded).
   */
  readonly publicKey: string;
}

/**
 * Reads a device certificate chain: PEM text (leaf first), the base64-of-PEM form that nvtrust's
 * JSON evidence carries, DER certificates already parsed, or bytes of either text form.
 * @throws EvidenceParseError `nvidia_cert_chain_invalid`
 */
export function parseDeviceCertChain(input: string | Uint8Array | readonly Certificate[]): Certificate[] {
  if (Array.isArray(input)) return [...(input as readonly Certificate[])];
  const original = typeof input === "string" ? input : new TextDecoder("latin1").decode(input as Uint8Array);
  const cached = chainTextCache.get(original);
  if (cached) return [...cached];
  const certs = parseChainText(original);
  if (chainTextCache.size >= 256) chainTextCache.delete(chainTextCache.keys().next().value as string);
  chainTextCache.set(original, certs);
  return [...certs];
}

/** Chain text → parsed certificates (parsing is deterministic; verification is never cached here). */
const chainTextCache = new Map<string, readonly Certificate[]>();

/** Forgets parsed chain texts and verified chains (benchmarks measure cold runs with it). */
export function clearDeviceChainCaches(): void {
  chainTextCache.clear();
  verifiedChains = new WeakMap();
}

function parseChainText(original: string): Certificate[] {
  let text = original;
  if (!text.includes("-----BEGIN")) {
    try {
      text = new TextDecoder().decode(fromBase64(text.trim()));
    } catch {
      throw new EvidenceParseError(
        "nvidia_cert_chain_invalid",
        "certificate chain is neither PEM nor base64 of PEM",
      );
    }
  }
  try {
    const certs = parseCertificates(text);
    if (certs.length === 0)
      throw new EvidenceParseError("nvidia_cert_chain_invalid", "certificate chain is empty");
    return certs;
  } catch (cause) {
    if (AttestError.isInstance(cause) && cause.code === "nvidia_cert_chain_invalid") throw cause;
    throw new EvidenceParseError(
      "nvidia_cert_chain_invalid",
      `certificate chain does not parse: ${(cause as Error).message}`,
      { cause },
    );
  }
}

const commonName = (dn: string): string | undefined => /(?:^|, )CN=([^,]*)/.exec(dn)?.[1];

function decimalSerial(hex: string): string {
  return BigInt(`0x${hex || "0"}`).toString(10);
}

/** Device identity from a verified path (leaf first). */
export function deviceIdentity(path: readonly Certificate[]): NvidiaDeviceIdentity {
  const leaf = path[0] as Certificate;
  const cn = commonName(leaf.subject) ?? leaf.subject;
  const architecture: NvidiaArchitecture = cn.startsWith("GH100")
    ? "hopper"
    : cn.startsWith("GB100")
      ? "blackwell"
      : cn.startsWith("LS_10")
        ? "ls10"
        : "unknown";
  return {
    kind: architecture === "ls10" ? "switch" : "gpu",
    architecture,
    leaf: cn,
    hardwareModel: path[1] ? commonName(path[1].subject) : undefined,
    ueid: decimalSerial(leaf.serialNumber),
    publicKey: toHex(leaf.publicKey.spki),
  };
}

/** NVIDIA's device chains: leaf → (BROM →) provisioner ICA (→ identity) → Device Identity CA. */
const MAX_DEVICE_PATH = 5;
const MIN_DEVICE_PATH = 3;

/**
 * Device chain roles by position: the leaf (the key that signs SPDM responses) is an end entity
 * whose key usage allows signing; every certificate above it is a CA (checked on the path); the
 * path is 3 to 5 certificates deep, as NVIDIA issues them.
 * @throws EvidenceInvalidError `nvidia_device_chain_role_invalid`, `nvidia_device_chain_depth_invalid`
 */
function checkDeviceRoles(chain: VerifiedChain): void {
  const leaf = chain.path[0] as Certificate;
  if (leaf.isCa || !leaf.keyUsage?.has("digitalSignature")) {
    throw new EvidenceInvalidError(
      "nvidia_device_chain_role_invalid",
      `device leaf "${leaf.subject}" is ${leaf.isCa ? "a CA certificate" : "not an end entity whose key usage allows signing"}`,
    );
  }
  if (chain.path.length < MIN_DEVICE_PATH || chain.path.length > MAX_DEVICE_PATH) {
    throw new EvidenceInvalidError(
      "nvidia_device_chain_depth_invalid",
      `device chain is ${chain.path.length} certificates deep; NVIDIA device chains are ${MIN_DEVICE_PATH} to ${MAX_DEVICE_PATH}`,
    );
  }
}

let verifiedChains = new WeakMap<
  Certificate,
  { roots: readonly Certificate[]; intermediates: readonly Certificate[]; chain: VerifiedChain }
>();

export interface DeviceChainOptions {
  readonly roots: readonly Certificate[];
  readonly now: Date;
  readonly cache?: SignatureVerdictCache;
  /** Where the signatures are checked (default: the process's). */
  readonly backend?: SignatureBackend;
}

/**
 * Verifies the device chain (leaf first) to the pinned NVIDIA Device Identity CA. A chain that is
 * only the root (TRUSTEE `hopper_cert_chain_case2`) has no signing certificate and is rejected.
 * Chain failures from the shared X.509 code are re-coded `nvidia_device_<code>` so a caller can
 * tell a device-chain failure from a RIM-chain one.
 * @throws EvidenceInvalidError `nvidia_device_chain_too_short`, `nvidia_device_chain_role_invalid`,
 *   `nvidia_device_chain_depth_invalid`, `nvidia_device_certificate_chain_incomplete`,
 *   `nvidia_device_certificate_chain_untrusted`, `nvidia_device_certificate_signature_invalid`,
 *   `nvidia_device_certificate_not_ca`, `nvidia_device_certificate_expired`, `nvidia_device_certificate_not_yet_valid`
 */
export async function verifyDeviceChain(
  certs: readonly Certificate[],
  options: DeviceChainOptions,
): Promise<VerifiedChain> {
  const leaf = certs[0];
  if (!leaf)
    throw new EvidenceInvalidError("nvidia_device_chain_too_short", "device certificate chain is empty");
  if (certs.length < 2 || options.roots.some((root) => root.subject === leaf.subject)) {
    throw new EvidenceInvalidError(
      "nvidia_device_chain_too_short",
      `device certificate chain starts at "${leaf.subject}": it must hold at least the device's signing certificate and the root`,
    );
  }
  const hit = verifiedChains.get(leaf);
  if (
    hit &&
    hit.roots === options.roots &&
    hit.intermediates.length === certs.length - 1 &&
    hit.intermediates.every((c, i) => c === certs[i + 1]) &&
    hit.chain.path.every((c) => options.now >= c.notBefore && options.now <= c.notAfter)
  ) {
    return hit.chain;
  }
  try {
    const chain = await verifyCertificateChain(leaf, certs.slice(1), {
      roots: options.roots,
      now: options.now,
      cache: options.cache,
      label: "NVIDIA device",
      backend: options.backend,
    });
    checkDeviceRoles(chain);
    // Only a verified chain is remembered, for the same leaf, intermediates and roots objects; the
    // validity window is re-checked against each call's `now` above.
    if (options.cache)
      verifiedChains.set(leaf, { roots: options.roots, intermediates: certs.slice(1), chain });
    return chain;
  } catch (error) {
    const code = AttestError.isInstance(error) ? chainCode(DEVICE_CHAIN_CODES, error.code) : undefined;
    if (code) throw new EvidenceInvalidError(code, (error as Error).message, { cause: error });
    throw error;
  }
}
