import { describe, expect, it } from "vitest";
import {
  AttestError,
  CollateralUnavailableError,
  EvidenceInvalidError,
  EvidenceParseError,
  errorDocsUrl,
  toIssue,
} from "./errors.js";

describe("AttestError", () => {
  it("is recognised across copies by its marker, not its class", () => {
    const foreign = { code: "x", [Symbol.for("peercycles.attest.error")]: true };
    expect(AttestError.isInstance(foreign)).toBe(true);
    expect(AttestError.isInstance(new Error("plain"))).toBe(false);
  });

  it("marks only unavailable collateral as retryable", () => {
    expect(new CollateralUnavailableError("collateral_unavailable", "down").retryable).toBe(true);
    expect(new EvidenceInvalidError("tdx_quote_signature_invalid", "bad").retryable).toBe(false);
    expect(new EvidenceParseError("tdx_quote_truncated", "short").retryable).toBe(false);
  });

  it("links each code to the table that documents it", () => {
    expect(errorDocsUrl("tdx_quote_signature_invalid")).toMatch(/docs\/tdx\.md#error-codes$/);
    expect(errorDocsUrl("collateral_unavailable")).toMatch(/docs\/tdx\.md#error-codes$/);
    expect(errorDocsUrl("snp_report_signature_invalid")).toMatch(/docs\/sev-snp\.md#error-codes$/);
    expect(errorDocsUrl("nvidia_nonce_mismatch")).toMatch(/docs\/nvidia\.md#error-codes$/);
    expect(errorDocsUrl("bundle_stale")).toMatch(/docs\/bundle\.md#error-codes$/);
    expect(new EvidenceInvalidError("certificate_expired", "old").docsUrl).toMatch(
      /docs\/errors\.md#shared-codes$/,
    );
  });

  it("turns foreign exceptions into internal_error issues", () => {
    expect(toIssue(new TypeError("boom"))).toEqual({ code: "internal_error", message: "boom" });
    expect(toIssue(new EvidenceParseError("input_empty", "input is empty"))).toEqual({
      code: "input_empty",
      message: "input is empty",
    });
  });
});
