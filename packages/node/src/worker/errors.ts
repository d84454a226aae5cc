const WORKER_ERROR_MARKER = Symbol.for("peercycles.node.worker.error");

/** Where the worker error codes are documented. */
export const WORKER_ERRORS_DOCS =
  "https://github.com/peercycles/peercycles/blob/main/packages/node/src/worker/README.md#error-codes";

/**
 * Stable codes of {@link WorkerError}:
 * - `worker_options_invalid`: an option of `startWorker`/`startValidator` is wrong (`details.argument`);
 * - `worker_rejected`: the orchestrator answered `rejected` (`details.code` is its code); never retried;
 * - `worker_connect_failed`: no `welcome` within `connectTimeoutMs` of starting (retryable);
 * - `worker_enclave_failed`: the enclave process could not start or set up (keys, model, attestation);
 * - `worker_enclave_exited`: the enclave process died while the worker ran;
 * - `worker_closed`: the worker was closed before it connected.
 */
export type WorkerErrorCode =
  | "worker_options_invalid"
  | "worker_rejected"
  | "worker_connect_failed"
  | "worker_enclave_failed"
  | "worker_enclave_exited"
  | "worker_closed";

/** Options of {@link WorkerError}. */
export interface WorkerErrorOptions {
  cause?: unknown;
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error the worker host and the validator throw, with a stable `code` to branch on.
 *
 * @example
 * ```ts
 * try {
 *   await startWorker(options);
 * } catch (error) {
 *   if (WorkerError.isInstance(error) && error.code === "worker_rejected") console.error(error.details);
 * }
 * ```
 */
export class WorkerError extends Error {
  readonly code: WorkerErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [WORKER_ERROR_MARKER] = true;

  constructor(code: WorkerErrorCode, message: string, options: WorkerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WorkerError";
    this.code = code;
    this.details = options.details;
  }

  /** Whether trying again later may succeed (only `worker_connect_failed`). */
  get retryable(): boolean {
    return this.code === "worker_connect_failed";
  }

  /** Link to the table that documents this error's code. */
  get docsUrl(): string {
    return WORKER_ERRORS_DOCS;
  }

  /** True for any `WorkerError`, even one from another copy of this package. */
  static isInstance(value: unknown): value is WorkerError {
    return typeof value === "object" && value !== null && WORKER_ERROR_MARKER in value;
  }

  toJSON(): { code: WorkerErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** An options error naming its argument. */
export function optionError(argument: string, message: string): WorkerError {
  return new WorkerError("worker_options_invalid", `${argument}: ${message}`, { details: { argument } });
}
