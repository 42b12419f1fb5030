// The SQLite adapter of the store port. better-sqlite3 is synchronous: each method does its work in one
// call (a transition in one `immediateTx`) and returns a settled promise, so the port stays async for both.

import type { Store } from "../port.js";
import { assertExecutorInput, executorKindOf, isoTime, jsonObjectOf } from "../records.js";
import type { ExecutorInput, ExecutorRecord, MigrateResult } from "../types.js";
import { immediateTx, openSqlite, type SqliteDb } from "./connection.js";
import { migrateSqlite } from "./migrate.js";
import { MIGRATIONS } from "./migrations/index.js";
import {
  type ExecutorRow,
  GET_EXECUTOR,
  LIST_EXECUTORS,
  REMOVE_EXECUTOR,
  UPSERT_EXECUTOR,
} from "./queries.js";

export interface SqliteStoreOptions {
  /** An absolute file path, or `:memory:` (one private database per store: for tests only). */
  path: string;
  /** Read for WATTSWARM_RUNTIME_URL when the schema is created (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** The database clock in epoch ms (default Date.now): SPEC §3 makes the process clock SQLite's clock. */
  clock?: () => number;
}

function toExecutorRecord(row: ExecutorRow): ExecutorRecord {
  return {
    name: row.name,
    kind: executorKindOf(row.kind, row.name),
    config: jsonObjectOf(JSON.parse(row.config_json), `executor "${row.name}" config`),
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}

export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  readonly path: string;
  protected readonly clock: () => number;
  private readonly env: NodeJS.ProcessEnv;
  private handle: SqliteDb | undefined;
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.env = options.env ?? process.env;
    this.clock = options.clock ?? Date.now;
  }

  /** Opened on first use, so constructing a store never throws and an open failure rejects a promise. */
  protected get db(): SqliteDb {
    if (this.closed) throw new Error("store is closed");
    this.handle ??= openSqlite(this.path);
    return this.handle;
  }

  /** Wraps synchronous work so that its errors become rejections, like the PostgreSQL adapter's. */
  protected async run<T>(fn: (db: SqliteDb) => T): Promise<T> {
    return fn(this.db);
  }

  /** One BEGIN IMMEDIATE transaction: what every run transition is built on. */
  protected tx<T>(fn: (db: SqliteDb) => T): Promise<T> {
    return this.run((db) => immediateTx(db, () => fn(db)));
  }

  describe(): string {
    return this.path;
  }

  migrate(): Promise<MigrateResult> {
    return this.run((db) => migrateSqlite(db, MIGRATIONS, this.env, this.clock));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handle?.close();
    this.handle = undefined;
  }

  async now(): Promise<Date> {
    return new Date(this.clock());
  }

  listExecutors(): Promise<ExecutorRecord[]> {
    return this.run((db) => (db.prepare(LIST_EXECUTORS).all() as ExecutorRow[]).map(toExecutorRecord));
  }

  getExecutor(name: string): Promise<ExecutorRecord | null> {
    return this.run((db) => {
      const row = db.prepare(GET_EXECUTOR).get(name) as ExecutorRow | undefined;
      return row ? toExecutorRecord(row) : null;
    });
  }

  upsertExecutor(input: ExecutorInput): Promise<ExecutorRecord> {
    return this.run((db) => {
      assertExecutorInput(input);
      const row = db.prepare(UPSERT_EXECUTOR).get({
        name: input.name,
        kind: input.kind,
        config_json: JSON.stringify(input.config),
        now: this.clock(),
      }) as ExecutorRow;
      return toExecutorRecord(row);
    });
  }

  removeExecutor(name: string): Promise<boolean> {
    return this.run((db) => db.prepare(REMOVE_EXECUTOR).run(name).changes > 0);
  }
}
