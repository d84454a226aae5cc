import { readVector, readVectorText } from "@peercycles/internal-vectors";
import { describe, expect, it, vi } from "vitest";
import { verifySevSnpReport } from "../sev-snp/index.js";
import { verifyTdxQuote } from "../tdx/index.js";
import { AttestError } from "./errors.js";
import { signatureBackend } from "./signatures.js";
import { createVerifier } from "./verifier.js";

const PHALA = "tdx/phala-dcap-qvl";
const TDX_NOW = new Date("2025-07-19T10:00:34Z");

describe("createVerifier", () => {
  it("same inputs, same result, whatever ran before (free functions and verifiers alike)", async () => {
    const quote = readVector(`${PHALA}/tdx_quote`);
    const collateral = readVectorText(`${PHALA}/tdx_quote_collateral.json`);
    const alone = await verifyTdxQuote(quote, { collateral, now: TDX_NOW });
    // Another verification (failing, at another time) in between changes nothing.
    await verifyTdxQuote(quote, { collateral, now: new Date("2025-07-19T10:00:36Z") });
    expect(await verifyTdxQuote(quote, { collateral, now: TDX_NOW })).toEqual(alone);
    const verifier = createVerifier();
    await verifyTdxQuote(quote, { collateral, now: TDX_NOW, verifier });
    const again = await verifyTdxQuote(quote, { collateral, now: TDX_NOW, verifier });
    expect(again.collateralCached).toBe(true);
    expect({ ...again, collateralCached: false }).toEqual(alone);
    // A second verifier does not see the first one's state.
    const other = await verifyTdxQuote(quote, { collateral, now: TDX_NOW, verifier: createVerifier() });
    expect(other.collateralCached).toBe(false);
  });

  it("supplies roots and fetch to the calls that take it; a call's own options win", async () => {
    const quote = readVector(`${PHALA}/tdx_quote`);
    const collateral = readVectorText(`${PHALA}/tdx_quote_collateral.json`);
    const foreignRoot = readVectorText("sev-snp/google-go-sev-guest/milan.testcer");
    const verifier = createVerifier({ roots: { tdx: [foreignRoot] } });
    const refused = await verifyTdxQuote(quote, { collateral, now: TDX_NOW, verifier });
    expect(refused.verified).toBe(false);
    expect(refused.errors.map((e) => e.code)).toContain("certificate_chain_untrusted");
    const { INTEL_SGX_ROOT_CA_PEM } = await import("../tdx/roots.js");
    const accepted = await verifyTdxQuote(quote, {
      collateral,
      now: TDX_NOW,
      verifier,
      roots: [INTEL_SGX_ROOT_CA_PEM],
    });
    expect(accepted.verified).toBe(true);

    let fetched = 0;
    const fetch = (async () => {
      fetched++;
      return new Response("unavailable", { status: 503 });
    }) as typeof globalThis.fetch;
    const online = createVerifier({ fetch });
    await expect(
      verifySevSnpReport(readVector("sev-snp/google-go-sev-guest/attestation.bin"), {
        now: new Date("2022-09-24T01:00:00Z"),
        product: "milan",
        verifier: online,
      }),
    ).rejects.toMatchObject({ retryable: true });
    expect(fetched).toBeGreaterThan(0);
  });

  it("checks signatures on its own backend, leaving the process's alone", async () => {
    const quote = readVector(`${PHALA}/tdx_quote`);
    const collateral = readVectorText(`${PHALA}/tdx_quote_collateral.json`);
    const before = signatureBackend();
    const subtleVerify = vi.spyOn(globalThis.crypto.subtle, "verify");
    try {
      const onNode = await verifyTdxQuote(quote, {
        collateral,
        now: TDX_NOW,
        verifier: createVerifier({ backend: "node:crypto" }),
      });
      expect(subtleVerify).not.toHaveBeenCalled();
      const onWeb = await verifyTdxQuote(quote, {
        collateral,
        now: TDX_NOW,
        verifier: createVerifier({ backend: "webcrypto" }),
      });
      expect(subtleVerify).toHaveBeenCalled();
      expect(onWeb).toEqual(onNode);
      expect(signatureBackend()).toBe(before);
    } finally {
      subtleVerify.mockRestore();
    }
  });

  it("refuses an unknown signature backend", () => {
    expect(() => createVerifier({ backend: "openssl" as never })).toThrow(AttestError);
  });
});
