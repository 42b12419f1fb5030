// Opening the SQLite file with the settings SPEC §3 requires for several processes on one machine, and the
// one transaction shape the adapter uses (BEGIN IMMEDIATE: take the write lock up front, so two writers
// queue on busy_timeout instead of failing on a lock upgrade half-way through).

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
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
