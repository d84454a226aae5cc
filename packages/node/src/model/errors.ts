const MODEL_ERROR_MARKER = Symbol.for("peercycles.node.model.error");

/** Where the model error codes are documented. */
export const MODEL_ERRORS_DOCS =
  "https://github.com/peercycles/peercycles/blob/main/packages/node/src/model/README.md#error-codes";

/**
 * Stable codes of {@link ModelError}. `upstream_unavailable` is the only retryable one: the upstream
 * could not be reached or dropped the connection, which says nothing about the request.
 */
export type ModelErrorCode =
  | "model_request_invalid"
  | "upstream_unavailable"
  | "upstream_error"
  | "model_weights_missing"
  | "model_weights_invalid"
  | "generation_aborted";

export interface ModelErrorOptions {
  cause?: unknown;
  /** Structured facts about the failure (argument name, HTTP status, upstream message). */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error every inference backend throws, with a stable `code` to branch on.
 *
 * @example
 * ```ts
 * try {
 *   for await (const event of backend.generate(request)) use(event);
 * } catch (error) {
 *   if (ModelError.isInstance(error) && error.retryable) retryLater();
 * }
 * ```
 */
export class ModelError extends Error {
  readonly code: ModelErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [MODEL_ERROR_MARKER] = true;

  constructor(code: ModelErrorCode, message: string, options: ModelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ModelError";
    this.code = code;
    this.details = options.details;
  }

  /** Whether trying again later may succeed (only `upstream_unavailable`). */
  get retryable(): boolean {
    return this.code === "upstream_unavailable";
  }

  /** Link to the table that documents this error's code. */
  get docsUrl(): string {
    return MODEL_ERRORS_DOCS;
  }

  /** True for any `ModelError`, even one from another copy of this package. */
  static isInstance(value: unknown): value is ModelError {
    return typeof value === "object" && value !== null && MODEL_ERROR_MARKER in value;
  }

  toJSON(): { code: ModelErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
