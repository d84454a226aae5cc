/**
 * Registered workers, their routing figures (reputation, measured throughput) and enrolment tokens.
 *
 * @packageDocumentation
 */

import { sql } from "kysely";
import { StorageError } from "./errors.js";
import type { NodeDatabase } from "./open-database.js";
import { precompiled } from "./precompiled-query.js";
import { generateSecret, hashSecret } from "./secrets.js";
import { runQuery } from "./transaction.js";
import { readInteger, requireInteger, requireJsonText, requireOneOf, requireText } from "./values.js";

/**
 * Trust tiers: `open` (anyone, spot-checked), `verified` (bonded, re-executed by validators),
 * `confidential` (attested enclave).
 *
 * @example
 * ```ts
 * const tier: WorkerTier = "verified";
 * ```
 */
export type WorkerTier = "open" | "verified" | "confidential";

/**
 * Every tier, in order of increasing assurance.
 *
 * @example
 * ```ts
 * WORKER_TIERS.includes(tier);
 * ```
 */
export const WORKER_TIERS: readonly WorkerTier[] = ["open", "verified", "confidential"];

/** Reputation of a newly registered worker, on the 0..1000 scale. */
export const INITIAL_REPUTATION = 500;
/** Upper bound of reputation; lower bound is 0. */
export const MAX_REPUTATION = 1000;
/**
 * Weight of a new throughput sample in the moving average: 0.2 forgets a stale figure within about ten
 * jobs while one slow job (a cold cache) moves it only a fifth of the way.
 */
export const THROUGHPUT_SMOOTHING = 0.2;

/**
 * What a worker declares when it registers (or re-registers).
 *
 * @example
 * ```ts
 * await store.workers.upsertWorker({ id: "w1", name: "gpu-box", tier: "verified", model: "tiny-1",
 *   priceCredits: 2, signingPublicKey: "02ab…" });
 * ```
 */
export interface WorkerRegistration {
  readonly id: string;
  readonly name: string;
  readonly tier: WorkerTier;
  readonly model: string;
  /** Price in credits per 1,000 tokens, an integer ≥ 0. */
  readonly priceCredits: number;
  /** Hex-encoded public key the worker signs receipts with. */
  readonly signingPublicKey: string;
  /** Attestation evidence, JSON text (confidential tier). */
  readonly attestation?: string | null;
}

/**
 * A worker as stored.
 *
 * @example
 * ```ts
 * const worker = await store.workers.getWorker("w1"); // worker?.reputation === 500 at first
 * ```
 */
export interface Worker extends WorkerRegistration {
  readonly attestation: string | null;
  /** 0..1000; starts at {@link INITIAL_REPUTATION}. */
  readonly reputation: number;
  /** Exponential moving average of measured tokens per second; `null` before the first job. */
  readonly tokensPerSecond: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * A worker enrolment token's record (the token itself is never stored).
 *
 * @example
 * ```ts
 * const record = await store.workers.findWorkerToken(token); // { name, createdAt } | undefined
 * ```
 */
export interface WorkerTokenRecord {
  readonly name: string;
  readonly createdAt: number;
}

/**
 * Workers and worker tokens.
 *
 * @example
 * ```ts
 * await store.workers.adjustReputation("w1", -50); // a failed proof
 * await store.workers.recordThroughput("w1", 84.5);
 * ```
 */
export interface WorkerRepository {
  /** Inserts, or updates the declared fields of an existing worker (reputation and throughput are kept). */
  upsertWorker(registration: WorkerRegistration): Promise<Worker>;
  getWorker(id: string): Promise<Worker | undefined>;
  /** Every worker, by id. */
  listWorkers(): Promise<readonly Worker[]>;
  /** Adds `delta` (an integer, may be negative), clamped to 0..1000; returns the new reputation. */
  adjustReputation(workerId: string, delta: number): Promise<number>;
  /** Folds a measurement into the moving average; returns the new average. */
  recordThroughput(workerId: string, tokensPerSecond: number): Promise<number>;
  /**
   * A finished job's figures in one UPDATE: {@link adjustReputation} by `reputationDelta` and, when
   * given, {@link recordThroughput} of `tokensPerSecond`. Returns both as stored.
   */
  recordJobDone(
    workerId: string,
    figures: { readonly reputationDelta: number; readonly tokensPerSecond?: number },
  ): Promise<{ reputation: number; tokensPerSecond: number | null }>;
  /** A fresh `pcw_…` token a worker presents to enrol; only its hash is stored. */
  createWorkerToken(input: { readonly name: string }): Promise<string>;
  findWorkerToken(token: string): Promise<WorkerTokenRecord | undefined>;
}

interface WorkerRow {
  id: string;
  name: string;
  tier: string;
  model: string;
  price_credits: unknown;
  signing_public_key: string;
  attestation: string | null;
  reputation: unknown;
  tokens_per_second: number | null;
  created_at: unknown;
  updated_at: unknown;
}

function toWorker(row: WorkerRow): Worker {
  return {
    id: row.id,
    name: row.name,
    tier: row.tier as WorkerTier,
    model: row.model,
    priceCredits: readInteger(row.price_credits, "price_credits"),
    signingPublicKey: row.signing_public_key,
    attestation: row.attestation,
    reputation: readInteger(row.reputation, "reputation"),
    tokensPerSecond: row.tokens_per_second === null ? null : Number(row.tokens_per_second),
    createdAt: readInteger(row.created_at, "created_at"),
    updatedAt: readInteger(row.updated_at, "updated_at"),
  };
}

function requireDelta(delta: unknown): void {
  requireInteger(delta, "delta", -MAX_REPUTATION * 2, MAX_REPUTATION * 2);
}

function requireThroughput(tokensPerSecond: unknown): void {
  if (typeof tokensPerSecond !== "number" || !Number.isFinite(tokensPerSecond) || tokensPerSecond < 0) {
    throw new StorageError("invalid_argument", "tokensPerSecond must be a finite number ≥ 0", {
      details: { argument: "tokensPerSecond" },
    });
  }
}

/** `reputation + delta`, clamped to 0..{@link MAX_REPUTATION}, in SQL. */
function clampedReputation(delta: number) {
  const next = sql<number>`reputation + cast(${delta} as integer)`;
  return sql<number>`case when ${next} > ${sql.lit(MAX_REPUTATION)} then ${sql.lit(MAX_REPUTATION)} when ${next} < 0 then 0 else ${next} end`;
}

/** The moving average of throughput with one more sample, in SQL. */
function smoothedThroughput(tokensPerSecond: number) {
  const sample = sql<number>`cast(${tokensPerSecond} as double precision)`;
  return sql<number>`case when tokens_per_second is null then ${sample} else tokens_per_second + ${sql.lit(THROUGHPUT_SMOOTHING)} * (${sample} - tokens_per_second) end`;
}

/** {@link WorkerRepository.recordJobDone}'s statements, compiled once per dialect. */
const RECORD_JOB_DONE = precompiled(3, (db, delta, at, workerId) =>
  db
    .updateTable("workers")
    .set({ reputation: clampedReputation(delta as number), updated_at: at as number })
    .where("id", "=", workerId as string)
    .returning(["reputation", "tokens_per_second"]),
);

const RECORD_JOB_DONE_WITH_THROUGHPUT = precompiled(4, (db, delta, tokensPerSecond, at, workerId) =>
  db
    .updateTable("workers")
    .set({
      reputation: clampedReputation(delta as number),
      tokens_per_second: smoothedThroughput(tokensPerSecond as number),
      updated_at: at as number,
    })
    .where("id", "=", workerId as string)
    .returning(["reputation", "tokens_per_second"]),
);

function notFound(workerId: string): StorageError {
  return new StorageError("not_found", `no worker ${workerId}`, { details: { workerId } });
}

const WORKER_TOKEN_PREFIX = "pcw_";

/**
 * The worker repository over an open database.
 *
 * @example
 * ```ts
 * const workers = createWorkerRepository(database, Date.now);
 * ```
 */
export function createWorkerRepository(database: NodeDatabase, now: () => number): WorkerRepository {
  const { db } = database;

  async function get(id: string): Promise<Worker | undefined> {
    const row = await runQuery(() =>
      db.selectFrom("workers").selectAll().where("id", "=", id).executeTakeFirst(),
    );
    return row === undefined ? undefined : toWorker(row);
  }

  return {
    async upsertWorker(registration) {
      const id = requireText(registration?.id, "id", 200);
      const name = requireText(registration.name, "name", 200);
      const tier = requireOneOf(registration.tier, "tier", WORKER_TIERS);
      const model = requireText(registration.model, "model", 200);
      const priceCredits = requireInteger(registration.priceCredits, "priceCredits", 0);
      const signingPublicKey = requireText(registration.signingPublicKey, "signingPublicKey", 1000);
      if (!/^[0-9a-f]+$/i.test(signingPublicKey) || signingPublicKey.length % 2 !== 0) {
        throw new StorageError("invalid_argument", "signingPublicKey must be hex", {
          details: { argument: "signingPublicKey" },
        });
      }
      const attestation =
        registration.attestation === undefined || registration.attestation === null
          ? null
          : requireJsonText(registration.attestation, "attestation");
      const at = now();
      const declared = {
        name,
        tier,
        model,
        price_credits: priceCredits,
        signing_public_key: signingPublicKey,
        attestation,
        updated_at: at,
      };
      await runQuery(() =>
        db
          .insertInto("workers")
          .values({
            id,
            ...declared,
            reputation: INITIAL_REPUTATION,
            tokens_per_second: null,
            created_at: at,
          })
          .onConflict((oc) => oc.column("id").doUpdateSet(declared))
          .execute(),
      );
      return (await get(id)) as Worker;
    },
    async getWorker(id) {
      if (typeof id !== "string") return undefined;
      return get(id);
    },
    async listWorkers() {
      const rows = await runQuery(() => db.selectFrom("workers").selectAll().orderBy("id").execute());
      return rows.map(toWorker);
    },
    async adjustReputation(workerId, delta) {
      requireText(workerId, "workerId", 200);
      requireDelta(delta);
      // One UPDATE, clamped in SQL: atomic on both dialects without a transaction or a row read first.
      const row = await runQuery(() =>
        db
          .updateTable("workers")
          .set({ reputation: clampedReputation(delta), updated_at: now() })
          .where("id", "=", workerId)
          .returning("reputation")
          .executeTakeFirst(),
      );
      if (row === undefined) throw notFound(workerId);
      return readInteger(row.reputation, "reputation");
    },
    async recordThroughput(workerId, tokensPerSecond) {
      requireText(workerId, "workerId", 200);
      requireThroughput(tokensPerSecond);
      // One UPDATE (exponential smoothing in SQL): atomic on both dialects without a transaction.
      const row = await runQuery(() =>
        db
          .updateTable("workers")
          .set({ tokens_per_second: smoothedThroughput(tokensPerSecond), updated_at: now() })
          .where("id", "=", workerId)
          .returning("tokens_per_second")
          .executeTakeFirst(),
      );
      if (row === undefined) throw notFound(workerId);
      return Number(row.tokens_per_second);
    },
    async recordJobDone(workerId, figures) {
      requireText(workerId, "workerId", 200);
      requireDelta(figures?.reputationDelta);
      const tokensPerSecond = figures.tokensPerSecond;
      if (tokensPerSecond !== undefined) requireThroughput(tokensPerSecond);
      const row = await runQuery(async () =>
        tokensPerSecond === undefined
          ? (await RECORD_JOB_DONE.execute(db, [figures.reputationDelta, now(), workerId])).rows[0]
          : (
              await RECORD_JOB_DONE_WITH_THROUGHPUT.execute(db, [
                figures.reputationDelta,
                tokensPerSecond,
                now(),
                workerId,
              ])
            ).rows[0],
      );
      if (row === undefined) throw notFound(workerId);
      return {
        reputation: readInteger(row.reputation, "reputation"),
        tokensPerSecond: row.tokens_per_second === null ? null : Number(row.tokens_per_second),
      };
    },
    async createWorkerToken(input) {
      const name = requireText(input?.name, "name", 200);
      const token = generateSecret(WORKER_TOKEN_PREFIX);
      await runQuery(() =>
        db
          .insertInto("worker_tokens")
          .values({ token_hash: hashSecret(token), name, created_at: now() })
          .execute(),
      );
      return token;
    },
    async findWorkerToken(token) {
      if (typeof token !== "string" || !token.startsWith(WORKER_TOKEN_PREFIX) || token.length > 200)
        return undefined;
      const row = await runQuery(() =>
        db
          .selectFrom("worker_tokens")
          .selectAll()
          .where("token_hash", "=", hashSecret(token))
          .executeTakeFirst(),
      );
      return row === undefined
        ? undefined
        : { name: row.name, createdAt: readInteger(row.created_at, "created_at") };
    },
  };
}
