import { readVector } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { CollateralUnavailableError } from "../common/errors.js";
import { parseCertificates } from "../common/x509.js";
import { SevSnpCache } from "./cache.js";
import { KdsClient, kdsCertChainUrl, kdsCrlUrl, kdsVcekUrl, MemoryKdsCache } from "./kds-fetcher.js";
import { parseSevSnpReport } from "./report.js";
import { verifySevSnpReport } from "./verify.js";

const GSEV_CHIP =
  "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d";
const GSEV_VCEK_URL = `https://kdsintf.amd.com/vcek/v1/Milan/${GSEV_CHIP}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68`;
const GENOA_CHIP =
  "371c55d6d15cb50f16dc31d39a24e300caaabff4431e841111429b73ec45ad67ea6e687ffae7bf84b54a5d0e6d79b3ef6ff0bd8b4cff94c2163af5c5de8718e8";
const GENOA_VCEK_URL = `https://kdsintf.amd.com/vcek/v1/Genoa/${GENOA_CHIP}?blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=25`;

/** A fake KDS that serves the real vector files at their KDS URLs and records every request. */
function kdsServer(routes: Record<string, Uint8Array | number>) {
  const requests: string[] = [];
  const fetch = (async (input: RequestInfo | URL) => {
    const url = String(input);
    requests.push(url);
    const route = routes[url];
    if (route === undefined) return new Response("not found", { status: 404 });
    if (typeof route === "number") return new Response("error", { status: route });
    return new Response(route as BodyInit, {
      status: 200,
      headers: { "content-type": "application/octet-stream" },
    });
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

const gsevReport = () => readVector("sev-snp/google-go-sev-guest/attestation.bin");
const GSEV_TIME = new Date("2022-09-24T01:00:00Z");

describe("KDS URLs", () => {
  it("VCEK URL for Milan: full 64-byte hwid and four SPLs", () => {
    const report = parseSevSnpReport(gsevReport());
    expect(kdsVcekUrl("milan", report.chipId, report.reportedTcb)).toBe(GSEV_VCEK_URL);
  });

  it("VCEK URL for Turin: 8-byte hwid, Turin TCB layout and fmcSPL", () => {
    const chip = Uint8Array.from({ length: 64 }, (_, i) => i);
    expect(kdsVcekUrl("turin", chip, 0x0900000004030201n)).toBe(
      "https://kdsintf.amd.com/vcek/v1/Turin/0001020304050607?blSPL=2&teeSPL=3&snpSPL=4&ucodeSPL=9&fmcSPL=1",
    );
  });

  it("chain and CRL URLs", () => {
    expect(kdsCertChainUrl("genoa", "vcek")).toBe("https://kdsintf.amd.com/vcek/v1/Genoa/cert_chain");
    expect(kdsCertChainUrl("milan", "vlek")).toBe("https://kdsintf.amd.com/vlek/v1/Milan/cert_chain");
    expect(kdsCrlUrl("turin")).toBe("https://kdsintf.amd.com/vcek/v1/Turin/crl");
  });
});

describe("verifySevSnpReport fetching the VCEK from KDS", () => {
  it("fetches the VCEK by chip ID and TCB, verifies, caches it; offline then answers from the cache", async () => {
    const server = kdsServer({ [GSEV_VCEK_URL]: readVector("sev-snp/google-go-sev-guest/vcek.testcer") });
    const cache = new SevSnpCache();
    const online = await verifySevSnpReport(gsevReport(), {
      now: GSEV_TIME,
      product: "milan",
      fetch: server.fetch,
      cache,
      policy: { allowDebug: true },
    });
    expect(online.errors).toEqual([]);
    expect(online.ok).toBe(true);
    expect(server.requests).toEqual([GSEV_VCEK_URL]);
    expect(cache.kds.get(GSEV_VCEK_URL)).toBeDefined();

    const offline = await verifySevSnpReport(gsevReport(), {
      now: GSEV_TIME,
      product: "milan",
      offline: true,
      cache,
      policy: { allowDebug: true },
    });
    expect(offline.ok).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it("a v3 report names its product (Genoa, from CPUID) so no product option is needed", async () => {
    const server = kdsServer({ [GENOA_VCEK_URL]: readVector("sev-snp/trustee/e2e_vcek.der") });
    const result = await verifySevSnpReport(readVector("sev-snp/trustee/e2e_report.reconstructed.bin"), {
      now: new Date("2026-01-01T00:00:00Z"),
      fetch: server.fetch,
      cache: false,
    });
    expect(result).toMatchObject({ ok: true, product: "genoa" });
    expect(server.requests).toEqual([GENOA_VCEK_URL]);
  });

  it("a served VCEK that does not verify is never cached", async () => {
    const server = kdsServer({ [GSEV_VCEK_URL]: readVector("sev-snp/virtee-sev/vcek_milan.der") });
    const cache = new SevSnpCache();
    const result = await verifySevSnpReport(gsevReport(), {
      now: new Date("2024-01-01T00:00:00Z"),
      product: "milan",
      fetch: server.fetch,
      cache,
    });
    expect(result.verified).toBe(false);
    expect(result.errors.map((e) => e.code)).toContain("snp_report_signature_invalid");
    // It is a genuine VCEK (its chain verifies) but of another chip: it must not be cached at this URL.
    expect(result.checks.find((c) => c.id === "certificate_chain")?.status).toBe("pass");
    expect(cache.kds.get(GSEV_VCEK_URL)).toBeUndefined();
  });

  it("offline with nothing cached → collateral_unavailable (retryable)", async () => {
    const error = await verifySevSnpReport(gsevReport(), {
      now: GSEV_TIME,
      product: "milan",
      offline: true,
      cache: false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CollateralUnavailableError);
    expect(error).toMatchObject({ code: "collateral_unavailable", retryable: true });
  });

  it.each([404, 429, 500, 503])("KDS answering HTTP %i → collateral_unavailable", async (status) => {
    const server = kdsServer({ [GSEV_VCEK_URL]: status });
    const error = await verifySevSnpReport(gsevReport(), {
      now: GSEV_TIME,
      product: "milan",
      fetch: server.fetch,
      cache: false,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "collateral_unavailable",
      retryable: true,
      details: { status, url: GSEV_VCEK_URL },
    });
  });

  it("a network error → collateral_unavailable", async () => {
    const fetch = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof globalThis.fetch;
    await expect(
      verifySevSnpReport(gsevReport(), { now: GSEV_TIME, product: "milan", fetch, cache: false }),
    ).rejects.toMatchObject({
      code: "collateral_unavailable",
    });
  });

  it("no fetch and not offline → collateral_unavailable (the verifier never uses a global fetch)", async () => {
    await expect(
      verifySevSnpReport(gsevReport(), { now: GSEV_TIME, product: "milan", cache: false }),
    ).rejects.toMatchObject({
      code: "collateral_unavailable",
    });
  });

  it("a v2 report without a product or VCEK cannot be fetched for", async () => {
    await expect(verifySevSnpReport(gsevReport(), { now: GSEV_TIME, cache: false })).rejects.toMatchObject({
      code: "snp_product_required",
    });
  });

  it("a VLEK report without the VLEK: KDS does not serve VLEKs by chip", async () => {
    await expect(
      verifySevSnpReport(readVector("sev-snp/trustee/test-vlek-report.bin"), {
        now: GSEV_TIME,
        cache: false,
      }),
    ).rejects.toMatchObject({
      code: "snp_vlek_required",
    });
  });
});

describe("KdsClient", () => {
  it("serves the cert chain (ASK + ARK PEM) and the VLEK chain from KDS", async () => {
    const server = kdsServer({
      "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain": readVector(
        "sev-snp/google-go-sev-guest/milan.testcer",
      ),
      "https://kdsintf.amd.com/vlek/v1/Milan/cert_chain": readVector(
        "sev-snp/google-go-sev-guest/milanvlek.testcer",
      ),
    });
    const kds = new KdsClient({ fetch: server.fetch });
    const chain = parseCertificates(await kds.getCertChain("milan", "vcek"));
    expect(chain.map((c) => c.subject.split("CN=")[1])).toEqual(["SEV-Milan", "ARK-Milan"]);
    const vlekChain = parseCertificates(await kds.getCertChain("milan", "vlek"));
    expect(vlekChain.map((c) => c.subject.split("CN=")[1])).toEqual(["SEV-VLEK-Milan", "ARK-Milan"]);
  });

  it("CRL 404 → collateral_unavailable; a remembered item is served offline", async () => {
    const server = kdsServer({});
    const cache = new MemoryKdsCache();
    await expect(new KdsClient({ fetch: server.fetch, cache }).getCrl("milan")).rejects.toMatchObject({
      code: "collateral_unavailable",
      details: { status: 404 },
    });
    const online = new KdsClient({ fetch: server.fetch, cache });
    online.remember(kdsCrlUrl("milan"), new Uint8Array([1, 2, 3]));
    await expect(new KdsClient({ offline: true, cache }).getCrl("milan")).resolves.toEqual(
      new Uint8Array([1, 2, 3]),
    );
  });

  it("an empty 200 body → collateral_unavailable", async () => {
    const fetch = (async () => new Response(new Uint8Array(0), { status: 200 })) as typeof globalThis.fetch;
    await expect(new KdsClient({ fetch }).getCertChain("genoa", "vcek")).rejects.toMatchObject({
      code: "collateral_unavailable",
    });
  });
});
