/**
 * Row types of the node's database, as Kysely sees them. One schema serves SQLite and PostgreSQL:
 * timestamps are integer milliseconds since the epoch, booleans are 0/1 integers, JSON is text, credit
 * amounts are 64-bit integers (read back as JS numbers, checked to be safe integers).
 *
 * @packageDocumentation
 */

import type { Generated } from "kysely";

/** A customer account. Credits live in the ledger (`user:<id>`), not here. */
export interface AccountsTable {
  id: string;
  name: string;
  created_at: number;
}

/** API keys, stored as SHA-256 hex hashes; the key itself is shown once, at creation. */
export interface ApiKeysTable {
  key_hash: string;
  account_id: string;
  created_at: number;
}

/** Small key/value node state (admin token hash, treasury addresses, …). */
export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

/** Registered workers and the routing figures the orchestrator keeps about them. */
export interface WorkersTable {
  id: string;
  name: string;
  tier: string;
  model: string;
  price_credits: number;
  signing_public_key: string;
  attestation: string | null;
  reputation: number;
  tokens_per_second: number | null;
  created_at: number;
  updated_at: number;
}

/** Worker enrolment tokens, stored as SHA-256 hex hashes. */
export interface WorkerTokensTable {
  token_hash: string;
  name: string;
  created_at: number;
}

/** One inference job, from routing to settlement and (optionally) validation. */
export interface JobsTable {
  id: string;
  account_id: string;
  tier: string;
  model: string;
  worker_id: string | null;
  max_credits: number;
  seed: number | null;
  stream: number;
  request_hash: string;
  status: string;
  price_credits: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  output_hash: string | null;
  receipt: string | null;
  error: string | null;
  created_at: number;
  finished_at: number | null;
  validation_status: string | null;
  validator_id: string | null;
  validation_detail: string | null;
  validated_at: number | null;
}

/** Append-only event log (dashboard feed, audit). */
export interface EventsTable {
  id: Generated<number>;
  type: string;
  data: string;
  at: number;
}

/**
 * One row per ledger account ever posted to: the row PostgreSQL replicas lock to serialise on an
 * account, and its running balance, updated in the same transaction as every posting to it (always
 * equal to the sum of its postings; `checkLedger` verifies that).
 */
export interface LedgerAccountsTable {
  name: string;
  kind: string;
  created_at: number;
  balance: Generated<number>;
}

/** A balanced set of postings, written atomically. */
export interface LedgerTransactionsTable {
  id: Generated<number>;
  kind: string;
  idempotency_key: string | null;
  job_id: string | null;
  memo: string | null;
  created_at: number;
}

/** One leg of a ledger transaction: a signed integer amount of credits on one account. */
export interface LedgerPostingsTable {
  id: Generated<number>;
  transaction_id: number;
  account: string;
  amount: number;
}

/**
 * The whole database as Kysely sees it.
 *
 * @example
 * ```ts
 * const rows = await database.db.selectFrom("jobs").selectAll().execute();
 * ```
 */
export interface DatabaseSchema {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  settings: SettingsTable;
  workers: WorkersTable;
  worker_tokens: WorkerTokensTable;
  jobs: JobsTable;
  events: EventsTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_postings: LedgerPostingsTable;
}
