import { assertIsAddress, type TransactionSigner } from "@solana/kit";
import type { SettlementChain } from "../chain/settlement-chain.js";
import { type Ledger, ledgerAccountKind, workerEarningsAccount } from "../ledger/index.js";
import { PaymentError } from "./errors.js";
import { PAYOUT_LOCK_KEY, type PaymentState, payoutAddressKey, payoutAttemptKey } from "./payment-state.js";
import { payout } from "./payout.js";

/**
 * One payout to a worker in flight, stored under `payouts.attempt:<workerId>` BEFORE anything is
 * signed, then again with the signed transaction before it is sent. A crash leaves it behind; the next
 * run finds its outcome on chain (by signature), sends the very same bytes again if they can still
 * land, and records the payout against the signature, once. Without a signature nothing was sent.
 */
export interface PayoutAttempt {
  readonly reference: string;
  readonly workerId: string;
  readonly to: string;
  readonly credits: number;
  readonly startedAt: number;
  readonly signature?: string;
  readonly wireTransaction?: string;
  readonly blockhash?: string;
}

/** Options of {@link payWorkerEarnings}. */
export interface WorkerPayoutOptions {
  readonly ledger: Ledger;
  readonly state: PaymentState;
  readonly chain: SettlementChain;
  /** The treasury's signer (owner of the USDC paid out). */
  readonly treasury: TransactionSigner;
  /** Pay a worker only when its earnings reach this many credits. Default 1. */
  readonly minCredits?: number;
  /** Only these workers. Default: every worker with earnings. */
  readonly workerIds?: readonly string[];
  readonly now?: () => number;
  /** How long the payout lock is held at most (another process takes over after). Default 10 min. */
  readonly lockMs?: number;
  /** Hears every payout recorded (for network events). */
  readonly onPaid?: (paid: PaidOut) => void;
}

export interface PaidOut {
  readonly workerId: string;
  readonly to: string;
  readonly credits: number;
  readonly transaction: string;
  readonly reference: string;
}

export type PayoutSkipReason = "no_payout_address" | "below_minimum" | "pending";

/** What one run did. Earnings of failed and skipped workers stay owed in the ledger. */
export interface PayoutReport {
  /** False when another process holds the payout lock (nothing was done). */
  readonly ran: boolean;
  readonly paid: readonly PaidOut[];
  readonly failed: ReadonlyArray<{ workerId: string; credits: number; code: string; message: string }>;
  readonly skipped: ReadonlyArray<{ workerId: string; credits: number; reason: PayoutSkipReason }>;
}

/**
 * Pays worker earnings in USDC from the treasury: for each worker with a payout address whose
 * earnings reach `minCredits`, one SPL transfer of all its earnings, recorded in the ledger
 * (`worker:<id>:earnings` → `external:payouts`) against the transfer's signature once it is
 * confirmed. A transfer that does not land records nothing: the earnings stay owed and the next run
 * tries again with a new reference. One run at a time across processes (a lock in the database).
 *
 * @example
 * ```ts
 * const report = await payWorkerEarnings({ ledger, state, chain, treasury: chain.treasurySigner, minCredits: 1000 });
 * ```
 */
export async function payWorkerEarnings(options: WorkerPayoutOptions): Promise<PayoutReport> {
  const { ledger, state, chain, treasury } = options;
  const now = options.now ?? Date.now;
  const minCredits = options.minCredits ?? 1;
  if (!Number.isSafeInteger(minCredits) || minCredits < 1) {
    throw new PaymentError("payment_argument_invalid", "minCredits: expected a positive integer", {
      details: { argument: "minCredits" },
    });
  }
  const lock = JSON.stringify({ owner: crypto.randomUUID(), until: now() + (options.lockMs ?? 600_000) });
  const held = await state.claim(PAYOUT_LOCK_KEY, lock);
  if (held !== lock) {
    const until = Number((JSON.parse(held) as { until?: unknown }).until);
    if (!(until < now()) || !(await state.replace(PAYOUT_LOCK_KEY, held, lock))) {
      return { ran: false, paid: [], failed: [], skipped: [] };
    }
  }
  const paid: PaidOut[] = [];
  const failed: Array<{ workerId: string; credits: number; code: string; message: string }> = [];
  const skipped: Array<{ workerId: string; credits: number; reason: PayoutSkipReason }> = [];
  const record = async (attempt: PayoutAttempt, signature: string) => {
    await ledger.recordPayout(attempt.workerId, attempt.credits, { signature });
    await state.delete(payoutAttemptKey(attempt.workerId));
    const done: PaidOut = {
      workerId: attempt.workerId,
      to: attempt.to,
      credits: attempt.credits,
      transaction: signature,
      reference: attempt.reference,
    };
    paid.push(done);
    options.onPaid?.(done);
  };
  /** An unfinished attempt: `done` once it is recorded or known dead, `pending` while it may land. */
  const resolve = async (attempt: PayoutAttempt): Promise<"done" | "pending"> => {
    const key = payoutAttemptKey(attempt.workerId);
    if (!attempt.signature || !attempt.wireTransaction || !attempt.blockhash) {
      await state.delete(key); // never signed, so never sent
      return "done";
    }
    let status = await chain.signatureStatus(attempt.signature);
    if (status === "unknown" && (await chain.isBlockhashValid(attempt.blockhash))) {
      status = await chain.resendTransaction(attempt.wireTransaction);
    }
    if (status === "unknown") {
      if (await chain.isBlockhashValid(attempt.blockhash)) return "pending";
      // Expired: it can no longer land; one last look in case it landed just before.
      status = await chain.signatureStatus(attempt.signature);
    }
    if (status === "succeeded") {
      await record(attempt, attempt.signature);
      return "done";
    }
    await state.delete(key);
    failed.push({
      workerId: attempt.workerId,
      credits: attempt.credits,
      code: "payout_failed",
      message: `payout ${attempt.signature} did not land; the earnings stay owed`,
    });
    return "done";
  };

  try {
    const workers = new Map<string, number>();
    for (const { account, kind, balance } of await ledger.accountBalances()) {
      if (kind !== "worker_earnings" || ledgerAccountKind(account) !== "worker_earnings") continue;
      workers.set(account.slice("worker:".length, -":earnings".length), balance);
    }
    for (const [key] of await state.list("payouts.attempt:")) {
      const workerId = key.slice("payouts.attempt:".length);
      if (!workers.has(workerId)) workers.set(workerId, 0);
    }
    const only = options.workerIds ? new Set(options.workerIds) : undefined;
    for (const workerId of [...workers.keys()].sort()) {
      if (only && !only.has(workerId)) continue;
      const stored = await state.get(payoutAttemptKey(workerId));
      if (stored !== undefined) {
        const outcome = await resolve(JSON.parse(stored) as PayoutAttempt);
        if (outcome === "pending") {
          skipped.push({
            workerId,
            credits: (JSON.parse(stored) as PayoutAttempt).credits,
            reason: "pending",
          });
          continue;
        }
      }
      const credits = await ledger.balance(workerEarningsAccount(workerId));
      if (credits < minCredits || credits <= 0) {
        if (credits > 0) skipped.push({ workerId, credits, reason: "below_minimum" });
        continue;
      }
      const to = await state.get(payoutAddressKey(workerId));
      if (!to) {
        skipped.push({ workerId, credits, reason: "no_payout_address" });
        continue;
      }
      const attempt: PayoutAttempt = {
        reference: `${workerId}.${now().toString(36)}.${randomHex(6)}`.slice(0, 100),
        workerId,
        to,
        credits,
        startedAt: now(),
      };
      const key = payoutAttemptKey(workerId);
      await state.set(key, JSON.stringify(attempt));
      try {
        assertIsAddress(to);
        const confirmed = await payout({
          chain,
          from: treasury,
          to,
          credits,
          reference: attempt.reference,
          onSigned: async (signed) => {
            await state.set(
              key,
              JSON.stringify({
                ...attempt,
                signature: signed.signature,
                wireTransaction: signed.wireTransaction,
                blockhash: signed.blockhash,
              } satisfies PayoutAttempt),
            );
          },
        });
        await record(attempt, confirmed.transaction);
      } catch (error) {
        const current = await state.get(key);
        const signedAttempt = current ? (JSON.parse(current) as PayoutAttempt) : attempt;
        if (signedAttempt.signature) {
          // Signed, maybe sent: the chain decides (a confirmation timeout may still land).
          const before = failed.length;
          if ((await resolve(signedAttempt)) === "pending") {
            skipped.push({ workerId, credits, reason: "pending" });
          } else if (failed.length > before) {
            failed[failed.length - 1] = failure(workerId, credits, error);
          }
        } else {
          await state.delete(key);
          failed.push(failure(workerId, credits, error));
        }
      }
    }
  } finally {
    await state.delete(PAYOUT_LOCK_KEY, lock).catch(() => undefined);
  }
  return { ran: true, paid, failed, skipped };
}

function failure(workerId: string, credits: number, error: unknown) {
  const code = (error as { code?: unknown })?.code;
  const cause = (error as { cause?: { message?: unknown } })?.cause?.message;
  return {
    workerId,
    credits,
    code: typeof code === "string" ? code : "payout_failed",
    message: `${(error as Error)?.message ?? String(error)}${typeof cause === "string" ? `: ${cause}` : ""}`,
  };
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}
