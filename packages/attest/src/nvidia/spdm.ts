import { ByteReader } from "../common/bytes.js";
import { EvidenceParseError } from "../common/errors.js";
import { type OpaqueData, parseOpaqueData } from "./opaque-data.js";

/**
 * SPDM 1.1 GET_MEASUREMENTS request + signed MEASUREMENTS response, as NVIDIA GPUs (GH100, GB100)
 * and NVSwitches (LS10) return them. Layout (DMTF DSP0274 1.1, NVIDIA's verifiers):
 *
 * request (37 bytes): version 0x11, code 0xE0, param1 (bit 0: signature requested), param2 (0xFF:
 * all blocks), requester nonce (32), slot id (1).
 *
 * response: version 0x11, code 0x60, param1, param2, number of blocks (u8), measurement record length
 * (u24 LE), the record (blocks: index u8, specification u8 = 1 (DMTF), size u16, then DMTF value type
 * u8, value size u16, value), responder nonce (32), opaque length (u16), opaque data, signature (96:
 * P-384 r || s over SHA-384 of every byte before it, request included).
 */
export const SPDM_VERSION_1_1 = 0x11;
export const SPDM_GET_MEASUREMENTS = 0xe0;
export const SPDM_MEASUREMENTS = 0x60;
export const SPDM_REQUEST_LENGTH = 37;
export const SPDM_SIGNATURE_LENGTH = 96;
export const SPDM_NONCE_LENGTH = 32;
const DMTF_SPECIFICATION = 0x01;

/** The GET_MEASUREMENTS request the verifier sent (part of the signed transcript). */
export interface SpdmMeasurementRequest {
  readonly version: number;
  readonly code: number;
  readonly param1: number;
  readonly param2: number;
  /** Requester nonce: the freshness value the caller chose. */
  readonly nonce: Uint8Array;
  readonly slotId: number;
}

/** One DMTF measurement block. */
export interface SpdmMeasurementBlock {
  /** SPDM block index (1-based); RIM index i corresponds to block i + 1. */
  readonly index: number;
  readonly specification: number;
  readonly valueType: number;
  readonly value: Uint8Array;
}

export interface SpdmMeasurementResponse {
  readonly version: number;
  readonly code: number;
  readonly param1: number;
  readonly param2: number;
  readonly numberOfBlocks: number;
  readonly measurementRecordLength: number;
  readonly blocks: readonly SpdmMeasurementBlock[];
  /** Responder nonce (chosen by the device; not the freshness value). */
  readonly responderNonce: Uint8Array;
  readonly opaqueData: Uint8Array;
  readonly opaque: OpaqueData;
  /** Raw r || s, 96 bytes. */
  readonly signature: Uint8Array;
}

/** Parsed SPDM evidence. `signedBytes` is the exact transcript the signature covers. */
export interface SpdmEvidence {
  readonly request: SpdmMeasurementRequest;
  readonly response: SpdmMeasurementResponse;
  /** request || response up to (not including) the signature. */
  readonly signedBytes: Uint8Array;
  /** Structure length (request + response with signature). */
  readonly length: number;
  /** Bytes after the structure; tolerated (some captures carry one) but reported. */
  readonly trailingBytes: number;
}

/**
 * Parses NVIDIA SPDM evidence. Every length comes from the structure; bytes after the signature are
 * tolerated (and counted in `trailingBytes`), never read.
 * @throws EvidenceParseError `nvidia_spdm_truncated`, `nvidia_spdm_request_invalid`,
 *   `nvidia_spdm_response_invalid`, `nvidia_spdm_measurement_invalid`, `nvidia_opaque_data_*`
 * @example
 * const evidence = parseSpdmMeasurements(bytes);
 * toHex(evidence.request.nonce); // "931d8dd0…"
 * evidence.response.opaque.driverVersion; // "550.90.07"
 */
export function parseSpdmMeasurements(bytes: Uint8Array): SpdmEvidence {
  if (!(bytes instanceof Uint8Array))
    throw new EvidenceParseError("nvidia_spdm_truncated", "SPDM evidence must be bytes");
  const r = new ByteReader(bytes, "SPDM evidence", "nvidia_spdm_truncated");
  const request: SpdmMeasurementRequest = {
    version: r.u8(0, "request version"),
    code: r.u8(1, "request code"),
    param1: r.u8(2, "request param1"),
    param2: r.u8(3, "request param2"),
    nonce: r.slice(4, SPDM_NONCE_LENGTH, "requester nonce"),
    slotId: r.u8(36, "request slot id"),
  };
  if (request.version !== SPDM_VERSION_1_1) {
    throw new EvidenceParseError(
      "nvidia_spdm_request_invalid",
      `SPDM request version 0x${request.version.toString(16)}, expected 0x11`,
    );
  }
  if (request.code !== SPDM_GET_MEASUREMENTS) {
    throw new EvidenceParseError(
      "nvidia_spdm_request_invalid",
      `SPDM request code 0x${request.code.toString(16)}, expected 0xe0 (GET_MEASUREMENTS)`,
    );
  }
  if ((request.param1 & 0x01) === 0) {
    throw new EvidenceParseError(
      "nvidia_spdm_request_invalid",
      "SPDM request did not ask for a signature (param1 bit 0 clear)",
    );
  }
  if (request.param2 !== 0xff) {
    throw new EvidenceParseError(
      "nvidia_spdm_request_invalid",
      `SPDM request param2 0x${request.param2.toString(16)}, expected 0xff (all measurement blocks)`,
    );
  }

  const base = SPDM_REQUEST_LENGTH;
  const version = r.u8(base, "response version");
  const code = r.u8(base + 1, "response code");
  if (version !== SPDM_VERSION_1_1) {
    throw new EvidenceParseError(
      "nvidia_spdm_response_invalid",
      `SPDM response version 0x${version.toString(16)}, expected 0x11`,
    );
  }
  if (code !== SPDM_MEASUREMENTS) {
    throw new EvidenceParseError(
      "nvidia_spdm_response_invalid",
      `SPDM response code 0x${code.toString(16)}, expected 0x60 (MEASUREMENTS)`,
    );
  }
  const param1 = r.u8(base + 2, "response param1");
  const param2 = r.u8(base + 3, "response param2");
  const numberOfBlocks = r.u8(base + 4, "number of blocks");
  const recordLength =
    r.u8(base + 5, "record length") |
    (r.u8(base + 6, "record length") << 8) |
    (r.u8(base + 7, "record length") << 16);
  if (numberOfBlocks === 0)
    throw new EvidenceParseError(
      "nvidia_spdm_response_invalid",
      "SPDM response carries no measurement blocks",
    );
  const recordStart = base + 8;
  r.need(recordStart, recordLength, "measurement record");
  const blocks = parseRecord(r.slice(recordStart, recordLength, "measurement record"), numberOfBlocks);

  let offset = recordStart + recordLength;
  const responderNonce = r.slice(offset, SPDM_NONCE_LENGTH, "responder nonce");
  offset += SPDM_NONCE_LENGTH;
  const opaqueLength = r.u16(offset, "opaque length");
  offset += 2;
  const opaqueData = r.slice(offset, opaqueLength, "opaque data");
  offset += opaqueLength;
  const signature = r.slice(offset, SPDM_SIGNATURE_LENGTH, "signature");
  const length = offset + SPDM_SIGNATURE_LENGTH;
  const opaque = parseOpaqueData(opaqueData);
  return {
    request,
    response: {
      version,
      code,
      param1,
      param2,
      numberOfBlocks,
      measurementRecordLength: recordLength,
      blocks,
      responderNonce,
      opaqueData,
      opaque,
      signature,
    },
    signedBytes: bytes.subarray(0, offset),
    length,
    trailingBytes: bytes.length - length,
  };
}

function parseRecord(record: Uint8Array, count: number): SpdmMeasurementBlock[] {
  const r = new ByteReader(record, "SPDM measurement record", "nvidia_spdm_measurement_invalid");
  const blocks: SpdmMeasurementBlock[] = [];
  const seen = new Set<number>();
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const index = r.u8(offset, `block ${i} index`);
    const specification = r.u8(offset + 1, `block ${i} specification`);
    const size = r.u16(offset + 2, `block ${i} size`);
    if (specification !== DMTF_SPECIFICATION) {
      throw new EvidenceParseError(
        "nvidia_spdm_measurement_invalid",
        `measurement block ${index} specification 0x${specification.toString(16)} is not DMTF (0x01)`,
      );
    }
    if (index === 0 || index === 0xff || seen.has(index)) {
      throw new EvidenceParseError(
        "nvidia_spdm_measurement_invalid",
        `measurement block index ${index} is reserved or repeated`,
      );
    }
    seen.add(index);
    const valueType = r.u8(offset + 4, `block ${index} value type`);
    const valueSize = r.u16(offset + 5, `block ${index} value size`);
    if (size !== valueSize + 3) {
      throw new EvidenceParseError(
        "nvidia_spdm_measurement_invalid",
        `measurement block ${index} size ${size} does not match its DMTF value size ${valueSize} + 3`,
      );
    }
    const value = r.slice(offset + 7, valueSize, `block ${index} value`);
    blocks.push({ index, specification, valueType, value });
    offset += 4 + size;
  }
  if (offset !== record.length) {
    throw new EvidenceParseError(
      "nvidia_spdm_measurement_invalid",
      `measurement record is ${record.length} bytes but its ${count} blocks use ${offset}`,
    );
  }
  return blocks;
}
