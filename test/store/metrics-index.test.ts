// /metrics reads "attempts closed at or after T" on every scrape (issue 15, defect 9): that must be a range scan
// of run_step_attempts_finished_idx, never a scan of the whole attempt history.
import { describe, expect, it } from "vitest";
import { PgDatabase } from "../../src/store/postgres/database.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { CLOSED_ATTEMPTS_SINCE as PG_CLOSED_ATTEMPTS } from "../../src/store/postgres/metrics-queries.js";
import { openSqlite } from "../../src/store/sqlite/connection.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { CLOSED_ATTEMPTS_SINCE as SQLITE_CLOSED_ATTEMPTS } from "../../src/store/sqlite/metrics-queries.js";
import { pgRawAttempts, sqliteRawAttempts } from "../support/attempt-rows.js";
import { describePg } from "../support/pg.js";
import { useTempSqlite } from "../support/sqlite.js";

const HISTORY = 5_000;
const RUNNING = 200;
const NEWEST = Date.parse("2026-03-01T12:00:00.000Z");
/** The last 30 s of a history of one attempt per second: 31 of 5,000 rows. */
const SINCE = new Date(NEWEST - 30_000);

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

describePg("postgres: the attempts query of /metrics", (pg) => {
  it("is an index scan of run_step_attempts_finished_idx, not a Seq Scan", async () => {
    const schema = pg.newSchema();
    const store = new PostgresStore({ url: pg.url, schema });
    const raw = pgRawAttempts(pg.url, schema);
    const db = new PgDatabase({ url: pg.url, schema, max: 1, prepared: false });
    try {
      await store.migrate();
      await raw.insertHistory(HISTORY, NEWEST, RUNNING);
      await raw.analyze();
      const rows = await db.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
        `EXPLAIN (FORMAT JSON) ${PG_CLOSED_ATTEMPTS}`,
        [SINCE],
      );
      expect(rows).toHaveLength(1);
      const nodes = nodesOf((rows[0] as { "QUERY PLAN": [{ Plan: PlanNode }] })["QUERY PLAN"][0].Plan);
      const summary = nodes.map((n) => `${n["Node Type"]} ${n["Index Name"] ?? n["Relation Name"] ?? ""}`);
      expect(
        summary.filter((s) => s.startsWith("Seq Scan")),
        summary.join(" / "),
      ).toEqual([]);
      expect(
        nodes.some(
          (n) =>
            ["Index Scan", "Index Only Scan", "Bitmap Index Scan"].includes(n["Node Type"]) &&
            n["Index Name"] === "run_step_attempts_finished_idx",
        ),
        summary.join(" / "),
      ).toBe(true);
      // The store sends it as a named prepared statement: after 5 executions PostgreSQL may switch to a generic
      // plan, which must use the index too.
      const client = await db.pool.connect();
      try {
        await client.query(`PREPARE closed_since(timestamptz) AS ${PG_CLOSED_ATTEMPTS}`);
        const execute = `EXECUTE closed_since('${SINCE.toISOString()}')`;
        for (let i = 0; i < 6; i++) await client.query(execute);
        const cached = await client.query(`EXPLAIN (FORMAT JSON) ${execute}`);
        const top = (cached.rows[0] as { "QUERY PLAN": [{ Plan: PlanNode }] })["QUERY PLAN"][0].Plan;
        expect(nodesOf(top).map((n) => n["Node Type"])).not.toContain("Seq Scan");
        expect(nodesOf(top).some((n) => n["Index Name"] === "run_step_attempts_finished_idx")).toBe(true);
      } finally {
        client.release();
      }
      // And what the store returns through that plan: the 31 attempts of the last 30 s, not the history.
      expect((await store.readClosedAttempts(SINCE)).length).toBe(31);
    } finally {
      await raw.end();
      await db.end();
      await store.close();
    }
  });

  it("the index holds closed attempts only: an attempt gets its entry when it is closed, not at insert", async () => {
    const schema = pg.newSchema();
    const store = new PostgresStore({ url: pg.url, schema });
    const raw = pgRawAttempts(pg.url, schema);
    const db = new PgDatabase({ url: pg.url, schema, max: 1, prepared: false });
    try {
      await store.migrate();
      await raw.insertHistory(50, NEWEST, 30);
      const [def] = await db.query<{ indexdef: string }>(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'run_step_attempts_finished_idx'",
        [schema],
      );
      expect(def?.indexdef).toMatch(/\(finished_at\) WHERE \(finished_at IS NOT NULL\)$/);
      // VACUUM counts the index's entries exactly: the 50 closed attempts, none of the 30 running ones.
      await db.query("VACUUM ANALYZE run_step_attempts");
      const [tuples] = await db.query<{ reltuples: number }>(
        "SELECT reltuples::int AS reltuples FROM pg_class WHERE oid = 'run_step_attempts_finished_idx'::regclass",
      );
      expect(tuples?.reltuples).toBe(50);
    } finally {
      await raw.end();
      await db.end();
      await store.close();
    }
  });
});

describe("sqlite: the attempts query of /metrics", () => {
  const tempPath = useTempSqlite();

  it("searches run_step_attempts_finished_idx, not the whole table", async () => {
    const path = tempPath();
    const store = new SqliteStore({ path });
    await store.migrate();
    const raw = sqliteRawAttempts(path);
    const db = openSqlite(path);
    try {
      await raw.insertHistory(HISTORY, NEWEST, RUNNING);
      await raw.analyze();
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${SQLITE_CLOSED_ATTEMPTS}`)
        .all({ since: SINCE.getTime() }) as { detail: string }[];
      const details = plan.map((p) => p.detail);
      expect(details.join(" / ")).toMatch(
        /^SEARCH run_step_attempts USING INDEX run_step_attempts_finished_idx \(finished_at>\?\)$/,
      );
      expect((await store.readClosedAttempts(SINCE)).length).toBe(31);
    } finally {
      db.close();
      await raw.end();
      await store.close();
    }
  });
});
