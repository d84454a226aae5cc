/**
 * HTTP headers of the Peer Cycles protocol. Routing headers stay in clear on a sealed request so
 * the orchestrator can route ciphertext it cannot read.
 */
export const PEER_HEADERS = {
  /** Worker id a sealed request is addressed to (request), or that served it (response). */
  worker: "peer-worker",
  /** RFC 9458 key id of the HPKE key the body is sealed to. */
  keyId: "peer-key-id",
  /** Model id of a sealed request (the body, which names it, is opaque to the orchestrator). */
  model: "peer-model",
  /** Tier of the request; on a response, the tier that served it. */
  tier: "peer-tier",
  /** Whether a sealed request asks for a stream (`1`) or one JSON answer (`0`). */
  stream: "peer-stream",
  /** Job id, on every response. */
  job: "peer-job",
  /** Price in credits of the answer (non-streamed answers; a stream carries it in its final chunk). */
  price: "peer-price-credits",
  /** The `peer` object of a sealed answer, base64url JSON (the body itself is sealed). */
  info: "peer-info",
} as const;

/** Media type of a sealed chat request body (RFC 9458 encapsulated request of the JSON body). */
export const SEALED_REQUEST_MEDIA_TYPE = "message/peer-sealed";
/** Media type of a sealed non-streamed answer (RFC 9458 encapsulated response). */
export const SEALED_RESPONSE_MEDIA_TYPE = "message/peer-sealed-response";
/** Media type of a sealed stream (chunked OHTTP response of the SSE bytes). */
export const SEALED_STREAM_MEDIA_TYPE = "message/peer-sealed-stream";

/** The prefix of every API key, for people scanning logs and secret scanners. */
export const API_KEY_PREFIX = "pc_";
/** The prefix of every worker token. */
export const WORKER_TOKEN_PREFIX = "pcw_";

/**
 * Version of the worker WebSocket protocol spoken by this package. 2 added the `chunks` frame; a
 * worker and an orchestrator of different versions are refused at `hello`
 * (`protocol_version_unsupported`), never mid-job.
 */
export const WORKER_PROTOCOL_VERSION = 2;

/** Path of the worker WebSocket endpoint on the orchestrator. */
export const WORKER_ENDPOINT_PATH = "/v1/workers/connect";
