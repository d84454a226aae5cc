import { describe, expect, it } from "vitest";
import { SEV_SNP_REPORT_LAYOUT } from "../sev-snp/layout.js";
import { SEV_SNP_REPORT_SIZE } from "../sev-snp/report.js";
import { type FieldLayout, TD_REPORT_BODY, TDX_QUOTE_HEADER } from "./layout.js";

/** Fields sorted by offset never overlap and all fit in `size`. */
function checkTable(fields: Record<string, FieldLayout | number>, size: number): void {
  const sorted = Object.values(fields)
    .filter((f): f is FieldLayout => typeof f === "object")
    .sort((a, b) => a.offset - b.offset);
  for (let i = 0; i < sorted.length; i++) {
    const field = sorted[i] as FieldLayout;
    expect(field.offset + field.size).toBeLessThanOrEqual(sorted[i + 1]?.offset ?? size);
  }
}

describe("layout tables (shared by the parsers and the simulator)", () => {
  it("never overlap and fit their structures", () => {
    checkTable(TDX_QUOTE_HEADER, TDX_QUOTE_HEADER.size);
    checkTable(TD_REPORT_BODY, TD_REPORT_BODY.size15);
    expect(TD_REPORT_BODY.reportData.offset + TD_REPORT_BODY.reportData.size).toBe(TD_REPORT_BODY.size10);
    checkTable(SEV_SNP_REPORT_LAYOUT, SEV_SNP_REPORT_SIZE);
  });
});
