// The two adapters side by side: the same scenario must read back identically from PostgreSQL and SQLite
// (RunView, result, records, events; key order included) once times, step ids, tokens and event ids are masked.
import { afterEach, expect, it } from "vitest";
import type { Store } from "../../src/store/port.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { describePg } from "../support/pg.js";
import { useTempSqlite } from "../support/sqlite.js";
import { normalize, readScenario, runScenario } from "./shapes.js";

const tempPath = useTempSqlite();

describePg("postgres and sqlite read back the same documents", (pg) => {
  const opened: Store[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it("RunView, result, records and events match after masking", async () => {
    const pgStore = new PostgresStore({ url: pg.url, schema: pg.newSchema(), env: {} });
    const sqliteStore = new SqliteStore({ path: tempPath(), env: {} });
    opened.push(pgStore, sqliteStore);
    const docs = [];
    for (const store of [pgStore, sqliteStore]) {
      await store.migrate();
      await runScenario(store);
      docs.push(normalize(await readScenario(store)));
    }
    expect(JSON.stringify(docs[1], null, 1)).toBe(JSON.stringify(docs[0], null, 1));
  });
});
