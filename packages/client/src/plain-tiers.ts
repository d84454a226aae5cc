import { sha256 } from "@noble/hashes/sha2.js";
import {
  CompletionAccumulator,
  type CompletionOutput,
  completionOutputOf,
  fromBase64Url,
  outputCommitment,
  PEER_HEADERS,
  SEALED_REQUEST_MEDIA_TYPE,
  SEALED_RESPONSE_MEDIA_TYPE,
  SEALED_STREAM_MEDIA_TYPE,
} from "@peercycles/protocol";
import { checkReceipt, readPeerInfo } from "./check-receipt.js";
import { PeerCyclesError } from "./errors.js";
import { jsonResponse, mediaType, responseHeaders } from "./response-utilities.js";
import { SSE_DONE, SseSplitter, sseBlock, sseData, sseEvent, streamFromGenerator } from "./sse.js";
import type { PeerVerification } from "./verification.js";

/** The facts of a plain (open or verified) chat request the answer is checked against. */
export interface PlainCall {
  readonly tier: "open" | "verified";
  readonly model: string;
  /** The exact request body bytes sent. */
  readonly body: Uint8Array;
}

const OPEN_VERIFICATION: PeerVerification = {
  ok: true,
  tier: "open",
  simulated: false,
  worker: null,
  receipt: null,
  attestation: null,
};

/** Verifies a `peer` object of a plain answer; returns it with `verification`. */
async function verifyPlainPeer(
  value: unknown,
  call: PlainCall,
  output: () => CompletionOutput,
): Promise<Record<string, unknown>> {
  if (call.tier === "open") {
    const peer = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
    const worker = typeof peer.worker === "string" ? peer.worker : null;
    return { ...peer, verification: { ...OPEN_VERIFICATION, worker } };
  }
  const peer = readPeerInfo(value, "verified");
  let signingKey: Uint8Array;
  try {
    signingKey = fromBase64Url(peer.receipt.signing_key);
  } catch (error) {
    throw new PeerCyclesError("response_invalid", "the receipt's signing_key is not base64url", {
      cause: error,
    });
  }
  const receipt = await checkReceipt(peer, signingKey, {
    requestHash: sha256(call.body),
    responseHash: sha256(new TextEncoder().encode(outputCommitment(output()))),
    model: call.model,
    worker: peer.worker,
  });
  const verification: PeerVerification = {
    ok: true,
    tier: "verified",
    simulated: false,
    worker: peer.worker,
    receipt,
    attestation: null,
  };
  return { ...peer, verification };
}

function checkPlainHeaders(response: Response, call: PlainCall): void {
  const tier = response.headers.get(PEER_HEADERS.tier);
  if (call.tier === "verified" && tier !== null && tier !== "verified") {
    throw new PeerCyclesError("tier_downgrade", `asked for the verified tier, the node answered ${tier}`, {
      details: { expected: "verified", actual: tier },
    });
  }
  const type = mediaType(response);
  if ([SEALED_REQUEST_MEDIA_TYPE, SEALED_RESPONSE_MEDIA_TYPE, SEALED_STREAM_MEDIA_TYPE].includes(type)) {
    throw new PeerCyclesError("response_invalid", `a ${call.tier} request was answered with ${type}`);
  }
}

/** Checks a plain JSON completion (receipt over its output for `verified`) and adds `peer.verification`. */
export async function checkPlainAnswer(response: Response, call: PlainCall): Promise<Response> {
  checkPlainHeaders(response, call);
  let completion: Record<string, unknown>;
  try {
    completion = (await response.json()) as Record<string, unknown>;
  } catch (error) {
    throw new PeerCyclesError("response_invalid", "the answer is not JSON", { cause: error });
  }
  if (typeof completion !== "object" || completion === null || !Array.isArray(completion.choices)) {
    throw new PeerCyclesError("response_invalid", "the answer is not a chat completion");
  }
  const peer = await verifyPlainPeer(completion.peer, call, () =>
    completionOutputOf(completion as Parameters<typeof completionOutputOf>[0]),
  );
  return jsonResponse(response, { ...completion, peer });
}

/**
 * Passes a plain SSE stream on event by event. The `peer` chunk (empty `choices`) is held back and,
 * for `verified`, its receipt checked over the accumulated deltas once `[DONE]` arrives; then it is
 * sent with `verification`, then `[DONE]`. An open stream without a `peer` chunk gets one.
 */
export function checkPlainStream(
  response: Response,
  call: PlainCall,
  onFailure: (error: unknown) => void,
): Response {
  checkPlainHeaders(response, call);
  const body = response.body;
  if (!body) throw new PeerCyclesError("response_invalid", "the stream has no body");
  const reader = body.getReader();

  async function* run(): AsyncGenerator<Uint8Array, void> {
    const splitter = new SseSplitter();
    const accumulator = new CompletionAccumulator();
    let peerChunk: Record<string, unknown> | undefined;
    let template: Record<string, unknown> | undefined;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of splitter.push(value)) {
          const data = sseData(event);
          if (data === undefined) {
            yield sseBlock(event);
            continue;
          }
          if (data === SSE_DONE) {
            const chunk = peerChunk ?? (call.tier === "open" ? { ...template, choices: [] } : undefined);
            const peer = await verifyPlainPeer(chunk?.peer, call, () => accumulator.output());
            yield sseEvent(JSON.stringify({ ...chunk, object: "chat.completion.chunk", choices: [], peer }));
            yield sseEvent(SSE_DONE);
            return;
          }
          let chunk: Record<string, unknown>;
          try {
            chunk = JSON.parse(data) as Record<string, unknown>;
          } catch (error) {
            throw new PeerCyclesError("response_invalid", "a stream event is not JSON", { cause: error });
          }
          if (typeof chunk !== "object" || chunk === null) {
            throw new PeerCyclesError("response_invalid", "a stream event is not a JSON object");
          }
          if (peerChunk)
            throw new PeerCyclesError("response_invalid", "a stream event follows the peer chunk");
          if ("peer" in chunk && (!Array.isArray(chunk.choices) || chunk.choices.length === 0)) {
            peerChunk = chunk;
            continue;
          }
          if (template === undefined) {
            template = { id: chunk.id, created: chunk.created, model: chunk.model };
          }
          if (!("error" in chunk)) accumulator.add(chunk as Parameters<CompletionAccumulator["add"]>[0]);
          yield sseBlock(event);
        }
      }
      throw new PeerCyclesError("response_invalid", "the stream ended before [DONE]");
    } catch (error) {
      onFailure(error);
      throw error;
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  return new Response(streamFromGenerator(run()), {
    status: response.status,
    statusText: response.statusText,
    headers: responseHeaders(response, "text/event-stream; charset=utf-8"),
  });
}
