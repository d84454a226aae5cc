import { fromBase64, fromHex } from "../common/bytes.js";
import { AttestError, EvidenceParseError } from "../common/errors.js";
import { lazyModule } from "../common/lazy-module.js";
import { type Certificate, parseCertificate } from "../common/x509.js";

/**
 * NVIDIA Reference Integrity Manifests: ISO/IEC 19770-2 SWID tags listing the golden measurement of
 * every SPDM index (driver RIM and VBIOS/switch-BIOS RIM), with an enveloped XML-DSig signature and
 * the signer chain in `ds:KeyInfo`.
 */
export const SWID_NAMESPACE = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
export const XMLDSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#";
const TCG_RIM_NAMESPACE =
  "https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/";

/** One `Resource type="Measurement"` entry. */
export interface RimMeasurement {
  /** RIM index i; compared with SPDM block i + 1. */
  readonly index: number;
  readonly active: boolean;
  readonly name: string;
  readonly size: number;
  /** `Hash0`, `Hash1`, …: any one may match. */
  readonly alternatives: readonly Uint8Array[];
}

/** A parsed RIM. `document` is the DOM the signature is verified on; measurements come from it. */
export interface Rim {
  readonly text: string;
  readonly document: Document;
  readonly tagId: string;
  readonly name: string;
  /** `colloquialVersion`: driver version (`550.144.03`) or VBIOS version (`96.00.5E.00.01`). */
  readonly version: string;
  /** "driver" when the version is a driver version, "vbios" for a VBIOS/switch-BIOS version. */
  readonly kind: "driver" | "vbios";
  readonly product: string;
  readonly edition: string;
  readonly manufacturerId: string | undefined;
  readonly measurements: readonly RimMeasurement[];
  /** Certificates from `ds:KeyInfo/ds:X509Data`, in document order (signer first). */
  readonly certificates: readonly Certificate[];
}

/**
 * @xmldom/xmldom is CommonJS: Node's import gives its exports as named exports, a bundler's dynamic
 * import may give them only under `default`. Accept both.
 */
const loadXmlDom = lazyModule(async () => {
  const module = (await import("@xmldom/xmldom")) as typeof import("@xmldom/xmldom") & {
    default?: typeof import("@xmldom/xmldom");
  };
  return module.DOMParser ? module : (module.default as typeof import("@xmldom/xmldom"));
});

const malformed = (message: string, cause?: unknown) =>
  new EvidenceParseError("nvidia_rim_malformed", message, cause === undefined ? undefined : { cause });

const VBIOS_VERSION = /^[0-9A-Fa-f]{2}(\.[0-9A-Fa-f]{2}){4}$/;

function elements(parent: Document | Element, namespace: string, localName: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(namespace, localName) as unknown as ArrayLike<Element>);
}

/**
 * Parses a RIM (XML text or its UTF-8 bytes). DOCTYPEs are refused (no entity tricks), every
 * measurement entry must be well-formed (`alternatives` hashes of `size` bytes, unique indices).
 * @throws EvidenceParseError `nvidia_rim_malformed`
 * Async because the XML parser (@xmldom/xmldom) is loaded on the first call, not when
 * `@peercycles/attest/nvidia` is imported.
 * @example
 * const rim = await parseRim(readFileSync("NV_GPU_VBIOS_1010_0200_882_96005E0001.xml", "utf8"));
 * rim.version; // "96.00.5E.00.01"
 */
export async function parseRim(input: string | Uint8Array): Promise<Rim> {
  const text = typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: false }).decode(input);
  if (/<!DOCTYPE/i.test(text)) throw malformed("RIM carries a DOCTYPE; refused");
  const { DOMParser } = await loadXmlDom();
  let document: Document;
  try {
    document = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== "warning") throw new Error(message);
      },
    }).parseFromString(text, "application/xml") as unknown as Document;
  } catch (cause) {
    if (AttestError.isInstance(cause)) throw cause;
    throw malformed(`RIM is not well-formed XML: ${(cause as Error).message}`, cause);
  }
  const root = document.documentElement;
  if (!root || root.namespaceURI !== SWID_NAMESPACE || root.localName !== "SoftwareIdentity") {
    throw malformed("RIM root element is not a SWID SoftwareIdentity");
  }
  // Only direct children of the root (and of its Payload) count: anything inside ds:Signature is
  // removed by the enveloped-signature transform, so it is not signed and must never be read.
  const children = (parent: Element, localName: string) =>
    elements(parent, SWID_NAMESPACE, localName).filter((e) => e.parentNode === parent);
  const metas = children(root, "Meta");
  const meta = metas.find((m) => m.hasAttribute("colloquialVersion"));
  if (!meta) throw malformed("RIM has no Meta element with a colloquialVersion");
  const version = meta.getAttribute("colloquialVersion") ?? "";
  if (version.length === 0) throw malformed("RIM colloquialVersion is empty");

  const measurements: RimMeasurement[] = [];
  const seen = new Set<number>();
  for (const resource of children(root, "Payload").flatMap((payload) => children(payload, "Resource"))) {
    if (resource.getAttribute("type") !== "Measurement") continue;
    const index = Number(resource.getAttribute("index"));
    const size = Number(resource.getAttribute("size"));
    const count = Number(resource.getAttribute("alternatives"));
    if (!Number.isInteger(index) || index < 0 || index > 254 || seen.has(index))
      throw malformed(`RIM measurement index "${resource.getAttribute("index")}" is invalid or repeated`);
    seen.add(index);
    if (!Number.isInteger(size) || size <= 0 || size > 64)
      throw malformed(`RIM measurement ${index} size is invalid`);
    if (!Number.isInteger(count) || count < 1 || count > 64)
      throw malformed(`RIM measurement ${index} alternatives count is invalid`);
    const activeText = resource.getAttribute("active");
    if (activeText !== "True" && activeText !== "False")
      throw malformed(`RIM measurement ${index} active="${activeText}" is not True/False`);
    const byName = new Map<string, string>();
    const attributes = resource.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const attribute = attributes.item(i) as Attr;
      if (/^Hash\d+$/.test(attribute.localName ?? ""))
        byName.set(attribute.localName as string, attribute.value);
    }
    const alternatives: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const hex = byName.get(`Hash${i}`);
      if (hex === undefined || hex.length !== size * 2 || !/^[0-9a-fA-F]+$/.test(hex))
        throw malformed(`RIM measurement ${index} Hash${i} is missing or not ${size} bytes of hex`);
      alternatives.push(fromHex(hex));
    }
    measurements.push({
      index,
      active: activeText === "True",
      name: resource.getAttribute("name") ?? "",
      size,
      alternatives,
    });
  }
  if (measurements.length === 0) throw malformed("RIM lists no measurements");

  const certificates: Certificate[] = [];
  for (const node of elements(document, XMLDSIG_NAMESPACE, "X509Certificate")) {
    try {
      certificates.push(parseCertificate(fromBase64(node.textContent ?? "")));
    } catch (cause) {
      throw malformed("RIM KeyInfo certificate does not parse", cause);
    }
  }
  return {
    text,
    document,
    tagId: root.getAttribute("tagId") ?? "",
    name: root.getAttribute("name") ?? "",
    version,
    kind: VBIOS_VERSION.test(version) ? "vbios" : "driver",
    product: meta.getAttribute("product") ?? "",
    edition: meta.getAttribute("edition") ?? "",
    manufacturerId: meta.getAttributeNS(TCG_RIM_NAMESPACE, "FirmwareManufacturerId") ?? undefined,
    measurements,
    certificates,
  };
}
