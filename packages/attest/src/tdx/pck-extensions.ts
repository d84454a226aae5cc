import { type DerNode, derChildren, derOid, derRead } from "../common/asn1.js";
import { copyBytes, toHex } from "../common/bytes.js";
import { EvidenceParseError } from "../common/errors.js";
import { type Certificate, findExtension } from "../common/x509.js";

/** OID of Intel's SGX extensions in a PCK certificate. */
export const SGX_EXTENSIONS_OID = "1.2.840.113741.1.13.1";

/** The platform facts Intel puts in a PCK certificate (SGX extensions, OID 1.2.840.113741.1.13.1). */
export interface PckExtensions {
  /** 16 bytes. */
  readonly ppid: Uint8Array;
  /** The 16 SGX TCB component SVNs (TCB extension items 1..16). */
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  /** 16 bytes. */
  readonly cpuSvn: Uint8Array;
  /** 2 bytes. */
  readonly pceId: Uint8Array;
  /** 6 bytes. */
  readonly fmspc: Uint8Array;
  /** 0 = Standard, 1 = Scalable, 2 = Scalable with integrity. */
  readonly sgxType: number;
  /** Platform CA certificates only. */
  readonly platformInstanceId: Uint8Array | null;
  readonly dynamicPlatform: boolean | null;
  readonly cachedKeys: boolean | null;
  readonly smtEnabled: boolean | null;
}

const PREFIX = `${SGX_EXTENSIONS_OID}.`;
const CODE = "tdx_pck_extensions_malformed";

function bad(message: string): never {
  throw new EvidenceParseError(CODE, `PCK certificate SGX extensions: ${message}`);
}

function items(node: DerNode | undefined, what: string): Map<string, DerNode> {
  if (node?.tag !== 0x30) bad(`${what} is not a SEQUENCE`);
  const out = new Map<string, DerNode>();
  for (const entry of derChildren(node, CODE)) {
    const pair = entry.tag === 0x30 ? derChildren(entry, CODE) : [];
    const [id, value] = pair;
    if (pair.length !== 2 || !id || !value || id.tag !== 0x06)
      bad(`${what} entry is not an (OID, value) pair`);
    const key = derOid(id, CODE);
    if (out.has(key)) bad(`${what} repeats ${key}`);
    out.set(key, value);
  }
  return out;
}

function octets(map: Map<string, DerNode>, oid: string, size: number, name: string): Uint8Array {
  const node = map.get(oid);
  if (node?.tag !== 0x04) bad(`${name} (${oid}) is missing or not an OCTET STRING`);
  if (node.content.length !== size) bad(`${name} must be ${size} bytes, got ${node.content.length}`);
  return copyBytes(node.content);
}

function integer(map: Map<string, DerNode>, oid: string, name: string): number {
  const node = map.get(oid);
  if (!node || (node.tag !== 0x02 && node.tag !== 0x0a)) bad(`${name} (${oid}) is missing or not an INTEGER`);
  const b = node.content;
  if (b.length === 0 || b.length > 3 || ((b[0] as number) & 0x80) !== 0) bad(`${name} is out of range`);
  let value = 0;
  for (const byte of b) value = value * 256 + byte;
  if (value > 0xffff) bad(`${name} is out of range`);
  return value;
}

function boolean(map: Map<string, DerNode> | undefined, oid: string): boolean | null {
  const node = map?.get(oid);
  return node && node.tag === 0x01 && node.content.length === 1 ? node.content[0] !== 0 : null;
}

const cache = new Map<Uint8Array, PckExtensions>();

/**
 * Reads FMSPC, PCE-ID, the TCB components, PCESVN and CPUSVN (and the platform flags) from a PCK
 * certificate's SGX extensions.
 *
 * @example
 * ```ts
 * const ext = parsePckExtensions(pckLeaf);
 * console.log(toHex(ext.fmspc), ext.pceSvn);
 * ```
 * @throws EvidenceParseError `tdx_pck_extensions_malformed`
 */
export function parsePckExtensions(cert: Certificate): PckExtensions {
  const hit = cache.get(cert.der);
  if (hit) return hit;
  const ext = findExtension(cert, SGX_EXTENSIONS_OID);
  if (!ext) bad("the certificate has no SGX extensions (not a PCK certificate)");
  const top = items(derRead(ext.value, CODE), "SGX extensions");
  const tcb = items(top.get(`${PREFIX}2`), "TCB");
  const sgxTcbComponents: number[] = [];
  for (let i = 1; i <= 16; i++)
    sgxTcbComponents.push(integer(tcb, `${PREFIX}2.${i}`, `SGX TCB component ${i}`));
  const configuration = top.get(`${PREFIX}7`);
  const config = configuration?.tag === 0x30 ? items(configuration, "Configuration") : undefined;
  const parsed: PckExtensions = {
    ppid: octets(top, `${PREFIX}1`, 16, "PPID"),
    sgxTcbComponents,
    pceSvn: integer(tcb, `${PREFIX}2.17`, "PCESVN"),
    cpuSvn: octets(tcb, `${PREFIX}2.18`, 16, "CPUSVN"),
    pceId: octets(top, `${PREFIX}3`, 2, "PCE-ID"),
    fmspc: octets(top, `${PREFIX}4`, 6, "FMSPC"),
    sgxType: integer(top, `${PREFIX}5`, "SGX type"),
    platformInstanceId: top.has(`${PREFIX}6`) ? octets(top, `${PREFIX}6`, 16, "platform instance id") : null,
    dynamicPlatform: boolean(config, `${PREFIX}7.1`),
    cachedKeys: boolean(config, `${PREFIX}7.2`),
    smtEnabled: boolean(config, `${PREFIX}7.3`),
  };
  if (cache.size >= 256) cache.delete(cache.keys().next().value as Uint8Array);
  cache.set(cert.der, parsed);
  return parsed;
}

/** Clears the memo of parsed extensions (benchmarks measure a cold verifier with it). */
export function clearPckExtensionCache(): void {
  cache.clear();
}

/** FMSPC as lowercase hex. */
export function fmspcHex(ext: PckExtensions): string {
  return toHex(ext.fmspc);
}
