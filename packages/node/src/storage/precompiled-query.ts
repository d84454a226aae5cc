/**
 * Queries built and compiled once per dialect, then run with new parameters: the hot path of a job
 * (hold, capture, the job's row) skips Kysely's query building and compiling, which cost more than
 * SQLite takes to run most of these statements.
 *
 * @packageDocumentation
 */

import type { Compilable, CompiledQuery, Kysely, QueryResult, RootOperationNode } from "kysely";
import type { DatabaseSchema } from "./schema.js";

/** Stands for an argument while the query is compiled; its position in the parameters is recorded. */
class Placeholder {
  constructor(readonly index: number) {}
}

interface Template {
  readonly sql: string;
  readonly query: RootOperationNode;
  /** For each parameter: the argument it is (a number) or a constant the query itself holds. */
  readonly slots: readonly ({ readonly argument: number } | { readonly constant: unknown })[];
}

/**
 * A query whose SQL depends only on the dialect: `build` gets placeholders for `args` and must use each
 * one as a plain value (a comparison, an inserted value, a `sql` template value), never inspect it.
 *
 * @example
 * ```ts
 * const selectBalance = precompiled(1, (db, name) =>
 *   db.selectFrom("ledger_accounts").select("balance").where("name", "=", name as string),
 * );
 * const { rows } = await selectBalance.execute(trx, ["user:a"]);
 * ```
 */
export interface PrecompiledQuery<Row> {
  execute(executor: Kysely<DatabaseSchema>, args: readonly unknown[]): Promise<QueryResult<Row>>;
}

/**
 * Compiles `build` once per dialect (per Kysely adapter: a transaction or connection shares its
 * database's) with `arity` placeholders, checks that each placeholder became exactly the parameters it
 * should, and runs the compiled SQL with the real arguments from then on. The SQL is the one Kysely
 * would have produced for the same arguments.
 *
 * @example
 * ```ts
 * const insertPosting = precompiled(3, (db, id, account, amount) =>
 *   db.insertInto("ledger_postings").values({ transaction_id: id, account, amount } as never),
 * );
 * ```
 */
export function precompiled<Row>(
  arity: number,
  build: (db: Kysely<DatabaseSchema>, ...args: unknown[]) => Compilable<Row>,
): PrecompiledQuery<Row> {
  const templates = new WeakMap<object, Template>();
  function template(executor: Kysely<DatabaseSchema>): Template {
    const adapter = executor.getExecutor().adapter;
    let found = templates.get(adapter);
    if (found === undefined) {
      const placeholders = Array.from({ length: arity }, (_, index) => new Placeholder(index));
      const compiled = build(executor, ...placeholders).compile();
      const used = new Set<number>();
      const slots = compiled.parameters.map((parameter) => {
        if (parameter instanceof Placeholder) {
          used.add(parameter.index);
          return { argument: parameter.index };
        }
        return { constant: parameter };
      });
      if (used.size !== arity) {
        throw new Error(`a precompiled query used ${used.size} of its ${arity} arguments as parameters`);
      }
      found = { sql: compiled.sql, query: compiled.query, slots };
      templates.set(adapter, found);
    }
    return found;
  }
  return {
    execute(executor, args) {
      const { sql, query, slots } = template(executor);
      const parameters = slots.map((slot) => {
        if (!("argument" in slot)) return slot.constant;
        const value = args[slot.argument];
        // Kysely leaves an undefined value's column out; a compiled statement cannot: refuse it.
        if (value === undefined)
          throw new TypeError(`precompiled query argument ${slot.argument} is undefined`);
        return value;
      });
      const compiled: CompiledQuery<Row> = { sql, parameters, query, queryId: { queryId: "" } };
      return executor.executeQuery(compiled);
    },
  };
}

/**
 * One {@link precompiled} query per row count, for multi-row inserts (`count` rows of `perRow` values).
 *
 * @example
 * ```ts
 * const insertPostings = precompiledRows(3, (db, rows) => db.insertInto("ledger_postings").values(rows));
 * await insertPostings.execute(trx, 2, [id, "user:a", -5, id, "hold:j", 5]);
 * ```
 */
export function precompiledRows<Row>(
  perRow: number,
  build: (db: Kysely<DatabaseSchema>, rows: readonly (readonly unknown[])[]) => Compilable<Row>,
): {
  execute(
    executor: Kysely<DatabaseSchema>,
    count: number,
    args: readonly unknown[],
  ): Promise<QueryResult<Row>>;
} {
  const byCount = new Map<number, PrecompiledQuery<Row>>();
  return {
    execute(executor, count, args) {
      let query = byCount.get(count);
      if (query === undefined) {
        query = precompiled(count * perRow, (db, ...placeholders) =>
          build(
            db,
            Array.from({ length: count }, (_, row) => placeholders.slice(row * perRow, (row + 1) * perRow)),
          ),
        );
        byCount.set(count, query);
      }
      return query.execute(executor, args);
    },
  };
}
