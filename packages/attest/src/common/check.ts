import { AttestError, type AttestErrorCode, type VerificationIssue } from "./errors.js";

/**
 * One line of a verification report: what was checked, whether it held, and why not. Results keep
 * every check (passed, failed and skipped) so a reviewer can see exactly what a verdict rests on.
 */
export interface Check {
  /** Short stable id, e.g. `quote_signature`. */
  readonly id: string;
  /** Human label for the table, e.g. "Quote signed by attestation key". */
  readonly label: string;
  readonly status: "pass" | "fail" | "skip";
  /** Extra words shown after the label (status values, reasons for a skip). */
  readonly detail?: string;
  /** Error code when `status` is "fail". */
  readonly code?: AttestErrorCode;
}

/**
 * Collects checks and errors while a verifier runs. `run` executes one check: an AttestError thrown
 * inside becomes a failed check and a result error; any other exception is a bug and propagates.
 */
export class CheckList {
  readonly checks: Check[] = [];
  readonly errors: VerificationIssue[] = [];

  pass(id: string, label: string, detail?: string): void {
    this.checks.push(
      detail === undefined ? { id, label, status: "pass" } : { id, label, status: "pass", detail },
    );
  }

  skip(id: string, label: string, detail: string): void {
    this.checks.push({ id, label, status: "skip", detail });
  }

  fail(id: string, label: string, issue: VerificationIssue): void {
    this.checks.push({ id, label, status: "fail", detail: issue.message, code: issue.code });
    this.errors.push(issue);
  }

  /**
   * Runs one check: its value on success; on an AttestError a failed check (and result error) and
   * undefined. A retryable error (collateral unavailable) is not a verdict on the evidence: it
   * propagates, so the caller can try again, and so does any other exception (a bug).
   */
  async run<T>(
    id: string,
    label: string,
    fn: () => Promise<T> | T,
    detail?: (value: T) => string | undefined,
  ): Promise<T | undefined> {
    try {
      const value = await fn();
      this.pass(id, label, detail?.(value));
      return value;
    } catch (error) {
      if (!AttestError.isInstance(error) || error.retryable) throw error;
      this.fail(id, label, { code: error.code, message: error.message });
      return undefined;
    }
  }

  get failed(): boolean {
    return this.errors.length > 0;
  }
}
