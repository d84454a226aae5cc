import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AttestError } from "@peercycles/attest";
import { type AttestationBundle, parseBundlePolicy, verifyBundle } from "@peercycles/attest/bundle";
import { repoRoot } from "@peercycles/internal-vectors";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type SimulatedEnclave, simulateEnclave } from "./simulator/simulate-enclave.js";

const policy = parseBundlePolicy(
  JSON.parse(readFileSync(join(repoRoot, "docs/policies/development-simulated.json"), "utf8")),
);
const NOW = new Date("2026-11-25T12:00:00Z");

/** Verifies and reports whether the bundle was accepted; unusable input must be an AttestError. */
async function accepted(bundle: AttestationBundle): Promise<boolean> {
  try {
    return (await verifyBundle(bundle, { policy, now: NOW })).ok;
  } catch (error) {
    expect(AttestError.isInstance(error)).toBe(true);
    return false;
  }
}

const flip = (bytes: Uint8Array, at: number, xor: number) => {
  const copy = bytes.slice();
  copy[at] = (copy[at] as number) ^ xor;
  return copy;
};

describe("any change to a signed byte or to the binding is rejected (simulated evidence, real verifiers)", () => {
  let tdx: SimulatedEnclave;
  let snp: SimulatedEnclave;
  beforeAll(async () => {
    [tdx, snp] = await Promise.all([
      simulateEnclave({ model: "peer-mixtral", cpu: "tdx", gpus: 1, now: NOW }),
      simulateEnclave({ model: "peer-mixtral", cpu: "sev-snp", gpus: 1, now: NOW }),
    ]);
    expect(await accepted(tdx.bundle)).toBe(true);
    expect(await accepted(snp.bundle)).toBe(true);
  });

  const byteFlip = (length: number) =>
    fc.tuple(fc.integer({ min: 0, max: length - 1 }), fc.integer({ min: 1, max: 255 }));

  it("TDX quote signed region [0, 632)", async () => {
    await fc.assert(
      fc.asyncProperty(byteFlip(632), async ([at, xor]) => {
        const bundle = {
          ...tdx.bundle,
          cpu: { ...tdx.bundle.cpu, evidence: flip(tdx.bundle.cpu.evidence, at, xor) },
        };
        expect(await accepted(bundle)).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it("SEV-SNP report signed region [0, 0x2a0)", async () => {
    await fc.assert(
      fc.asyncProperty(byteFlip(0x2a0), async ([at, xor]) => {
        const bundle = {
          ...snp.bundle,
          cpu: { ...snp.bundle.cpu, evidence: flip(snp.bundle.cpu.evidence, at, xor) },
        };
        expect(await accepted(bundle)).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it("SPDM transcript (everything before the signature)", async () => {
    const gpu = tdx.bundle.gpus[0]!;
    await fc.assert(
      fc.asyncProperty(byteFlip(gpu.evidence.length - 96), async ([at, xor]) => {
        const bundle = { ...tdx.bundle, gpus: [{ ...gpu, evidence: flip(gpu.evidence, at, xor) }] };
        expect(await accepted(bundle)).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it("binding bytes", async () => {
    await fc.assert(
      fc.asyncProperty(byteFlip(tdx.bundle.binding.length), async ([at, xor]) => {
        expect(await accepted({ ...tdx.bundle, binding: flip(tdx.bundle.binding, at, xor) })).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
});
