import { AttestError, CollateralUnavailableError } from "../common/errors.js";
import { parseCrl } from "../common/x509.js";
import { normalizeTdxCollateral, parseQeIdentity, parseTcbInfo, type TdxCollateral } from "./collateral.js";

/**
 * Fetches DCAP collateral from Intel PCS v4 (default) or any PCCS that serves the same API, with an
 * injected `fetch` (no hidden globals), and caches it per FMSPC + TEE type + PCK CA until the
 * earliest `nextUpdate` of what it holds. Any failure to obtain collateral (network error, non-2xx,
 * missing header, offline without a usable cache entry) is a {@link CollateralUnavailableError}
 * (`collateral_unavailable`, retryable), never "quote invalid". What is fetched is not trusted: the
 * verifier checks every signature.
 */

/** Intel PCS base URL (API v4 paths are appended). */
export const INTEL_PCS_BASE_URL = "https://api.trustedservices.intel.com";
/** Where Intel serves the Root CA CRL (DER). */
export const INTEL_ROOT_CA_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

/** What identifies one collateral set. */
export interface CollateralKey {
  /** 6 bytes, hex (case-insensitive). */
  readonly fmspc: string;
  readonly teeType: "tdx" | "sgx";
  /** Which PCK CA issued the PCK certificate. */
  readonly ca: "platform" | "processor";
}

/** A cache of collateral sets. Implementations must be safe to share between verifications. */
export interface TdxCollateralCache {
  get(key: string): Promise<CachedCollateral | undefined> | CachedCollateral | undefined;
  set(key: string, value: CachedCollateral): Promise<void> | void;
  delete(key: string): Promise<void> | void;
  clear(): Promise<void> | void;
}

/** A cached collateral set: the exact served bytes, and when it must be refreshed. */
export interface CachedCollateral {
  readonly collateral: TdxCollateral;
  /** Earliest `nextUpdate` (ms since epoch) of the TCB info, QE identity and both CRLs. */
  readonly nextUpdate: number;
}

/** Cache key for a collateral set: `tdx|sgx:FMSPC:ca`. */
export function collateralCacheKey(key: CollateralKey): string {
  return `${key.teeType}:${key.fmspc.toLowerCase()}:${key.ca}`;
}

/** In-memory collateral cache (bounded, oldest entries dropped first). */
export class MemoryCollateralCache implements TdxCollateralCache {
  private readonly entries = new Map<string, CachedCollateral>();
  constructor(private readonly limit = 256) {}
  get(key: string): CachedCollateral | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: CachedCollateral): void {
    if (!this.entries.has(key) && this.entries.size >= this.limit)
      this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
}

export interface FetchCollateralOptions {
  /** The `fetch` to use (Intel PCS or a PCCS over HTTPS). Required unless `offline`. */
  readonly fetch?: typeof globalThis.fetch;
  /** Base URL (default Intel PCS). PCCS: e.g. `https://pccs.example:8081`. */
  readonly baseUrl?: string;
  /** Root CA CRL URL (default Intel's). */
  readonly rootCaCrlUrl?: string;
  /** Cache consulted first and filled after a fetch. */
  readonly cache?: TdxCollateralCache;
  /** Never touch the network; only a current cache entry will do. */
  readonly offline?: boolean;
  /** Decides whether a cached entry is still current (its earliest nextUpdate is after `now`). */
  readonly now: Date;
}

function unavailable(message: string, cause?: unknown): never {
  throw new CollateralUnavailableError(
    "collateral_unavailable",
    message,
    cause === undefined ? undefined : { cause },
  );
}

async function get(fetchFn: typeof globalThis.fetch, url: string, what: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetchFn(url, { method: "GET" });
  } catch (cause) {
    return unavailable(
      `${what}: request to ${url} failed: ${(cause as Error)?.message ?? String(cause)}`,
      cause,
    );
  }
  if (!response.ok) unavailable(`${what}: ${url} answered HTTP ${response.status}`);
  return response;
}

function header(response: Response, name: string, what: string): string {
  const value = response.headers.get(name);
  if (!value) unavailable(`${what}: response has no ${name} header`);
  try {
    return decodeURIComponent(value);
  } catch (cause) {
    return unavailable(`${what}: ${name} header is not URL-encoded PEM`, cause);
  }
}

/** Earliest nextUpdate of a collateral set (ms). Malformed collateral gives 0 (never current). */
export function collateralNextUpdate(
  collateral: TdxCollateral,
  crlNextUpdates: readonly (Date | undefined)[] = [],
): number {
  try {
    const times = [
      parseTcbInfo(collateral.tcbInfo.body).nextUpdate.getTime(),
      parseQeIdentity(collateral.qeIdentity.body).nextUpdate.getTime(),
    ];
    for (const d of crlNextUpdates) if (d) times.push(d.getTime());
    return Math.min(...times);
  } catch {
    return 0;
  }
}

/**
 * Gets the collateral for one platform: from the cache when current, else from PCS / PCCS.
 * GETs `/{sgx|tdx}/certification/v4/tcb?fmspc=`, `/{sgx|tdx}/certification/v4/qe/identity`,
 * `/sgx/certification/v4/pckcrl?ca=platform|processor&encoding=der` and the Root CA CRL.
 *
 * @example
 * ```ts
 * const collateral = await fetchTdxCollateral({ fmspc: "b0c06f000000", teeType: "tdx", ca: "platform" }, { fetch, now: new Date() });
 * ```
 * @throws CollateralUnavailableError `collateral_unavailable`
 */
export async function fetchTdxCollateral(
  key: CollateralKey,
  options: FetchCollateralOptions,
): Promise<TdxCollateral> {
  if (!/^[0-9a-fA-F]{12}$/.test(key.fmspc)) unavailable(`FMSPC "${key.fmspc}" is not 6 bytes of hex`);
  const cacheKey = collateralCacheKey(key);
  const cached = await options.cache?.get(cacheKey);
  if (cached && cached.nextUpdate > options.now.getTime()) return cached.collateral;
  if (options.offline) unavailable(`offline: no current cached collateral for ${cacheKey}`);
  const fetchFn = options.fetch;
  if (!fetchFn) unavailable("no fetch function was given to obtain collateral (pass collateral, or fetch)");
  const base = (options.baseUrl ?? INTEL_PCS_BASE_URL).replace(/\/+$/, "");
  const fmspc = key.fmspc.toLowerCase();
  const tee = key.teeType;
  const [tcb, qe, pckCrl, rootCrl] = await Promise.all([
    get(fetchFn, `${base}/${tee}/certification/v4/tcb?fmspc=${fmspc}`, "TCB info"),
    get(fetchFn, `${base}/${tee}/certification/v4/qe/identity`, "QE identity"),
    get(fetchFn, `${base}/sgx/certification/v4/pckcrl?ca=${key.ca}&encoding=der`, "PCK CRL"),
    get(fetchFn, options.rootCaCrlUrl ?? INTEL_ROOT_CA_CRL_URL, "Root CA CRL"),
  ]);
  let collateral: TdxCollateral;
  try {
    const rootCrlBytes = new Uint8Array(await rootCrl.arrayBuffer());
    collateral = normalizeTdxCollateral({
      tcbInfo: await tcb.text(),
      tcbInfoIssuerChain: header(tcb, "TCB-Info-Issuer-Chain", "TCB info"),
      qeIdentity: await qe.text(),
      qeIdentityIssuerChain: header(qe, "SGX-Enclave-Identity-Issuer-Chain", "QE identity"),
      pckCrl: new Uint8Array(await pckCrl.arrayBuffer()),
      pckCrlIssuerChain: header(pckCrl, "SGX-PCK-CRL-Issuer-Chain", "PCK CRL"),
      // PCCS serves the root CRL as hex text; Intel as DER.
      rootCaCrl: rootCrlBytes[0] === 0x30 ? rootCrlBytes : new TextDecoder().decode(rootCrlBytes),
    });
  } catch (cause) {
    if (AttestError.isInstance(cause) && cause.code === "collateral_unavailable") throw cause;
    return unavailable(`collateral served for ${cacheKey} is malformed: ${(cause as Error).message}`, cause);
  }
  if (options.cache) {
    let crlTimes: (Date | undefined)[] = [];
    try {
      crlTimes = [parseCrl(collateral.pckCrl).nextUpdate, parseCrl(collateral.rootCaCrl).nextUpdate];
    } catch {
      crlTimes = [new Date(0)];
    }
    await options.cache.set(cacheKey, { collateral, nextUpdate: collateralNextUpdate(collateral, crlTimes) });
  }
  return collateral;
}
