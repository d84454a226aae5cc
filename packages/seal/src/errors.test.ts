import { describe, expect, it } from "vitest";
import { HpkeError, OhttpError, SealArgumentError, SealError, SealedStreamError } from "./errors.js";

describe("SealError", () => {
  it("carries code, cause, details and a docs link", () => {
    const cause = new Error("inner");
    const error = new HpkeError("hpke_open_failed", "authentication failed", {
      cause,
      details: { sequence: 3 },
    });
    expect(error).toBeInstanceOf(SealError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("HpkeError");
    expect(error.code).toBe("hpke_open_failed");
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ sequence: 3 });
    expect(Object.isFrozen(error.details)).toBe(true);
    expect(error.docsUrl).toMatch(/#error-codes-hpke-open-failed$/);
  });

  it("isInstance recognises errors from another copy of the package through the Symbol.for marker", () => {
    const foreign = Object.assign(new Error("x"), { code: "hpke_open_failed" });
    Object.defineProperty(foreign, Symbol.for("peercycles.seal.error"), { value: true });
    expect(SealError.isInstance(foreign)).toBe(true);
    expect(SealError.isInstance(new Error("x"))).toBe(false);
    expect(SealError.isInstance(null)).toBe(false);
    expect(SealError.isInstance("hpke_open_failed")).toBe(false);
    for (const E of [HpkeError, OhttpError, SealedStreamError, SealArgumentError]) {
      expect(SealError.isInstance(new E("invalid_argument", "m"))).toBe(true);
    }
  });

  it("family checks: a subclass's isInstance only accepts its own family", () => {
    const hpke = new HpkeError("hpke_open_failed", "m");
    expect(HpkeError.isInstance(hpke)).toBe(true);
    expect(OhttpError.isInstance(hpke)).toBe(false);
    expect(SealedStreamError.isInstance(new SealedStreamError("sealed_stream_truncated", "m"))).toBe(true);
    const foreign = new Error("x");
    Object.defineProperty(foreign, Symbol.for("peercycles.seal.error"), { value: "OhttpError" });
    expect(OhttpError.isInstance(foreign)).toBe(true);
    expect(SealError.isInstance(foreign)).toBe(true);
    expect(HpkeError.isInstance(foreign)).toBe(false);
  });

  it("omits cause when none is given", () => {
    expect("cause" in new OhttpError("ohttp_request_invalid", "m")).toBe(false);
  });
});
