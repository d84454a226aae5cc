/**
 * Where each field of a DCAP quote lies (Intel TDX DCAP Quoting Library API, quote v4/v5): offsets
 * and sizes in bytes, little-endian integers. The one table the parser reads with and the
 * development simulator (`@peercycles/enclave`) writes with, so the two cannot drift apart.
 *
 * @example
 * ```ts
 * import { TDX_QUOTE_HEADER, TD_REPORT_BODY } from "@peercycles/attest/tdx";
 * const mrTd = quote.subarray(TDX_QUOTE_HEADER.size + TD_REPORT_BODY.mrTd.offset, TDX_QUOTE_HEADER.size + TD_REPORT_BODY.mrTd.offset + TD_REPORT_BODY.mrTd.size);
 * ```
 */
export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
}

/** The 48-byte quote header. */
export const TDX_QUOTE_HEADER = {
  size: 48,
  version: { offset: 0, size: 2 },
  attestationKeyType: { offset: 2, size: 2 },
  teeType: { offset: 4, size: 4 },
  qeSvn: { offset: 8, size: 2 },
  pceSvn: { offset: 10, size: 2 },
  qeVendorId: { offset: 12, size: 16 },
  userData: { offset: 28, size: 20 },
} as const satisfies Record<string, FieldLayout | number>;

/** The TD report body: TDX 1.0 (584 bytes), TDX 1.5 adds the last two fields (648 bytes). */
export const TD_REPORT_BODY = {
  size10: 584,
  size15: 648,
  teeTcbSvn: { offset: 0, size: 16 },
  mrSeam: { offset: 16, size: 48 },
  mrSignerSeam: { offset: 64, size: 48 },
  seamAttributes: { offset: 112, size: 8 },
  tdAttributes: { offset: 120, size: 8 },
  xfam: { offset: 128, size: 8 },
  mrTd: { offset: 136, size: 48 },
  mrConfigId: { offset: 184, size: 48 },
  mrOwner: { offset: 232, size: 48 },
  mrOwnerConfig: { offset: 280, size: 48 },
  rtmr0: { offset: 328, size: 48 },
  rtmr1: { offset: 376, size: 48 },
  rtmr2: { offset: 424, size: 48 },
  rtmr3: { offset: 472, size: 48 },
  reportData: { offset: 520, size: 64 },
  teeTcbSvn2: { offset: 584, size: 16 },
  mrServiceTd: { offset: 600, size: 48 },
} as const satisfies Record<string, FieldLayout | number>;
