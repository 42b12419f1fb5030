// Named SQL behind `/metrics` on SQLite (src/store/metrics.ts). Times are INTEGER ms, so latencies are plain
// differences; the server aggregates the rows (src/server/metrics.ts).

import { type ClosedAttempt, countsByKey, type StatusCounts } from "../metrics.js";
import { cached, type SqliteDb } from "./connection.js";

// Both scan their table (runs_status_created_idx may serve the first as a covering index): O(runs) and
// O(steps) per scrape. See docs/storage.md, "Indexes and why".
const RUNS_BY_STATUS = "SELECT status AS key, count(*) AS n FROM runs GROUP BY status";
const STEPS_BY_STATUS = "SELECT status AS key, count(*) AS n FROM run_steps GROUP BY status";

/** A range scan of run_step_attempts_finished_idx: only the attempts closed at or after @since are read. */
export const CLOSED_ATTEMPTS_SINCE = `
SELECT step_id, attempt_seq, status, error_code, finished_at AS finished_ms,
       max(0, started_at - due_at) AS claim_ms, max(0, finished_at - started_at) AS step_ms
FROM run_step_attempts WHERE finished_at IS NOT NULL AND finished_at >= @since`;

export function readSqliteStatusCounts(db: SqliteDb): StatusCounts {
  const rows = (sql: string) => cached(db, sql).all() as { key: string; n: number }[];
  return {
    runs_by_status: countsByKey(rows(RUNS_BY_STATUS)),
    steps_by_status: countsByKey(rows(STEPS_BY_STATUS)),
  };
}

export function readSqliteClosedAttempts(db: SqliteDb, since: Date): ClosedAttempt[] {
  return cached(db, CLOSED_ATTEMPTS_SINCE).all({ since: since.getTime() }) as ClosedAttempt[];
}
