import { sha256 } from "@noble/hashes/sha2.js";
import {
  fromBase64Url,
  PEER_HEADERS,
  type PeerInfo,
  SEALED_FRAME,
  SEALED_REQUEST_MEDIA_TYPE,
  SEALED_RESPONSE_MEDIA_TYPE,
  SEALED_STREAM_MEDIA_TYPE,
  SealedFrameReader,
} from "@peercycles/protocol";
import {
  type ChunkedRequestEncapsulator,
  createChunkedRequestEncapsulator,
  encapsulateRequest,
  type OhttpClientContext,
} from "@peercycles/seal";
import type { AttestedWorker } from "./attestation-cache.js";
import { checkReceipt, readPeerInfo } from "./check-receipt.js";
import { PeerCyclesError } from "./errors.js";
import { jsonResponse, mediaType, responseHeaders } from "./response-utilities.js";
import { SSE_DONE, SseSplitter, sseBlock, sseData, sseEvent, streamFromGenerator } from "./sse.js";
import type { PeerVerification } from "./verification.js";

/** A request body sealed to an attested enclave, and how to open its answer. */
export type SealedRequest =
  | { readonly stream: false; readonly bytes: Uint8Array; readonly context: OhttpClientContext }
  | { readonly stream: true; readonly bytes: Uint8Array; readonly encapsulator: ChunkedRequestEncapsulator };

/**
 * Seals a JSON body to the attested key: RFC 9458 for one answer, a chunked OHTTP request (one
 * chunk, collected to bytes: browsers cannot stream request bodies) for a stream.
 */
export async function sealRequest(
  attested: AttestedWorker,
  body: Uint8Array,
  stream: boolean,
): Promise<SealedRequest> {
  if (!stream) {
    const { encapsulatedRequest, context } = await encapsulateRequest(attested.keyConfig, body);
    return { stream: false, bytes: encapsulatedRequest, context };
  }
  const encapsulator = await createChunkedRequestEncapsulator(attested.keyConfig);
  const collected = new Response(encapsulator.readable).arrayBuffer();
  const writer = encapsulator.writable.getWriter();
  await writer.write(body);
  await writer.close();
  return { stream: true, bytes: new Uint8Array(await collected), encapsulator };
}

/** The clear routing headers of a sealed request. */
export function sealedRequestHeaders(base: Headers, attested: AttestedWorker, stream: boolean): Headers {
  const headers = new Headers(base);
  headers.delete("content-length");
  headers.set("content-type", SEALED_REQUEST_MEDIA_TYPE);
  headers.set(PEER_HEADERS.worker, attested.worker);
  headers.set(PEER_HEADERS.keyId, String(attested.keyConfig.keyId));
  headers.set(PEER_HEADERS.model, attested.model);
  headers.set(PEER_HEADERS.tier, "confidential");
  headers.set(PEER_HEADERS.stream, stream ? "1" : "0");
  headers.set("accept", stream ? SEALED_STREAM_MEDIA_TYPE : SEALED_RESPONSE_MEDIA_TYPE);
  return headers;
}

function verificationOf(attested: AttestedWorker, receipt: PeerVerification["receipt"]): PeerVerification {
  return {
    ok: true,
    tier: "confidential",
    simulated: attested.simulated,
    worker: attested.worker,
    receipt,
    attestation: attested.summary,
  };
}

/** Checks a confidential answer's `peer` object and receipt against the attestation and the bytes. */
async function checkConfidentialPeer(
  value: unknown,
  attested: AttestedWorker,
  requestHash: Uint8Array,
  responseHash: Uint8Array,
): Promise<{ peer: PeerInfo; verification: PeerVerification }> {
  const peer = readPeerInfo(value, "confidential");
  if (peer.worker !== attested.worker) {
    throw new PeerCyclesError(
      "tier_downgrade",
      `the answer comes from worker "${peer.worker}", not the attested "${attested.worker}"`,
      { details: { expected: attested.worker, actual: peer.worker } },
    );
  }
  if (peer.key_id !== undefined && peer.key_id !== attested.keyConfig.keyId) {
    throw new PeerCyclesError(
      "key_mismatch",
      `the answer names key id ${peer.key_id}, the request was sealed to ${attested.keyConfig.keyId}`,
      { details: { expected: attested.keyConfig.keyId, actual: peer.key_id } },
    );
  }
  const receipt = await checkReceipt(peer, attested.signingKey, {
    requestHash,
    responseHash,
    model: attested.model,
    worker: attested.worker,
  });
  return { peer, verification: verificationOf(attested, receipt) };
}

/** Checks the clear response headers of a sealed answer: same tier, worker and key as sent. */
export function checkSealedAnswerHeaders(
  response: Response,
  attested: AttestedWorker,
  stream: boolean,
): void {
  const tier = response.headers.get(PEER_HEADERS.tier);
  if (tier !== null && tier !== "confidential") {
    throw new PeerCyclesError(
      "tier_downgrade",
      `asked for the confidential tier, the node answered ${tier}`,
      {
        details: { expected: "confidential", actual: tier },
      },
    );
  }
  const worker = response.headers.get(PEER_HEADERS.worker);
  if (worker !== null && worker !== attested.worker) {
    throw new PeerCyclesError(
      "tier_downgrade",
      `the answer comes from worker "${worker}", not the attested "${attested.worker}"`,
      { details: { expected: attested.worker, actual: worker } },
    );
  }
  const keyId = response.headers.get(PEER_HEADERS.keyId);
  if (keyId !== null && keyId !== String(attested.keyConfig.keyId)) {
    throw new PeerCyclesError(
      "key_mismatch",
      `the answer names key id ${keyId}, the request was sealed to ${attested.keyConfig.keyId}`,
      { details: { expected: attested.keyConfig.keyId, actual: keyId } },
    );
  }
  const type = mediaType(response);
  const expected = stream ? SEALED_STREAM_MEDIA_TYPE : SEALED_RESPONSE_MEDIA_TYPE;
  if (type !== expected) {
    throw new PeerCyclesError(
      "tier_downgrade",
      `a sealed request was answered with ${type || "no content type"}, not ${expected}: refusing a plaintext answer`,
      { details: { expected, actual: type } },
    );
  }
}

/** Opens a sealed JSON answer, checks its receipt and returns the completion with `peer.verification`. */
export async function openSealedAnswer(
  response: Response,
  sealed: Extract<SealedRequest, { stream: false }>,
  attested: AttestedWorker,
): Promise<Response> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  let plaintext: Uint8Array;
  try {
    plaintext = await sealed.context.openResponse(bytes);
  } catch (error) {
    throw new PeerCyclesError(
      "sealed_response_invalid",
      "the sealed answer does not open: tampered, replayed or for another request",
      { cause: error },
    );
  }
  const info = response.headers.get(PEER_HEADERS.info);
  if (info === null)
    throw new PeerCyclesError("receipt_missing", "the sealed answer carries no peer-info header");
  let peerValue: unknown;
  try {
    peerValue = JSON.parse(new TextDecoder().decode(fromBase64Url(info)));
  } catch (error) {
    throw new PeerCyclesError("response_invalid", "the peer-info header is not base64url JSON", {
      cause: error,
    });
  }
  const { peer, verification } = await checkConfidentialPeer(
    peerValue,
    attested,
    sha256(sealed.bytes),
    sha256(bytes),
  );
  let completion: unknown;
  try {
    completion = JSON.parse(new TextDecoder().decode(plaintext));
  } catch (error) {
    throw new PeerCyclesError("response_invalid", "the opened answer is not JSON", { cause: error });
  }
  if (typeof completion !== "object" || completion === null || Array.isArray(completion)) {
    throw new PeerCyclesError("response_invalid", "the opened answer is not a JSON object");
  }
  return jsonResponse(response, { ...(completion as object), peer: { ...peer, verification } });
}

function streamError(message: string, cause?: unknown): PeerCyclesError {
  if (PeerCyclesError.isInstance(cause)) return cause;
  return new PeerCyclesError("sealed_stream_invalid", message, cause === undefined ? {} : { cause });
}

/**
 * Opens a sealed stream: frames → sealed chunked-OHTTP bytes → plaintext SSE, passed on event by
 * event as each chunk authenticates. `[DONE]` is held back until the final `peer` frame's receipt
 * verified over SHA-256 of every sealed byte; then the `peer` chunk (with `verification`) and
 * `[DONE]` follow. Any failure errors the stream before `[DONE]`.
 */
export function openSealedStream(
  response: Response,
  sealed: Extract<SealedRequest, { stream: true }>,
  attested: AttestedWorker,
  onFailure: (error: unknown) => void,
): Response {
  const body = response.body;
  if (!body) throw new PeerCyclesError("sealed_stream_invalid", "the sealed stream has no body");
  const frames = new SealedFrameReader();
  const hasher = sha256.create();
  let peerPayload: Uint8Array | undefined;
  const bodyReader = body.getReader();
  const sealedBytes = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const { value, done } = await bodyReader.read();
          if (done) {
            try {
              frames.end();
            } catch (error) {
              throw streamError("the sealed stream ends inside a frame", error);
            }
            if (!peerPayload) throw streamError("the sealed stream ends without its peer frame");
            controller.close();
            return;
          }
          let got: ReturnType<SealedFrameReader["push"]>;
          try {
            got = frames.push(value);
          } catch (error) {
            throw streamError("the sealed stream's framing is invalid", error);
          }
          let enqueued = false;
          for (const frame of got) {
            if (peerPayload) throw streamError("a frame follows the final peer frame");
            if (frame.kind === SEALED_FRAME.sealed) {
              hasher.update(frame.payload);
              controller.enqueue(frame.payload);
              enqueued = true;
            } else peerPayload = frame.payload;
          }
          if (enqueued) return;
        }
      },
      cancel(reason) {
        return bodyReader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  const plaintext = sealedBytes.pipeThrough(sealed.encapsulator.createResponseOpener()).getReader();
  const requestHash = sha256(sealed.bytes);

  async function* run(): AsyncGenerator<Uint8Array, void> {
    const splitter = new SseSplitter();
    let doneSeen = false;
    let template: { id?: unknown; created?: unknown; model?: unknown } | undefined;
    let finished = false;
    try {
      try {
        for (;;) {
          const { value, done } = await plaintext.read();
          if (done) break;
          for (const event of splitter.push(value)) {
            const data = sseData(event);
            if (doneSeen) throw streamError("sealed plaintext continues after [DONE]");
            if (data === SSE_DONE) {
              doneSeen = true;
              continue;
            }
            if (template === undefined && data !== undefined) {
              try {
                template = JSON.parse(data) as typeof template;
              } catch {
                template = {};
              }
            }
            yield sseBlock(event);
          }
        }
        if (splitter.rest().trim() !== "") throw streamError("sealed plaintext ends inside an event");
        if (!doneSeen) throw streamError("sealed plaintext ends without [DONE]");
      } catch (error) {
        throw streamError("the sealed stream does not open: truncated, reordered or tampered", error);
      }
      if (!peerPayload) throw streamError("the sealed stream ends without its peer frame");
      let peerValue: unknown;
      try {
        peerValue = JSON.parse(new TextDecoder().decode(peerPayload));
      } catch (error) {
        throw new PeerCyclesError("response_invalid", "the peer frame is not JSON", { cause: error });
      }
      const { peer, verification } = await checkConfidentialPeer(
        peerValue,
        attested,
        requestHash,
        hasher.digest(),
      );
      yield sseEvent(
        JSON.stringify({
          ...(template?.id !== undefined ? { id: template.id } : {}),
          object: "chat.completion.chunk",
          ...(template?.created !== undefined ? { created: template.created } : {}),
          ...(template?.model !== undefined ? { model: template.model } : {}),
          choices: [],
          peer: { ...peer, verification },
        }),
      );
      yield sseEvent(SSE_DONE);
      finished = true;
    } catch (error) {
      onFailure(error);
      throw error;
    } finally {
      if (!finished) await plaintext.cancel().catch(() => undefined);
    }
  }

  return new Response(streamFromGenerator(run()), {
    status: response.status,
    statusText: response.statusText,
    headers: responseHeaders(response, "text/event-stream; charset=utf-8"),
  });
}
