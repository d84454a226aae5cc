import { describe, expect, it } from "vitest";
import {
  holdAccount,
  isInternalAccount,
  ledgerAccountKind,
  userAccount,
  workerBondAccount,
  workerEarningsAccount,
} from "./account-names.js";
import { LedgerError } from "./errors.js";

describe("ledger account names", () => {
  it("build and classify every kind", () => {
    expect(ledgerAccountKind(userAccount("a"))).toBe("user");
    expect(ledgerAccountKind(holdAccount("j:1"))).toBe("hold");
    expect(ledgerAccountKind(workerEarningsAccount("w:1"))).toBe("worker_earnings");
    expect(ledgerAccountKind(workerBondAccount("w"))).toBe("worker_bond");
    expect(ledgerAccountKind("treasury:fees")).toBe("treasury");
    expect(ledgerAccountKind("burn")).toBe("burn");
    expect(ledgerAccountKind("issuance")).toBe("issuance");
    expect(ledgerAccountKind("external:usdc")).toBe("external");
    for (const bad of ["", "user:", "hold:has space", "worker:w", "external:other", "treasury"]) {
      expect(ledgerAccountKind(bad), bad).toBeUndefined();
    }
  });

  it("only issuance and external accounts may go negative", () => {
    expect(
      ["user:a", "hold:j", "worker:w:earnings", "worker:w:bond", "treasury:fees", "burn"].every(
        isInternalAccount,
      ),
    ).toBe(true);
    expect(
      ["issuance", "external:usdc", "external:bonds", "external:payouts", "junk"].some(isInternalAccount),
    ).toBe(false);
  });

  it("refuse ids with spaces, control characters or over 200 characters", () => {
    for (const bad of ["", "a b", "a\nb", "é", "x".repeat(201)]) {
      expect(() => userAccount(bad)).toThrow(LedgerError);
    }
  });
});

describe("LedgerError", () => {
  it("is recognised across copies through its Symbol.for marker, with a docs link", () => {
    const error = new LedgerError("insufficient_credits", "no", { details: { available: 1, required: 2 } });
    expect(LedgerError.isInstance(error)).toBe(true);
    expect(error.docsUrl).toMatch(/#ledger-error-codes-insufficient-credits$/);
    expect(error.retryable).toBe(false);
    const foreign = Object.defineProperty({ code: "x" }, Symbol.for("peercycles.node.ledger.error"), {
      value: true,
    });
    expect(LedgerError.isInstance(foreign)).toBe(true);
    expect(LedgerError.isInstance(new Error("x"))).toBe(false);
    expect(Object.isFrozen(error.details)).toBe(true);
  });
});
