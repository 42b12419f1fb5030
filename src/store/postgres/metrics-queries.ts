// Named SQL behind `/metrics` on PostgreSQL (src/store/metrics.ts). Latencies are computed in ms by the
// database; the server aggregates the rows (src/server/metrics.ts).

import { type ClosedAttempt, countsByKey, type StatusCounts } from "../metrics.js";
import type { PgDatabase } from "./database.js";

// Both scan their table (runs_status_created_idx may serve the first as an index-only scan): O(runs) and
// O(steps) per scrape. See docs/storage.md, "Indexes and why".
const RUNS_BY_STATUS = "SELECT status AS key, count(*) AS n FROM runs GROUP BY status";
const STEPS_BY_STATUS = "SELECT status AS key, count(*) AS n FROM run_steps GROUP BY status";

/** A range scan of run_step_attempts_finished_idx: only the attempts closed at or after $1 are read. */
export const CLOSED_ATTEMPTS_SINCE = `
SELECT step_id, attempt_seq, status, error_code,
       round(extract(epoch FROM finished_at) * 1000)::float8 AS finished_ms,
       greatest(0, extract(epoch FROM (started_at - due_at)) * 1000)::float8 AS claim_ms,
       greatest(0, extract(epoch FROM (finished_at - started_at)) * 1000)::float8 AS step_ms
FROM run_step_attempts WHERE finished_at IS NOT NULL AND finished_at >= $1`;

export async function readPgStatusCounts(db: PgDatabase): Promise<StatusCounts> {
  const [runs, steps] = await Promise.all([
    db.query<{ key: string; n: number }>(RUNS_BY_STATUS),
    db.query<{ key: string; n: number }>(STEPS_BY_STATUS),
  ]);
  return { runs_by_status: countsByKey(runs), steps_by_status: countsByKey(steps) };
}

/** Every column comes back as a JS number or string already (int4 and float8 are parsed by the driver). */
export function readPgClosedAttempts(db: PgDatabase, since: Date): Promise<ClosedAttempt[]> {
  return db.query<ClosedAttempt>(CLOSED_ATTEMPTS_SINCE, [since]);
}
