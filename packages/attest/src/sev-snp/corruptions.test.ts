import { readVector, readVectorText } from "@peercycles/internal-vectors";
import { describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { type SevSnpVerifyOptions, verifySevSnpReport } from "./index.js";
import {
  AMD_ARK_GENOA_PEM,
  AMD_ARK_MILAN_PEM,
  AMD_ASK_GENOA_PEM,
  AMD_ASK_MILAN_PEM,
  AMD_ASVK_MILAN_PEM,
} from "./roots.js";

/**
 * Named corruptions: each row tampers with a copy of real evidence or collateral in memory and
 * names the exact error codes the verifier must give, in check order. A parse failure throws, and
 * its code is the single expected code.
 *
 * Base case: trustee `test-report.bin` (Milan, v2, ID block) with `test-vcek.der` at 2024-01-01,
 * which verifies; rows marked "virtee" start from virtee's `report_milan.bin` and `vcek_milan.der`,
 * rows marked "vlek" from the trustee VLEK report inside its window.
 */
const NOW = new Date("2024-01-01T00:00:00Z");

interface Case {
  report: Uint8Array;
  options: SevSnpVerifyOptions;
}

function base(): Case {
  return {
    report: readVector("sev-snp/trustee/test-report.bin"),
    options: { vcek: readVector("sev-snp/trustee/test-vcek.der"), now: NOW, cache: false },
  };
}

function virtee(): Case {
  return {
    report: readVector("sev-snp/virtee-sev/report_milan.bin"),
    options: { vcek: readVector("sev-snp/virtee-sev/vcek_milan.der"), now: NOW, cache: false },
  };
}

function vlek(): Case {
  return {
    report: readVector("sev-snp/trustee/test-vlek-report.bin"),
    options: {
      vcek: readVector("sev-snp/trustee/test-vlek.der"),
      now: new Date("2025-06-01T00:00:00Z"),
      cache: false,
    },
  };
}

function tamper(start: () => Case, change: (c: Case) => void): () => Case {
  return () => {
    const c = start();
    change(c);
    return c;
  };
}

function xor(bytes: Uint8Array, offset: number, mask: number): void {
  bytes[offset] = (bytes[offset] as number) ^ mask;
}

function setU32(bytes: Uint8Array, offset: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset, value, true);
}

/** Replaces the first occurrence of `find` in `bytes` (a DER certificate) with `replace` (same length). */
function patch(bytes: Uint8Array, find: number[], replace: number[]): Uint8Array {
  outer: for (let i = 0; i + find.length <= bytes.length; i++) {
    for (let j = 0; j < find.length; j++) if (bytes[i + j] !== find[j]) continue outer;
    const out = bytes.slice();
    out.set(replace, i);
    return out;
  }
  throw new Error("pattern not found");
}

/** DER of OID 1.3.6.1.4.1.3704.1 + one more arc byte follows (the SPL OIDs 1.3.6.1.4.1.3704.1.3.x). */
const OID_PREFIX = [0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x01];
/** DER of OID 1.3.6.1.4.1.3704.1.4 (hwID). */
const HWID_OID = [0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x01, 0x04];

const rows: { name: string; make: () => Case; codes: string[] }[] = [
  // Signed span.
  {
    name: "virtee milan_report_invalid: byte 21 ^ 0x80 (family_id)",
    make: tamper(virtee, (c) => xor(c.report, 21, 0x80)),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "trustee check_report_signature_failure: byte 42 + 1 (image_id)",
    make: tamper(base, (c) => {
      c.report[42] = ((c.report[42] as number) + 1) & 0xff;
    }),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "measurement bit flip",
    make: tamper(base, (c) => xor(c.report, 0x90, 0x01)),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "report_data bit flip",
    make: tamper(base, (c) => xor(c.report, 0x50 + 63, 0x80)),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "host_data bit flip",
    make: tamper(base, (c) => xor(c.report, 0xc0, 0x01)),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "guest_svn changed",
    make: tamper(base, (c) => xor(c.report, 0x04, 0x01)),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "VMPL changed",
    make: tamper(base, (c) => xor(c.report, 0x30, 0x01)),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "debug bit set in guest policy",
    make: tamper(virtee, (c) => xor(c.report, 0x0a, 0x08)),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "trustee check_report_tcb_failure: reported_tcb byte 0x180 + 1",
    make: tamper(base, (c) => {
      c.report[0x180] = (c.report[0x180] as number) + 1;
    }),
    codes: ["snp_report_signature_invalid", "snp_vcek_tcb_mismatch"],
  },
  {
    name: "vlek: reported_tcb byte 0x180 + 1",
    make: tamper(vlek, (c) => {
      c.report[0x180] = (c.report[0x180] as number) + 1;
    }),
    codes: ["snp_report_signature_invalid", "snp_vcek_tcb_mismatch"],
  },
  {
    name: "chip_id last byte changed",
    make: tamper(base, (c) => xor(c.report, 0x1df, 0x01)),
    codes: ["snp_report_signature_invalid", "snp_vcek_chip_id_mismatch"],
  },
  {
    name: "vlek: CPUID model changed to a Genoa model",
    make: tamper(vlek, (c) => {
      c.report[0x189] = 0x11;
    }),
    // Genoa shares Milan's TCB layout, so only the product sources and the signature disagree.
    codes: ["snp_product_mismatch", "snp_report_signature_invalid"],
  },
  {
    name: "vlek: CPUID family changed to Turin (0x1A), so the TCB decodes with Turin's layout",
    make: tamper(vlek, (c) => {
      c.report[0x188] = 0x1a;
      c.report[0x189] = 0x02;
    }),
    codes: ["snp_product_mismatch", "snp_report_signature_invalid", "snp_vcek_tcb_mismatch"],
  },
  // Signature.
  {
    name: "signature r bit flip",
    make: tamper(base, (c) => xor(c.report, 0x2a0, 0x01)),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "signature s bit flip",
    make: tamper(base, (c) => xor(c.report, 0x2e8 + 10, 0x40)),
    codes: ["snp_report_signature_invalid"],
  },
  {
    name: "r has a non-zero byte above 48 bytes",
    make: tamper(base, (c) => {
      c.report[0x2a0 + 50] = 1;
    }),
    codes: ["snp_report_signature_out_of_range"],
  },
  {
    name: "r is zero",
    make: tamper(base, (c) => c.report.fill(0, 0x2a0, 0x2a0 + 72)),
    codes: ["snp_report_signature_out_of_range"],
  },
  {
    name: "s ≥ the P-384 order",
    make: tamper(base, (c) => c.report.fill(0xff, 0x2e8, 0x2e8 + 48)),
    codes: ["snp_report_signature_out_of_range"],
  },
  {
    name: "signature algorithm 2",
    make: tamper(base, (c) => setU32(c.report, 0x34, 2)),
    codes: ["snp_report_signature_algorithm_unsupported"],
  },
  {
    name: "key info says VLEK but a VCEK is given",
    make: tamper(base, (c) => setU32(c.report, 0x48, 1 << 2)),
    codes: ["snp_signing_key_mismatch", "snp_report_signature_invalid"],
  },
  {
    name: "key info says not signed (7)",
    make: tamper(base, (c) => setU32(c.report, 0x48, 7 << 2)),
    codes: ["snp_report_not_signed", "snp_report_signature_invalid"],
  },
  // Parse failures (thrown).
  {
    name: "truncated report (1183 bytes)",
    make: tamper(base, (c) => {
      c.report = c.report.subarray(0, 1183);
    }),
    codes: ["snp_report_truncated"],
  },
  {
    name: "empty report",
    make: tamper(base, (c) => {
      c.report = new Uint8Array(0);
    }),
    codes: ["snp_report_truncated"],
  },
  {
    name: "a trailing byte after the report, under a policy that rejects trailing bytes",
    make: tamper(base, (c) => {
      c.report = Uint8Array.from([...c.report, 0]);
      c.options = { ...c.options, policy: { rejectTrailingBytes: true } };
    }),
    codes: ["snp_policy_trailing_bytes_rejected"],
  },
  {
    name: "20 trailing bytes (Constellation's report files) are outside the report: not a corruption",
    make: tamper(base, (c) => {
      c.report = Uint8Array.from([...c.report, ...new Uint8Array(20).fill(0x5a)]);
    }),
    codes: [],
  },
  {
    name: "bad version 1",
    make: tamper(base, (c) => setU32(c.report, 0, 1)),
    codes: ["snp_report_version_unsupported"],
  },
  {
    name: "bad version 6",
    make: tamper(base, (c) => setU32(c.report, 0, 6)),
    codes: ["snp_report_version_unsupported"],
  },
  {
    name: "nonzero reserved 0x4C",
    make: tamper(base, (c) => {
      c.report[0x4c] = 1;
    }),
    codes: ["snp_report_reserved_nonzero"],
  },
  {
    name: "v2: nonzero reserved 0x188 (CPUID bytes are reserved in v2)",
    make: tamper(base, (c) => {
      c.report[0x188] = 0x19;
    }),
    codes: ["snp_report_reserved_nonzero"],
  },
  {
    name: "v3: nonzero reserved 0x18B",
    make: tamper(vlek, (c) => {
      c.report[0x18b] = 1;
    }),
    codes: ["snp_report_reserved_nonzero"],
  },
  {
    name: "nonzero reserved 0x1EB",
    make: tamper(base, (c) => {
      c.report[0x1eb] = 1;
    }),
    codes: ["snp_report_reserved_nonzero"],
  },
  {
    name: "nonzero reserved before the signature (0x29F)",
    make: tamper(base, (c) => {
      c.report[0x29f] = 1;
    }),
    codes: ["snp_report_reserved_nonzero"],
  },
  {
    name: "nonzero reserved after the signature (0x49F)",
    make: tamper(base, (c) => {
      c.report[0x49f] = 1;
    }),
    codes: ["snp_report_reserved_nonzero"],
  },
  {
    name: "key info reserved bit 5 set",
    make: tamper(base, (c) => setU32(c.report, 0x48, 1 << 5)),
    codes: ["snp_report_reserved_nonzero"],
  },
  {
    name: "key info signing key 2 (reserved)",
    make: tamper(base, (c) => setU32(c.report, 0x48, 2 << 2)),
    codes: ["snp_report_signing_key_reserved"],
  },
  {
    name: "guest policy bit 17 (must be one) cleared",
    make: tamper(base, (c) => xor(c.report, 0x0a, 0x02)),
    codes: ["snp_report_policy_invalid"],
  },
  {
    name: "guest policy reserved bit 40 set",
    make: tamper(base, (c) => {
      c.report[0x0d] = 1;
    }),
    codes: ["snp_report_policy_invalid"],
  },
  // Certificates.
  {
    name: "wrong VCEK (another Milan chip, same TCB)",
    make: tamper(base, (c) => {
      c.options = { ...c.options, vcek: readVector("sev-snp/virtee-sev/vcek_milan.der") };
    }),
    codes: ["snp_report_signature_invalid", "snp_vcek_chip_id_mismatch"],
  },
  {
    name: "wrong VCEK (another chip and TCB)",
    make: tamper(base, (c) => {
      c.options = { ...c.options, vcek: readVector("sev-snp/google-go-sev-guest/vcek.testcer") };
    }),
    codes: ["snp_report_signature_invalid", "snp_vcek_tcb_mismatch", "snp_vcek_chip_id_mismatch"],
  },
  {
    name: "virtee milan_chain_invalid: VCEK DER byte 40 ^ 0xFF",
    make: tamper(virtee, (c) => xor(c.options.vcek as Uint8Array, 40, 0xff)),
    // The byte is in the TBS copy of the RSA-PSS parameters: the source sees a bad signature; the
    // two signatureAlgorithm fields now differ (RFC 5280 §4.1.1.2), refused before the signature.
    codes: ["certificate_signature_algorithm_mismatch"],
  },
  {
    name: "trustee check_vcek_signature_failure: VCEK DER byte 42 + 1",
    make: tamper(base, (c) => {
      const v = c.options.vcek as Uint8Array;
      v[42] = ((v[42] as number) + 1) & 0xff;
    }),
    codes: ["certificate_signature_algorithm_mismatch"], // as above: inside the TBS RSA-PSS parameters
  },
  {
    name: "VCEK SNP SPL extension changed (8 → 9)",
    make: tamper(base, (c) => {
      c.options = {
        ...c.options,
        vcek: patch(
          c.options.vcek as Uint8Array,
          [...OID_PREFIX, 0x03, 0x03, 0x04, 0x03, 0x02, 0x01, 0x08],
          [...OID_PREFIX, 0x03, 0x03, 0x04, 0x03, 0x02, 0x01, 0x09],
        ),
      };
    }),
    codes: ["certificate_signature_invalid", "snp_vcek_tcb_mismatch"],
  },
  {
    name: "VCEK hwID extension changed",
    make: tamper(base, (c) => {
      c.options = {
        ...c.options,
        vcek: patch(
          c.options.vcek as Uint8Array,
          [...HWID_OID, 0x04, 0x40, 0xc3, 0x84],
          [...HWID_OID, 0x04, 0x40, 0xc3, 0x85],
        ),
      };
    }),
    codes: ["certificate_signature_invalid", "snp_vcek_chip_id_mismatch"],
  },
  {
    name: "swapped ASK (ASK-Genoa with ARK-Milan)",
    make: tamper(base, (c) => {
      c.options = { ...c.options, chain: AMD_ASK_GENOA_PEM + AMD_ARK_MILAN_PEM };
    }),
    codes: ["certificate_chain_incomplete"],
  },
  {
    name: "trustee check_milan_chain_signature_failure: VCEK checked against the ASVK",
    make: tamper(base, (c) => {
      c.options = { ...c.options, chain: readVectorText("sev-snp/google-go-sev-guest/milanvlek.testcer") };
    }),
    codes: ["certificate_chain_incomplete"],
  },
  {
    name: "VLEK given the ASK instead of the ASVK",
    make: tamper(vlek, (c) => {
      c.options = { ...c.options, chain: AMD_ASK_MILAN_PEM };
    }),
    codes: ["certificate_chain_incomplete"],
  },
  {
    name: "ARK from another product in the supplied chain",
    make: tamper(base, (c) => {
      c.options = { ...c.options, chain: AMD_ASK_MILAN_PEM + AMD_ARK_GENOA_PEM };
    }),
    codes: ["snp_ark_mismatch"],
  },
  {
    name: "trust roots: Genoa ARK pinned for Milan",
    make: tamper(base, (c) => {
      c.options = {
        ...c.options,
        roots: { milan: { ark: AMD_ARK_GENOA_PEM, ask: AMD_ASK_MILAN_PEM, asvk: AMD_ASVK_MILAN_PEM } },
      };
    }),
    codes: ["certificate_chain_incomplete"],
  },
  {
    name: "ASK signature tampered",
    make: tamper(base, (c) => {
      const ask = readVectorText("sev-snp/google-go-sev-guest/milan.testcer");
      const [askDer, arkDer] = [
        ask.split("-----END CERTIFICATE-----")[0] as string,
        ask.split("-----END CERTIFICATE-----")[1] as string,
      ];
      const der = Uint8Array.from(atob(askDer.replace(/-----BEGIN CERTIFICATE-----|\s/g, "")), (ch) =>
        ch.charCodeAt(0),
      );
      xor(der, der.length - 5, 0x01);
      c.options = { ...c.options, chain: [der, `${arkDer}-----END CERTIFICATE-----\n`] };
    }),
    codes: ["certificate_signature_invalid"],
  },
  {
    name: "chain with the ARK only (ASK missing)",
    make: tamper(base, (c) => {
      c.options = { ...c.options, chain: AMD_ARK_MILAN_PEM };
    }),
    codes: ["certificate_chain_incomplete"],
  },
  {
    name: "expired VCEK (2030-02-01)",
    make: tamper(base, (c) => {
      c.options = { ...c.options, now: new Date("2030-02-01T00:00:00Z") };
    }),
    codes: ["certificate_expired"],
  },
  {
    name: "VCEK not yet valid (2022-01-01)",
    make: tamper(base, (c) => {
      c.options = { ...c.options, now: new Date("2022-01-01T00:00:00Z") };
    }),
    codes: ["certificate_not_yet_valid"],
  },
  {
    name: "product option disagrees with the certificate",
    make: tamper(base, (c) => {
      c.options = { ...c.options, product: "genoa" };
    }),
    codes: ["snp_product_mismatch"],
  },
  {
    name: "CRL that is not DER",
    make: tamper(base, (c) => {
      c.options = { ...c.options, crl: new Uint8Array([0x30, 0x03, 0x02, 0x01]) };
    }),
    codes: ["crl_malformed"],
  },
  {
    name: "VCEK that is not a certificate",
    make: tamper(base, (c) => {
      c.options = { ...c.options, vcek: new Uint8Array([0x30, 0x00]) };
    }),
    codes: ["certificate_malformed"],
  },
];

async function outcome(c: Case): Promise<string[]> {
  try {
    const result = await verifySevSnpReport(c.report, c.options);
    return result.errors.map((e) => e.code);
  } catch (error) {
    if (!AttestError.isInstance(error)) throw error;
    return [error.code];
  }
}

describe("SEV-SNP named corruptions", () => {
  it("the untampered bases verify", async () => {
    for (const make of [base, virtee, vlek]) expect(await outcome(make())).toEqual([]);
  });

  it("has at least 25 rows", () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
  });

  it.each(rows)("$name → $codes", async ({ make, codes }) => {
    expect(await outcome(make())).toEqual(codes);
  });
});
