/**
 * Inference jobs: created when routed, finished once, optionally validated afterwards.
 *
 * @packageDocumentation
 */

import type { Kysely } from "kysely";
import { isUniqueViolation } from "./database-errors.js";
import { StorageError } from "./errors.js";
import type { NodeDatabase } from "./open-database.js";
import { precompiled } from "./precompiled-query.js";
import type { DatabaseSchema } from "./schema.js";
import { runQuery } from "./transaction.js";
import { readInteger, requireInteger, requireJsonText, requireOneOf, requireText } from "./values.js";
import { WORKER_TIERS, type WorkerTier } from "./workers.js";

/**
 * A job's lifecycle: `running` until it finishes, then one of the four final states, never changed again.
 *
 * @example
 * ```ts
 * const open = (await store.jobs.getJob(id))?.status === "running";
 * ```
 */
export type JobStatus = "running" | "succeeded" | "failed" | "cancelled" | "timed_out";

/**
 * The final states a job can reach.
 *
 * @example
 * ```ts
 * const status: FinishedJobStatus = "timed_out";
 * ```
 */
export type FinishedJobStatus = Exclude<JobStatus, "running">;

/** Every final state. */
export const FINISHED_JOB_STATUSES: readonly FinishedJobStatus[] = [
  "succeeded",
  "failed",
  "cancelled",
  "timed_out",
];

/**
 * A validator's verdict on a job's output.
 *
 * @example
 * ```ts
 * await store.jobs.markValidation(id, { status: "mismatch", validatorId: "v1", detail: "token 17 differs" });
 * ```
 */
export type ValidationStatus = "match" | "mismatch";

/**
 * What the orchestrator knows when it routes a job.
 *
 * @example
 * ```ts
 * await store.jobs.createJob({ id, accountId, tier: "open", model: "tiny-1", workerId: "w1", maxCredits: 40,
 *   seed: 7, stream: false, requestHash, createdAt: Date.now() });
 * ```
 */
export interface NewJob {
  readonly id: string;
  readonly accountId: string;
  readonly tier: WorkerTier;
  readonly model: string;
  /** `null` while not yet assigned. */
  readonly workerId: string | null;
  /** The most the job may cost, in credits; what the ledger holds. */
  readonly maxCredits: number;
  readonly seed: number | null;
  readonly stream: boolean;
  /** Hash of the canonical request (hex). */
  readonly requestHash: string;
  readonly createdAt: number;
}

/**
 * How a job ended.
 *
 * @example
 * ```ts
 * await store.jobs.finishJob(id, { status: "succeeded", priceCredits: 12, promptTokens: 30, completionTokens: 90,
 *   outputHash, receipt: JSON.stringify(receipt), error: null, finishedAt: Date.now() });
 * ```
 */
export interface JobResult {
  readonly status: FinishedJobStatus;
  /** Credits actually charged (what the ledger captured); `null` when nothing was. */
  readonly priceCredits: number | null;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly outputHash: string | null;
  /** The signed receipt, JSON text. */
  readonly receipt: string | null;
  readonly error: string | null;
  readonly finishedAt: number;
}

/**
 * A validator's verdict as stored on the job.
 *
 * @example
 * ```ts
 * job.validation?.status === "mismatch";
 * ```
 */
export interface JobValidation {
  readonly status: ValidationStatus;
  readonly validatorId: string;
  readonly detail: string | null;
  readonly at: number;
}

/**
 * A job as stored.
 *
 * @example
 * ```ts
 * const job = await store.jobs.getJob(id);
 * ```
 */
export interface Job extends NewJob {
  readonly status: JobStatus;
  readonly priceCredits: number | null;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly outputHash: string | null;
  readonly receipt: string | null;
  readonly error: string | null;
  readonly finishedAt: number | null;
  readonly validation: JobValidation | null;
}

/**
 * Jobs.
 *
 * @example
 * ```ts
 * for (const job of await store.jobs.listOpenJobs()) if (job.createdAt < deadline) await timeOut(job);
 * ```
 */
export interface JobRepository {
  /** Throws `already_exists` for a reused id, `not_found` for an unknown account. */
  createJob(job: NewJob): Promise<Job>;
  /** Moves a running job to a final state; `job_already_finished` if it is not running, `not_found` if absent. */
  finishJob(id: string, result: JobResult): Promise<Job>;
  getJob(id: string): Promise<Job | undefined>;
  /** Newest first; `limit` 1..1000. */
  listJobs(options: { readonly limit: number; readonly accountId?: string }): Promise<readonly Job[]>;
  /** Every running job, oldest first. */
  listOpenJobs(): Promise<readonly Job[]>;
  /** Records (or replaces) a validator's verdict; `at` defaults to now. */
  markValidation(
    jobId: string,
    validation: {
      readonly status: ValidationStatus;
      readonly validatorId: string;
      readonly detail: string | null;
      readonly at?: number;
    },
  ): Promise<Job>;
}

interface JobRow {
  id: string;
  account_id: string;
  tier: string;
  model: string;
  worker_id: string | null;
  max_credits: unknown;
  seed: unknown;
  stream: unknown;
  request_hash: string;
  status: string;
  price_credits: unknown;
  prompt_tokens: unknown;
  completion_tokens: unknown;
  output_hash: string | null;
  receipt: string | null;
  error: string | null;
  created_at: unknown;
  finished_at: unknown;
  validation_status: string | null;
  validator_id: string | null;
  validation_detail: string | null;
  validated_at: unknown;
}

function nullableInteger(value: unknown, what: string): number | null {
  return value === null || value === undefined ? null : readInteger(value, what);
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    accountId: row.account_id,
    tier: row.tier as WorkerTier,
    model: row.model,
    workerId: row.worker_id,
    maxCredits: readInteger(row.max_credits, "max_credits"),
    seed: nullableInteger(row.seed, "seed"),
    stream: readInteger(row.stream, "stream") === 1,
    requestHash: row.request_hash,
    createdAt: readInteger(row.created_at, "created_at"),
    status: row.status as JobStatus,
    priceCredits: nullableInteger(row.price_credits, "price_credits"),
    promptTokens: nullableInteger(row.prompt_tokens, "prompt_tokens"),
    completionTokens: nullableInteger(row.completion_tokens, "completion_tokens"),
    outputHash: row.output_hash,
    receipt: row.receipt,
    error: row.error,
    finishedAt: nullableInteger(row.finished_at, "finished_at"),
    validation:
      row.validation_status === null
        ? null
        : {
            status: row.validation_status as ValidationStatus,
            validatorId: row.validator_id ?? "",
            detail: row.validation_detail,
            at: readInteger(row.validated_at, "validated_at"),
          },
  };
}

function isForeignKeyViolation(error: unknown): boolean {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === "23503" || code === "SQLITE_CONSTRAINT_FOREIGNKEY";
}

function optionalCount(value: unknown, name: string): number | null {
  return value === null || value === undefined ? null : requireInteger(value, name, 0);
}

function optionalText(value: unknown, name: string, maxLength: number): string | null {
  return value === null || value === undefined ? null : requireText(value, name, maxLength);
}

/** The columns {@link insertJob} writes, in the order of its arguments. */
const JOB_COLUMNS = [
  "id",
  "account_id",
  "tier",
  "model",
  "worker_id",
  "max_credits",
  "seed",
  "stream",
  "request_hash",
  "status",
  "created_at",
] as const;

const INSERT_JOB = precompiled(JOB_COLUMNS.length, (db, ...values) =>
  db
    .insertInto("jobs")
    .values(Object.fromEntries(JOB_COLUMNS.map((column, index) => [column, values[index]])) as never)
    .returningAll(),
);

/** The columns {@link finishJobRecord} sets, in the order of its arguments; the job id comes last. */
const FINISH_COLUMNS = [
  "status",
  "price_credits",
  "prompt_tokens",
  "completion_tokens",
  "output_hash",
  "receipt",
  "error",
  "finished_at",
] as const;

const FINISH_JOB = precompiled(FINISH_COLUMNS.length + 1, (db, ...values) =>
  db
    .updateTable("jobs")
    .set(Object.fromEntries(FINISH_COLUMNS.map((column, index) => [column, values[index]])) as never)
    .where("id", "=", values[FINISH_COLUMNS.length] as string)
    .where("status", "=", "running")
    .returningAll(),
);

/**
 * Inserts a new `running` job with `executor`: the database, or an open transaction so that the job
 * row commits with something else (the ledger's hold: see `ledger.hold(…, { alongside })`). Throws
 * `already_exists` for a reused id, `not_found` for an unknown account.
 *
 * @example
 * ```ts
 * await ledger.hold(job.id, job.accountId, job.maxCredits, { alongside: (trx) => insertJob(trx, job) });
 * ```
 */
export async function insertJob(executor: Kysely<DatabaseSchema>, job: NewJob): Promise<Job> {
  const id = requireText(job?.id, "id", 200);
  const row = {
    id,
    account_id: requireText(job.accountId, "accountId", 200),
    tier: requireOneOf(job.tier, "tier", WORKER_TIERS),
    model: requireText(job.model, "model", 200),
    worker_id: optionalText(job.workerId, "workerId", 200),
    max_credits: requireInteger(job.maxCredits, "maxCredits", 0),
    seed: job.seed === null || job.seed === undefined ? null : requireInteger(job.seed, "seed"),
    stream: job.stream === true ? 1 : 0,
    request_hash: requireText(job.requestHash, "requestHash", 200),
    status: "running",
    created_at: requireInteger(job.createdAt, "createdAt", 0),
  };
  if (typeof job.stream !== "boolean") requireOneOf(job.stream, "stream", ["true", "false"]);
  const insert = async () => {
    const [first] = (
      await INSERT_JOB.execute(
        executor,
        JOB_COLUMNS.map((column) => row[column]),
      )
    ).rows;
    if (first === undefined) throw new Error(`inserting job ${id} returned no row`);
    return first;
  };
  let inserted: Awaited<ReturnType<typeof insert>>;
  try {
    inserted = await runQuery(insert);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new StorageError("already_exists", `job ${id} exists already`, {
        details: { jobId: id },
        cause: error,
      });
    }
    if (isForeignKeyViolation(error)) {
      throw new StorageError("not_found", `no account ${row.account_id}`, {
        details: { accountId: row.account_id },
        cause: error,
      });
    }
    throw error;
  }
  return toJob(inserted);
}

/**
 * Moves a running job to a final state with `executor`: the database, or an open transaction so that
 * the change commits with something else (the ledger's capture: see `ledger.capture(…, { alongside })`).
 * Throws `job_already_finished` if it is not running, `not_found` if absent.
 *
 * @example
 * ```ts
 * await ledger.capture(id, { credits, workerId, feeBps, alongside: (trx) => finishJobRecord(trx, id, result) });
 * ```
 */
export async function finishJobRecord(
  executor: Kysely<DatabaseSchema>,
  id: string,
  result: JobResult,
): Promise<Job> {
  requireText(id, "id", 200);
  const status = requireOneOf(result?.status, "status", FINISHED_JOB_STATUSES);
  const values = {
    status,
    price_credits: optionalCount(result.priceCredits, "priceCredits"),
    prompt_tokens: optionalCount(result.promptTokens, "promptTokens"),
    completion_tokens: optionalCount(result.completionTokens, "completionTokens"),
    output_hash: optionalText(result.outputHash, "outputHash", 200),
    receipt:
      result.receipt === null || result.receipt === undefined
        ? null
        : requireJsonText(result.receipt, "receipt"),
    error: optionalText(result.error, "error", 10_000),
    finished_at: requireInteger(result.finishedAt, "finishedAt", 0),
  };
  // One conditional UPDATE: two replicas finishing the same job race on the row, and exactly one wins.
  const updated = await runQuery(
    async () =>
      (await FINISH_JOB.execute(executor, [...FINISH_COLUMNS.map((column) => values[column]), id])).rows[0],
  );
  if (updated !== undefined) return toJob(updated);
  const job = await runQuery(() =>
    executor.selectFrom("jobs").select("status").where("id", "=", id).executeTakeFirst(),
  );
  if (job === undefined) throw new StorageError("not_found", `no job ${id}`, { details: { jobId: id } });
  throw new StorageError("job_already_finished", `job ${id} is already ${job.status}`, {
    details: { jobId: id, status: job.status },
  });
}

/**
 * The job repository over an open database.
 *
 * @example
 * ```ts
 * const jobs = createJobRepository(database, Date.now);
 * ```
 */
export function createJobRepository(database: NodeDatabase, now: () => number): JobRepository {
  const { db } = database;

  async function get(id: string): Promise<Job | undefined> {
    const row = await runQuery(() =>
      db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst(),
    );
    return row === undefined ? undefined : toJob(row);
  }

  return {
    createJob: (job) => insertJob(db, job),
    finishJob: (id, result) => finishJobRecord(db, id, result),
    async getJob(id) {
      if (typeof id !== "string") return undefined;
      return get(id);
    },
    async listJobs(options) {
      const limit = requireInteger(options?.limit, "limit", 1, 1000);
      const accountId = options.accountId;
      let query = db.selectFrom("jobs").selectAll();
      if (accountId !== undefined)
        query = query.where("account_id", "=", requireText(accountId, "accountId", 200));
      const rows = await runQuery(() =>
        query.orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).execute(),
      );
      return rows.map(toJob);
    },
    async listOpenJobs() {
      const rows = await runQuery(() =>
        db
          .selectFrom("jobs")
          .selectAll()
          .where("status", "=", "running")
          .orderBy("created_at")
          .orderBy("id")
          .execute(),
      );
      return rows.map(toJob);
    },
    async markValidation(jobId, validation) {
      requireText(jobId, "jobId", 200);
      const values = {
        validation_status: requireOneOf(validation?.status, "status", ["match", "mismatch"] as const),
        validator_id: requireText(validation.validatorId, "validatorId", 200),
        validation_detail: optionalText(validation.detail, "detail", 10_000),
        validated_at: validation.at === undefined ? now() : requireInteger(validation.at, "at", 0),
      };
      const updated = await runQuery(() =>
        db.updateTable("jobs").set(values).where("id", "=", jobId).executeTakeFirst(),
      );
      if (updated.numUpdatedRows === 0n) {
        throw new StorageError("not_found", `no job ${jobId}`, { details: { jobId } });
      }
      return (await get(jobId)) as Job;
    },
  };
}
