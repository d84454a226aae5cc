import type { SevSnpProduct } from "./roots.js";

/**
 * TCB_VERSION is a little-endian u64 of security patch levels (SPLs), one byte each. Milan and Genoa
 * use one layout; Turin moved the fields and added the FMC (firmware microcontroller) SPL, so the
 * same u64 means different things per product and must be decoded with the right layout.
 */
export type SevSnpTcbLayout = "milan-genoa" | "turin";

/** A decoded TCB_VERSION. `fmc` is present only in the Turin layout. */
export interface SevSnpTcb {
  /** The raw u64, as 16 lowercase hex digits (big-endian reading of the little-endian value). */
  readonly raw: string;
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc?: number;
}

/** SPL component names, in the order reports and policies list them. */
export const TCB_COMPONENTS = ["bootloader", "tee", "snp", "microcode", "fmc"] as const;
export type SevSnpTcbComponent = (typeof TCB_COMPONENTS)[number];

/** The TCB layout of a product line. */
export function tcbLayoutOf(product: SevSnpProduct): SevSnpTcbLayout {
  return product === "turin" ? "turin" : "milan-genoa";
}

/**
 * Decodes a TCB_VERSION u64 with the given layout.
 *
 * Milan/Genoa: byte 0 bootloader, 1 TEE, 2–5 reserved, 6 SNP, 7 microcode.
 * Turin: byte 0 FMC, 1 bootloader, 2 TEE, 3 SNP, 4–6 reserved, 7 microcode.
 *
 * @example
 * ```ts
 * decodeTcb(0x4405000000000002n, "milan-genoa"); // { bootloader: 2, tee: 0, snp: 5, microcode: 68, ... }
 * ```
 */
export function decodeTcb(value: bigint, layout: SevSnpTcbLayout): SevSnpTcb {
  const byte = (i: number) => Number((value >> BigInt(8 * i)) & 0xffn);
  const raw = value.toString(16).padStart(16, "0");
  if (layout === "turin") {
    return { raw, fmc: byte(0), bootloader: byte(1), tee: byte(2), snp: byte(3), microcode: byte(7) };
  }
  return { raw, bootloader: byte(0), tee: byte(1), snp: byte(6), microcode: byte(7) };
}

/**
 * Product line from the CPUID family/model a v3+ report carries (CPUID Fn0000_0001_EAX, extended
 * family and model folded in): family 0x19 models 0x00–0x0F Milan, 0x10–0x1F and 0xA0–0xAF Genoa;
 * family 0x1A models 0x00–0x1F Turin. Undefined for anything else (including v2 reports, which
 * carry zeros there).
 */
export function productFromCpuid(family: number, model: number): SevSnpProduct | undefined {
  if (family === 0x19) {
    if (model <= 0x0f) return "milan";
    if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) return "genoa";
    return undefined;
  }
  if (family === 0x1a && model <= 0x1f) return "turin";
  return undefined;
}
