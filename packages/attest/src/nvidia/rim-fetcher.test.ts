import { describe, expect, it } from "vitest";
import { toBase64 } from "../common/bytes.js";
import { AttestError } from "../common/errors.js";
import { deviceIdentity, parseDeviceCertChain } from "./device-chain.js";
import { fetchRim, NVIDIA_RIM_SERVICE_URL, RimCache, rimIdsFor } from "./rim-fetcher.js";
import { parseSpdmMeasurements } from "./spdm.js";
import { AT, bytes, NV, text } from "./test-vectors.js";
import { verifyNvidiaEvidence } from "./verify.js";

const ids = (evidence: string, chain: string) =>
  rimIdsFor(parseSpdmMeasurements(bytes(evidence)), deviceIdentity(parseDeviceCertChain(text(chain))));

/** A RIM service answering from the vectors folder, counting calls. */
function rimService(files: Record<string, string>, calls: string[]) {
  return (async (url: string) => {
    calls.push(url);
    const id = url.slice(NVIDIA_RIM_SERVICE_URL.length);
    const path = files[id];
    if (!url.startsWith(NVIDIA_RIM_SERVICE_URL) || !path) return new Response("not found", { status: 404 });
    return new Response(
      JSON.stringify({ id, rim: toBase64(new TextEncoder().encode(text(path))), sha256: "" }),
      { status: 200 },
    );
  }) as unknown as typeof fetch;
}

describe("RIM ids and the RIM service fetcher", () => {
  it("derives the ids NVIDIA's verifiers use (README C3/C5)", () => {
    expect(ids(NV.sample535, NV.sample535Chain)).toEqual({
      driver: "NV_GPU_DRIVER_GH100_535.86.09",
      vbios: "NV_GPU_VBIOS_1010_0200_882_96005E0001",
    });
    expect(ids(NV.switchReport, NV.switchChain)).toEqual({
      vbios: "NV_SWITCH_BIOS_5612_0002_890_9610550001",
    });
  });

  it("fetches base64 JSON through the injected fetch", async () => {
    const calls: string[] = [];
    const rim = await fetchRim("NV_SWITCH_BIOS_5612_0002_890_9610550001", {
      fetch: rimService({ NV_SWITCH_BIOS_5612_0002_890_9610550001: NV.rims.switchBios }, calls),
    });
    expect(rim.version).toBe("96.10.55.00.01");
    expect(calls).toEqual([`${NVIDIA_RIM_SERVICE_URL}NV_SWITCH_BIOS_5612_0002_890_9610550001`]);
  });

  it("a missing RIM is retryable collateral-unavailable", async () => {
    try {
      await fetchRim("NV_GPU_DRIVER_GH100_1.2.3", { fetch: rimService({}, []) });
      expect.unreachable();
    } catch (error) {
      expect(AttestError.isInstance(error) && [error.code, error.retryable]).toEqual([
        "nvidia_rim_unavailable",
        true,
      ]);
    }
  });

  it("verifyNvidiaEvidence online without rims fetches them, and caches only verified RIMs", async () => {
    const calls: string[] = [];
    const service = rimService({ NV_SWITCH_BIOS_5612_0002_890_9610550001: NV.rims.switchBios }, calls);
    // OCSP goes to the same fetch; answer it with an error status so the verdict is the RIM part's.
    const fetchBoth = (async (url: string, init?: RequestInit) =>
      url.startsWith(NVIDIA_RIM_SERVICE_URL)
        ? service(url, init)
        : new Response(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x01]), {
            status: 200,
          })) as unknown as typeof fetch;
    const rims = new RimCache();
    for (let i = 0; i < 2; i++) {
      const r = await verifyNvidiaEvidence(bytes(NV.switchReport), {
        certChain: text(NV.switchChain),
        now: AT.switchRim,
        policy: { requireNonce: false },
        fetch: fetchBoth,
        cache: { rims },
      });
      expect(r.measurements).toEqual({ total: 31, matched: 31, mismatched: [] });
      expect(r.errors.map((e) => e.code).every((c) => c === "nvidia_ocsp_response_invalid")).toBe(true);
    }
    // Fetched once: the second run takes it from the cache.
    expect(calls.length).toBe(1);
  });

  it("a RIM whose signature fails is never cached", async () => {
    const calls: string[] = [];
    const service = rimService(
      { NV_SWITCH_BIOS_5612_0002_890_9610550001: NV.rims.switchBadSignature },
      calls,
    );
    const fetchBoth = (async (url: string, init?: RequestInit) =>
      url.startsWith(NVIDIA_RIM_SERVICE_URL)
        ? service(url, init)
        : new Response(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x01]), {
            status: 200,
          })) as unknown as typeof fetch;
    const rims = new RimCache();
    for (let i = 0; i < 2; i++) {
      const r = await verifyNvidiaEvidence(bytes(NV.switchReport), {
        certChain: text(NV.switchChain),
        now: AT.switchBadSignature,
        fetch: fetchBoth,
        cache: { rims },
      });
      expect(r.errors.map((e) => e.code)).toContain("nvidia_rim_signature_invalid");
    }
    expect(calls.length).toBe(2);
  });
});
