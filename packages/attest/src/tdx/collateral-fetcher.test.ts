import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readVector, readVectorText } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { DiskCollateralCache } from "./collateral-disk-cache.js";
import {
  collateralCacheKey,
  fetchTdxCollateral,
  INTEL_PCS_BASE_URL,
  INTEL_ROOT_CA_CRL_URL,
  MemoryCollateralCache,
} from "./collateral-fetcher.js";
import { verifyTdxQuote } from "./verify.js";

const GTDX = "tdx/google-go-tdx-guest";
const NOW = new Date("2023-07-01T01:00:00Z");
const QUOTE = "tdx/trustee/tdx_quote_4.dat"; // FMSPC 50806F000000, Platform CA (README A5)

/**
 * An HTTP-shaped fake of Intel PCS v4 serving go-tdx-guest's recorded responses (the same mapping
 * its mock getter uses), with the issuer chains URL-encoded in the response headers.
 */
function fakePcs(overrides: Record<string, number | "throw"> = {}) {
  const requests: string[] = [];
  const routes: Record<string, { body: Uint8Array | string; headers?: Record<string, string> }> = {
    [`${INTEL_PCS_BASE_URL}/tdx/certification/v4/tcb?fmspc=50806f000000`]: {
      body: readVectorText(`${GTDX}/sample_tcbInfo_response`),
      headers: {
        "TCB-Info-Issuer-Chain": encodeURIComponent(readVectorText(`${GTDX}/tcbInfoIssuerChain.pem`)),
      },
    },
    [`${INTEL_PCS_BASE_URL}/tdx/certification/v4/qe/identity`]: {
      body: readVectorText(`${GTDX}/sample_qeIdentity_response`),
      headers: {
        "SGX-Enclave-Identity-Issuer-Chain": encodeURIComponent(
          readVectorText(`${GTDX}/qeIdentityIssuerChain.pem`),
        ),
      },
    },
    [`${INTEL_PCS_BASE_URL}/sgx/certification/v4/pckcrl?ca=platform&encoding=der`]: {
      body: readVector(`${GTDX}/pckcrl`),
      headers: {
        "SGX-PCK-CRL-Issuer-Chain": encodeURIComponent(readVectorText(`${GTDX}/pckCrlIssuerChain.pem`)),
      },
    },
    [INTEL_ROOT_CA_CRL_URL]: { body: readVector(`${GTDX}/rootcrl.der`) },
  };
  const fetch = (async (input: RequestInfo | URL) => {
    const url = String(input);
    requests.push(url);
    const override = overrides[url];
    if (override === "throw") throw new TypeError("fetch failed: ECONNREFUSED");
    if (typeof override === "number") return new Response("error", { status: override });
    const route = routes[url];
    if (!route) return new Response("not found", { status: 404 });
    return new Response(route.body as BodyInit, { status: 200, headers: route.headers });
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; retryable: boolean } | "resolved"> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    if (!AttestError.isInstance(error)) throw error;
    return { code: error.code, retryable: error.retryable };
  }
}

describe("collateral fetcher (Intel PCS v4 shape)", () => {
  it("fetches the four items by FMSPC / CA, and the quote verifies with them", async () => {
    const pcs = fakePcs();
    const result = await verifyTdxQuote(readVector(QUOTE), {
      now: NOW,
      fetch: pcs.fetch,
      policy: { allowDebug: true },
    });
    expect(result.errors).toEqual([]);
    expect(result).toMatchObject({ ok: true, verified: true, tcbStatus: "UpToDate" });
    expect(pcs.requests.sort()).toEqual(
      [
        `${INTEL_PCS_BASE_URL}/tdx/certification/v4/tcb?fmspc=50806f000000`,
        `${INTEL_PCS_BASE_URL}/tdx/certification/v4/qe/identity`,
        `${INTEL_PCS_BASE_URL}/sgx/certification/v4/pckcrl?ca=platform&encoding=der`,
        INTEL_ROOT_CA_CRL_URL,
      ].sort(),
    );
  });

  it("a cache serves a second verification without the network, and offline mode", async () => {
    const pcs = fakePcs();
    const cache = new MemoryCollateralCache();
    await verifyTdxQuote(readVector(QUOTE), { now: NOW, fetch: pcs.fetch, cache });
    expect(pcs.requests).toHaveLength(4);
    const again = await verifyTdxQuote(readVector(QUOTE), {
      now: NOW,
      fetch: pcs.fetch,
      cache,
      offline: true,
    });
    expect(again.verified).toBe(true);
    expect(pcs.requests).toHaveLength(4);
    // nextUpdate honoured: the earliest is the QE identity's 2023-07-08T07:24:59Z.
    const entry = await cache.get(
      collateralCacheKey({ fmspc: "50806F000000", teeType: "tdx", ca: "platform" }),
    );
    expect(new Date(entry?.nextUpdate as number).toISOString()).toBe("2023-07-08T07:24:59.000Z");
    const later = new Date("2023-07-09T00:00:00Z");
    expect(await codeOf(verifyTdxQuote(readVector(QUOTE), { now: later, cache, offline: true }))).toEqual({
      code: "collateral_unavailable",
      retryable: true,
    });
    await verifyTdxQuote(readVector(QUOTE), { now: later, fetch: pcs.fetch, cache });
    expect(pcs.requests).toHaveLength(8);
  });

  it("offline without a cache entry is collateral_unavailable, and never calls fetch", async () => {
    const pcs = fakePcs();
    expect(
      await codeOf(verifyTdxQuote(readVector(QUOTE), { now: NOW, fetch: pcs.fetch, offline: true })),
    ).toEqual({ code: "collateral_unavailable", retryable: true });
    expect(pcs.requests).toEqual([]);
    expect(await codeOf(verifyTdxQuote(readVector(QUOTE), { now: NOW }))).toEqual({
      code: "collateral_unavailable",
      retryable: true,
    });
  });

  for (const [what, override] of [
    ["404 on the TCB info", 404],
    ["500 on the QE identity", 500],
    ["a network failure on the PCK CRL", "throw"],
  ] as const) {
    it(`${what} → collateral_unavailable (retryable), not "quote invalid"`, async () => {
      const url = what.includes("TCB")
        ? `${INTEL_PCS_BASE_URL}/tdx/certification/v4/tcb?fmspc=50806f000000`
        : what.includes("QE")
          ? `${INTEL_PCS_BASE_URL}/tdx/certification/v4/qe/identity`
          : `${INTEL_PCS_BASE_URL}/sgx/certification/v4/pckcrl?ca=platform&encoding=der`;
      const pcs = fakePcs({ [url]: override });
      expect(await codeOf(verifyTdxQuote(readVector(QUOTE), { now: NOW, fetch: pcs.fetch }))).toEqual({
        code: "collateral_unavailable",
        retryable: true,
      });
    });
  }

  it("an unknown FMSPC (404 from PCS) is collateral_unavailable", async () => {
    const pcs = fakePcs();
    expect(
      await codeOf(
        fetchTdxCollateral(
          { fmspc: "00606a000000", teeType: "sgx", ca: "platform" },
          { fetch: pcs.fetch, now: NOW },
        ),
      ),
    ).toEqual({
      code: "collateral_unavailable",
      retryable: true,
    });
  });

  it("a PCCS base URL is honoured", async () => {
    const requests: string[] = [];
    const inner = fakePcs();
    const fetch = ((input: RequestInfo | URL) => {
      requests.push(String(input));
      return inner.fetch(String(input).replace("https://pccs.local:8081", INTEL_PCS_BASE_URL));
    }) as typeof globalThis.fetch;
    await fetchTdxCollateral(
      { fmspc: "50806F000000", teeType: "tdx", ca: "platform" },
      { fetch, now: NOW, baseUrl: "https://pccs.local:8081/" },
    );
    expect(requests).toContain("https://pccs.local:8081/tdx/certification/v4/tcb?fmspc=50806f000000");
  });

  it("the on-disk cache round-trips the exact served collateral (offline verification from disk)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "peer-attest-tdx-"));
    try {
      const pcs = fakePcs();
      await verifyTdxQuote(readVector(QUOTE), {
        now: NOW,
        fetch: pcs.fetch,
        cache: new DiskCollateralCache(dir),
      });
      const fromDisk = await verifyTdxQuote(readVector(QUOTE), {
        now: NOW,
        cache: new DiskCollateralCache(dir),
        offline: true,
        policy: { allowDebug: true },
      });
      expect(fromDisk.ok).toBe(true);
      expect(pcs.requests).toHaveLength(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
