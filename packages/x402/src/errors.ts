const X402_ERROR_MARKER = Symbol.for("peercycles.x402.error");

/** Where the client error codes are documented. */
export const X402_ERRORS_DOCS =
  "https://github.com/peercycles/peercycles/blob/main/packages/x402/README.md#error-codes";

/**
 * Stable codes of {@link X402Error}.
 *
 * - `spending_cap_exceeded`: paying would pass `maxPerRequestUsdc` or `maxPerSessionUsdc`; nothing was signed.
 * - `payment_asset_unsupported`: the server asked for something else than USDC; nothing was signed.
 * - `payment_failed`: the 402 challenge could not be read or the payment could not be built or signed.
 * - `credits_purchase_failed`: `/credits/buy` did not answer 200 with credits (see `details.status`).
 * - `argument_invalid`: a bad argument (named in `details.argument`).
 */
export type X402ErrorCode =
  | "spending_cap_exceeded"
  | "payment_asset_unsupported"
  | "payment_failed"
  | "credits_purchase_failed"
  | "argument_invalid";

export interface X402ErrorOptions {
  cause?: unknown;
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error of `@peercycles/x402`, with a stable `code` to branch on.
 *
 * @example
 * ```ts
 * try {
 *   await payingFetch(url);
 * } catch (error) {
 *   if (X402Error.isInstance(error) && error.code === "spending_cap_exceeded") askTheUser();
 * }
 * ```
 */
export class X402Error extends Error {
  readonly code: X402ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [X402_ERROR_MARKER] = true;

  constructor(code: X402ErrorCode, message: string, options: X402ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "X402Error";
    this.code = code;
    this.details = options.details;
  }

  /** Link to the table that documents this error's code. */
  get docsUrl(): string {
    return X402_ERRORS_DOCS;
  }

  /** True for any `X402Error`, even one from another copy of this package. */
  static isInstance(value: unknown): value is X402Error {
    return typeof value === "object" && value !== null && X402_ERROR_MARKER in value;
  }

  toJSON(): { code: X402ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function invalidArgument(name: string, message: string, cause?: unknown): never {
  throw new X402Error("argument_invalid", `${name}: ${message}`, { details: { argument: name }, cause });
}
