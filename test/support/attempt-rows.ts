// Attempt rows written straight into a migrated store (PostgreSQL schema or SQLite file), bypassing the kernel:
// for the /metrics tests, which need exact finished_at values, thousands of rows, and a transaction that closes
// an attempt and commits late.

import type Database from "better-sqlite3";
import type pg from "pg";
import { PgDatabase } from "../../src/store/postgres/database.js";
import { openSqlite } from "../../src/store/sqlite/connection.js";

export interface AttemptRow {
  step_id: string;
  attempt_seq?: number;
  status: string;
  error_code?: string | null;
  due_ms: number;
  started_ms: number;
  /** null: still RUNNING. */
  finished_ms: number | null;
}

/** A transaction that closed an attempt and has not committed yet. */
export interface OpenClose {
  commit(): Promise<void>;
}

export interface RawAttempts {
  /** Inserts the attempts (and their run and steps, once); one statement per call on PostgreSQL. */
  insert(rows: readonly AttemptRow[]): Promise<void>;
  /** Inserts `n` closed attempts with finished_at = `newestMs`, `newestMs` − 1 s, … and `running` open ones. */
  insertHistory(n: number, newestMs: number, running: number): Promise<void>;
  /** Closes an open attempt in a transaction left uncommitted until `commit()`. */
  closeUncommitted(stepId: string, status: string, finishedMs: number): Promise<OpenClose>;
  /** Turns a closed attempt STALE, as a late result does (finished_at unchanged). */
  markStale(stepId: string): Promise<void>;
  /** ANALYZE, so the planner knows the table's size. */
  analyze(): Promise<void>;
  end(): Promise<void>;
}

const RUN_ID = "metrics-run";

/** What insertHistory inserts: `n` closed attempts, 1 s apart back from `newestMs`, then `running` open ones. */
function historyRows(n: number, newestMs: number, running: number): AttemptRow[] {
  const rows: AttemptRow[] = [];
  for (let i = 0; i < n + running; i++) {
    const finished = i < n ? newestMs - i * 1000 : null;
    const started = (finished ?? newestMs) - 500;
    rows.push({
      step_id: `h${i}`,
      status: i < n ? "SUCCEEDED" : "RUNNING",
      due_ms: started,
      started_ms: started,
      finished_ms: finished,
    });
  }
  return rows;
}

function stepsOf(rows: readonly AttemptRow[]): string[] {
  return [...new Set(rows.map((r) => r.step_id))];
}

export function pgRawAttempts(url: string, schema: string): RawAttempts {
  const db = new PgDatabase({ url, schema, max: 3, prepared: false });
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  let seeded = false;
  const seed = async () => {
    if (seeded) return;
    seeded = true;
    await db.query(
      `INSERT INTO runs (run_id, status, task_type, spec_json, shared_inputs_json, round, created_at, updated_at)
       VALUES ($1, 'RUNNING', 'swarm', '{}', '{}', 0, now(), now())`,
      [RUN_ID],
    );
  };
  const insertSteps = (ids: readonly string[]) =>
    db.query(
      `INSERT INTO run_steps (step_id, run_id, ordinal, agent_id, executor, profile, prompt, inputs_json, weight,
                              timeout_ms, status, round, max_attempts, next_run_at, run_created_at, created_at,
                              updated_at)
       SELECT id, $2, (SELECT coalesce(max(ordinal), -1) FROM run_steps) + o, id, 'sim', 'p', 'x', '{}', 1, 1000,
              'SUCCEEDED', 0, 3, now(), now(), now(), now()
       FROM unnest($1::text[]) WITH ORDINALITY AS u(id, o)
       ON CONFLICT (step_id) DO NOTHING`,
      [ids, RUN_ID],
    );
  return {
    async insert(rows) {
      await seed();
      await insertSteps(stepsOf(rows));
      await db.query(
        `INSERT INTO run_step_attempts (step_id, attempt_seq, run_id, round, attempt, worker_id, lease_token,
                                        status, error_code, due_at, started_at, finished_at)
         SELECT step_id, seq, $1, 0, seq, 'w', step_id || '.' || seq, status, code, due, started, finished
         FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
                     $8::timestamptz[]) AS u(step_id, seq, status, code, due, started, finished)`,
        [
          RUN_ID,
          rows.map((r) => r.step_id),
          rows.map((r) => r.attempt_seq ?? 1),
          rows.map((r) => r.status),
          rows.map((r) => r.error_code ?? null),
          rows.map((r) => iso(r.due_ms)),
          rows.map((r) => iso(r.started_ms)),
          rows.map((r) => iso(r.finished_ms)),
        ],
      );
    },
    async insertHistory(n, newestMs, running) {
      await this.insert(historyRows(n, newestMs, running));
    },
    async closeUncommitted(stepId, status, finishedMs) {
      const client: pg.PoolClient = await db.pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(
          "UPDATE run_step_attempts SET status = $2, finished_at = $3 WHERE step_id = $1 AND finished_at IS NULL",
          [stepId, status, iso(finishedMs)],
        );
      } catch (err) {
        client.release(err as Error);
        throw err;
      }
      return {
        async commit() {
          try {
            await client.query("COMMIT");
          } finally {
            client.release();
          }
        },
      };
    },
    async markStale(stepId) {
      await db.query(
        "UPDATE run_step_attempts SET closed_as = status, status = 'STALE' WHERE step_id = $1 AND status <> 'STALE'",
        [stepId],
      );
    },
    async analyze() {
      await db.query("ANALYZE run_step_attempts");
    },
    end: () => db.end(),
  };
}

export function sqliteRawAttempts(path: string): RawAttempts {
  const db: Database.Database = openSqlite(path);
  let seeded = false;
  const seed = () => {
    if (seeded) return;
    seeded = true;
    db.prepare(
      `INSERT INTO runs (run_id, status, task_type, spec_json, shared_inputs_json, round, created_at, updated_at)
       VALUES (?, 'RUNNING', 'swarm', '{}', '{}', 0, 0, 0)`,
    ).run(RUN_ID);
  };
  const insert = db.transaction((rows: readonly AttemptRow[]) => {
    seed();
    const step = db.prepare(
      `INSERT OR IGNORE INTO run_steps (step_id, run_id, ordinal, agent_id, executor, profile, prompt, inputs_json,
                                        weight, timeout_ms, status, round, max_attempts, next_run_at,
                                        run_created_at, created_at, updated_at)
       VALUES (@id, @run, (SELECT coalesce(max(ordinal), -1) + 1 FROM run_steps), @id, 'sim', 'p', 'x', '{}', 1,
               1000, 'SUCCEEDED', 0, 3, 0, 0, 0, 0)`,
    );
    for (const id of stepsOf(rows)) step.run({ id, run: RUN_ID });
    const attempt = db.prepare(
      `INSERT INTO run_step_attempts (step_id, attempt_seq, run_id, round, attempt, worker_id, lease_token, status,
                                      error_code, due_at, started_at, finished_at)
       VALUES (@step_id, @seq, @run, 0, @seq, 'w', @step_id || '.' || @seq, @status, @code, @due, @started,
               @finished)`,
    );
    for (const r of rows) {
      attempt.run({
        step_id: r.step_id,
        seq: r.attempt_seq ?? 1,
        run: RUN_ID,
        status: r.status,
        code: r.error_code ?? null,
        due: r.due_ms,
        started: r.started_ms,
        finished: r.finished_ms,
      });
    }
  });
  return {
    async insert(rows) {
      insert(rows);
    },
    async insertHistory(n, newestMs, running) {
      insert(historyRows(n, newestMs, running));
    },
    async closeUncommitted(stepId, status, finishedMs) {
      db.exec("BEGIN IMMEDIATE");
      db.prepare(
        "UPDATE run_step_attempts SET status = ?, finished_at = ? WHERE step_id = ? AND finished_at IS NULL",
      ).run(status, finishedMs, stepId);
      return {
        async commit() {
          db.exec("COMMIT");
        },
      };
    },
    async markStale(stepId) {
      db.prepare(
        "UPDATE run_step_attempts SET closed_as = status, status = 'STALE' WHERE step_id = ? AND status <> 'STALE'",
      ).run(stepId);
    },
    async analyze() {
      db.exec("ANALYZE");
    },
    async end() {
      db.close();
    },
  };
}
