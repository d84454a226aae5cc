import { readVector, readVectorText } from "@peercycles/internal-vectors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { extractJsonMember, normalizeTdxCollateral, parseQeIdentity, parseTcbInfo } from "./collateral.js";
import { parseTdxPolicy } from "./policy.js";
import { parseTdxQuote } from "./quote.js";
import { verifyTdxQuote } from "./verify.js";

/** Runs `fn`; it may return or throw an AttestError, nothing else. */
async function onlyOurErrors(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (!AttestError.isInstance(error)) throw error;
  }
}

const real = [
  "tdx/phala-dcap-qvl/tdx_quote",
  "tdx/phala-dcap-qvl/tdx_quote_outdated",
  "tdx/phala-dcap-qvl/sgx_quote",
].map(readVector);

/** A real quote with a few bytes overwritten and possibly truncated. */
const mutatedQuote = fc
  .record({
    base: fc.constantFrom(...real),
    edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
      minLength: 1,
      maxLength: 6,
    }),
    cut: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ base, edits, cut }) => {
    const copy = base.slice(0, cut === undefined ? base.length : cut % (base.length + 1));
    for (const { at, value } of edits) if (copy.length > 0) copy[at % copy.length] = value;
    return copy;
  });

describe("property: malformed input only ever raises our errors", () => {
  it("arbitrary bytes never crash parseTdxQuote", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6000 }), (bytes) => {
        try {
          parseTdxQuote(bytes);
        } catch (error) {
          expect(AttestError.isInstance(error)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("arbitrary bytes behind a valid header and body never crash parseTdxQuote", () => {
    const prefix = real[0]?.slice(0, 632) as Uint8Array;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (tail) => {
        const bytes = new Uint8Array(prefix.length + tail.length);
        bytes.set(prefix);
        bytes.set(tail, prefix.length);
        try {
          parseTdxQuote(bytes);
        } catch (error) {
          expect(AttestError.isInstance(error)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("mutated real quotes never crash parsing or verification", async () => {
    const collateral = readVectorText("tdx/phala-dcap-qvl/tdx_quote_collateral.json");
    await fc.assert(
      fc.asyncProperty(mutatedQuote, async (quote) => {
        await onlyOurErrors(() => parseTdxQuote(quote));
        await onlyOurErrors(() =>
          verifyTdxQuote(quote, { now: new Date("2025-07-19T10:00:34Z"), collateral }),
        );
      }),
      { numRuns: 150 },
    );
  });

  it("arbitrary JSON never crashes collateral normalisation, TCB info / QE identity parsing or policy parsing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const text = JSON.stringify(value) ?? "null";
        await onlyOurErrors(() => normalizeTdxCollateral(text));
        await onlyOurErrors(() => normalizeTdxCollateral({ tcb_info: text, qe_identity: text } as never));
        await onlyOurErrors(() => parseTcbInfo(text));
        await onlyOurErrors(() => parseQeIdentity(text));
        await onlyOurErrors(() => parseTdxPolicy(value));
        extractJsonMember(text, "tcbInfo");
      }),
      { numRuns: 300 },
    );
  });
});
