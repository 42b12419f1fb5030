// Named SQL behind `/metrics` on SQLite (src/store/metrics.ts). Times are INTEGER ms, so latencies are plain
// differences; the bucket bounds arrive as a JSON array.

import { countsByKey, histogramOf, type MetricsQuery, type StoreMetrics } from "../metrics.js";
import type { AttemptStatus } from "../types.js";
import type { SqliteDb } from "./connection.js";

const RUNS_BY_STATUS = "SELECT status AS key, count(*) AS n FROM runs GROUP BY status";
const STEPS_BY_STATUS = "SELECT status AS key, count(*) AS n FROM run_steps GROUP BY status";

const CLOSED_ATTEMPTS = `
  SELECT status, error_code, max(0, started_at - due_at) AS claim_ms, max(0, finished_at - started_at) AS step_ms
  FROM run_step_attempts WHERE finished_at IS NOT NULL AND finished_at >= @since`;

const ATTEMPTS_BY_CODE = `
SELECT status, error_code, count(*) AS n FROM (${CLOSED_ATTEMPTS})
GROUP BY status, error_code ORDER BY status, error_code`;

const LATENCY_TOTALS = `
SELECT count(*) AS n, coalesce(sum(claim_ms), 0) AS claim_sum, coalesce(sum(step_ms), 0) AS step_sum
FROM (${CLOSED_ATTEMPTS})`;

const LATENCY_BUCKETS = `
SELECT b.value AS le, coalesce(sum(a.claim_ms <= b.value), 0) AS claim, coalesce(sum(a.step_ms <= b.value), 0) AS step
FROM json_each(@bounds) AS b LEFT JOIN (${CLOSED_ATTEMPTS}) AS a ON 1
GROUP BY b.value`;

export function readSqliteMetrics(db: SqliteDb, q: MetricsQuery): StoreMetrics {
  const since = q.since.getTime();
  const rows = <R>(sql: string, params: Record<string, unknown> = {}) => db.prepare(sql).all(params) as R[];
  const runs = rows<{ key: string; n: number }>(RUNS_BY_STATUS);
  const steps = rows<{ key: string; n: number }>(STEPS_BY_STATUS);
  const attempts = rows<{ status: AttemptStatus; error_code: string | null; n: number }>(ATTEMPTS_BY_CODE, {
    since,
  });
  const total = rows<{ n: number; claim_sum: number; step_sum: number }>(LATENCY_TOTALS, { since })[0];
  const buckets = rows<{ le: number; claim: number; step: number }>(LATENCY_BUCKETS, {
    since,
    bounds: JSON.stringify(q.boundsMs),
  });
  const count = total?.n ?? 0;
  return {
    runs_by_status: countsByKey(runs),
    steps_by_status: countsByKey(steps),
    attempts: attempts.map((a) => ({ status: a.status, error_code: a.error_code, count: a.n })),
    claim_latency: histogramOf(
      q.boundsMs,
      new Map(buckets.map((b) => [b.le, b.claim])),
      count,
      total?.claim_sum ?? 0,
    ),
    step_latency: histogramOf(
      q.boundsMs,
      new Map(buckets.map((b) => [b.le, b.step])),
      count,
      total?.step_sum ?? 0,
    ),
  };
}
