// Named SQL of the knowledge store (SPEC §9) on SQLite: feedback and reputation.
import { applyReputationSql } from "../reputation-rows.js";

export const GET_FEEDBACK = "SELECT correct FROM run_feedback WHERE run_id = ?";

export const PUT_FEEDBACK = `
INSERT INTO run_feedback (run_id, correct, created_at, updated_at) VALUES (@run_id, @correct, @now, @now)
ON CONFLICT (run_id) DO UPDATE SET correct = excluded.correct, updated_at = excluded.updated_at`;

const field = (name: string) => `json_extract(value, '$.${name}') AS ${name}`;

// One statement for all rows, in the order of the JSON array: (agent_id, task_type).
export const APPLY_REPUTATION = applyReputationSql(
  `SELECT ${["agent_id", "task_type", "runs", "agreed", "correct", "wrong"].map(field).join(", ")}, key AS ord
   FROM json_each(@rows)`,
  { now: "@now", toInt: (sql) => `CAST(${sql} AS INTEGER)`, max0: (c) => `max(${c}, 0)` },
);

export const LIST_REPUTATION = `
SELECT agent_id, task_type, runs, agreed, correct, wrong, units, updated_at FROM agent_reputation
WHERE @agent_id IS NULL OR agent_id = @agent_id
ORDER BY agent_id, task_type`;
