// Keeps the runtime copies of the migrations (src/store/*/migrations/index.ts, which tsc compiles into dist/)
// identical to the numbered .sql files beside them. `migration-files.test.ts` checks it; with
// WATTSWARM_UPDATE_MIGRATIONS=1 it rewrites the index files instead.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const DIALECTS = ["postgres", "sqlite"] as const;
export type Dialect = (typeof DIALECTS)[number];

const SRC_STORE = fileURLToPath(new URL("../../src/store/", import.meta.url));

export function migrationsDir(dialect: Dialect): string {
  return join(SRC_STORE, dialect, "migrations");
}

export interface SqlFile {
  file: string;
  version: number;
  name: string;
  sql: string;
}

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export function readSqlFiles(dialect: Dialect): SqlFile[] {
  const dir = migrationsDir(dialect);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new Error(`${dialect}/migrations/${file}: name must look like 001_some_name.sql`);
      return {
        file,
        version: Number(match[1]),
        name: match[2] as string,
        sql: readFileSync(join(dir, file), "utf8"),
      };
    });
}

function templateLiteral(text: string): string {
  return `\`${text.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${")}\``;
}

/** The exact text of a dialect's index.ts, formatted as biome would leave it. */
export function renderIndex(dialect: Dialect): string {
  const entries = readSqlFiles(dialect)
    .map(
      (f) =>
        `  {\n    version: ${f.version},\n    name: "${f.name}",\n    sql: ${templateLiteral(f.sql)},\n  },\n`,
    )
    .join("");
  return [
    "// GENERATED from the .sql files in this folder: edit those, then run",
    "// `WATTSWARM_UPDATE_MIGRATIONS=1 npx vitest run test/store/migration-files.test.ts` (docs/storage.md).",
    "// Embedded as strings because tsc copies no .sql files into dist/.",
    "",
    'import type { Migration } from "../../migration.js";',
    "",
    `export const MIGRATIONS: readonly Migration[] = [\n${entries}];`,
    "",
  ].join("\n");
}
