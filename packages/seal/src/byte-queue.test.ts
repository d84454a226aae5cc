import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteQueue } from "./byte-queue.js";
import { concat } from "./bytes.js";

describe("ByteQueue", () => {
  it("returns the pushed bytes in order for any split of pushes and takes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 30 }),
        fc.array(fc.nat(25)),
        (parts, takes) => {
          const queue = new ByteQueue();
          for (const part of parts) queue.push(part);
          const all = concat(...parts);
          const out: Uint8Array[] = [];
          let at = 0;
          for (const t of takes) {
            const n = Math.min(t, queue.length);
            if (n > 0) expect(queue.byteAt(n - 1)).toBe(all[at + n - 1]);
            out.push(queue.take(n));
            at += n;
          }
          out.push(queue.takeAll());
          expect(concat(...out)).toEqual(all);
          expect(queue.length).toBe(0);
        },
      ),
      { seed: 0xb17e, numRuns: 200 },
    );
  });

  it("takes a large value trickled one byte per push in linear time", () => {
    const queue = new ByteQueue();
    for (let i = 0; i < 200_000; i++) queue.push(Uint8Array.of(i & 0xff));
    const started = performance.now();
    const out = queue.take(200_000);
    expect(out[199_999]).toBe(199_999 & 0xff);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("refuses to take more than it holds", () => {
    const queue = new ByteQueue();
    queue.push(Uint8Array.of(1));
    expect(() => queue.take(2)).toThrow(RangeError);
    expect(() => queue.byteAt(1)).toThrow(RangeError);
  });
});
