// Named SQL of `run prune` (SPEC §7) on SQLite. One batch is one BEGIN IMMEDIATE transaction (the write lock
// keeps every other writer out, so the selection cannot change under it): pick the oldest matching runs,
// count what hangs off them, delete the runs; the foreign keys (foreign_keys = ON) cascade to steps,
// attempts, events and feedback. Times are INTEGER ms; the id and status lists arrive as JSON arrays.

import type { PruneCounts, PruneQuery } from "../port.js";
import { type BusyWait, immediate, type SqliteDb } from "./connection.js";

const MATCHING = "finished_at < @before AND status IN (SELECT value FROM json_each(@statuses))";

const SELECT_BATCH = `
SELECT run_id FROM runs WHERE ${MATCHING} ORDER BY finished_at, run_id LIMIT @limit`;

const IDS = "SELECT value FROM json_each(@ids)";

const COUNT_CHILDREN = `
SELECT (SELECT count(*) FROM run_steps WHERE run_id IN (${IDS})) AS steps,
       (SELECT count(*) FROM run_step_attempts WHERE run_id IN (${IDS})) AS attempts,
       (SELECT count(*) FROM run_events WHERE run_id IN (${IDS})) AS events`;

const DELETE_RUNS = `DELETE FROM runs WHERE run_id IN (${IDS})`;

const COUNT_ALL = `
WITH victims AS (SELECT run_id FROM runs WHERE ${MATCHING})
SELECT (SELECT count(*) FROM victims) AS runs,
       (SELECT count(*) FROM run_steps WHERE run_id IN (SELECT run_id FROM victims)) AS steps,
       (SELECT count(*) FROM run_step_attempts WHERE run_id IN (SELECT run_id FROM victims)) AS attempts,
       (SELECT count(*) FROM run_events WHERE run_id IN (SELECT run_id FROM victims)) AS events`;

type Counts = Omit<PruneCounts, "runs">;

function matching(q: PruneQuery): { before: number; statuses: string } {
  return { before: q.before.getTime(), statuses: JSON.stringify(q.statuses) };
}

export function pruneSqliteBatch(
  db: SqliteDb,
  q: PruneQuery,
  limit: number,
  busy: BusyWait,
): Promise<PruneCounts> {
  return immediate(db, busy, () => {
    const rows = db.prepare(SELECT_BATCH).all({ ...matching(q), limit }) as { run_id: string }[];
    if (rows.length === 0) return { runs: 0, steps: 0, attempts: 0, events: 0 };
    const ids = JSON.stringify(rows.map((r) => r.run_id));
    const children = db.prepare(COUNT_CHILDREN).get({ ids }) as Counts;
    const runs = db.prepare(DELETE_RUNS).run({ ids }).changes;
    return { runs, ...children };
  });
}

export function countSqlitePrunable(db: SqliteDb, q: PruneQuery): PruneCounts {
  return db.prepare(COUNT_ALL).get(matching(q)) as PruneCounts;
}
