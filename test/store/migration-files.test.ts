import { describe, expect, it } from "vitest";
import { checkMigrations, DIALECTS, readSqlFiles } from "../../scripts/gen-migrations.js";
import { MIGRATIONS as PG_MIGRATIONS } from "../../src/store/postgres/migrations/index.js";
import { MIGRATIONS as SQLITE_MIGRATIONS } from "../../src/store/sqlite/migrations/index.js";
import { ATTEMPT_STATUSES, EXECUTOR_KINDS, RUN_STATUSES, STEP_STATUSES } from "../../src/vocab.js";

const EMBEDDED = { postgres: PG_MIGRATIONS, sqlite: SQLITE_MIGRATIONS };

describe.each(DIALECTS)("%s migration files", (dialect) => {
  it("check exactly the status sets and executor kinds the code uses", () => {
    const sql = readSqlFiles(dialect)
      .map((f) => f.sql)
      .join("\n")
      .replace(/\s+/g, " ");
    const inList = (values: readonly string[]) => `IN (${values.map((v) => `'${v}'`).join(", ")})`;
    expect(sql).toContain(`CHECK (status ${inList(RUN_STATUSES)})`);
    expect(sql).toContain(`CHECK (status ${inList(STEP_STATUSES)})`);
    expect(sql).toContain(`CHECK (status ${inList(ATTEMPT_STATUSES)})`);
    expect(sql).toContain(
      `CHECK (closed_as ${inList(ATTEMPT_STATUSES.filter((s) => s !== "RUNNING" && s !== "STALE"))})`,
    );
    expect(sql).toContain(`CHECK (kind ${inList(EXECUTOR_KINDS)})`);
  });

  it("are numbered 001, 002, … without gaps", () => {
    const files = readSqlFiles(dialect);
    expect(files.length).toBeGreaterThan(0);
    expect(files.map((f) => f.version)).toEqual(files.map((_, i) => i + 1));
  });

  it("are embedded verbatim in migrations/index.ts", () => {
    expect(EMBEDDED[dialect]).toEqual(
      readSqlFiles(dialect).map(({ version, name, sql }) => ({ version, name, sql })),
    );
  });
});

it("the generated migrations/index.ts files are up to date (npm run gen:migrations)", () => {
  expect(checkMigrations()).toEqual([]);
});

it("both dialects have the same migration versions and names", () => {
  expect(readSqlFiles("postgres").map((f) => f.file)).toEqual(readSqlFiles("sqlite").map((f) => f.file));
});
