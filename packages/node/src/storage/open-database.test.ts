import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { StorageError } from "./errors.js";
import { openDatabase } from "./open-database.js";
import { createStore } from "./store.js";
import { openTestDatabase, testPostgresUrl } from "./test-database.js";

describe("openDatabase", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("defaults to <dataDir>/peercycles.sqlite in WAL mode, creating the directory", async () => {
    const root = await mkdtemp(join(tmpdir(), "peercycles-open-"));
    dirs.push(root);
    const database = await openDatabase({ dataDir: join(root, "nested", "data") });
    try {
      expect(database.dialect).toBe("sqlite");
      const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
      expect(rows[0]?.journal_mode).toBe("wal");
    } finally {
      await database.close();
    }
  });

  it("migrates once: reopening keeps the data and applies nothing twice", async () => {
    const root = await mkdtemp(join(tmpdir(), "peercycles-open-"));
    dirs.push(root);
    const first = await openDatabase({ url: join(root, "node.sqlite") });
    await createStore(first).settings.setSetting("k", "v");
    await first.close();
    await first.close(); // idempotent
    const second = await openDatabase({ url: join(root, "node.sqlite") });
    try {
      expect(await createStore(second).settings.getSetting("k")).toBe("v");
    } finally {
      await second.close();
    }
  });

  it("refuses other URL schemes and missing locations with typed errors", async () => {
    await expect(openDatabase({ url: "mysql://db/x" })).rejects.toMatchObject({
      code: "unsupported_database_url",
    });
    await expect(openDatabase({})).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(
      openDatabase({ url: "postgres://u:p@127.0.0.1:5432/x", postgresSchema: "x; drop" }),
    ).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });

  it("reports an unreachable PostgreSQL server as database_unavailable (retryable)", async () => {
    const error = await openDatabase({ url: "postgres://u:p@127.0.0.1:1/none" }).catch((e: unknown) => e);
    expect(StorageError.isInstance(error)).toBe(true);
    expect((error as StorageError).code).toBe("database_unavailable");
    expect((error as StorageError).retryable).toBe(true);
  });

  it("testPostgresUrl explains how to set PEER_TEST_POSTGRES_URL instead of skipping", () => {
    expect(() => testPostgresUrl({})).toThrow(/PEER_TEST_POSTGRES_URL is not set.*postgres:\/\//);
  });
});

describe.each(["sqlite", "postgres"] as const)("a closed %s database", (dialect) => {
  it("answers database_unavailable", async () => {
    const test = await openTestDatabase(dialect);
    const store = createStore(test.database);
    await test.database.close();
    try {
      await expect(store.settings.getSetting("x")).rejects.toMatchObject({ code: "database_unavailable" });
      await expect(store.accounts.createAccount({ name: "a" })).rejects.toMatchObject({
        code: "database_unavailable",
      });
    } finally {
      await test.dispose();
    }
  });
});
