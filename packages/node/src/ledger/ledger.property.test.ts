import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore, type Store } from "../storage/store.js";
import { openTestDatabase, type TestDatabase } from "../storage/test-database.js";
import { isInternalAccount } from "./account-names.js";
import { checkLedger } from "./check-ledger.js";
import { LedgerError } from "./errors.js";
import { createLedger, type Ledger } from "./ledger.js";
import type { LedgerPosting } from "./postings.js";

/**
 * Model-based property test: random sequences of ledger operations (many of them meant to fail) run
 * against the real ledger and against a few lines of in-memory bookkeeping. After every step the two
 * agree on every balance, the books sum to zero, and a failed step wrote nothing at all.
 */

const USERS = 4; // index 3 never exists
const WORKERS = 3; // index 2 never exists
const JOBS = 4;
const KEYS = 3;

const invalidAmount = fc.constantFrom(0, -3, 1.5, 2 ** 53);
/** Money coming in: grants, purchases, bonds. */
const amount = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 60 }) },
  { weight: 1, arbitrary: invalidAmount },
);
/**
 * Money spent: holds, captures, payouts. Small, so that balances often sit exactly at the boundary of
 * what an operation needs.
 */
const spend: fc.Arbitrary<Spend> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 25 }) },
  { weight: 2, arbitrary: fc.constantFrom("all" as const, "over" as const) },
  { weight: 1, arbitrary: invalidAmount },
);
/** A spent amount: a number, or exactly what is available ("all") or one credit more ("over"). */
type Spend = number | "all" | "over";
const resolve = (value: Spend, available: number): number =>
  value === "all" ? available : value === "over" ? available + 1 : value;
const bps = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 10_000 }) },
  { weight: 1, arbitrary: fc.constant(10_001) },
);
// Mostly accounts and workers that exist; now and then the one that does not.
const user = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: USERS - 2 }) },
  { weight: 1, arbitrary: fc.constant(USERS - 1) },
);
const worker = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: WORKERS - 2 }) },
  { weight: 1, arbitrary: fc.constant(WORKERS - 1) },
);
const job = fc.nat({ max: JOBS - 1 });
const key = fc.nat({ max: KEYS - 1 });

type Command =
  | { op: "grant"; user: number; credits: number; key: number | null }
  | { op: "purchase"; user: number; credits: number; key: number }
  | { op: "hold"; job: number; user: number; credits: Spend }
  | { op: "capture"; job: number; credits: Spend; worker: number; feeBps: number }
  | { op: "refund"; job: number }
  | { op: "bond"; worker: number; credits: number; key: number }
  | { op: "slash"; worker: number; job: number; challenger: number; rewardBps: number }
  | { op: "payout"; worker: number; credits: Spend; key: number };

/** A job's whole life (hold, then capture or refund), so that settlements meet live holds often. */
const lifecycle: fc.Arbitrary<Command[]> = fc
  .record({
    job,
    user,
    held: spend,
    settle: fc.constantFrom("capture" as const, "refund" as const, "none" as const),
    captured: fc.oneof(spend, fc.constant(0)),
    worker,
    feeBps: bps,
  })
  .map(({ job, user, held, settle, captured, worker, feeBps }): Command[] => [
    { op: "hold", job, user, credits: held },
    ...(settle === "capture"
      ? [{ op: "capture" as const, job, credits: captured, worker, feeBps }]
      : settle === "refund"
        ? [{ op: "refund" as const, job }]
        : []),
  ]);

const single: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("grant" as const), user, credits: amount, key: fc.option(key) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("purchase" as const), user, credits: amount, key }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("hold" as const), job, user, credits: spend }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("capture" as const),
      job,
      credits: fc.oneof(spend, fc.constant(0)),
      worker,
      feeBps: bps,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("refund" as const), job }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("bond" as const), worker, credits: amount, key }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("slash" as const),
      worker,
      job,
      challenger: user,
      rewardBps: bps,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("payout" as const), worker, credits: spend, key }) },
);

const command: fc.Arbitrary<Command[]> = fc.oneof(
  { weight: 3, arbitrary: single.map((one) => [one]) },
  { weight: 1, arbitrary: lifecycle },
);

type Expected = { readonly error: string } | { readonly postings: readonly LedgerPosting[] };

class Model {
  readonly balances = new Map<string, number>();
  readonly keys = new Map<string, { kind: string; postings: string }>();
  readonly holds = new Map<string, { user: string; settled: boolean }>();
  readonly slashed = new Set<string>();

  balance(account: string): number {
    return this.balances.get(account) ?? 0;
  }

  apply(postings: readonly LedgerPosting[]): void {
    for (const { account, amount } of postings) this.balances.set(account, this.balance(account) + amount);
  }
}

function amountError(value: number, allowZero = false): string | undefined {
  if (!Number.isSafeInteger(value)) return "invalid_amount";
  if (value < 0) return "negative_amount";
  if (value === 0 && !allowZero) return "invalid_amount";
  return undefined;
}

const postingsKey = (postings: readonly LedgerPosting[]) =>
  postings
    .filter((p) => p.amount !== 0)
    .map((p) => `${p.account}=${p.amount}`)
    .sort()
    .join(",");

describe.each(["sqlite", "postgres"] as const)("ledger properties on %s", (dialect) => {
  let test: TestDatabase;
  let store: Store;
  let ledger: Ledger;
  let run = 0;
  beforeAll(async () => {
    test = await openTestDatabase(dialect);
    store = createStore(test.database);
    ledger = createLedger(test.database);
  });
  afterAll(async () => {
    await test?.dispose();
  });

  async function footprint() {
    const { rows } = await sql<{ t: unknown; p: unknown; a: unknown }>`select
      (select count(*) from ledger_transactions) as t,
      (select count(*) from ledger_postings) as p,
      (select count(*) from ledger_accounts) as a`.execute(test.database.db);
    const row = rows[0];
    return [Number(row?.t), Number(row?.p), Number(row?.a)];
  }

  it("random operation sequences keep every invariant; failures write nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 80 }), { minLength: USERS - 1, maxLength: USERS - 1 }),
        fc.array(command, { minLength: 8, maxLength: 30 }),
        async (funding, groups) => {
          const commands = groups.flat();
          run += 1;
          const prefix = `r${run}`;
          const users: string[] = [];
          for (let index = 0; index < USERS - 1; index++) {
            users.push((await store.accounts.createAccount({ name: `${prefix}u${index}` })).id);
          }
          users.push(`${prefix}-ghost`);
          const userAccounts = new Set(users.map((id) => `user:${id}`));
          const workers = Array.from({ length: WORKERS }, (_, index) => `${prefix}w${index}`);
          for (const id of workers.slice(0, WORKERS - 1)) {
            await store.workers.upsertWorker({
              id,
              name: id,
              tier: "verified",
              model: "m",
              priceCredits: 1,
              signingPublicKey: "00",
            });
          }
          const userExists = (index: number) => index < USERS - 1;
          const workerExists = (index: number) => index < WORKERS - 1;
          const jobId = (index: number) => `${prefix}j${index}`;
          const model = new Model();
          // Start with some money, so that holds and settlements are exercised, not only refused.
          for (const [index, credits] of funding.entries()) {
            if (credits === 0) continue;
            const transaction = await ledger.grant(users[index] as string, credits, { memo: "start" });
            model.apply(transaction.postings);
          }

          const idempotent = (kind: string, idempotencyKey: string, postings: LedgerPosting[]): Expected => {
            const existing = model.keys.get(idempotencyKey);
            if (existing === undefined) {
              model.keys.set(idempotencyKey, { kind, postings: postingsKey(postings) });
              return { postings };
            }
            if (existing.kind === kind && existing.postings === postingsKey(postings))
              return { postings: [] };
            return { error: "idempotency_conflict" };
          };

          for (const step of commands) {
            let expected: Expected;
            let act: () => Promise<{ postings: readonly LedgerPosting[] }>;
            switch (step.op) {
              case "grant": {
                const account = `user:${users[step.user]}`;
                const postings = [
                  { account: "issuance", amount: -step.credits },
                  { account, amount: step.credits },
                ];
                const error =
                  amountError(step.credits) ?? (userExists(step.user) ? undefined : "unknown_account");
                expected = error
                  ? { error }
                  : step.key === null
                    ? { postings }
                    : idempotent("grant", `grant:${prefix}g${step.key}`, postings);
                act = () =>
                  ledger.grant(users[step.user] as string, step.credits, {
                    memo: "m",
                    ...(step.key === null ? {} : { idempotencyKey: `${prefix}g${step.key}` }),
                  });
                break;
              }
              case "purchase": {
                const postings = [
                  { account: "external:usdc", amount: -step.credits },
                  { account: `user:${users[step.user]}`, amount: step.credits },
                ];
                const error =
                  amountError(step.credits) ?? (userExists(step.user) ? undefined : "unknown_account");
                expected = error
                  ? { error }
                  : idempotent("purchase", `purchase:${prefix}p${step.key}`, postings);
                act = () =>
                  ledger.purchase(users[step.user] as string, step.credits, {
                    paymentReference: `${prefix}p${step.key}`,
                  });
                break;
              }
              case "hold": {
                const id = jobId(step.job);
                const account = `user:${users[step.user]}`;
                const credits = resolve(step.credits, model.balance(account));
                const error =
                  amountError(credits) ??
                  (!userExists(step.user)
                    ? "unknown_account"
                    : model.holds.has(id)
                      ? "job_already_held"
                      : model.balance(account) < credits
                        ? "insufficient_credits"
                        : undefined);
                if (error) expected = { error };
                else {
                  model.holds.set(id, { user: account, settled: false });
                  expected = {
                    postings: [
                      { account, amount: -credits },
                      { account: `hold:${id}`, amount: credits },
                    ],
                  };
                }
                act = () => ledger.hold(id, users[step.user] as string, credits);
                break;
              }
              case "capture": {
                const id = jobId(step.job);
                const hold = model.holds.get(id);
                const held = model.balance(`hold:${id}`);
                const credits = resolve(step.credits, held);
                const error =
                  amountError(credits, true) ??
                  (step.feeBps > 10_000
                    ? "invalid_argument"
                    : !workerExists(step.worker)
                      ? "unknown_account"
                      : hold === undefined
                        ? "unknown_hold"
                        : hold.settled
                          ? "job_already_settled"
                          : credits > held
                            ? "capture_exceeds_hold"
                            : undefined);
                if (error || hold === undefined) expected = { error: error ?? "unknown_hold" };
                else {
                  hold.settled = true;
                  // Written out rather than calling splitCapture, so the model does not share the code it checks.
                  const feeCredits = Math.floor((credits * step.feeBps) / 10_000);
                  const workerCredits = credits - feeCredits;
                  expected = {
                    postings: [
                      { account: `hold:${id}`, amount: -held },
                      { account: `worker:${workers[step.worker]}:earnings`, amount: workerCredits },
                      { account: "treasury:fees", amount: feeCredits },
                      { account: hold.user, amount: held - credits },
                    ],
                  };
                }
                act = () =>
                  ledger.capture(id, {
                    credits,
                    workerId: workers[step.worker] as string,
                    feeBps: step.feeBps,
                  });
                break;
              }
              case "refund": {
                const id = jobId(step.job);
                const hold = model.holds.get(id);
                if (hold === undefined) expected = { error: "unknown_hold" };
                else if (hold.settled) expected = { error: "job_already_settled" };
                else {
                  hold.settled = true;
                  const held = model.balance(`hold:${id}`);
                  expected = {
                    postings: [
                      { account: `hold:${id}`, amount: -held },
                      { account: hold.user, amount: held },
                    ],
                  };
                }
                act = () => ledger.refund(id, { reason: "failed" });
                break;
              }
              case "bond": {
                const postings = [
                  { account: "external:bonds", amount: -step.credits },
                  { account: `worker:${workers[step.worker]}:bond`, amount: step.credits },
                ];
                const error =
                  amountError(step.credits) ?? (workerExists(step.worker) ? undefined : "unknown_account");
                expected = error ? { error } : idempotent("bond", `bond:${prefix}b${step.key}`, postings);
                act = () =>
                  ledger.depositBond(workers[step.worker] as string, step.credits, {
                    reference: `${prefix}b${step.key}`,
                  });
                break;
              }
              case "slash": {
                const bondAccount = `worker:${workers[step.worker]}:bond`;
                const slashKey = `${step.worker}/${step.job}`;
                const posted = model.balance(bondAccount);
                const challenger = `user:${users[step.challenger]}`;
                const error =
                  step.rewardBps > 10_000
                    ? "invalid_argument"
                    : !userExists(step.challenger)
                      ? "unknown_account"
                      : model.slashed.has(slashKey)
                        ? "already_slashed"
                        : posted <= 0
                          ? "no_bond"
                          : undefined;
                if (error) expected = { error };
                else {
                  model.slashed.add(slashKey);
                  const rewardCredits = Math.floor((posted * step.rewardBps) / 10_000);
                  const burnedCredits = posted - rewardCredits;
                  expected = {
                    postings: [
                      { account: bondAccount, amount: -posted },
                      { account: challenger, amount: rewardCredits },
                      { account: "burn", amount: burnedCredits },
                    ],
                  };
                }
                act = () =>
                  ledger.slash(workers[step.worker] as string, {
                    jobId: jobId(step.job),
                    challengerAccount: challenger,
                    rewardBps: step.rewardBps,
                  });
                break;
              }
              case "payout": {
                const earnings = `worker:${workers[step.worker]}:earnings`;
                const payoutKey = `payout:${prefix}s${step.key}`;
                const credits = resolve(step.credits, model.balance(earnings));
                const postings = [
                  { account: earnings, amount: -credits },
                  { account: "external:payouts", amount: credits },
                ];
                const error =
                  amountError(credits) ??
                  (!workerExists(step.worker)
                    ? "unknown_account"
                    : !model.keys.has(payoutKey) && model.balance(earnings) < credits
                      ? "insufficient_credits"
                      : undefined);
                expected = error ? { error } : idempotent("payout", payoutKey, postings);
                act = () =>
                  ledger.recordPayout(workers[step.worker] as string, credits, {
                    signature: `${prefix}s${step.key}`,
                  });
                break;
              }
            }

            const before = await footprint();
            const outcome = await act().then(
              (transaction) => ({ transaction }),
              (error: unknown) => ({ error }),
            );
            if ("error" in expected) {
              expect("error" in outcome, `${JSON.stringify(step)} should fail with ${expected.error}`).toBe(
                true,
              );
              const error = (outcome as { error: unknown }).error;
              expect(LedgerError.isInstance(error), String(error)).toBe(true);
              expect((error as LedgerError).code, JSON.stringify(step)).toBe(expected.error);
              expect(await footprint()).toEqual(before);
            } else {
              if ("error" in outcome) throw outcome.error;
              if (expected.postings.length === 0) {
                // An idempotent replay: nothing new written.
                expect(await footprint()).toEqual(before);
              } else {
                expect(postingsKey(outcome.transaction.postings)).toBe(postingsKey(expected.postings));
                model.apply(expected.postings);
              }
            }

            const balances = await ledger.accountBalances();
            expect(balances.reduce((sum, { balance }) => sum + balance, 0)).toBe(0);
            for (const { account, balance } of balances) {
              // Scoped to this run's accounts (and the shared treasury and burn), so that fast-check's
              // shrinking is not confused by an earlier run's state.
              const ours = account.includes(prefix) || userAccounts.has(account);
              if (isInternalAccount(account) && (ours || account === "treasury:fees" || account === "burn")) {
                expect(balance, account).toBeGreaterThanOrEqual(0);
              }
              if (ours) expect(balance, account).toBe(model.balance(account));
            }
          }
          expect(await checkLedger(ledger)).toEqual([]);
        },
      ),
      { numRuns: 30 },
    );
  });
});
