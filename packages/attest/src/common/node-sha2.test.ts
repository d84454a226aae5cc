import * as noble from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as node from "./node-sha2.js";

describe("the Node build's SHA-2 (node:crypto) and @noble/hashes", () => {
  it("give the same digests", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (data) => {
        expect(node.sha256(data)).toEqual(noble.sha256(data));
        expect(node.sha384(data)).toEqual(noble.sha384(data));
        expect(node.sha512(data)).toEqual(noble.sha512(data));
      }),
      { numRuns: 200 },
    );
  });

  it("read only the view they are given (a subarray of a larger buffer)", () => {
    const buffer = Uint8Array.from({ length: 64 }, (_, i) => i);
    const view = buffer.subarray(16, 48);
    expect(node.sha256(view)).toEqual(noble.sha256(view.slice()));
  });
});
