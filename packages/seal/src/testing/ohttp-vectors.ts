import { readVectorJson } from "@peercycles/internal-vectors";

/** Shape of one example in `hpke/ohttp-rfc9458-vectors.json`. */
export interface OhttpExample {
  key_id: number;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  request_label: string;
  response_label: string;
  gateway_x25519_secret_key: string;
  key_config: string;
  request_bhttp: string;
  client_ephemeral_secret_key: string;
  client_ephemeral_public_key: string;
  hpke_info: string;
  encapsulated_request: string;
  response_bhttp: string;
  response_export_secret: string;
  response_aead_key: string;
  response_aead_nonce: string;
  encapsulated_response: string;
  response_nonce: string;
  response_chunk_nonces?: string[];
  encapsulated_request_parts?: { header: string; enc: string; chunks_with_varint_len_prefix: string[] };
  encapsulated_response_parts?: { response_nonce: string; chunks_with_varint_len_prefix: string[] };
}

export interface OhttpVectors {
  rfc9458_appendix_a: OhttpExample;
  chunked_ohttp_draft_example: OhttpExample;
}

export function loadOhttpVectors(): OhttpVectors {
  return readVectorJson<OhttpVectors>("hpke/ohttp-rfc9458-vectors.json");
}
