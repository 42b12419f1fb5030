// Named SQL for the PostgreSQL adapter, one constant per operation; values always go in as parameters.

import { EXECUTOR_COLUMNS } from "../columns.js";

/** Bootstrap: exists before 001 so the runner can record 001 itself. */
export const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE wattswarm_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz(3) NOT NULL
  )`;

export const CURRENT_SCHEMA = "SELECT current_schema() AS schema";

/** Migrations wait for each other, and may legitimately outlast the pool's statement timeout. */
export const LIFT_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = 0";

export const ADVISORY_XACT_LOCK = "SELECT pg_advisory_xact_lock($1::bigint)";

export const SCHEMA_EXISTS = "SELECT 1 FROM pg_namespace WHERE nspname = $1";

/** Any relation kind counts: an index or view named `runs` blocks CREATE TABLE runs just the same. */
export const RELATIONS_IN_SCHEMA = `
  SELECT c.relname AS name
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`;

export const APPLIED_VERSIONS = "SELECT version FROM wattswarm_migrations ORDER BY version";

export const RECORD_MIGRATION = `
  INSERT INTO wattswarm_migrations (version, name, applied_at) VALUES ($1, $2, now())`;

export const NOW = "SELECT now() AS now";

// COLLATE "C": the same byte order SQLite uses, whatever the database's locale.
export const LIST_EXECUTORS = `SELECT ${EXECUTOR_COLUMNS} FROM executors ORDER BY name COLLATE "C"`;

export const GET_EXECUTOR = `SELECT ${EXECUTOR_COLUMNS} FROM executors WHERE name = $1`;

export const UPSERT_EXECUTOR = `
  INSERT INTO executors (name, kind, config_json, created_at, updated_at)
  VALUES ($1, $2, $3::jsonb, now(), now())
  ON CONFLICT (name) DO UPDATE
     SET kind = EXCLUDED.kind, config_json = EXCLUDED.config_json, updated_at = EXCLUDED.updated_at
  RETURNING ${EXECUTOR_COLUMNS}`;

/** Used only when a migration creates the schema: never overwrites an executor that is already there. */
export const INSERT_DEFAULT_EXECUTOR = `
  INSERT INTO executors (name, kind, config_json, created_at, updated_at)
  VALUES ($1, $2, $3::jsonb, now(), now())
  ON CONFLICT (name) DO NOTHING`;

export const REMOVE_EXECUTOR = "DELETE FROM executors WHERE name = $1 RETURNING name";

export interface ExecutorRow {
  name: string;
  kind: string;
  config_json: unknown;
  created_at: Date;
  updated_at: Date;
}
