// One harness per dialect, so the migration and registry tests are written once and run on both stores.
// A "target" is where a store lives: a schema name on PostgreSQL, a file path on SQLite.

import type Database from "better-sqlite3";
import { afterEach } from "vitest";
import type { Migration } from "../../src/store/migration.js";
import type { Store } from "../../src/store/port.js";
import { PgDatabase } from "../../src/store/postgres/database.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { migratePostgres } from "../../src/store/postgres/migrate.js";
import { MIGRATIONS as PG_MIGRATIONS } from "../../src/store/postgres/migrations/index.js";
import { openSqlite } from "../../src/store/sqlite/connection.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { migrateSqlite } from "../../src/store/sqlite/migrate.js";
import { MIGRATIONS as SQLITE_MIGRATIONS } from "../../src/store/sqlite/migrations/index.js";
import type { MigrateResult } from "../../src/store/types.js";
import type { PgTestContext } from "../support/pg.js";
import { useTempSqlite } from "../support/sqlite.js";

export interface OpenOptions {
  env?: NodeJS.ProcessEnv;
  /** SQLite only: the injected clock. PostgreSQL always uses its own. */
  clock?: () => number;
}

export interface DialectHarness {
  readonly kind: "postgres" | "sqlite";
  readonly migrations: readonly Migration[];
  /** A fresh, empty target. */
  freshTarget(): string;
  /** A store on `target`, closed after the current test. */
  open(target: string, options?: OpenOptions): Store;
  /** Runs the dialect's runner with another migration list (e.g. an extra migration 002). */
  migrateWith(
    target: string,
    migrations: readonly Migration[],
    env?: NodeJS.ProcessEnv,
  ): Promise<MigrateResult>;
  /** Executes SQL directly on the target, bypassing the store. */
  exec(target: string, sql: string): Promise<void>;
  /** Reads rows directly from the target, bypassing the store. */
  rows<R>(target: string, sql: string): Promise<R[]>;
  /** The message suffix of the foreign-table refusal. */
  readonly remedy: string;
}

function trackStores(): (store: Store) => Store {
  const open: Store[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return (store) => {
    open.push(store);
    return store;
  };
}

export function sqliteHarness(): DialectHarness {
  const tempPath = useTempSqlite();
  const track = trackStores();
  // With the store's own pragmas (foreign_keys=ON above all), so direct SQL sees the rules the store sees.
  const direct = async <T>(path: string, fn: (db: Database.Database) => T): Promise<T> => {
    const db = openSqlite(path);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    kind: "sqlite",
    migrations: SQLITE_MIGRATIONS,
    remedy: "use another --db file",
    freshTarget: () => tempPath(),
    open: (path, options = {}) =>
      track(
        new SqliteStore({
          path,
          ...(options.env ? { env: options.env } : {}),
          ...(options.clock ? { clock: options.clock } : {}),
        }),
      ),
    migrateWith: async (path, migrations, env = {}) => {
      const db = openSqlite(path);
      try {
        return await migrateSqlite(db, migrations, env, Date.now, { path, maxWaitMs: 5_000 });
      } finally {
        db.close();
      }
    },
    exec: (path, sql) => direct(path, (db) => void db.exec(sql)),
    rows: <R>(path: string, sql: string) => direct(path, (db) => db.prepare(sql).all() as R[]),
  };
}

export function postgresHarness(pg: PgTestContext): DialectHarness {
  const track = trackStores();
  const withDb = async <T>(schema: string, fn: (db: PgDatabase) => Promise<T>): Promise<T> => {
    const db = new PgDatabase({ url: pg.url, schema, max: 1 });
    try {
      return await fn(db);
    } finally {
      await db.end();
    }
  };
  return {
    kind: "postgres",
    migrations: PG_MIGRATIONS,
    remedy: "use --pg-schema or another database",
    freshTarget: () => pg.newSchema(),
    open: (schema, options = {}) =>
      track(new PostgresStore({ url: pg.url, schema, ...(options.env ? { env: options.env } : {}) })),
    migrateWith: (schema, migrations, env = {}) =>
      withDb(schema, (db) => migratePostgres(db, migrations, env)),
    exec: (schema, sql) =>
      withDb(schema, async (db) => {
        await db.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        await db.query(sql);
      }),
    rows: <R>(schema: string, sql: string) => withDb(schema, (db) => db.query(sql) as Promise<R[]>),
  };
}
