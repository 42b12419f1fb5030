// The CHECK and FK rules behave the same on both dialects: what one store refuses, the other refuses too.

import { describe, expect, it } from "vitest";
import { describePg } from "../support/pg.js";
import { type DialectHarness, postgresHarness, sqliteHarness } from "./dialects.js";

function constraintSuite(h: () => DialectHarness): void {
  // Dialect-neutral SQL: T is a time, J a JSON document, B a boolean.
  const sql = (text: string) =>
    h().kind === "postgres"
      ? text.replace(/\bT\b/g, "now()").replace(/\bJ\b/g, "'{}'::jsonb")
      : text.replace(/\bT\b/g, "0").replace(/\bJ\b/g, "'{}'");

  const run = (id: string, status: string, finished = "NULL") =>
    sql(`INSERT INTO runs (run_id, status, task_type, spec_json, shared_inputs_json, round, created_at, updated_at,
         finished_at) VALUES ('${id}', '${status}', 'swarm', J, J, 0, T, T, ${finished})`);
  const step = (id: string, runId: string, ordinal: number, status: string, token = "NULL", until = "NULL") =>
    sql(`INSERT INTO run_steps (step_id, run_id, ordinal, agent_id, executor, profile, prompt, inputs_json, weight,
         timeout_ms, status, round, max_attempts, next_run_at, run_created_at, lease_token, lease_until, created_at,
         updated_at) VALUES ('${id}', '${runId}', ${ordinal}, 'agent-${ordinal}', 'sim', 'default', '', J, 1,
         1000, '${status}', 0, 2, T, T, ${token}, ${until}, T, T)`);

  async function migratedTarget(): Promise<string> {
    const target = h().freshTarget();
    await h().open(target).migrate();
    return target;
  }

  it("accepts every status of SPEC §4 and refuses others", async () => {
    const target = await migratedTarget();
    await h().exec(target, run("r-created", "CREATED"));
    await h().exec(target, run("r-final", "FINALIZED", sql("T")));
    await expect(h().exec(target, run("r-bad", "CANCELLING"))).rejects.toThrow();
    await h().exec(target, step("s1", "r-created", 0, "RETRY_WAIT"));
    await expect(h().exec(target, step("s2", "r-created", 1, "DONE"))).rejects.toThrow();
  });

  it("a terminal run has finished_at and a non-terminal run does not", async () => {
    const target = await migratedTarget();
    await expect(h().exec(target, run("r1", "FAILED"))).rejects.toThrow();
    await expect(h().exec(target, run("r2", "RUNNING", sql("T")))).rejects.toThrow();
  });

  it("a LEASED step needs a lease token and lease_until", async () => {
    const target = await migratedTarget();
    await h().exec(target, run("r", "RUNNING"));
    await expect(h().exec(target, step("s1", "r", 0, "LEASED"))).rejects.toThrow();
    await h().exec(target, step("s2", "r", 1, "LEASED", "'tok'", sql("T")));
  });

  it("ordinal is unique per run, and steps need their run", async () => {
    const target = await migratedTarget();
    await h().exec(target, run("r", "QUEUED"));
    await h().exec(target, step("s1", "r", 0, "QUEUED"));
    await expect(h().exec(target, step("s2", "r", 0, "QUEUED"))).rejects.toThrow();
    await expect(h().exec(target, step("s3", "missing-run", 0, "QUEUED"))).rejects.toThrow();
  });

  // PostgreSQL's history tables carry no foreign keys (migration 006: a trigger and a row lock per inserted row);
  // `run prune` deletes their rows itself (test/store-conformance/prune.ts). SQLite keeps its cascade.
  it("deleting a run cascades to its steps and feedback (and, on SQLite, its attempts and events)", async () => {
    const target = await migratedTarget();
    await h().exec(target, run("r", "FINALIZED", sql("T")));
    await h().exec(target, step("s", "r", 0, "SUCCEEDED"));
    await h().exec(
      target,
      sql(`INSERT INTO run_step_attempts (step_id, attempt_seq, run_id, round, attempt, worker_id, lease_token,
           status, due_at, started_at) VALUES ('s', 1, 'r', 0, 1, 'w', 'tok', 'SUCCEEDED', T, T)`),
    );
    await h().exec(
      target,
      sql(
        "INSERT INTO run_events (run_id, seq, event_type, payload_json, created_at) VALUES ('r', 1, 'X', J, T)",
      ),
    );
    await h().exec(
      target,
      sql("INSERT INTO run_feedback (run_id, correct, created_at, updated_at) VALUES ('r', 'A', T, T)"),
    );
    await h().exec(target, "DELETE FROM runs WHERE run_id = 'r'");
    const history = h().kind === "postgres" ? 1 : 0;
    const left = { run_steps: 0, run_feedback: 0, run_step_attempts: history, run_events: history };
    for (const [table, n] of Object.entries(left)) {
      const rows = await h().rows<{ n: number }>(target, `SELECT count(*) AS n FROM ${table}`);
      expect(Number(rows[0]?.n), table).toBe(n);
    }
  });

  it("closed_as is set exactly on STALE attempts", async () => {
    const target = await migratedTarget();
    await h().exec(target, run("r", "RUNNING"));
    await h().exec(target, step("s", "r", 0, "QUEUED"));
    const attempt = (seq: number, status: string, closedAs: string) =>
      sql(`INSERT INTO run_step_attempts (step_id, attempt_seq, run_id, round, attempt, worker_id, lease_token,
           status, closed_as, due_at, started_at) VALUES ('s', ${seq}, 'r', 0, 1, 'w', 't${seq}', '${status}',
           ${closedAs}, T, T)`);
    await h().exec(target, attempt(1, "STALE", "'LEASE_EXPIRED'"));
    await expect(h().exec(target, attempt(2, "STALE", "NULL"))).rejects.toThrow();
    await expect(h().exec(target, attempt(3, "FAILED", "'SUCCEEDED'"))).rejects.toThrow();
    await expect(h().exec(target, attempt(4, "STALE", "'RUNNING'"))).rejects.toThrow();
  });
}

describe("sqlite constraints", () => {
  const harness = sqliteHarness();
  constraintSuite(() => harness);
});

describePg("postgres constraints", (pg) => {
  const harness = postgresHarness(pg);
  constraintSuite(() => harness);
});
