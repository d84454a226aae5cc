import { API_ERRORS, type ApiErrorCode, apiErrorBody } from "@peercycles/protocol";

/**
 * An error the node answers a client with: one of the protocol's API error codes, its HTTP status
 * and OpenAI type, and a precise message.
 */
export class NodeError extends Error {
  override readonly name = "NodeError";
  readonly code: ApiErrorCode;
  readonly param: string | null;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ApiErrorCode,
    message?: string,
    options: { param?: string | null; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message ?? API_ERRORS[code].message, { cause: options.cause });
    this.code = code;
    this.param = options.param ?? null;
    this.details = options.details;
  }

  get status(): number {
    return API_ERRORS[this.code].status;
  }

  toBody(): ReturnType<typeof apiErrorBody> {
    return apiErrorBody(this.code, this.message, this.param);
  }

  static isInstance(value: unknown): value is NodeError {
    return value instanceof NodeError;
  }
}
