import { readFileSync } from "node:fs";
import { join } from "node:path";
import { p384 } from "@noble/curves/nist.js";
import { decodeBundle, parseBundlePolicy, verifyBundle } from "@peercycles/attest/bundle";
import { repoRoot } from "@peercycles/internal-vectors";
import * as asn1js from "asn1js";
import { beforeAll, describe, expect, it } from "vitest";
import { type SimulatedEnclave, simulateEnclave } from "./simulate-enclave.js";

/**
 * Issue #11, item 2: one GPU counted twice. The outer certificate envelope is not signed and an
 * ECDSA signature (r, s) is as valid as (r, n − s), so a second, still valid, encoding of one GPU's
 * leaf once passed `gpu.minCount: 2` as a second GPU. Devices are now told apart by what the
 * certificate signs for (leaf key, UEID).
 */
const NOW = new Date("2026-11-25T12:00:00Z");
const policyJson = JSON.parse(
  readFileSync(join(repoRoot, "docs/policies/development-simulated.json"), "utf8"),
);
const twoGpus = parseBundlePolicy({ ...policyJson, gpu: { ...policyJson.gpu, required: true, minCount: 2 } });

/** The same certificate with its ECDSA signature rewritten as (r, n − s): still valid, other bytes. */
function reEncodeLeaf(der: Uint8Array): Uint8Array {
  const cert = asn1js.fromBER(der as BufferSource).result as asn1js.Sequence;
  const [tbs, algorithm, signature] = cert.valueBlock.value as [
    asn1js.Sequence,
    asn1js.Sequence,
    asn1js.BitString,
  ];
  const sig = p384.Signature.fromBytes(new Uint8Array(signature.valueBlock.valueHexView), "der");
  const flipped = new p384.Signature(sig.r, p384.Point.CURVE().n - sig.s);
  const rebuilt = new asn1js.Sequence({
    value: [
      asn1js.fromBER(new Uint8Array(tbs.toBER(false)) as BufferSource).result,
      algorithm,
      new asn1js.BitString({ valueHex: flipped.toBytes("der").slice().buffer }),
    ],
  });
  return new Uint8Array(rebuilt.toBER(false));
}

describe("a re-encoded copy of one GPU's leaf is not a second GPU", () => {
  let enclave: SimulatedEnclave;
  beforeAll(async () => {
    enclave = await simulateEnclave({ model: "peer-mixtral", cpu: "tdx", gpus: 1, now: NOW });
  });

  it("the re-encoded leaf differs in bytes but is the same device: bundle_gpu_duplicate, not accepted", async () => {
    const bundle = decodeBundle(enclave.bytes);
    const gpu = bundle.gpus[0];
    if (!gpu) throw new Error("simulator made no GPU");
    const leaf = gpu.certificates[0] as Uint8Array;
    const copy = reEncodeLeaf(leaf);
    expect(Buffer.from(copy).equals(Buffer.from(leaf))).toBe(false);
    const doubled = {
      ...bundle,
      gpus: [gpu, { ...gpu, certificates: [copy, ...gpu.certificates.slice(1)] }],
    };
    const result = await verifyBundle(doubled, { policy: twoGpus, now: NOW, offline: true });
    // The copy itself verifies as a GPU (the signature is valid) …
    expect(result.gpus.map((g) => g.verified)).toEqual([true, true]);
    // … but it is the same device.
    expect(result.errors.map((e) => e.code)).toContain("bundle_gpu_duplicate");
    expect(result.ok).toBe(false);
  });

  it("one GPU alone does not meet minCount 2", async () => {
    const result = await verifyBundle(decodeBundle(enclave.bytes), {
      policy: twoGpus,
      now: NOW,
      offline: true,
    });
    expect(result.errors.map((e) => e.code)).toContain("bundle_gpu_required");
  });
});
