// Named SQL for the SQLite adapter, one constant per operation; values always go in as parameters. Times are
// epoch milliseconds from the process clock, passed in by the caller (SPEC §3).

import { EXECUTOR_COLUMNS } from "../columns.js";

/** Bootstrap: exists before 001 so the runner can record 001 itself. */
export const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE wattswarm_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`;

/** Any object kind counts: an index or view named `runs` blocks CREATE TABLE runs just the same. */
export const OBJECTS_NAMED = (count: number): string =>
  `SELECT name FROM sqlite_master WHERE name IN (${Array.from({ length: count }, () => "?").join(", ")})`;

export const APPLIED_VERSIONS = "SELECT version FROM wattswarm_migrations ORDER BY version";

export const RECORD_MIGRATION =
  "INSERT INTO wattswarm_migrations (version, name, applied_at) VALUES (?, ?, ?)";

export const LIST_EXECUTORS = `SELECT ${EXECUTOR_COLUMNS} FROM executors ORDER BY name`;

export const GET_EXECUTOR = `SELECT ${EXECUTOR_COLUMNS} FROM executors WHERE name = ?`;

export const UPSERT_EXECUTOR = `
  INSERT INTO executors (name, kind, config_json, created_at, updated_at)
  VALUES (@name, @kind, @config_json, @now, @now)
  ON CONFLICT (name) DO UPDATE
     SET kind = excluded.kind, config_json = excluded.config_json, updated_at = excluded.updated_at
  RETURNING ${EXECUTOR_COLUMNS}`;

/** Used only when a migration creates the schema: never overwrites an executor that is already there. */
export const INSERT_DEFAULT_EXECUTOR = `
  INSERT INTO executors (name, kind, config_json, created_at, updated_at)
  VALUES (@name, @kind, @config_json, @now, @now)
  ON CONFLICT (name) DO NOTHING`;

export const REMOVE_EXECUTOR = "DELETE FROM executors WHERE name = ?";

export interface ExecutorRow {
  name: string;
  kind: string;
  config_json: string;
  created_at: number;
  updated_at: number;
}
