import { describe, expect, it } from "vitest";
import { decodeTcb, productFromCpuid } from "./tcb.js";

describe("decodeTcb", () => {
  it("Milan/Genoa layout: bl byte 0, tee 1, snp 6, microcode 7", () => {
    expect(decodeTcb(0x4405000000000002n, "milan-genoa")).toEqual({
      raw: "4405000000000002",
      bootloader: 2,
      tee: 0,
      snp: 5,
      microcode: 68,
    });
    expect(decodeTcb(0xd918000000000004n, "milan-genoa")).toMatchObject({
      bootloader: 4,
      tee: 0,
      snp: 24,
      microcode: 217,
    });
    expect(decodeTcb(0x191700000000000an, "milan-genoa")).toMatchObject({
      bootloader: 10,
      snp: 23,
      microcode: 25,
    });
  });

  it("Turin layout: fmc byte 0, bl 1, tee 2, snp 3, microcode 7", () => {
    expect(decodeTcb(0x0900000004030201n, "turin")).toEqual({
      raw: "0900000004030201",
      fmc: 1,
      bootloader: 2,
      tee: 3,
      snp: 4,
      microcode: 9,
    });
  });
});

describe("productFromCpuid", () => {
  it.each([
    [0x19, 0x01, "milan"],
    [0x19, 0x0f, "milan"],
    [0x19, 0x11, "genoa"],
    [0x19, 0xa0, "genoa"],
    [0x1a, 0x02, "turin"],
    [0x1a, 0x11, "turin"],
    [0x19, 0x50, undefined],
    [0x1a, 0x40, undefined],
    [0x00, 0x00, undefined],
  ])("family %i model %i → %s", (family, model, product) => {
    expect(productFromCpuid(family, model)).toBe(product);
  });
});
