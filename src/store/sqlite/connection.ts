// Opening the SQLite file with the settings SPEC §3 requires for several processes on one machine, the one
// transaction shape the adapter uses (BEGIN IMMEDIATE: take the write lock up front, so two writers queue for
// it instead of failing on a lock upgrade half-way through; the wait is asynchronous and bounded), and the
// per-file queue that keeps the callers of one process from interleaving on a connection.

import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { WattswarmError } from "../../errors.js";
import { sleep } from "../../util/signals.js";

export type SqliteDb = Database.Database;

export const MEMORY_PATH = ":memory:";

/** SQLite's own wait for a lock, for the statements that are not a BEGIN IMMEDIATE (it blocks the thread). */
const BUSY_TIMEOUT_MS = 5_000;

/** How long, in all, a write waits for another connection's write lock (WATTSWARM_SQLITE_BUSY_MS). */
export const DEFAULT_BUSY_WAIT_MS = 5_000;

/** The file a writer waits on (named in the error) and how long it waits in all, ms. */
export interface BusyWait {
  path: string;
  maxWaitMs: number;
}

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

function errnoOf(err: unknown): unknown {
  return typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
}

/**
 * Creates `dir` and its missing parents one level at a time: walk up to the first existing ancestor, then a
 * plain mkdir per missing level, so the first failure is the OS's own error naming that level. Not
 * `mkdirSync(dir, {recursive: true})`: Node 20's loops forever on some paths (e.g. `/proc/nope`, where mkdir
 * says ENOENT under a parent that exists), and reports a regular file in the path as EEXIST.
 */
function createDirectories(dir: string): void {
  const missing: string[] = [];
  let level = resolve(dir);
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(level).isDirectory();
    } catch (err) {
      const parent = dirname(level);
      if (errnoOf(err) !== "ENOENT" || parent === level) throw err;
      missing.push(level);
      level = parent;
      continue;
    }
    if (isDirectory) break;
    throw Object.assign(new Error(`ENOTDIR: not a directory, '${level}'`), { code: "ENOTDIR", path: level });
  }
  for (const missingLevel of missing.reverse()) {
    try {
      mkdirSync(missingLevel);
    } catch (err) {
      // Another process created it in between: fine, as long as it is a directory.
      if (errnoOf(err) !== "EEXIST" || !statSync(missingLevel).isDirectory()) throw err;
    }
  }
}

export function openSqlite(path: string): SqliteDb {
  let db: SqliteDb | undefined;
  try {
    if (path !== MEMORY_PATH) createDirectories(dirname(path));
    db = new Database(path);
    // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    if (path !== MEMORY_PATH) probeWritable(db);
    return db;
  } catch (err) {
    db?.close();
    throw unavailable(path, err);
  }
}

/**
 * Opening succeeds on a read-only file: find out now rather than on the first write of a transition. A file
 * busy with another writer is in use, not read-only: the first write will wait for the lock.
 */
function probeWritable(db: SqliteDb): void {
  try {
    withoutBusyTimeout(db, () => db.exec("BEGIN IMMEDIATE; ROLLBACK"));
  } catch (err) {
    if (!isBusy(err)) throw err;
  }
}

/** Runs `fn` with busy_timeout 0: a statement that finds the database locked fails at once (SQLITE_BUSY). */
function withoutBusyTimeout<T>(db: SqliteDb, fn: () => T): T {
  cached(db, "PRAGMA busy_timeout = 0").run();
  try {
    return fn();
  } finally {
    cached(db, `PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`).run();
  }
}

/**
 * BEGIN IMMEDIATE without blocking the thread. SQLite's busy handler would sleep inside the call, freezing
 * the event loop (timers, heartbeats, HTTP requests) while another connection writes; a busy BEGIN is retried
 * after an asynchronous backoff instead, until `maxWaitMs` have been waited in all, then DB_UNAVAILABLE.
 */
async function beginImmediate(db: SqliteDb, busy: BusyWait): Promise<void> {
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      withoutBusyTimeout(db, () => db.exec("BEGIN IMMEDIATE"));
      return;
    } catch (err) {
      if (!isBusy(err)) throw err;
      if (waited >= busy.maxWaitMs) {
        const locked = new WattswarmError(
          "DB_UNAVAILABLE",
          `SQLite database at ${busy.path} stayed locked by another connection for ${waited} ms ` +
            "(the limit, WATTSWARM_SQLITE_BUSY_MS); try again",
        );
        locked.cause = err;
        throw locked;
      }
      // 1, 2, 4, 8 ms, plus up to half as much again so that waiting processes do not retry in step. The cap is
      // low on purpose: a busy writer (a worker) commits and begins again within a millisecond, and a waiter
      // that sleeps long rarely lands in that gap; a failed BEGIN costs microseconds.
      const step = Math.min(8, 2 ** attempt);
      const delay = Math.min(busy.maxWaitMs - waited, step + Math.floor((Math.random() * step) / 2));
      await sleep(delay);
      waited += delay;
    }
  }
}

/** Runs `fn` inside BEGIN IMMEDIATE … COMMIT, waiting for the lock as beginImmediate does; a throw rolls back. */
export async function immediate<T>(db: SqliteDb, busy: BusyWait, fn: () => T | Promise<T>): Promise<T> {
  await beginImmediate(db, busy);
  try {
    const result = await fn();
    db.exec("COMMIT");
    return result;
  } catch (err) {
    if (db.inTransaction) {
      try {
        db.exec("ROLLBACK");
      } catch {
        // The original error is the one worth reporting.
      }
    }
    throw err;
  }
}

/** True for SQLite's "the database is locked by another connection". */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_"));
}

const sections = new AsyncLocalStorage<object>();

/**
 * SQLite has one transaction per connection, and a run transition awaits between its statements: two of them
 * (or a claim in the middle of one) must never interleave on a connection. Every use of a store's connection
 * goes through a FIFO queue. The queue is per database file and process (queueFor), not per store: two stores
 * of one process on one file take turns here instead of contending for SQLite's lock, which the second would
 * only win by polling (beginImmediate) while the first holds it. Other processes are handled by SQLite's lock
 * and beginImmediate. Using a store on the same file again from inside a section (e.g. a store read inside a
 * transaction callback) would wait on itself forever, so it is refused instead.
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
