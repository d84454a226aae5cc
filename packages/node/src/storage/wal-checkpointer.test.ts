import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "./open-database.js";
import { startWalCheckpointer, WAL_AUTOCHECKPOINT_BOUND_PAGES } from "./wal-checkpointer.js";

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("startWalCheckpointer", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("copies the log into the database file from its thread while the connection never checkpoints", async () => {
    const dir = await mkdtemp(join(tmpdir(), "peercycles-wal-"));
    dirs.push(dir);
    const path = join(dir, "test.sqlite");
    const sqlite = new Database(path);
    try {
      sqlite.pragma("journal_mode = WAL");
      sqlite.pragma("wal_autocheckpoint = 0");
      sqlite.exec("create table t (id integer primary key, text text not null)");
      const insert = sqlite.prepare("insert into t (text) values (?)");
      for (let i = 0; i < 2000; i++) insert.run(`row ${i} ${"x".repeat(100)}`);
      const before = statSync(path).size;
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(100_000);
      const checkpointer = startWalCheckpointer(path, { intervalMs: 10 });
      await until(() => statSync(path).size > before + 100_000);
      // A write after the checkpoint starts the log over from its beginning.
      insert.run("after");
      await checkpointer.close();
      await checkpointer.close();
      expect(sqlite.prepare("select count(*) as n from t").get()).toEqual({ n: 2001 });
    } finally {
      sqlite.close();
    }
  });

  it("runs for every SQLite file openDatabase opens, bounded by the connection's own checkpoint", async () => {
    const dir = await mkdtemp(join(tmpdir(), "peercycles-wal-"));
    dirs.push(dir);
    const database = await openDatabase({ dataDir: dir });
    try {
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(
        database.db,
      );
      expect(rows[0]?.wal_autocheckpoint).toBe(WAL_AUTOCHECKPOINT_BOUND_PAGES);
      const path = join(dir, "peercycles.sqlite");
      await sql`create table t (id integer primary key, text text not null)`.execute(database.db);
      const before = statSync(path).size;
      for (let i = 0; i < 500; i++) {
        await sql`insert into t (text) values (${`row ${i} ${"x".repeat(200)}`})`.execute(database.db);
      }
      await until(() => statSync(path).size > before + 50_000);
    } finally {
      await database.close();
    }
  });
});
