// The SQLite adapter of the store port. better-sqlite3 is synchronous, and one store has one connection:
// every use of it goes through a FIFO queue (SerialQueue, one per file and process), so a run transition that
// awaits between its statements never interleaves with another one, a claim or a read. The run half lives in
// run-store.ts, the base class.

import type { ClosedAttempt, StatusCounts } from "../metrics.js";
import type { PruneCounts, PruneQuery, Store } from "../port.js";
import { assertExecutorInput, executorKindOf, isoTime, jsonObjectOf } from "../records.js";
import type { ExecutorInput, ExecutorRecord, MigrateResult } from "../types.js";
import {
  cached,
  DEFAULT_BUSY_WAIT_MS,
  immediate,
  openSqlite,
  queueFor,
  type SerialQueue,
  type SqliteDb,
} from "./connection.js";
import { readSqliteClosedAttempts, readSqliteStatusCounts } from "./metrics-queries.js";
import { migrateSqlite } from "./migrate.js";
import { MIGRATIONS } from "./migrations/index.js";
import { countSqlitePrunable, pruneSqliteBatch } from "./prune-queries.js";
import {
  type ExecutorRow,
  GET_EXECUTOR,
  LIST_EXECUTORS,
  REMOVE_EXECUTOR,
  UPSERT_EXECUTOR,
} from "./queries.js";
import { SqliteRunStore } from "./run-store.js";

export interface SqliteStoreOptions {
  /** An absolute file path, or `:memory:` (one private database per store: for tests only). */
  path: string;
  /** Read for WATTSWARM_RUNTIME_URL when the schema is created (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** The database clock in epoch ms (default Date.now): SPEC §3 makes the process clock SQLite's clock. */
  clock?: () => number;
  /**
   * How long, in all, a write waits for another connection's write lock before DB_UNAVAILABLE, ms (default
   * 5 000). The wait is asynchronous: the event loop keeps running.
   */
  busyWaitMs?: number;
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

export class SqliteStore extends SqliteRunStore implements Store {
  readonly kind = "sqlite" as const;
  readonly path: string;
  private readonly env: NodeJS.ProcessEnv;
  private handle: SqliteDb | undefined;
  private closed = false;
  private readonly queue: SerialQueue;

  constructor(options: SqliteStoreOptions) {
    super(options.clock ?? Date.now, {
      path: options.path,
      maxWaitMs: options.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS,
    });
    this.path = options.path;
    this.env = options.env ?? process.env;
    this.queue = queueFor(this.path);
  }

  /** Opened on first use, so constructing a store never throws and an open failure rejects a promise. */
  protected get db(): SqliteDb {
    if (this.closed) throw new Error("store is closed");
    this.handle ??= openSqlite(this.path);
    return this.handle;
  }

  /**
   * Runs `fn` with the connection once every earlier call on this file (from any store of this process) has
   * finished (FIFO); errors become rejections, like the PostgreSQL adapter's. Run transitions add BEGIN
   * IMMEDIATE … COMMIT around it (run-store.ts).
   */
  protected run<T>(fn: (db: SqliteDb) => T | Promise<T>): Promise<T> {
    return this.queue.run(() => fn(this.db));
  }

  /** `fn` in a BEGIN IMMEDIATE … COMMIT section of its own (a write outside a run transition). */
  private write<T>(fn: (db: SqliteDb) => T): Promise<T> {
    return this.run((db) => immediate(db, this.busy, () => fn(db)));
  }

  describe(): string {
    return this.path;
  }

  migrate(): Promise<MigrateResult> {
    return this.run((db) => migrateSqlite(db, MIGRATIONS, this.env, this.clock, this.busy));
  }

  /** Waits for the calls already queued, then closes the connection; later calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.run(() => {
      this.closed = true;
      this.handle?.close();
      this.handle = undefined;
    });
  }

  async now(): Promise<Date> {
    return new Date(this.clock());
  }

  listExecutors(): Promise<ExecutorRecord[]> {
    return this.run((db) => (cached(db, LIST_EXECUTORS).all() as ExecutorRow[]).map(toExecutorRecord));
  }

  getExecutor(name: string): Promise<ExecutorRecord | null> {
    return this.run((db) => {
      const row = cached(db, GET_EXECUTOR).get(name) as ExecutorRow | undefined;
      return row ? toExecutorRecord(row) : null;
    });
  }

  upsertExecutor(input: ExecutorInput): Promise<ExecutorRecord> {
    return this.write((db) => {
      assertExecutorInput(input);
      const row = cached(db, UPSERT_EXECUTOR).get({
        name: input.name,
        kind: input.kind,
        config_json: JSON.stringify(input.config),
        now: this.clock(),
      }) as ExecutorRow;
      return toExecutorRecord(row);
    });
  }

  removeExecutor(name: string): Promise<boolean> {
    return this.write((db) => cached(db, REMOVE_EXECUTOR).run(name).changes > 0);
  }

  readStatusCounts(): Promise<StatusCounts> {
    return this.run((db) => readSqliteStatusCounts(db));
  }

  readClosedAttempts(since: Date): Promise<ClosedAttempt[]> {
    return this.run((db) => readSqliteClosedAttempts(db, since));
  }

  pruneRuns(query: PruneQuery, limit: number): Promise<PruneCounts> {
    return this.run((db) => pruneSqliteBatch(db, query, limit, this.busy));
  }

  countPrunable(query: PruneQuery): Promise<PruneCounts> {
    return this.run((db) => countSqlitePrunable(db, query));
  }
}
