// agent_reputation rows, shared by both adapters: the order every upsert writes in (SPEC §4: rows of one
// table are always locked in one order, so concurrent finalizations never deadlock) and the row mapping.
import type { ReputationDelta, ReputationRecord } from "./run-port.js";
import type { Row } from "./run-rows.js";

function byKey(a: ReputationDelta, b: ReputationDelta): number {
  if (a.agent_id !== b.agent_id) return a.agent_id < b.agent_id ? -1 : 1;
  if (a.task_type !== b.task_type) return a.task_type < b.task_type ? -1 : 1;
  return 0;
}

/** Deltas merged per (agent_id, task_type) — one statement cannot update a row twice — and sorted by it. */
export function orderedDeltas(deltas: readonly ReputationDelta[]): ReputationDelta[] {
  const merged = new Map<string, ReputationDelta>();
  for (const d of deltas) {
    const key = JSON.stringify([d.agent_id, d.task_type]);
    const seen = merged.get(key);
    if (!seen) merged.set(key, { ...d });
    else {
      seen.runs += d.runs;
      seen.agreed += d.agreed;
      seen.correct += d.correct;
      seen.wrong += d.wrong;
    }
  }
  return [...merged.values()].sort(byKey);
}

export function toReputationRecord(r: Row, time: (value: unknown) => string): ReputationRecord {
  return {
    agent_id: r.agent_id as string,
    task_type: r.task_type as string,
    runs: Number(r.runs),
    agreed: Number(r.agreed),
    correct: Number(r.correct),
    wrong: Number(r.wrong),
    units: Number(r.units),
    updated_at: time(r.updated_at),
  };
}

/** The units of a row as SQL: feedback when the agent has any, else agreement (SPEC §9). */
const UNITS_SQL = `CASE WHEN n.correct + n.wrong > 0 THEN round(1000.0 * (n.correct + 1) / (n.correct + n.wrong + 2))
    ELSE round(1000.0 * (n.agreed + 1) / (n.runs + 2)) END`;

/**
 * The reputation upsert, for both dialects. `source` is a CTE body yielding the deltas as
 * (agent_id, task_type, runs, agreed, correct, wrong, ord) in write order; `now` is the time parameter.
 * A delta may be negative (replaced feedback), and both databases check CHECK constraints on the candidate
 * row before they see the conflict: the candidate carries the counts clamped at 0 (exact for a new row, which
 * never has a negative delta), and an existing row adds the raw delta, read back from `d`.
 */
export function applyReputationSql(
  source: string,
  dialect: { now: string; toInt: (sql: string) => string; max0: (col: string) => string },
): string {
  const { now, toInt, max0 } = dialect;
  const clamped = ["runs", "agreed", "correct", "wrong"].map((c) => `${max0(c)} AS ${c}`).join(", ");
  return `WITH d AS (${source})
INSERT INTO agent_reputation AS r (agent_id, task_type, runs, agreed, correct, wrong, units, updated_at)
SELECT n.agent_id, n.task_type, n.runs, n.agreed, n.correct, n.wrong, ${toInt(UNITS_SQL)}, ${now}
FROM (SELECT agent_id, task_type, ${clamped}, ord FROM d) n
WHERE true ORDER BY n.ord
ON CONFLICT (agent_id, task_type) DO UPDATE SET (runs, agreed, correct, wrong, units, updated_at) = (
  SELECT n.runs, n.agreed, n.correct, n.wrong, ${toInt(UNITS_SQL)}, ${now}
  FROM (SELECT r.runs + d.runs AS runs, r.agreed + d.agreed AS agreed, r.correct + d.correct AS correct,
               r.wrong + d.wrong AS wrong
        FROM d WHERE d.agent_id = r.agent_id AND d.task_type = r.task_type) n)`;
}
