// Renders a migrated schema as stable text, so a change to any table, column, constraint or index shows up
// as a diff against test/fixtures/schema/*.txt. Regenerate after an intended change with
//   WATTSWARM_UPDATE_SCHEMA_DUMP=1 npx vitest run test/store/schema-dump.test.ts

import { fileURLToPath } from "node:url";
import type Database from "better-sqlite3";
import type { PgDatabase } from "../../src/store/postgres/database.js";

export function fixturePath(dialect: "postgres" | "sqlite"): string {
  return fileURLToPath(new URL(`../fixtures/schema/${dialect}.txt`, import.meta.url));
}

const HEADER = (dialect: string) =>
  `# ${dialect} schema after all migrations. GENERATED: see test/store/schema-dump.ts to regenerate.`;

export async function dumpPostgres(db: PgDatabase, schema: string): Promise<string> {
  const unqualify = (text: string) => text.split(`${schema}.`).join("");
  const columns = await db.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    datetime_precision: number | null;
    is_nullable: string;
    column_default: string | null;
  }>(
    `SELECT table_name, column_name, data_type, datetime_precision, is_nullable, column_default
       FROM information_schema.columns
      WHERE table_schema = $1
      ORDER BY table_name, ordinal_position`,
    [schema],
  );
  const constraints = await db.query<{ table_name: string; name: string; def: string }>(
    `SELECT cl.relname AS table_name, c.conname AS name, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c
       JOIN pg_class cl ON cl.oid = c.conrelid
       JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname = $1
      ORDER BY cl.relname, c.conname`,
    [schema],
  );
  const indexes = await db.query<{ tablename: string; indexname: string; indexdef: string }>(
    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename, indexname",
    [schema],
  );

  const lines = [HEADER("postgres")];
  let table = "";
  for (const c of columns) {
    if (c.table_name !== table) {
      table = c.table_name;
      lines.push(`\ntable ${table}`);
    }
    const type = c.data_type.startsWith("timestamp")
      ? `${c.data_type}(${c.datetime_precision})`
      : c.data_type;
    const nullable = c.is_nullable === "NO" ? " NOT NULL" : "";
    const def = c.column_default === null ? "" : ` DEFAULT ${unqualify(c.column_default)}`;
    lines.push(`  column ${c.column_name} ${type}${nullable}${def}`);
  }
  lines.push("");
  for (const c of constraints) lines.push(`constraint ${c.table_name}.${c.name} ${unqualify(c.def)}`);
  lines.push("");
  for (const i of indexes) lines.push(`index ${unqualify(i.indexdef)}`);
  return `${lines.join("\n")}\n`;
}

export function dumpSqlite(db: Database.Database): string {
  const rows = db
    .prepare(
      "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY tbl_name, type DESC, name",
    )
    .all() as { type: string; name: string; sql: string }[];
  const lines = [HEADER("sqlite")];
  for (const r of rows) lines.push(`-- ${r.type} ${r.name}\n${r.sql};\n`);
  return `${lines.join("\n")}`;
}
