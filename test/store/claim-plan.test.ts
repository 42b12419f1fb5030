// A claim must cost what it claims, not what is queued (issue 16). A burst of work lands in run_steps faster
// than autovacuum analyzes it: right after a deploy (a table never analyzed) or after an idle spell (statistics
// that say the queue is empty). With such statistics the planner judged the claimable set tiny and read and
// sorted ALL of it on every claim (a bitmap heap scan and a sort: 43 ms for 20,000 queued steps, against 0.2 ms
// for walking the claim index in claim order), which made draining a burst quadratic.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgDatabase } from "../../src/store/postgres/database.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { MIGRATIONS } from "../../src/store/postgres/migrations/index.js";
import { CLAIM_RUN_STEPS, CLAIM_STEPS } from "../../src/store/postgres/run-queries.js";
import { openSqlite } from "../../src/store/sqlite/connection.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { PICK_DUE_STEPS, PICK_RUN_DUE_STEPS } from "../../src/store/sqlite/run-queries.js";
import { STEP_TRANSITIONS, sqlStatusIs } from "../../src/store/transitions.js";
import { describePg } from "../support/pg.js";
import { useTempSqlite } from "../support/sqlite.js";

interface PlanNode {
  "Node Type": string;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
}

const SMALL = 1_000;
const LARGE = 20_000;

/** Inserts `n` QUEUED steps of runs of 10 steps (`prefix`-run-k), straight in SQL, without analyzing. */
async function queue(db: PgDatabase, prefix: string, n: number): Promise<void> {
  const runs = Math.ceil(n / 10);
  await db.query(
    `INSERT INTO runs (run_id, status, task_type, spec_json, shared_inputs_json, round, event_seq, active_steps,
                       created_at, updated_at)
     SELECT $1 || '-run-' || k, 'QUEUED', 't', '{}', '{}', 0, 0, 10, now(), now() FROM generate_series(1, $2) k`,
    [prefix, runs],
  );
  await db.query(
    `INSERT INTO run_steps (step_id, run_id, ordinal, agent_id, executor, profile, prompt, inputs_json, weight,
                            timeout_ms, status, round, max_attempts, next_run_at, run_created_at, created_at,
                            updated_at)
     SELECT $1 || '-run-' || (i / 10 + 1) || '/' || (i % 10), $1 || '-run-' || (i / 10 + 1), i % 10,
            'a' || (i % 10), 'sim', 'default', '', '{}', 1, 1000, 'QUEUED', 0, 1, now() - interval '1 s',
            now() - interval '1 s', now(), now()
     FROM generate_series(0, $2 - 1) i`,
    [prefix, n],
  );
}

/** Buffers a claim of `limit` steps touches (EXPLAIN ANALYZE BUFFERS, rolled back), whole plan. */
async function claimBuffers(db: PgDatabase, runId: string | null, limit = 10): Promise<number> {
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    const params: unknown[] = ["w", limit, 20_000, null];
    const res =
      runId === null
        ? await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${CLAIM_STEPS}`, params)
        : await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${CLAIM_RUN_STEPS}`, [
            ...params,
            runId,
          ]);
    const plan = (res.rows[0] as { "QUERY PLAN": [{ Plan: PlanNode }] })["QUERY PLAN"][0].Plan;
    return (plan["Shared Hit Blocks"] ?? 0) + (plan["Shared Read Blocks"] ?? 0);
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
}

describePg("postgres: a claim's cost does not grow with the queue (statistics never gathered)", (pg) => {
  const dbs: PgDatabase[] = [];
  const stores: PostgresStore[] = [];
  async function freshQueue(n: number): Promise<PgDatabase> {
    const schema = pg.newSchema();
    const store = new PostgresStore({ url: pg.url, schema });
    stores.push(store);
    await store.migrate();
    const db = new PgDatabase({ url: pg.url, schema, max: 1, prepared: false });
    dbs.push(db);
    // As right after a burst: autovacuum has not analyzed the table (and must not during the test).
    await db.query("ALTER TABLE run_steps SET (autovacuum_enabled = off)");
    await db.query("ALTER TABLE runs SET (autovacuum_enabled = off)");
    await queue(db, "q", n);
    return db;
  }
  let small: PgDatabase;
  let large: PgDatabase;
  beforeAll(async () => {
    small = await freshQueue(SMALL);
    large = await freshQueue(LARGE);
  });
  afterAll(async () => {
    for (const db of dbs) await db.end();
    for (const s of stores) await s.close();
  });

  it("claiming 10 of 20,000 queued steps reads about as much as claiming 10 of 1,000", async () => {
    const few = await claimBuffers(small, null);
    const many = await claimBuffers(large, null);
    // Reading every queued row makes this 20× (one heap page holds ~16 of these rows).
    expect(many, `buffers: ${SMALL} queued → ${few}, ${LARGE} queued → ${many}`).toBeLessThan(few * 2 + 20);
    expect(many).toBeLessThan(300);
  });

  it("a claim for one run (`run exec`) reads that run's steps, not the queue", async () => {
    const few = await claimBuffers(small, "q-run-50", 1);
    const many = await claimBuffers(large, "q-run-1500", 1);
    expect(many, `buffers: ${SMALL} queued → ${few}, ${LARGE} queued → ${many}`).toBeLessThan(few * 2 + 20);
  });

  it("claimable_steps() (migration 005) tests the claim's statuses, as the claim index's predicate does", () => {
    const sql = MIGRATIONS.map((m) => m.sql).join("\n");
    const predicate = sqlStatusIs("status", STEP_TRANSITIONS.claim.from);
    expect(sql).toContain(`WHERE ${predicate}`); // run_steps_claim_idx (001)
    expect(sql).toContain(
      `WHERE ${sqlStatusIs("s.status", STEP_TRANSITIONS.claim.from)} AND s.next_run_at <= t`,
    );
  });

  it("claims in claim order through the store (both forms)", async () => {
    const schema = pg.newSchema();
    const store = new PostgresStore({ url: pg.url, schema });
    stores.push(store);
    await store.migrate();
    const db = new PgDatabase({ url: pg.url, schema, max: 1, prepared: false });
    dbs.push(db);
    await queue(db, "o", 40);
    await db.query("UPDATE run_steps SET priority = 5 WHERE run_id = 'o-run-3'");
    const first = await store.claimSteps({ workerId: "w", limit: 12, leaseMs: 10_000 });
    expect(first.map((c) => c.step.step_id).slice(0, 10)).toEqual(
      Array.from({ length: 10 }, (_, i) => `o-run-3/${i}`),
    );
    expect(first.every((c) => c.task_type === "t" && c.attempt.attempt_seq === 1)).toBe(true);
    const scoped = await store.claimSteps({ workerId: "w", limit: 3, leaseMs: 10_000, runId: "o-run-4" });
    expect(scoped.map((c) => c.step.step_id)).toEqual(["o-run-4/0", "o-run-4/1", "o-run-4/2"]);
  });
});

describe("sqlite: the claim's picks", () => {
  const tempPath = useTempSqlite();

  it("walk the claim index in claim order; a run's pick reads that run's rows only", async () => {
    const path = tempPath();
    const store = new SqliteStore({ path });
    await store.migrate();
    await store.close();
    const db = openSqlite(path);
    try {
      const plan = (sql: string, params: object) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail);
      expect(plan(PICK_DUE_STEPS, { now: 1, limit: 10 })).toEqual([
        "SCAN run_steps USING INDEX run_steps_claim_idx",
      ]);
      const scoped = plan(PICK_RUN_DUE_STEPS, { now: 1, run_id: "r", limit: 10 });
      expect(scoped[0]).toMatch(/^SEARCH run_steps USING INDEX \S+ \(run_id=\?\)$/);
      expect(scoped.join(" / ")).not.toContain("run_steps_claim_idx");
    } finally {
      db.close();
    }
  });
});
