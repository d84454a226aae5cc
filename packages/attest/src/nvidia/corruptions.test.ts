import { describe, expect, it } from "vitest";
import { AttestError } from "../common/errors.js";
import { parseCertificates, toPem } from "../common/x509.js";
import { defaultRimRoots } from "./roots.js";
import { AT, bytes, NONCE_931D, NV, text } from "./test-vectors.js";
import { type VerifyNvidiaOptions, verifyNvidiaEvidence } from "./verify.js";

/** Tests about other checks accept unchecked freshness and measurements by name (issue #11 defaults). */
const UNCHECKED = { policy: { requireNonce: false, requireRimMatch: false } } as const;

/**
 * Named corruptions of real evidence, chains and RIMs, each with the exact outcome: either the code
 * thrown (unusable input) or the exact list of result error codes. Every tamper works on a copy.
 *
 * Offsets below are those of nvidia/nvtrust/hopperAttestationReport.bin (4117 bytes): request
 * [0, 37), response header at 37, block count at 41, record length at 42, record [45, 3565) with
 * 64 blocks of 55 bytes, responder nonce [3565, 3597), opaque length at 3597, opaque data from 3599,
 * signature the last 96 bytes.
 */
type Outcome = { throws: string } | { errors: string[] };
interface Row {
  readonly name: string;
  readonly evidence?: (b: Uint8Array) => Uint8Array;
  readonly chain?: (pem: string) => string;
  readonly rim?: (xml: string) => string;
  readonly options?: Partial<VerifyNvidiaOptions>;
  readonly expect: Outcome;
}

const set = (at: number, value: number) => (b: Uint8Array) => {
  const c = b.slice();
  c[at] = value;
  return c;
};
const flip = (at: number) => (b: Uint8Array) => {
  const c = b.slice();
  const i = at < 0 ? c.length + at : at;
  c[i] = (c[i] as number) ^ 0x01;
  return c;
};
const BLOCK0 = 45;
const OPAQUE = 3599;
const findTlv = (b: Uint8Array, type: number): number => {
  let o = OPAQUE;
  const end = OPAQUE + ((b[3597] as number) | ((b[3598] as number) << 8));
  while (o < end) {
    if (((b[o] as number) | ((b[o + 1] as number) << 8)) === type) return o;
    o += 4 + ((b[o + 2] as number) | ((b[o + 3] as number) << 8));
  }
  throw new Error(`no TLV ${type}`);
};
const chainWithout = (index: number) => (pem: string) => {
  const certs = parseCertificates(pem);
  return certs
    .filter((_, i) => i !== index)
    .map((c) => toPem(c.der))
    .join("");
};

const rows: Row[] = [
  {
    name: "request SPDM version 0x10",
    evidence: set(0, 0x10),
    expect: { throws: "nvidia_spdm_request_invalid" },
  },
  {
    name: "request code not GET_MEASUREMENTS",
    evidence: set(1, 0xe1),
    expect: { throws: "nvidia_spdm_request_invalid" },
  },
  {
    name: "request did not ask for a signature",
    evidence: set(2, 0x00),
    expect: { throws: "nvidia_spdm_request_invalid" },
  },
  {
    name: "request asked for one block only",
    evidence: set(3, 0x01),
    expect: { throws: "nvidia_spdm_request_invalid" },
  },
  {
    name: "response SPDM version 0x12",
    evidence: set(37, 0x12),
    expect: { throws: "nvidia_spdm_response_invalid" },
  },
  {
    name: "response code not MEASUREMENTS",
    evidence: set(38, 0x61),
    expect: { throws: "nvidia_spdm_response_invalid" },
  },
  {
    name: "zero measurement blocks",
    evidence: set(41, 0),
    expect: { throws: "nvidia_spdm_response_invalid" },
  },
  {
    name: "block count one short of the record",
    evidence: set(41, 63),
    expect: { throws: "nvidia_spdm_measurement_invalid" },
  },
  {
    name: "record length one byte longer",
    evidence: set(42, 0xc1),
    expect: { throws: "nvidia_spdm_measurement_invalid" },
  },
  {
    name: "measurement specification not DMTF",
    evidence: set(BLOCK0 + 1, 0x02),
    expect: { throws: "nvidia_spdm_measurement_invalid" },
  },
  {
    name: "repeated measurement index",
    evidence: set(BLOCK0 + 55, 1),
    expect: { throws: "nvidia_spdm_measurement_invalid" },
  },
  {
    name: "block size disagrees with DMTF value size",
    evidence: set(BLOCK0 + 2, 0x34),
    expect: { throws: "nvidia_spdm_measurement_invalid" },
  },
  {
    name: "signature cut short",
    evidence: (b) => b.slice(0, b.length - 50),
    expect: { throws: "nvidia_spdm_truncated" },
  },
  {
    name: "opaque length past the end",
    evidence: set(3598, 0x09),
    expect: { throws: "nvidia_spdm_truncated" },
  },
  {
    name: "opaque TLV longer than the opaque data",
    evidence: (b) => set(OPAQUE + 3, 0xff)(b),
    expect: { throws: "nvidia_opaque_data_truncated" },
  },
  { name: "empty evidence", evidence: () => new Uint8Array(0), expect: { throws: "input_empty" } },
  {
    name: "one measurement value bit flipped",
    evidence: flip(BLOCK0 + 55 * 3 + 10),
    expect: { errors: ["nvidia_spdm_signature_invalid"] },
  },
  {
    name: "requester nonce changed (replay with another nonce)",
    evidence: flip(4),
    options: { nonce: NONCE_931D },
    expect: { errors: ["nvidia_spdm_signature_invalid", "nvidia_nonce_mismatch"] },
  },
  {
    name: "responder nonce changed",
    evidence: flip(3570),
    expect: { errors: ["nvidia_spdm_signature_invalid"] },
  },
  { name: "signature r changed", evidence: flip(-90), expect: { errors: ["nvidia_spdm_signature_invalid"] } },
  { name: "signature s changed", evidence: flip(-2), expect: { errors: ["nvidia_spdm_signature_invalid"] } },
  {
    name: "driver version in opaque data changed",
    evidence: (b) => flip(findTlv(b, 3) + 4)(b),
    expect: { errors: ["nvidia_spdm_signature_invalid"] },
  },
  {
    name: "FWID in opaque data changed",
    evidence: (b) => flip(findTlv(b, 20) + 10)(b),
    expect: { errors: ["nvidia_fwid_mismatch", "nvidia_spdm_signature_invalid"] },
  },
  {
    name: "expected nonce differs",
    options: { nonce: "00".repeat(32) },
    expect: { errors: ["nvidia_nonce_mismatch"] },
  },
  {
    name: "leaf swapped for another GPU's leaf",
    chain: (pem) => {
      const other = parseCertificates(text(NV.sdkChain))[0];
      const certs = parseCertificates(pem);
      return [other, ...certs.slice(1)].map((c) => toPem((c as { der: Uint8Array }).der)).join("");
    },
    // The other GPU's leaf has a different issuer (its own BROM) and FWID, and did not sign this evidence.
    expect: {
      errors: [
        "nvidia_device_certificate_chain_incomplete",
        "nvidia_fwid_mismatch",
        "nvidia_spdm_signature_invalid",
      ],
    },
  },
  {
    name: "BROM certificate removed from the chain",
    chain: chainWithout(1),
    expect: { errors: ["nvidia_device_certificate_chain_incomplete"] },
  },
  {
    name: "chain is only the root",
    chain: (pem) => toPem((parseCertificates(pem).at(-1) as { der: Uint8Array }).der),
    expect: {
      errors: ["nvidia_device_chain_too_short", "nvidia_fwid_missing", "nvidia_spdm_signature_invalid"],
    },
  },
  {
    name: "leaf certificate signature byte changed",
    chain: (pem) => {
      const certs = parseCertificates(pem);
      const leaf = (certs[0] as { der: Uint8Array }).der.slice();
      leaf[leaf.length - 5] = (leaf[leaf.length - 5] as number) ^ 0x01;
      return [toPem(leaf), ...certs.slice(1).map((c) => toPem(c.der))].join("");
    },
    expect: { errors: ["nvidia_device_certificate_signature_invalid"] },
  },
  {
    name: "device chain checked against the wrong pinned root",
    options: { roots: defaultRimRoots() },
    expect: { errors: ["nvidia_device_certificate_chain_untrusted"] },
  },
  { name: "chain file is not PEM", chain: () => "hello", expect: { throws: "nvidia_cert_chain_invalid" } },
];

/** RIM corruptions run on the complete offline pair: switch evidence + its BIOS RIM. */
const rimRows: Row[] = [
  {
    name: "RIM measurement hash changed",
    rim: (x) => x.replace('Hash0="9083ccee', 'Hash0="9083ccef'),
    expect: { errors: ["nvidia_rim_signature_invalid", "nvidia_measurement_mismatch"] },
  },
  {
    name: "RIM version relabelled",
    rim: (x) => x.replace('colloquialVersion="96.10.55.00.01"', 'colloquialVersion="96.10.55.00.02"'),
    expect: { errors: ["nvidia_rim_signature_invalid", "nvidia_rim_version_mismatch"] },
  },
  {
    name: "RIM entry deactivated",
    rim: (x) => x.replace(/index="3" active="True"/, 'index="3" active="False"'),
    expect: { errors: ["nvidia_rim_signature_invalid"] },
  },
  {
    name: "RIM intermediate certificate removed from KeyInfo (not signed, chain breaks)",
    rim: (x) => {
      const certs = [...x.matchAll(/<ds:X509Certificate>[^<]*<\/ds:X509Certificate>/g)];
      return x.replace(certs[1]?.[0] ?? "", "");
    },
    expect: { errors: ["nvidia_rim_certificate_chain_incomplete"] },
  },
  {
    name: "RIM with a second (wrapping) Signature element",
    rim: (x) =>
      x.replace(
        "</SoftwareIdentity>",
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></SoftwareIdentity>',
      ),
    expect: { errors: ["nvidia_rim_signature_invalid"] },
  },
  {
    name: "RIM with a forged measurement hidden in the unsigned ds:Signature (ignored, as it is not signed)",
    rim: (x) =>
      x.replace(
        "</ds:Signature>",
        `<ds:Object><ns0:Payload><ns0:Resource type="Measurement" index="100" active="True" alternatives="1" ns2:Hash0="${"ab".repeat(48)}" name="x" size="48"/></ns0:Payload></ds:Object></ds:Signature>`,
      ),
    expect: { errors: [] },
  },
  {
    name: "RIM with an xml:base attribute",
    rim: (x) => x.replace("<SoftwareIdentity ", '<SoftwareIdentity xml:base="https://x.example/" '),
    expect: { errors: ["nvidia_rim_signature_invalid"] },
  },
  {
    name: "RIM after its signer expired",
    options: { now: new Date("2028-01-01T00:00:00Z") },
    expect: { errors: ["nvidia_rim_certificate_expired"] },
  },
  {
    name: "RIM before its signer was issued",
    options: { now: new Date("2026-05-20T00:00:00Z") },
    expect: { errors: ["nvidia_rim_certificate_not_yet_valid"] },
  },
  {
    name: "RIM with a DOCTYPE",
    rim: (x) => `<!DOCTYPE a [<!ENTITY b "c">]>${x}`,
    expect: { throws: "nvidia_rim_malformed" },
  },
];

async function outcome(run: () => Promise<{ errors: readonly { code: string }[] }>): Promise<Outcome> {
  try {
    const result = await run();
    return { errors: result.errors.map((e) => e.code) };
  } catch (error) {
    if (!AttestError.isInstance(error)) throw error;
    return { throws: error.code };
  }
}

describe("named corruptions of real NVIDIA evidence", () => {
  it.each(rows.map((r) => [r.name, r] as const))("%s", async (_name, row) => {
    const evidence = (row.evidence ?? ((b) => b))(bytes(NV.nvtrustReport));
    const certChain = (row.chain ?? ((p) => p))(text(NV.nvtrustChain));
    expect(
      await outcome(() =>
        verifyNvidiaEvidence(evidence, {
          certChain,
          now: AT.device,
          offline: true,
          ...UNCHECKED,
          ...row.options,
        }),
      ),
    ).toEqual(row.expect);
  });

  it("the untampered baseline verifies", async () => {
    expect(
      await outcome(() =>
        verifyNvidiaEvidence(bytes(NV.nvtrustReport), {
          certChain: text(NV.nvtrustChain),
          nonce: NONCE_931D,
          now: AT.device,
          offline: true,
          ...UNCHECKED,
        }),
      ),
    ).toEqual({ errors: [] });
    expect(
      await outcome(() =>
        verifyNvidiaEvidence(bytes(NV.switchReport), {
          certChain: text(NV.switchChain),
          rims: [text(NV.rims.switchBios)],
          now: AT.switchRim,
          offline: true,
          ...UNCHECKED,
        }),
      ),
    ).toEqual({ errors: [] });
  });
});

describe("named corruptions of a real RIM", () => {
  it.each(rimRows.map((r) => [r.name, r] as const))("%s", async (_name, row) => {
    const rim = (row.rim ?? ((x) => x))(text(NV.rims.switchBios));
    expect(
      await outcome(() =>
        verifyNvidiaEvidence(bytes(NV.switchReport), {
          certChain: text(NV.switchChain),
          rims: [rim],
          now: AT.switchRim,
          offline: true,
          ...UNCHECKED,
          ...row.options,
        }),
      ),
    ).toEqual(row.expect);
  });
});
