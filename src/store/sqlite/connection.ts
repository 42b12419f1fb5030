// Opening the SQLite file with the settings SPEC §3 requires for several processes on one machine, the one
// transaction shape the adapter uses (BEGIN IMMEDIATE: take the write lock up front, so two writers queue on
// busy_timeout instead of failing on a lock upgrade half-way through), and the per-file queue that keeps the
// callers of one process from interleaving on a connection.

import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { WattswarmError } from "../../errors.js";

export type SqliteDb = Database.Database;

export const MEMORY_PATH = ":memory:";

const BUSY_TIMEOUT_MS = 5_000;

function reasonOf(err: unknown): string {
  if (typeof err === "object" && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (code === "SQLITE_NOTADB") return "the file is not a SQLite database";
    if (typeof message === "string" && message) return message;
  }
  return String(err);
}

function unavailable(path: string, err: unknown): WattswarmError {
  const wrapped = new WattswarmError(
    "DB_UNAVAILABLE",
    `cannot open SQLite database at ${path}: ${reasonOf(err)}. Choose a writable path with --db or WATTSWARM_DB`,
  );
  wrapped.cause = err;
  return wrapped;
}

export function openSqlite(path: string): SqliteDb {
  let db: SqliteDb | undefined;
  try {
    if (path !== MEMORY_PATH) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    // Opening succeeds on a read-only file; find out now rather than on the first write of a transition.
    if (path !== MEMORY_PATH) db.exec("BEGIN IMMEDIATE; ROLLBACK");
    return db;
  } catch (err) {
    db?.close();
    throw unavailable(path, err);
  }
}

/** Runs `fn` inside BEGIN IMMEDIATE … COMMIT; a throw rolls back. `fn` must be synchronous. */
export function immediateTx<T>(db: SqliteDb, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** True for SQLite's "the database is locked by another connection" (after busy_timeout ran out). */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_"));
}

const sections = new AsyncLocalStorage<object>();

/**
 * SQLite has one transaction per connection, and a run transition awaits between its statements: two of them
 * (or a claim in the middle of one) must never interleave on a connection. Every use of a store's connection
 * goes through a FIFO queue. The queue is per database file and process (queueFor), not per store: were two
 * stores of one process on one file to contend in SQLite itself, the second BEGIN IMMEDIATE would block the
 * thread on busy_timeout while the first transaction, needing that same thread to reach COMMIT, could never
 * end. Other processes are handled by SQLite's lock and busy_timeout. Using a store on the same file again
 * from inside a section (e.g. a store read inside a transaction callback) would wait on itself forever, so it
 * is refused instead.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private current: object | null = null;

  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const ctx = sections.getStore();
    if (ctx !== undefined && ctx === this.current) {
      return Promise.reject(
        new Error(
          "SQLite store used re-entrantly inside a transaction on the same file; use the RunTx passed to fn",
        ),
      );
    }
    const token = {};
    const section = async (): Promise<T> => {
      this.current = token;
      try {
        return await sections.run(token, fn);
      } finally {
        this.current = null;
      }
    };
    const result = this.tail.then(section, section);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const queues = new Map<string, SerialQueue>();

/** The queue of the database at `path`: shared by every store of this process on that file. */
export function queueFor(path: string): SerialQueue {
  if (path === MEMORY_PATH) return new SerialQueue(); // a private database per connection
  const key = resolve(path);
  let queue = queues.get(key);
  if (queue === undefined) {
    queue = new SerialQueue();
    queues.set(key, queue);
  }
  return queue;
}

const statementCaches = new WeakMap<SqliteDb, Map<string, Database.Statement>>();

/**
 * The connection's prepared statement for `sql`, compiled once and reused (better-sqlite3 compiles on every
 * prepare()). The set of SQL texts is fixed (named queries and whitelisted SET lists), so the cache is bounded.
 */
export function cached(db: SqliteDb, sql: string): Database.Statement {
  let cache = statementCaches.get(db);
  if (cache === undefined) {
    cache = new Map();
    statementCaches.set(db, cache);
  }
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}
