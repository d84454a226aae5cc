import { readVectorJson } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { fromBase64 } from "../common/bytes.js";
import { AT, NONCE_931D, NONCE_PPCIE, ppcieGpu, ppcieSwitch } from "./test-vectors.js";
import { verifyNvidiaEvidenceSet } from "./verify-set.js";

/** Tests about other checks accept unchecked freshness and measurements by name (issue #11 defaults). */
const UNCHECKED = { policy: { requireNonce: false, requireRimMatch: false } } as const;

const ppcieSet = () => [
  ...Array.from({ length: 8 }, (_, i) => ppcieGpu(i)),
  ...Array.from({ length: 4 }, (_, i) => ppcieSwitch(i)),
];

describe("verifyNvidiaEvidenceSet", () => {
  it("verifies the 8 GPU + 4 NVSwitch PPCIe set with one nonce (README C4)", async () => {
    const set = await verifyNvidiaEvidenceSet(ppcieSet(), {
      nonce: NONCE_PPCIE,
      now: AT.device,
      offline: true,
      ...UNCHECKED,
      expect: { gpus: 8, switches: 4 },
      policy: { requireNonce: true, requireRimMatch: false },
    });
    expect([set.ok, set.verified, set.gpus, set.switches, set.errors]).toEqual([true, true, 8, 4, []]);
    expect(new Set(set.devices.map((d) => d.device?.ueid)).size).toBe(12);
    expect(set.devices.slice(0, 8).every((d) => d.mode === "ppcie" && d.driverVersion === "590.12")).toBe(
      true,
    );
    expect(set.devices.slice(8).every((d) => d.vbiosVersion === "96.10.73.00.01")).toBe(true);
  });

  it("a device that answered another nonce fails the set", async () => {
    const items = ppcieSet();
    const foreign = readVectorJson<{ evidence: string; certificate: string }[]>(
      "nvidia/nvidia-attestation-sdk/serialized/hopper_evidence.json",
    )[0];
    items[0] = { evidence: fromBase64(foreign?.evidence ?? ""), certChain: foreign?.certificate ?? "" };
    const set = await verifyNvidiaEvidenceSet(items, {
      nonce: NONCE_PPCIE,
      now: AT.device,
      offline: true,
      ...UNCHECKED,
    });
    expect(set.ok).toBe(false);
    expect(set.errors.map((e) => e.code)).toEqual(["nvidia_set_device_invalid"]);
    expect(set.devices[0]?.errors.map((e) => e.code)).toEqual(["nvidia_nonce_mismatch"]);
  });

  it("the same evidence four times is one device, not four (multi_switch_ls10.json)", async () => {
    const entries = readVectorJson<{ evidence: string; certificate: string }[]>(
      "nvidia/nvidia-attestation-sdk/serialized/multi_switch_ls10.json",
    );
    const set = await verifyNvidiaEvidenceSet(
      entries.map((e) => ({ evidence: fromBase64(e.evidence), certChain: e.certificate })),
      { nonce: NONCE_931D, now: AT.device, offline: true, ...UNCHECKED, expect: { switches: 4 } },
    );
    expect(set.errors.map((e) => e.code)).toEqual([
      "nvidia_set_duplicate_device",
      "nvidia_set_duplicate_device",
      "nvidia_set_duplicate_device",
    ]);
    expect(set.ok).toBe(false);
  });

  it("checks the expected device counts", async () => {
    const set = await verifyNvidiaEvidenceSet(ppcieSet().slice(0, 11), {
      nonce: NONCE_PPCIE,
      now: AT.device,
      offline: true,
      ...UNCHECKED,
      expect: { gpus: 8, switches: 4 },
    });
    expect(set.errors.map((e) => e.code)).toEqual(["nvidia_set_count_mismatch"]);
  });
});
