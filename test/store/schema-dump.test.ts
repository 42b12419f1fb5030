import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { PgDatabase } from "../../src/store/postgres/database.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { openSqlite } from "../../src/store/sqlite/connection.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { describePg } from "../support/pg.js";
import { useTempSqlite } from "../support/sqlite.js";
import { dumpPostgres, dumpSqlite, fixturePath } from "./schema-dump.js";

const UPDATE = process.env.WATTSWARM_UPDATE_SCHEMA_DUMP === "1";

function compareWithFixture(dialect: "postgres" | "sqlite", dump: string): void {
  const path = fixturePath(dialect);
  if (UPDATE) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, dump);
  }
  expect(existsSync(path), `${path} is missing: see test/store/schema-dump.ts to generate it`).toBe(true);
  expect(dump).toBe(readFileSync(path, "utf8"));
}

describe("sqlite schema", () => {
  const tempPath = useTempSqlite();

  it("matches test/fixtures/schema/sqlite.txt", async () => {
    const path = tempPath();
    const store = new SqliteStore({ path });
    await store.migrate();
    await store.close();
    const db = openSqlite(path);
    try {
      compareWithFixture("sqlite", dumpSqlite(db));
    } finally {
      db.close();
    }
  });
});

describePg("postgres schema", (pg) => {
  it("matches test/fixtures/schema/postgres.txt", async () => {
    const schema = pg.newSchema();
    const store = new PostgresStore({ url: pg.url, schema });
    const db = new PgDatabase({ url: pg.url, schema });
    try {
      await store.migrate();
      compareWithFixture("postgres", await dumpPostgres(db, schema));
    } finally {
      await store.close();
      await db.end();
    }
  });
});
