// Named SQL of the knowledge store (SPEC §9) on PostgreSQL: feedback and reputation.
import { applyReputationSql } from "../reputation-rows.js";

export const GET_FEEDBACK = "SELECT correct FROM run_feedback WHERE run_id = $1";

export const PUT_FEEDBACK = `
INSERT INTO run_feedback (run_id, correct, created_at, updated_at) VALUES ($1, $2, $3, $3)
ON CONFLICT (run_id) DO UPDATE SET correct = excluded.correct, updated_at = excluded.updated_at`;

// One statement for all rows, inserted (and so locked) in the order of the arrays: (agent_id, task_type).
export const APPLY_REPUTATION = applyReputationSql(
  `SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[])
     WITH ORDINALITY AS u(agent_id, task_type, runs, agreed, correct, wrong, ord)`,
  { now: "$7::timestamptz", toInt: (sql) => sql, max0: (c) => `greatest(${c}, 0)` },
);

export const LIST_REPUTATION = `
SELECT agent_id, task_type, runs, agreed, correct, wrong, units, updated_at FROM agent_reputation
WHERE $1::text IS NULL OR agent_id = $1::text
ORDER BY agent_id COLLATE "C", task_type COLLATE "C"`;
