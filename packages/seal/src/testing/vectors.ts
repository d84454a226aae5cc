import { readVectorJson } from "@peercycles/internal-vectors";
import { fromHex } from "../bytes.js";

/** One RFC 9180 test vector entry, as in the cfrg `test-vectors.json`. */
export interface HpkeVector {
  mode: number;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  info: string;
  ikmR: string;
  ikmE: string;
  ikmS?: string;
  skRm: string;
  skEm: string;
  skSm?: string;
  pkRm: string;
  pkEm: string;
  pkSm?: string;
  psk?: string;
  psk_id?: string;
  enc: string;
  shared_secret: string;
  key: string;
  base_nonce: string;
  exporter_secret: string;
  encryptions: { aad: string; ct: string; nonce: string; pt: string }[];
  exports: { exporter_context: string; L: number; exported_value: string }[];
}

export const hex = fromHex;

export function loadHpkeVectors(
  file: "hpke/rfc9180-x25519-subset.json" | "hpke/rfc9180-test-vectors.json",
): HpkeVector[] {
  return readVectorJson<HpkeVector[]>(file);
}

export function vectorName(v: HpkeVector): string {
  const h = (n: number) => `0x${n.toString(16).padStart(4, "0")}`;
  return `mode ${v.mode} kem ${h(v.kem_id)} kdf ${h(v.kdf_id)} aead ${h(v.aead_id)}`;
}
