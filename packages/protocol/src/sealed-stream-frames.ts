import { ProtocolError } from "./errors.js";

/**
 * Outer framing of a confidential streamed answer (`message/peer-sealed-stream`). The sealed
 * stream (chunked OHTTP, opaque to the node) travels in `sealed` frames as the enclave emits it;
 * one `peer` frame ends the body with the `peer` object (JSON), whose enclave-signed receipt commits
 * to the SHA-256 of all sealed bytes. The receipt cannot ride inside the sealed stream, because
 * it commits to that stream's bytes, and a hash of the plaintext would let the node test guesses
 * about a short answer.
 *
 * Frame: kind (1 byte: 0 sealed, 1 peer) ‖ length (4 bytes, big-endian) ‖ payload.
 */
export const SEALED_FRAME = { sealed: 0, peer: 1 } as const;

/** Most bytes one frame may carry (a bound for readers, far above any token chunk). */
export const MAX_SEALED_FRAME_LENGTH = 16 * 1024 * 1024;

/** Encodes one frame. */
export function encodeSealedFrame(kind: 0 | 1, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = kind;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** One decoded frame. */
export interface SealedFrame {
  readonly kind: 0 | 1;
  readonly payload: Uint8Array;
}

/**
 * Incremental reader: push bytes in any split, take whole frames out. `end()` throws when the
 * body stops inside a frame.
 */
export class SealedFrameReader {
  #buffer = new Uint8Array(0);

  push(bytes: Uint8Array): SealedFrame[] {
    const joined = new Uint8Array(this.#buffer.length + bytes.length);
    joined.set(this.#buffer);
    joined.set(bytes, this.#buffer.length);
    const frames: SealedFrame[] = [];
    let offset = 0;
    while (joined.length - offset >= 5) {
      const kind = joined[offset] as number;
      if (kind !== 0 && kind !== 1) {
        throw new ProtocolError("protocol_message_invalid", `sealed stream: unknown frame kind ${kind}`);
      }
      const length = new DataView(joined.buffer, joined.byteOffset + offset + 1, 4).getUint32(0);
      if (length > MAX_SEALED_FRAME_LENGTH) {
        throw new ProtocolError("protocol_message_invalid", `sealed stream: frame of ${length} bytes`);
      }
      if (joined.length - offset - 5 < length) break;
      frames.push({ kind, payload: joined.slice(offset + 5, offset + 5 + length) });
      offset += 5 + length;
    }
    this.#buffer = joined.slice(offset);
    return frames;
  }

  end(): void {
    if (this.#buffer.length > 0) {
      throw new ProtocolError(
        "protocol_message_invalid",
        `sealed stream: ${this.#buffer.length} bytes after the last whole frame`,
      );
    }
  }
}
