import { toHex } from "../common/bytes.js";
import { AttestArgumentError, CollateralUnavailableError } from "../common/errors.js";
import type { SevSnpProduct } from "./roots.js";
import { decodeTcb, tcbLayoutOf } from "./tcb.js";

/** AMD Key Distribution Service base URL. */
export const AMD_KDS_BASE_URL = "https://kdsintf.amd.com";

/** Product path segment KDS uses. */
const KDS_PRODUCT: Record<SevSnpProduct, string> = { milan: "Milan", genoa: "Genoa", turin: "Turin" };

/** Storage for KDS responses, keyed by URL. Only verified items should be stored (see `KdsClient.remember`). */
export interface KdsCache {
  get(url: string): Uint8Array | undefined;
  set(url: string, value: Uint8Array): void;
}

/** A bounded in-memory {@link KdsCache} (oldest entry evicted first). */
export class MemoryKdsCache implements KdsCache {
  private readonly entries = new Map<string, Uint8Array>();
  constructor(private readonly limit = 256) {}
  get(url: string): Uint8Array | undefined {
    return this.entries.get(url);
  }
  set(url: string, value: Uint8Array): void {
    if (!this.entries.has(url) && this.entries.size >= this.limit)
      this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(url, value);
  }
  get size(): number {
    return this.entries.size;
  }
}

export interface KdsClientOptions {
  /** The `fetch` to use; required unless `offline`. Never read from globals. */
  readonly fetch?: typeof globalThis.fetch;
  /** Never touch the network: answer from the cache or fail with `collateral_unavailable`. */
  readonly offline?: boolean;
  readonly cache?: KdsCache;
  /** Override the KDS base URL (tests, mirrors). */
  readonly baseUrl?: string;
}

/**
 * Builds the KDS URL of a chip's VCEK for a TCB: `/vcek/v1/{product}/{hwid}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..`
 * (Turin adds `fmcSPL` and uses only the first 8 bytes of the chip ID).
 *
 * @example
 * ```ts
 * kdsVcekUrl("milan", report.chipId, report.reportedTcb);
 * ```
 */
export function kdsVcekUrl(
  product: SevSnpProduct,
  chipId: Uint8Array,
  reportedTcb: bigint,
  baseUrl = AMD_KDS_BASE_URL,
): string {
  if (chipId.length !== 64 && chipId.length !== 8) {
    throw new AttestArgumentError(
      "snp_chip_id_invalid",
      `chip ID must be 64 bytes (or 8 for Turin), got ${chipId.length}`,
    );
  }
  const tcb = decodeTcb(reportedTcb, tcbLayoutOf(product));
  const hwid = toHex(product === "turin" ? chipId.subarray(0, 8) : chipId);
  const params = [
    `blSPL=${tcb.bootloader}`,
    `teeSPL=${tcb.tee}`,
    `snpSPL=${tcb.snp}`,
    `ucodeSPL=${tcb.microcode}`,
  ];
  if (product === "turin") params.push(`fmcSPL=${tcb.fmc ?? 0}`);
  return `${baseUrl}/vcek/v1/${KDS_PRODUCT[product]}/${hwid}?${params.join("&")}`;
}

/** KDS URL of the ASK+ARK chain (`vcek`) or ASVK+ARK chain (`vlek`) of a product line. */
export function kdsCertChainUrl(
  product: SevSnpProduct,
  key: "vcek" | "vlek",
  baseUrl = AMD_KDS_BASE_URL,
): string {
  return `${baseUrl}/${key}/v1/${KDS_PRODUCT[product]}/cert_chain`;
}

/** KDS URL of the ARK-signed CRL of a product line. */
export function kdsCrlUrl(
  product: SevSnpProduct,
  key: "vcek" | "vlek" = "vcek",
  baseUrl = AMD_KDS_BASE_URL,
): string {
  return `${baseUrl}/${key}/v1/${KDS_PRODUCT[product]}/crl`;
}

/**
 * Client for AMD KDS collateral (VCEK, certificate chains, CRL) with an injected `fetch`, a cache
 * and an offline mode. Anything it cannot obtain fails with the retryable
 * `collateral_unavailable` (HTTP 404/429/5xx, network errors, offline without a cached copy): that
 * says nothing about the evidence. It returns bytes without judging them; the verifier calls
 * `remember` only once an item has verified, so the cache never holds unverified collateral.
 *
 * @example
 * ```ts
 * const kds = new KdsClient({ fetch, cache: new MemoryKdsCache() });
 * const vcekDer = await kds.getVcek("milan", report.chipId, report.reportedTcb);
 * ```
 */
export class KdsClient {
  private readonly options: KdsClientOptions;
  constructor(options: KdsClientOptions = {}) {
    this.options = options;
  }

  get baseUrl(): string {
    return this.options.baseUrl ?? AMD_KDS_BASE_URL;
  }

  vcekUrl(product: SevSnpProduct, chipId: Uint8Array, reportedTcb: bigint): string {
    return kdsVcekUrl(product, chipId, reportedTcb, this.baseUrl);
  }

  certChainUrl(product: SevSnpProduct, key: "vcek" | "vlek"): string {
    return kdsCertChainUrl(product, key, this.baseUrl);
  }

  crlUrl(product: SevSnpProduct, key: "vcek" | "vlek" = "vcek"): string {
    return kdsCrlUrl(product, key, this.baseUrl);
  }

  /** The VCEK (DER) of a chip at a TCB. */
  getVcek(product: SevSnpProduct, chipId: Uint8Array, reportedTcb: bigint): Promise<Uint8Array> {
    return this.get(this.vcekUrl(product, chipId, reportedTcb), "VCEK");
  }

  /** The ASK+ARK (or ASVK+ARK) chain, PEM text as bytes. */
  getCertChain(product: SevSnpProduct, key: "vcek" | "vlek"): Promise<Uint8Array> {
    return this.get(this.certChainUrl(product, key), `${key.toUpperCase()} certificate chain`);
  }

  /** The ARK-signed CRL (DER). */
  getCrl(product: SevSnpProduct, key: "vcek" | "vlek" = "vcek"): Promise<Uint8Array> {
    return this.get(this.crlUrl(product, key), "CRL");
  }

  /** Stores a verified item under its URL. */
  remember(url: string, value: Uint8Array): void {
    this.options.cache?.set(url, value);
  }

  /** Cached bytes for `url`, else (unless offline) a fetch. */
  async get(url: string, what: string): Promise<Uint8Array> {
    const cached = this.options.cache?.get(url);
    if (cached) return cached;
    if (this.options.offline) {
      throw new CollateralUnavailableError(
        "collateral_unavailable",
        `${what} is not cached and offline mode forbids fetching ${url}`,
        {
          details: { url, offline: true },
        },
      );
    }
    const fetchImpl = this.options.fetch;
    if (!fetchImpl) {
      throw new CollateralUnavailableError(
        "collateral_unavailable",
        `${what} is needed but no fetch was provided to get ${url}`,
        { details: { url } },
      );
    }
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: { accept: "application/octet-stream, application/x-pem-file, */*" },
      });
    } catch (cause) {
      throw new CollateralUnavailableError(
        "collateral_unavailable",
        `${what} could not be fetched from ${url}: ${(cause as Error)?.message ?? cause}`,
        {
          cause,
          details: { url },
        },
      );
    }
    if (response.status !== 200) {
      const hint = response.status === 429 ? " (rate limited; AMD KDS allows few requests per chip)" : "";
      throw new CollateralUnavailableError(
        "collateral_unavailable",
        `${what} fetch from ${url} returned HTTP ${response.status}${hint}`,
        {
          details: { url, status: response.status },
        },
      );
    }
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.length === 0) {
      throw new CollateralUnavailableError(
        "collateral_unavailable",
        `${what} fetch from ${url} returned an empty body`,
        { details: { url } },
      );
    }
    return body;
  }
}
