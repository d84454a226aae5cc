const CHAIN_ERROR_MARKER = Symbol.for("peercycles.node.chain.error");

/** Where the chain error codes are documented. */
export const CHAIN_ERRORS_DOCS =
  "https://github.com/peercycles/peercycles/blob/main/packages/node/src/chain/README.md#error-codes";

/**
 * Stable codes of {@link ChainError}. `chain_unavailable` is the only retryable one: the RPC endpoint
 * could not be reached, which says nothing about the transaction.
 */
export type ChainErrorCode =
  | "chain_argument_invalid"
  | "chain_transaction_failed"
  | "chain_unavailable"
  | "chain_closed";

export interface ChainErrorOptions {
  cause?: unknown;
  /** Structured facts about the failure (argument name, transaction error, logs). */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error the settlement chain adapters throw, with a stable `code` to branch on.
 *
 * @example
 * ```ts
 * try {
 *   await chain.fund(owner, 5);
 * } catch (error) {
 *   if (ChainError.isInstance(error) && error.code === "chain_transaction_failed") report(error.details);
 * }
 * ```
 */
export class ChainError extends Error {
  readonly code: ChainErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [CHAIN_ERROR_MARKER] = true;

  constructor(code: ChainErrorCode, message: string, options: ChainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ChainError";
    this.code = code;
    this.details = options.details;
  }

  /** Whether trying again later may succeed (only `chain_unavailable`). */
  get retryable(): boolean {
    return this.code === "chain_unavailable";
  }

  /** Link to the table that documents this error's code. */
  get docsUrl(): string {
    return CHAIN_ERRORS_DOCS;
  }

  /** True for any `ChainError`, even one from another copy of this package. */
  static isInstance(value: unknown): value is ChainError {
    return typeof value === "object" && value !== null && CHAIN_ERROR_MARKER in value;
  }

  toJSON(): { code: ChainErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Throws `chain_argument_invalid` naming the argument. */
export function invalidArgument(name: string, message: string, cause?: unknown): never {
  throw new ChainError("chain_argument_invalid", `${name}: ${message}`, {
    details: { argument: name },
    cause,
  });
}
