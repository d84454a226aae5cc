import { describe, expect, it } from "vitest";
import { main } from "./main.js";

describe("example: confidential call", () => {
  it("runs end to end and checks everything it prints", async () => {
    const lines: string[] = [];
    const summary = await main((line) => lines.push(line));
    expect(summary).toMatchObject({
      bundleOk: true,
      simulated: true,
      receiptOk: true,
      tamperedReceiptRejected: true,
    });
    expect(summary.answer).toContain("computed inside the enclave");
    expect(lines.filter((l) => l.includes("✗"))).toEqual([]);
    expect(summary.checks.length).toBeGreaterThan(15);
  });
});
