// Named SQL of `run prune` (SPEC §7) on PostgreSQL. One batch is one transaction: lock the oldest matching
// run rows (SKIP LOCKED, so a run another transaction holds — a retry in progress — is left for later), delete
// their events and attempts (the history tables carry no foreign keys: migration 006), then the runs, whose
// foreign keys cascade to steps and feedback.
// runs_finished_idx serves the selection; the child tables are reached through their run_id indexes.

import type { PruneCounts, PruneQuery } from "../port.js";
import type { PgDatabase, PgQueryable } from "./database.js";

const MATCHING = "finished_at < $1 AND status = ANY($2::text[])";

const LOCK_BATCH = `
SELECT run_id FROM runs WHERE ${MATCHING}
ORDER BY finished_at, run_id LIMIT $3 FOR UPDATE SKIP LOCKED`;

// The run rows are locked by this transaction since LOCK_BATCH: nothing can have moved them out of the
// selection, and nothing appends to their history meanwhile (events and attempts are written under their run's
// or their step's lock).
const DELETE_HISTORY = `
WITH events AS (DELETE FROM run_events WHERE run_id = ANY($1::text[]) RETURNING 1),
attempts AS (DELETE FROM run_step_attempts WHERE run_id = ANY($1::text[]) RETURNING 1)
SELECT (SELECT count(*) FROM run_steps WHERE run_id = ANY($1::text[])) AS steps,
       (SELECT count(*) FROM attempts) AS attempts,
       (SELECT count(*) FROM events) AS events`;

const DELETE_RUNS = "DELETE FROM runs WHERE run_id = ANY($1::text[])";

const COUNT_ALL = `
WITH victims AS (SELECT run_id FROM runs WHERE ${MATCHING})
SELECT (SELECT count(*) FROM victims) AS runs,
       (SELECT count(*) FROM run_steps s JOIN victims v ON v.run_id = s.run_id) AS steps,
       (SELECT count(*) FROM run_step_attempts a JOIN victims v ON v.run_id = a.run_id) AS attempts,
       (SELECT count(*) FROM run_events e JOIN victims v ON v.run_id = e.run_id) AS events`;

type CountRow = { runs?: number; steps: number; attempts: number; events: number };

async function deleteHistory(client: PgQueryable, runIds: string[]): Promise<CountRow> {
  const { rows } = await client.query<CountRow>(DELETE_HISTORY, [runIds]);
  return rows[0] ?? { steps: 0, attempts: 0, events: 0 };
}

export function prunePgBatch(db: PgDatabase, q: PruneQuery, limit: number): Promise<PruneCounts> {
  return db.tx(async (client) => {
    const params = [q.before, [...q.statuses]];
    const locked = await client.query<{ run_id: string }>(LOCK_BATCH, [...params, limit]);
    const ids = locked.rows.map((r) => r.run_id);
    if (ids.length === 0) return { runs: 0, steps: 0, attempts: 0, events: 0 };
    const children = await deleteHistory(client, ids);
    const deleted = await client.query(DELETE_RUNS, [ids]);
    return {
      runs: deleted.rowCount ?? 0,
      steps: Number(children.steps),
      attempts: Number(children.attempts),
      events: Number(children.events),
    };
  });
}

export async function countPgPrunable(db: PgDatabase, q: PruneQuery): Promise<PruneCounts> {
  const rows = await db.query<CountRow>(COUNT_ALL, [q.before, [...q.statuses]]);
  const r = rows[0];
  return {
    runs: Number(r?.runs ?? 0),
    steps: Number(r?.steps ?? 0),
    attempts: Number(r?.attempts ?? 0),
    events: Number(r?.events ?? 0),
  };
}
