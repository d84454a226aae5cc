import type { Check } from "../common/check.js";
import { AttestArgumentError, type VerificationIssue } from "../common/errors.js";
import type { Certificate } from "../common/x509.js";
import type { Rim } from "./rim.js";
import { type NvidiaVerificationResult, type VerifyNvidiaOptions, verifyNvidiaEvidence } from "./verify.js";

/** One device of a set: its evidence, chain and (optionally) RIMs. */
export interface NvidiaEvidenceItem {
  readonly evidence: Uint8Array | string;
  readonly certChain: string | Uint8Array | readonly Certificate[];
  readonly rims?: readonly (string | Uint8Array | Rim)[];
}

export interface VerifyNvidiaSetOptions extends Omit<VerifyNvidiaOptions, "certChain" | "rims" | "nonce"> {
  /** The one nonce every device must have answered (required: a set is only a set if it is fresh together). */
  readonly nonce: string | Uint8Array;
  /** Expected numbers of GPUs and switches (e.g. 8 and 4 for an HGX in protected-PCIe mode). */
  readonly expect?: { readonly gpus?: number; readonly switches?: number };
}

export interface NvidiaSetVerificationResult {
  readonly ok: boolean;
  readonly verified: boolean;
  readonly kind: "nvidia-set";
  readonly devices: readonly NvidiaVerificationResult[];
  readonly gpus: number;
  readonly switches: number;
  readonly checks: readonly Check[];
  readonly errors: readonly VerificationIssue[];
}

/**
 * Verifies a set of GPUs and NVSwitches (e.g. an 8-GPU + 4-switch PPCIe system) answering one
 * nonce: each device as {@link verifyNvidiaEvidence} does, then set rules: every device distinct
 * (the same evidence counted twice is not two devices), and the expected device counts.
 * @example
 * const set = await verifyNvidiaEvidenceSet(items, { nonce, now, offline: true, expect: { gpus: 8, switches: 4 } });
 */
export async function verifyNvidiaEvidenceSet(
  items: readonly NvidiaEvidenceItem[],
  options: VerifyNvidiaSetOptions,
): Promise<NvidiaSetVerificationResult> {
  if (items.length === 0) throw new AttestArgumentError("nvidia_argument_invalid", "evidence set is empty");
  const devices: NvidiaVerificationResult[] = [];
  for (const item of items) {
    devices.push(
      await verifyNvidiaEvidence(item.evidence, {
        ...options,
        certChain: item.certChain,
        ...(item.rims ? { rims: item.rims } : {}),
      }),
    );
  }
  const checks: Check[] = [];
  const errors: VerificationIssue[] = [];
  const fail = (id: string, label: string, issue: VerificationIssue) => {
    checks.push({ id, label, status: "fail", code: issue.code, detail: issue.message });
    errors.push(issue);
  };
  devices.forEach((d, i) => {
    if (d.verified)
      checks.push({
        id: `device_${i}`,
        label: `Device ${i} (${d.device?.leaf ?? "?"}) verified`,
        status: "pass",
      });
    else
      fail(`device_${i}`, `Device ${i} verified`, {
        code: "nvidia_set_device_invalid",
        message: `device ${i}: ${d.errors.map((e) => e.code).join(", ")}`,
      });
  });
  // Devices are told apart by what the device's certificate signs for (leaf key, UEID), never by
  // the certificate's bytes: its envelope and ECDSA signature can be re-encoded.
  const seen = new Map<string, number>();
  devices.forEach((d, i) => {
    if (!d.device) return;
    const ids = [`ueid:${d.device.ueid}`, `key:${d.device.publicKey}`];
    const first = ids.map((id) => seen.get(id)).find((at) => at !== undefined);
    if (first !== undefined)
      fail("set_distinct", "Every device is distinct", {
        code: "nvidia_set_duplicate_device",
        message: `devices ${first} and ${i} are the same device (ueid ${d.device.ueid} or leaf key)`,
      });
    else for (const id of ids) seen.set(id, i);
  });
  if (!errors.some((e) => e.code === "nvidia_set_duplicate_device"))
    checks.push({ id: "set_distinct", label: "Every device is distinct", status: "pass" });
  const gpus = devices.filter((d) => d.device?.kind === "gpu").length;
  const switches = devices.filter((d) => d.device?.kind === "switch").length;
  if (options.expect) {
    const { gpus: g, switches: s } = options.expect;
    if ((g !== undefined && g !== gpus) || (s !== undefined && s !== switches)) {
      fail("set_counts", "Expected numbers of GPUs and switches", {
        code: "nvidia_set_count_mismatch",
        message: `set has ${gpus} GPUs and ${switches} switches, expected ${g ?? "any"} and ${s ?? "any"}`,
      });
    } else
      checks.push({
        id: "set_counts",
        label: "Expected numbers of GPUs and switches",
        status: "pass",
        detail: `${gpus} GPUs, ${switches} switches`,
      });
  }
  const verified = errors.length === 0;
  const ok = verified && devices.every((d) => d.ok);
  return { ok, verified, kind: "nvidia-set", devices, gpus, switches, checks, errors };
}
