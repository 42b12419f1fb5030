// The PostgreSQL migration runner. Each pending migration is applied in its own transaction that first takes
// a transaction-scoped advisory lock for the target schema, then re-reads the applied versions: concurrent
// `run init`s queue on the lock, and all but the first find nothing left to do.

import { WattswarmError } from "../../errors.js";
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
import { type PgDatabase, type PgQueryable, quoteIdent } from "./database.js";
import {
  ADVISORY_XACT_LOCK,
  APPLIED_VERSIONS,
  CREATE_MIGRATIONS_TABLE,
  CURRENT_SCHEMA,
  INSERT_DEFAULT_EXECUTOR,
  LIFT_STATEMENT_TIMEOUT,
  RECORD_MIGRATION,
  RELATIONS_IN_SCHEMA,
  SCHEMA_EXISTS,
} from "./queries.js";

const REMEDY = "use --pg-schema or another database";

/** FNV-1a 64 of a fixed prefix and the schema name, as the signed bigint pg_advisory_xact_lock takes. */
export function migrationLockKey(schema: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(`wattswarm:migrate:${schema}`)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, hash).toString();
}

async function targetSchema(client: PgQueryable, configured: string | undefined): Promise<string> {
  if (configured !== undefined) return configured;
  const { rows } = await client.query<{ schema: string | null }>(CURRENT_SCHEMA);
  const schema = rows[0]?.schema;
  if (!schema) {
    throw new WattswarmError(
      "SCHEMA_CONFLICT",
      `no schema on the search_path to create tables in; ${REMEDY}`,
    );
  }
  return schema;
}

/** Refuses a schema holding WattSwarm-named tables that WattSwarm did not create; returns applied versions. */
async function prepareSchema(client: PgQueryable, schema: string, create: boolean): Promise<number[]> {
  if (create) {
    const exists = await client.query(SCHEMA_EXISTS, [schema]);
    // Checked first because CREATE SCHEMA IF NOT EXISTS still demands CREATE on the database.
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  }
  const { rows } = await client.query<{ name: string }>(RELATIONS_IN_SCHEMA, [
    schema,
    [MIGRATIONS_TABLE, ...WATTSWARM_TABLES],
  ]);
  const present = new Set(rows.map((r) => r.name));
  if (!present.has(MIGRATIONS_TABLE)) {
    const foreign = WATTSWARM_TABLES.find((t) => present.has(t));
    if (foreign !== undefined) throw foreignTableError(foreign, REMEDY);
    await client.query(CREATE_MIGRATIONS_TABLE);
    return [];
  }
  const applied = await client.query<{ version: number }>(APPLIED_VERSIONS);
  return applied.rows.map((r) => r.version);
}

export async function migratePostgres(
  db: PgDatabase,
  migrations: readonly Migration[],
  env: NodeJS.ProcessEnv,
): Promise<MigrateResult> {
  assertMigrationList(migrations);
  const latest = latestVersion(migrations);
  const applied: string[] = [];
  let schemaVersion = 0;
  for (;;) {
    const done = await db.tx(async (client) => {
      await client.query(LIFT_STATEMENT_TIMEOUT);
      const schema = await targetSchema(client, db.schema);
      await client.query(ADVISORY_XACT_LOCK, [migrationLockKey(schema)]);
      const versions = await prepareSchema(client, schema, db.schema !== undefined);
      const current = Math.max(0, ...versions);
      if (current > latest) throw newerSchemaError(current, latest);
      schemaVersion = current;
      const next = migrations.find((m) => m.version === current + 1);
      if (next === undefined) return true;

      await client.query(next.sql);
      if (current === 0) {
        for (const executor of defaultExecutors(env)) {
          await client.query(INSERT_DEFAULT_EXECUTOR, [
            executor.name,
            executor.kind,
            JSON.stringify(executor.config),
          ]);
        }
      }
      await client.query(RECORD_MIGRATION, [next.version, next.name]);
      applied.push(next.name);
      schemaVersion = next.version;
      return false;
    });
    if (done) return { schema_version: schemaVersion, applied };
  }
}
