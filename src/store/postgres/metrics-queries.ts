// Named SQL behind `/metrics` on PostgreSQL (src/store/metrics.ts). Latencies are computed in ms by the
// database; histogram buckets are counted in one pass over the attempts closed since `since`.

import { countsByKey, histogramOf, type MetricsQuery, type StoreMetrics } from "../metrics.js";
import type { AttemptStatus } from "../types.js";
import type { PgDatabase } from "./database.js";

const RUNS_BY_STATUS = "SELECT status AS key, count(*) AS n FROM runs GROUP BY status";
const STEPS_BY_STATUS = "SELECT status AS key, count(*) AS n FROM run_steps GROUP BY status";

const CLOSED_ATTEMPTS = `
  SELECT status, error_code,
         greatest(0, extract(epoch FROM (started_at - due_at)) * 1000)::float8 AS claim_ms,
         greatest(0, extract(epoch FROM (finished_at - started_at)) * 1000)::float8 AS step_ms
  FROM run_step_attempts WHERE finished_at IS NOT NULL AND finished_at >= $1`;

const ATTEMPTS_BY_CODE = `
SELECT status, error_code, count(*) AS n FROM (${CLOSED_ATTEMPTS}) a
GROUP BY status, error_code ORDER BY status, error_code NULLS FIRST`;

const LATENCY_TOTALS = `
SELECT count(*) AS n, coalesce(sum(claim_ms), 0)::float8 AS claim_sum, coalesce(sum(step_ms), 0)::float8 AS step_sum
FROM (${CLOSED_ATTEMPTS}) a`;

const LATENCY_BUCKETS = `
SELECT b.le, count(a.claim_ms) FILTER (WHERE a.claim_ms <= b.le) AS claim,
       count(a.step_ms) FILTER (WHERE a.step_ms <= b.le) AS step
FROM unnest($2::float8[]) AS b(le) LEFT JOIN (${CLOSED_ATTEMPTS}) a ON true
GROUP BY b.le`;

export async function readPgMetrics(db: PgDatabase, q: MetricsQuery): Promise<StoreMetrics> {
  const [runs, steps, attempts, totals, buckets] = await Promise.all([
    db.query<{ key: string; n: number }>(RUNS_BY_STATUS),
    db.query<{ key: string; n: number }>(STEPS_BY_STATUS),
    db.query<{ status: AttemptStatus; error_code: string | null; n: number }>(ATTEMPTS_BY_CODE, [q.since]),
    db.query<{ n: number; claim_sum: number; step_sum: number }>(LATENCY_TOTALS, [q.since]),
    db.query<{ le: number; claim: number; step: number }>(LATENCY_BUCKETS, [q.since, q.boundsMs]),
  ]);
  const total = totals[0] ?? { n: 0, claim_sum: 0, step_sum: 0 };
  const count = Number(total.n);
  return {
    runs_by_status: countsByKey(runs),
    steps_by_status: countsByKey(steps),
    attempts: attempts.map((a) => ({ status: a.status, error_code: a.error_code, count: Number(a.n) })),
    claim_latency: histogramOf(
      q.boundsMs,
      new Map(buckets.map((b) => [Number(b.le), Number(b.claim)])),
      count,
      Number(total.claim_sum),
    ),
    step_latency: histogramOf(
      q.boundsMs,
      new Map(buckets.map((b) => [Number(b.le), Number(b.step)])),
      count,
      Number(total.step_sum),
    ),
  };
}
