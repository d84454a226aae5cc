import { equalBytes, toHex } from "../common/bytes.js";
import { EvidenceInvalidError } from "../common/errors.js";
import type { Rim } from "./rim.js";
import type { SpdmEvidence } from "./spdm.js";

/** One compared index. */
export interface MeasurementComparison {
  /** RIM index (SPDM block index − 1). */
  readonly index: number;
  readonly matched: boolean;
  /** Hex of the device's value; null when the evidence has no block for this index. */
  readonly actual: string | null;
  /** Hex of every allowed alternative. */
  readonly expected: readonly string[];
  /** Which RIM (its version) claims the index. */
  readonly rim: string;
}

/** Result of comparing evidence with its RIMs. */
export interface MeasurementReport {
  readonly total: number;
  readonly matched: number;
  /** RIM indices whose value matched no alternative, ascending. */
  readonly mismatched: readonly number[];
  readonly comparisons: readonly MeasurementComparison[];
}

/**
 * Compares every active RIM entry with the evidence: RIM index i ↔ SPDM block i + 1, any
 * alternative may match. The RIMs are merged first (driver + VBIOS); an index that two RIMs both
 * mark active is ambiguous and rejected, as NVIDIA's verifiers do.
 * @throws EvidenceInvalidError `nvidia_rim_index_conflict`
 * @example
 * const report = compareMeasurements(evidence, [driverRim, vbiosRim]);
 * report.mismatched; // [] when every active measurement matches
 */
export function compareMeasurements(evidence: SpdmEvidence, rims: readonly Rim[]): MeasurementReport {
  const owner = new Map<number, Rim>();
  for (const rim of rims) {
    for (const entry of rim.measurements) {
      if (!entry.active) continue;
      const previous = owner.get(entry.index);
      if (previous) {
        throw new EvidenceInvalidError(
          "nvidia_rim_index_conflict",
          `measurement index ${entry.index} is active in both RIM ${previous.version} and RIM ${rim.version}`,
        );
      }
      owner.set(entry.index, rim);
    }
  }
  const blocks = new Map(evidence.response.blocks.map((b) => [b.index, b.value]));
  const comparisons: MeasurementComparison[] = [];
  for (const [index, rim] of [...owner.entries()].sort((a, b) => a[0] - b[0])) {
    const entry = rim.measurements.find((m) => m.index === index && m.active);
    if (!entry) continue;
    const actual = blocks.get(index + 1);
    const matched = actual !== undefined && entry.alternatives.some((alt) => equalBytes(alt, actual));
    comparisons.push({
      index,
      matched,
      actual: actual === undefined ? null : toHex(actual),
      expected: entry.alternatives.map(toHex),
      rim: rim.version,
    });
  }
  const mismatched = comparisons.filter((c) => !c.matched).map((c) => c.index);
  return {
    total: comparisons.length,
    matched: comparisons.length - mismatched.length,
    mismatched,
    comparisons,
  };
}
