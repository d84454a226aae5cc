import fc from "fast-check";
import { describe, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { parseRim } from "./rim.js";
import { parseSpdmMeasurements } from "./spdm.js";
import { bytes, NV, text } from "./test-vectors.js";

/** The parsers either return a result or throw an AttestError; nothing else may escape. */
function onlyAttestErrors(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    return AttestError.isInstance(error);
  }
}

describe("fast-check: SPDM parser", () => {
  const real = bytes(NV.nvtrustReport);
  const realSwitch = bytes(NV.switchReport);

  it("arbitrary bytes only ever throw AttestError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) =>
        onlyAttestErrors(() => parseSpdmMeasurements(data)),
      ),
      { numRuns: 300 },
    );
  });

  it("real evidence with mutated bytes, truncation or extension only ever throws AttestError", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(real, realSwitch),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (source, edits, cut) => {
          const copy = source.slice();
          for (const [at, value] of edits) copy[at % copy.length] = value;
          const sliced = copy.subarray(0, cut % (copy.length + 8));
          return onlyAttestErrors(() => parseSpdmMeasurements(sliced));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("mutating a header length field never yields a silently different parse of the same bytes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 41, max: 44 }), fc.integer({ min: 0, max: 255 }), (offset, value) => {
        const copy = real.slice();
        if (copy[offset] === value) return true;
        copy[offset] = value;
        try {
          const parsed = parseSpdmMeasurements(copy);
          // If it still parses, the signed span must differ from the original's structure.
          return (
            parsed.length !== real.length ||
            parsed.response.numberOfBlocks !== 64 ||
            parsed.trailingBytes !== 0
          );
        } catch (error) {
          return AttestError.isInstance(error);
        }
      }),
      { numRuns: 200 },
    );
  });
});

async function onlyAttestRejections(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    return AttestError.isInstance(error);
  }
}

describe("fast-check: RIM parser", () => {
  const rim = text(NV.rims.vbios5EProd);
  it("arbitrary strings only ever throw AttestError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), (s) => onlyAttestRejections(() => parseRim(s))),
      { numRuns: 200 },
    );
  });
  it("a real RIM with characters replaced or cut only ever throws AttestError", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.constantFrom("<", ">", '"', "=", "a", "0", " ", "/", "&")), {
          maxLength: 4,
        }),
        fc.nat(),
        (edits, cut) => {
          let s = rim;
          for (const [at, ch] of edits) {
            const i = at % s.length;
            s = s.slice(0, i) + ch + s.slice(i + 1);
          }
          return onlyAttestRejections(() => parseRim(s.slice(0, s.length - (cut % 200))));
        },
      ),
      { numRuns: 150 },
    );
  });
});
