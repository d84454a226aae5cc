import * as z from "zod/mini";

/**
 * Every error code the node answers with, its HTTP status and its OpenAI `type`. Stable: clients
 * branch on `error.code`. The docs' error index (docs/errors.md) lists the same table.
 */
export const API_ERRORS = {
  invalid_json: { status: 400, type: "invalid_request_error", message: "The body is not valid JSON." },
  invalid_request: { status: 400, type: "invalid_request_error", message: "The request is not valid." },
  tier_unknown: { status: 400, type: "invalid_request_error", message: "Unknown peer_tier." },
  model_not_found: { status: 404, type: "invalid_request_error", message: "No such model." },
  body_too_large: { status: 413, type: "invalid_request_error", message: "The body is too large." },
  unsupported_media_type: {
    status: 415,
    type: "invalid_request_error",
    message: "Unsupported content type.",
  },
  sealed_request_invalid: {
    status: 400,
    type: "invalid_request_error",
    message: "The sealed request lacks a routing header or names an unknown worker or key.",
  },
  invalid_api_key: { status: 401, type: "authentication_error", message: "Invalid API key." },
  admin_token_invalid: { status: 401, type: "authentication_error", message: "Invalid admin token." },
  insufficient_credits: { status: 402, type: "insufficient_quota", message: "Not enough credits." },
  payment_invalid: { status: 402, type: "insufficient_quota", message: "The payment was refused." },
  not_found: { status: 404, type: "invalid_request_error", message: "Not found." },
  method_not_allowed: { status: 405, type: "invalid_request_error", message: "Method not allowed." },
  no_worker_available: {
    status: 503,
    type: "service_unavailable",
    message: "No eligible worker is connected for this model and tier.",
  },
  attestation_unavailable: {
    status: 503,
    type: "service_unavailable",
    message: "The worker could not produce an attestation bundle.",
  },
  shutting_down: { status: 503, type: "service_unavailable", message: "The node is shutting down." },
  worker_failed: { status: 502, type: "server_error", message: "The worker failed the job." },
  worker_disconnected: {
    status: 502,
    type: "server_error",
    message: "The worker disconnected before finishing the job.",
  },
  worker_output_invalid: {
    status: 502,
    type: "server_error",
    message: "The worker returned output that does not check (bad receipt or malformed).",
  },
  job_timeout: { status: 504, type: "server_error", message: "The job timed out." },
  payment_settlement_failed: {
    status: 502,
    type: "server_error",
    message: "The payment could not be settled; nothing was charged.",
  },
  internal_error: { status: 500, type: "server_error", message: "Internal error." },
} as const satisfies Record<string, { status: number; type: string; message: string }>;

/** A stable error code of the node's HTTP API. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** OpenAI's error body: `{ error: { message, type, code, param } }`. */
export interface ApiErrorBody {
  error: { message: string; type: string; code: ApiErrorCode | (string & {}); param: string | null };
}

export const apiErrorBodySchema = z.object({
  error: z.looseObject({
    message: z.string(),
    type: z.string(),
    code: z.nullable(z.string()),
    param: z.optional(z.nullable(z.string())),
  }),
});

/** Builds the OpenAI-shaped error body of `code`, with an optional more precise message. */
export function apiErrorBody(
  code: ApiErrorCode,
  message?: string,
  param: string | null = null,
): ApiErrorBody {
  return {
    error: { message: message ?? API_ERRORS[code].message, type: API_ERRORS[code].type, code, param },
  };
}

/** Whether `code` is one of {@link API_ERRORS}. */
export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === "string" && Object.hasOwn(API_ERRORS, code);
}

/** Thrown by protocol parsers: a message that does not match its schema. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly code: "protocol_message_invalid" | "protocol_version_unsupported";
  /** JSON path of the first offending member, e.g. `messages.0.role`. */
  readonly path: string;
  constructor(code: ProtocolError["code"], message: string, path = "") {
    super(message);
    this.code = code;
    this.path = path;
  }
}
