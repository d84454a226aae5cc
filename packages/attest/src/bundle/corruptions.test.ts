import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../common/bytes.js";
import { bindingReportData, decodeBinding, encodeBinding } from "./binding.js";
import { type AttestationBundle, decodeBundle, encodeBundle } from "./bundle.js";
import { type CborValue, decodeCbor, encodeCbor } from "./deterministic-cbor.js";
import { realEvidenceBundle, TDX_VECTOR_NOW } from "./test-fixtures.js";
import { verifyBundle } from "./verify-bundle.js";

type CborMap = Map<string, CborValue>;
const real = () => encodeBundle(realEvidenceBundle());
/** Decode the real bundle to its CBOR map, let `edit` change it, re-encode (bypassing encodeBundle's checks). */
const editMap = (edit: (m: CborMap) => void) => {
  const map = decodeCbor(real(), "bundle_malformed", "bundle") as CborMap;
  edit(map);
  return encodeCbor(map);
};
const cpuOf = (m: CborMap) => m.get("cpu") as CborMap;

const decodeRows: ReadonlyArray<{ name: string; bytes: () => Uint8Array; code: string }> = [
  { name: "truncated by one byte", bytes: () => real().slice(0, -1), code: "bundle_malformed" },
  {
    name: "trailing byte after the bundle",
    bytes: () => new Uint8Array([...real(), 0]),
    code: "bundle_malformed",
  },
  { name: "not a map", bytes: () => encodeCbor([1, 2, 3]), code: "bundle_malformed" },
  { name: "unknown top-level key", bytes: () => editMap((m) => m.set("extra", 1)), code: "bundle_malformed" },
  { name: "version 2", bytes: () => editMap((m) => m.set("version", 2)), code: "bundle_version_unsupported" },
  { name: "binding missing", bytes: () => editMap((m) => m.delete("binding")), code: "bundle_malformed" },
  {
    name: "cpu kind sgx",
    bytes: () => editMap((m) => cpuOf(m).set("kind", "sgx")),
    code: "bundle_malformed",
  },
  {
    name: "cpu evidence empty",
    bytes: () => editMap((m) => cpuOf(m).set("evidence", new Uint8Array())),
    code: "bundle_malformed",
  },
  {
    name: "cpu certificates not an array",
    bytes: () => editMap((m) => cpuOf(m).set("certificates", new Uint8Array([1]))),
    code: "bundle_malformed",
  },
  {
    name: "collateral value a number",
    bytes: () => editMap((m) => (cpuOf(m).get("collateral") as CborMap).set("pck_crl", 5)),
    code: "bundle_malformed",
  },
  {
    name: "gpu kind unknown",
    bytes: () => editMap((m) => ((m.get("gpus") as CborMap[])[0] as CborMap).set("kind", "amd")),
    code: "bundle_malformed",
  },
  {
    name: "binding with a non-shortest integer",
    bytes: () =>
      editMap((m) => {
        const hex = toHex(m.get("binding") as Uint8Array);
        const at = hex.lastIndexOf("051a");
        m.set("binding", fromHex(`${hex.slice(0, at)}051b00000000${hex.slice(at + 4)}`));
      }),
    code: "bundle_binding_not_canonical",
  },
  {
    name: "binding with an unknown key 7",
    bytes: () =>
      editMap((m) => {
        const hex = toHex(m.get("binding") as Uint8Array);
        m.set("binding", fromHex(`a6${hex.slice(2)}0700`));
      }),
    code: "bundle_binding_malformed",
  },
];

/** Tamper with the real evidence inside a structurally valid bundle; the verifiers must say why. */
const verifyRows: ReadonlyArray<{
  name: string;
  edit: (b: AttestationBundle) => AttestationBundle;
  code: string;
}> = [
  {
    name: "TDX quote signature byte flipped",
    edit: (b) => {
      const evidence = b.cpu.evidence.slice();
      evidence[640]! ^= 1;
      return { ...b, cpu: { ...b.cpu, evidence } };
    },
    code: "tdx_quote_signature_invalid",
  },
  {
    name: "TDX report_data rewritten to SHA-512(binding) (signature no longer holds)",
    edit: (b) => {
      const evidence = b.cpu.evidence.slice();
      evidence.set(bindingReportData(b.binding), 48 + 520);
      return { ...b, cpu: { ...b.cpu, evidence } };
    },
    code: "tdx_quote_signature_invalid",
  },
  {
    name: "GPU SPDM signature byte flipped",
    edit: (b) => {
      const gpu = b.gpus[0]!;
      const evidence = gpu.evidence.slice();
      evidence[evidence.length - 5]! ^= 1;
      return { ...b, gpus: [{ ...gpu, evidence }] };
    },
    code: "nvidia_spdm_signature_invalid",
  },
  {
    name: "GPU device chain without its root",
    edit: (b) => ({ ...b, gpus: [{ ...b.gpus[0]!, certificates: b.gpus[0]!.certificates.slice(0, 3) }] }),
    code: "nvidia_device_certificate_chain_incomplete",
  },
  {
    name: "binding re-issued an hour later",
    edit: (b) => ({
      ...b,
      binding: encodeBinding({
        ...decodeBinding(b.binding),
        issuedAt: decodeBinding(b.binding).issuedAt - 7200,
      }),
    }),
    code: "bundle_stale",
  },
];

describe("named corruptions", () => {
  for (const row of decodeRows) {
    it(`decode: ${row.name} → ${row.code}`, () => {
      expect(() => decodeBundle(row.bytes())).toThrowError(expect.objectContaining({ code: row.code }));
    });
  }
  for (const row of verifyRows) {
    it(`verify: ${row.name} → ${row.code}`, async () => {
      const result = await verifyBundle(row.edit(realEvidenceBundle()), {
        policy: { models: { "peer-mixtral": { weightsDigests: ["33".repeat(32)] } } },
        now: TDX_VECTOR_NOW,
        offline: true,
      });
      expect(result.ok).toBe(false);
      expect(result.errors.map((e) => e.code)).toContain(row.code);
    });
  }
});
