import { describe, expect, it } from "vitest";
import { WattswarmError } from "../../src/errors.js";
import { submitRun } from "../../src/kernel/index.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { makeSpec } from "../store-conformance/harness.js";
import { describePg } from "../support/pg.js";
import { makeTempDir, useTempSqlite } from "../support/sqlite.js";
import { type DialectHarness, postgresHarness, sqliteHarness } from "./dialects.js";

async function rejection(promise: Promise<unknown>): Promise<WattswarmError> {
  const err = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WattswarmError);
  return err as WattswarmError;
}

function migrationSuite(h: () => DialectHarness): void {
  // What this code knows: 001_initial, 002_attempts_finished_index, …
  const latest = () => h().migrations.length;
  const names = () => h().migrations.map((m) => m.name);

  it("a fresh migrate applies every migration and registers the default executors", async () => {
    const target = h().freshTarget();
    const store = h().open(target, { env: {} });
    expect(names().slice(0, 2)).toEqual(["initial", "attempts_finished_index"]);
    expect(await store.migrate()).toEqual({ schema_version: latest(), applied: names() });
    const executors = await store.listExecutors();
    expect(executors.map(({ name, kind, config }) => ({ name, kind, config }))).toEqual([
      { name: "rt", kind: "http", config: { url: "http://127.0.0.1:8787" } },
      { name: "sim", kind: "sim", config: {} },
    ]);
    const rows = await h().rows<{ version: number; name: string }>(
      target,
      "SELECT version, name FROM wattswarm_migrations",
    );
    expect(rows.map((r) => ({ version: Number(r.version), name: r.name }))).toEqual(
      h().migrations.map((m) => ({ version: m.version, name: m.name })),
    );
  });

  it("a second migrate is a no-op", async () => {
    const target = h().freshTarget();
    const store = h().open(target);
    await store.migrate();
    const before = await store.listExecutors();
    expect(await store.migrate()).toEqual({ schema_version: latest(), applied: [] });
    expect(await h().open(target).migrate()).toEqual({ schema_version: latest(), applied: [] });
    expect(await store.listExecutors()).toEqual(before);
  });

  it("4 concurrent migrations from separate stores apply each migration exactly once", async () => {
    const target = h().freshTarget();
    const stores = [1, 2, 3, 4].map(() => h().open(target));
    const results = await Promise.all(stores.map((s) => s.migrate()));
    expect(results.every((r) => r.schema_version === latest())).toBe(true);
    // Each migration is its own transaction, so the four may share the work, but each name appears once.
    expect(results.flatMap((r) => r.applied).sort()).toEqual([...names()].sort());
    const rows = await h().rows<{ n: number }>(target, "SELECT count(*) AS n FROM wattswarm_migrations");
    expect(Number(rows[0]?.n)).toBe(latest());
    expect((await stores[0]?.listExecutors())?.map((e) => e.name)).toEqual(["rt", "sim"]);
  });

  it("a removed default executor stays removed, also across later migrations", async () => {
    const target = h().freshTarget();
    const store = h().open(target);
    await store.migrate();
    expect(await store.removeExecutor("rt")).toBe(true);
    expect(await h().open(target).migrate()).toEqual({ schema_version: latest(), applied: [] });
    const extra = {
      version: latest() + 1,
      name: "extra",
      sql: "CREATE TABLE wattswarm_test_extra (id integer)",
    };
    expect(await h().migrateWith(target, [...h().migrations, extra])).toEqual({
      schema_version: latest() + 1,
      applied: ["extra"],
    });
    expect(await store.getExecutor("rt")).toBeNull();
    expect((await store.listExecutors()).map((e) => e.name)).toEqual(["sim"]);
  });

  it("a migration that fails is rolled back and leaves the version where it was", async () => {
    const target = h().freshTarget();
    await h().open(target).migrate();
    const broken = {
      version: latest() + 1,
      name: "broken",
      sql: "CREATE TABLE wattswarm_test_x (id integer); SELECT nope(",
    };
    await expect(h().migrateWith(target, [...h().migrations, broken])).rejects.toThrow();
    expect(await h().open(target).migrate()).toEqual({ schema_version: latest(), applied: [] });
  });

  it("003 counts the active steps of runs that existed before it", async () => {
    const target = h().freshTarget();
    const store = h().open(target);
    await store.migrate();
    await submitRun(store, makeSpec("old-1", { agents: ["a", "b", "c"] }), true);
    // Back to version 2 with a run in flight (one step of three ended), as the code before 003 left it.
    await h().exec(target, "UPDATE run_steps SET status = 'CANCELLED' WHERE agent_id = 'a'");
    await h().exec(target, "DELETE FROM wattswarm_migrations WHERE version > 2");
    await h().exec(target, "ALTER TABLE runs DROP COLUMN active_steps");
    expect(await h().open(target).migrate()).toEqual({ schema_version: latest(), applied: names().slice(2) });
    const rows = await h().rows<{ active_steps: number }>(target, "SELECT active_steps FROM runs");
    expect(rows.map((r) => Number(r.active_steps))).toEqual([2]);
  });

  it("refuses a schema newer than this code knows", async () => {
    const target = h().freshTarget();
    await h().open(target).migrate();
    await h().exec(
      target,
      `INSERT INTO wattswarm_migrations (version, name, applied_at)
       SELECT ${latest() + 1}, 'future', applied_at FROM wattswarm_migrations WHERE version = 1`,
    );
    const err = await rejection(h().open(target).migrate());
    expect(err.code).toBe("SCHEMA_CONFLICT");
    expect(err.message).toMatch(
      new RegExp(`version ${latest() + 1} .* only up to ${latest()}; upgrade wattswarm`),
    );
  });

  it("refuses a foreign runs table with SCHEMA_CONFLICT and creates nothing", async () => {
    const target = h().freshTarget();
    await h().exec(target, "CREATE TABLE runs (id integer PRIMARY KEY, payload text)");
    const err = await rejection(h().open(target).migrate());
    expect(err.code).toBe("SCHEMA_CONFLICT");
    expect(err.message).toBe(`table "runs" exists but was not created by WattSwarm; ${h().remedy}`);
    const tables = await h().rows<{ name: string }>(
      target,
      h().kind === "sqlite"
        ? "SELECT name FROM sqlite_master WHERE type = 'table'"
        : "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()",
    );
    expect(tables.map((t) => t.name)).toEqual(["runs"]);
  });

  it("names the first foreign table it finds, in SPEC order", async () => {
    const target = h().freshTarget();
    await h().exec(target, "CREATE TABLE run_feedback (x integer); CREATE TABLE executors (x integer)");
    const err = await rejection(h().open(target).migrate());
    expect(err.message).toMatch(/^table "executors" exists but was not created by WattSwarm/);
  });

  it("registers rt at WATTSWARM_RUNTIME_URL when it is set", async () => {
    const store = h().open(h().freshTarget(), { env: { WATTSWARM_RUNTIME_URL: "http://runtime:8787" } });
    await store.migrate();
    expect((await store.getExecutor("rt"))?.config).toEqual({ url: "http://runtime:8787" });
  });
}

describe("sqlite migrations", () => {
  const harness = sqliteHarness();
  migrationSuite(() => harness);

  const tempPath = useTempSqlite();

  it("creates the parent directory and opens in WAL mode", async () => {
    const path = `${tempPath().replace(/wattswarm\.db$/, "")}nested/deeper/w.db`;
    const store = harness.open(path);
    await store.migrate();
    expect(store.describe()).toBe(path);
    const [mode] = await harness.rows<{ journal_mode: string }>(path, "PRAGMA journal_mode");
    expect(mode?.journal_mode).toBe("wal");
  });

  it("an unusable path is DB_UNAVAILABLE naming the path", async () => {
    // A regular file where a directory should be: fails even for root, unlike a permission bit.
    const dir = makeTempDir();
    const blocker = `${dir}/not-a-dir`;
    await harness.exec(blocker, "CREATE TABLE t (x INTEGER)");
    const path = `${blocker}/sub/w.db`;
    const err = await rejection(new SqliteStore({ path }).migrate());
    expect(err.code).toBe("DB_UNAVAILABLE");
    expect(err.message).toContain(`cannot open SQLite database at ${path}`);
  });

  it("a file that is not a database is DB_UNAVAILABLE", async () => {
    const path = tempPath();
    const { writeFileSync } = await import("node:fs");
    writeFileSync(path, "this is not sqlite, just some text that is long enough to have a header".repeat(20));
    const err = await rejection(new SqliteStore({ path }).migrate());
    expect(err.code).toBe("DB_UNAVAILABLE");
    expect(err.message).toContain("not a SQLite database");
  });
});

describePg("postgres migrations", (pg) => {
  const harness = postgresHarness(pg);
  migrationSuite(() => harness);

  it("--pg-schema isolates stores and creates the schema when missing", async () => {
    const a = harness.freshTarget();
    const b = `Mixed_${harness.freshTarget()}`;
    const storeA = harness.open(a);
    const storeB = harness.open(b);
    await storeA.migrate();
    await storeB.migrate();
    await storeA.upsertExecutor({ name: "only-in-a", kind: "sim", config: {} });
    expect(await storeB.getExecutor("only-in-a")).toBeNull();
    const tables = await pg.query<{ schemaname: string; n: number }>(
      "SELECT schemaname, count(*)::int AS n FROM pg_tables WHERE schemaname = ANY($1) GROUP BY schemaname",
      [[a, b]],
    );
    expect(new Map(tables.map((t) => [t.schemaname, t.n]))).toEqual(
      new Map([
        [a, 8],
        [b, 8],
      ]),
    );
    await pg.query(`DROP SCHEMA "${b}" CASCADE`);
  });

  it("without a schema option it migrates the connection's current schema", async () => {
    // The URL's own search_path stands in for `public`, which other suites share.
    const schema = harness.freshTarget();
    await pg.query(`CREATE SCHEMA "${schema}"`);
    const url = `${pg.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const store = new PostgresStore({ url });
    try {
      expect(await store.migrate()).toEqual({
        schema_version: harness.migrations.length,
        applied: harness.migrations.map((m) => m.name),
      });
      const [row] = await pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1",
        [schema],
      );
      expect(row?.n).toBe(8);
    } finally {
      await store.close();
    }
  });

  it("an invalid schema name is a usage error", () => {
    expect(() => new PostgresStore({ url: pg.url, schema: 'x"; DROP TABLE runs; --' })).toThrow(
      expect.objectContaining({ code: "USAGE" }),
    );
  });

  it("an unreachable server is DB_UNAVAILABLE without the password", async () => {
    const store = new PostgresStore({ url: "postgres://postgres:s3cret@127.0.0.1:1/wattswarm" });
    try {
      const err = await rejection(store.migrate());
      expect(err.code).toBe("DB_UNAVAILABLE");
      expect(err.message).toBe(
        "cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:1/wattswarm: connection refused. " +
          "Start one with: docker compose up -d postgres (or use the embedded SQLite default by omitting --pg-url)",
      );
      expect(err.message).not.toContain("s3cret");
    } finally {
      await store.close();
    }
  });

  it("a missing database or role is DB_UNAVAILABLE", async () => {
    const url = new URL(pg.url);
    url.pathname = "/wattswarm_no_such_db";
    const noDb = new PostgresStore({ url: url.toString() });
    const role = new URL(pg.url);
    role.username = "wattswarm_no_such_role";
    role.password = "pw";
    const noRole = new PostgresStore({ url: role.toString() });
    try {
      const e1 = await rejection(noDb.migrate());
      expect(e1.code).toBe("DB_UNAVAILABLE");
      expect(e1.message).toContain('database "wattswarm_no_such_db" does not exist');
      const e2 = await rejection(noRole.listExecutors());
      expect(e2.code).toBe("DB_UNAVAILABLE");
      expect(e2.message).toContain("wattswarm_no_such_role");
      expect(e2.message).not.toContain(":pw@");
    } finally {
      await noDb.close();
      await noRole.close();
    }
  });
});
