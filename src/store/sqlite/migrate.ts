// The SQLite migration runner. Each pending migration is applied in its own BEGIN IMMEDIATE transaction,
// which is the database-wide write lock: concurrent `run init`s (other processes on the same file) wait for
// it, then re-read the applied versions and find nothing left to do.

import {
  assertMigrationList,
  defaultExecutors,
  foreignTableError,
  latestVersion,
  MIGRATIONS_TABLE,
  type Migration,
  newerSchemaError,
  WATTSWARM_TABLES,
} from "../migration.js";
import type { MigrateResult } from "../types.js";
import { type BusyWait, immediate, type SqliteDb } from "./connection.js";
import {
  APPLIED_VERSIONS,
  CREATE_MIGRATIONS_TABLE,
  INSERT_DEFAULT_EXECUTOR,
  OBJECTS_NAMED,
  RECORD_MIGRATION,
} from "./queries.js";

const REMEDY = "use another --db file";

/** Refuses a file holding WattSwarm-named tables that WattSwarm did not create; returns applied versions. */
function prepareSchema(db: SqliteDb): number[] {
  const names = [MIGRATIONS_TABLE, ...WATTSWARM_TABLES];
  const rows = db.prepare(OBJECTS_NAMED(names.length)).all(...names) as { name: string }[];
  const present = new Set(rows.map((r) => r.name));
  if (!present.has(MIGRATIONS_TABLE)) {
    const foreign = WATTSWARM_TABLES.find((t) => present.has(t));
    if (foreign !== undefined) throw foreignTableError(foreign, REMEDY);
    db.exec(CREATE_MIGRATIONS_TABLE);
    return [];
  }
  return (db.prepare(APPLIED_VERSIONS).all() as { version: number }[]).map((r) => r.version);
}

export async function migrateSqlite(
  db: SqliteDb,
  migrations: readonly Migration[],
  env: NodeJS.ProcessEnv,
  clock: () => number,
  busy: BusyWait,
): Promise<MigrateResult> {
  assertMigrationList(migrations);
  const latest = latestVersion(migrations);
  const applied: string[] = [];
  for (;;) {
    const outcome = await immediate(db, busy, () => {
      const now = clock();
      const current = Math.max(0, ...prepareSchema(db));
      if (current > latest) throw newerSchemaError(current, latest);
      const next = migrations.find((m) => m.version === current + 1);
      if (next === undefined) return { version: current, name: null };

      db.exec(next.sql);
      if (current === 0) {
        const insert = db.prepare(INSERT_DEFAULT_EXECUTOR);
        for (const executor of defaultExecutors(env)) {
          insert.run({
            name: executor.name,
            kind: executor.kind,
            config_json: JSON.stringify(executor.config),
            now,
          });
        }
      }
      db.prepare(RECORD_MIGRATION).run(next.version, next.name, now);
      return { version: next.version, name: next.name };
    });
    if (outcome.name === null) return { schema_version: outcome.version, applied };
    applied.push(outcome.name);
  }
}
