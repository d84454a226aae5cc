/**
 * Every failure in `@peercycles/attest` is an {@link AttestError} with a stable `code` string that
 * callers and scripts branch on. Codes never change meaning; new failures get new codes.
 *
 * Three families, because callers must treat them differently:
 * - {@link EvidenceParseError}: the bytes are not evidence of the claimed format (unusable input).
 * - {@link EvidenceInvalidError}: the evidence parses but is not genuine, or its collateral says no.
 *   Never retryable.
 * - {@link CollateralUnavailableError}: what is needed to decide could not be obtained (network,
 *   offline mode without a cache). Retryable: it says nothing about the evidence.
 * - {@link PolicyViolationError}: genuine evidence that the caller's policy does not accept.
 */
import type { BundleErrorCode } from "../bundle/error-codes.js";
import type { NvidiaErrorCode } from "../nvidia/error-codes.js";
import type { SevSnpErrorCode } from "../sev-snp/error-codes.js";
import type { TdxErrorCode } from "../tdx/error-codes.js";
import type { SharedErrorCode } from "./error-codes.js";

export type { BundleErrorCode, NvidiaErrorCode, SevSnpErrorCode, SharedErrorCode, TdxErrorCode };

/**
 * Every code `@peercycles/attest` raises or reports: the union of each subpath's codes. A code is
 * always one of these literals (none is built at run time), so `switch (error.code)` is checked by
 * the compiler and the docs' error tables are generated from the same unions.
 * @example
 * if (AttestError.isInstance(e) && e.code === "tdx_quote_signature_invalid") reject();
 */
export type AttestErrorCode =
  | SharedErrorCode
  | TdxErrorCode
  | SevSnpErrorCode
  | NvidiaErrorCode
  | BundleErrorCode;

const ATTEST_ERROR_MARKER = Symbol.for("peercycles.attest.error");

/** Base URL of the package's documentation; each error links to the error table that lists its code. */
export const ATTEST_ERRORS_DOCS =
  "https://github.com/peercycles/peercycles/blob/main/packages/attest/docs/errors.md";

const DOCS_BASE = ATTEST_ERRORS_DOCS.slice(0, ATTEST_ERRORS_DOCS.lastIndexOf("/") + 1);

/** The document whose error table lists a code, by the code's prefix. */
export function errorDocsUrl(code: string): string {
  const page =
    code === "policy_invalid"
      ? "errors.md#shared-codes"
      : code.startsWith("tdx_") || code.startsWith("collateral_")
        ? "tdx.md#error-codes"
        : code.startsWith("snp_")
          ? "sev-snp.md#error-codes"
          : code.startsWith("nvidia_")
            ? "nvidia.md#error-codes"
            : code.startsWith("bundle_") || code.startsWith("receipt_")
              ? "bundle.md#error-codes"
              : "errors.md#shared-codes";
  return `${DOCS_BASE}${page}`;
}

export interface AttestErrorOptions {
  cause?: unknown;
  /** Extra structured facts about the failure (offsets, expected and actual values). */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The base of every error. `Code` is the package's code union; another package that extends this base
 * (e.g. `@peercycles/enclave`) passes its own union and overrides `docsUrl`.
 */
export class AttestError<Code extends string = AttestErrorCode> extends Error {
  /** Stable, machine-readable code, e.g. `tdx_quote_signature_invalid`. */
  readonly code: Code;
  /** Whether trying again later may succeed (only for unavailable collateral). */
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [ATTEST_ERROR_MARKER] = true;

  constructor(code: Code, message: string, options: AttestErrorOptions & { retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AttestError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  /** Link to the error table that documents this error's code. */
  get docsUrl(): string {
    return errorDocsUrl(this.code);
  }

  /** True for any `AttestError`, even one from another copy of this package. */
  static isInstance(value: unknown): value is AttestError {
    return typeof value === "object" && value !== null && ATTEST_ERROR_MARKER in value;
  }

  toJSON(): { code: Code; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** The input is not well-formed evidence (truncated, wrong version, bad lengths, bad encoding). */
export class EvidenceParseError extends AttestError {
  constructor(code: AttestErrorCode, message: string, options?: AttestErrorOptions) {
    super(code, message, options);
    this.name = "EvidenceParseError";
  }
}

/** The evidence is well-formed but not genuine, or its collateral rejects it. */
export class EvidenceInvalidError extends AttestError {
  constructor(code: AttestErrorCode, message: string, options?: AttestErrorOptions) {
    super(code, message, options);
    this.name = "EvidenceInvalidError";
  }
}

/** Collateral needed to decide could not be obtained. Retryable; says nothing about the evidence. */
export class CollateralUnavailableError extends AttestError {
  constructor(code: AttestErrorCode, message: string, options?: AttestErrorOptions) {
    super(code, message, { ...options, retryable: true });
    this.name = "CollateralUnavailableError";
  }
}

/** The evidence is genuine but the caller's policy does not accept it. */
export class PolicyViolationError extends AttestError {
  constructor(code: AttestErrorCode, message: string, options?: AttestErrorOptions) {
    super(code, message, options);
    this.name = "PolicyViolationError";
  }
}

/** A caller passed an argument of the wrong shape (a programming error, not bad evidence). */
export class AttestArgumentError extends AttestError {
  constructor(code: AttestErrorCode, message: string, options?: AttestErrorOptions) {
    super(code, message, options);
    this.name = "AttestArgumentError";
  }
}

/** One entry of a result's `errors` list: stable code and human message. */
export interface VerificationIssue {
  readonly code: AttestErrorCode;
  readonly message: string;
}

/** Turns any thrown value into a result entry; non-AttestErrors become `internal_error`. */
export function toIssue(error: unknown): VerificationIssue {
  if (AttestError.isInstance(error)) return { code: error.code as AttestErrorCode, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: "internal_error", message };
}
