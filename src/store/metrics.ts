// What `/metrics` reads from the store (SPEC §10): counts by status over every run and step, and the attempts
// closed since a given time, one row each. Read from the database, so it covers every worker sharing the store;
// the server keeps the cumulative counters (src/server/metrics.ts) and reads only the recent attempts.
import type { AttemptStatus, RunStatus, StepStatus } from "../vocab.js";

/** Cumulative bucket counts: `counts[i]` = observations ≤ `bounds_ms[i]` (Prometheus `le` semantics). */
export interface LatencyHistogram {
  bounds_ms: number[];
  counts: number[];
  count: number;
  sum_ms: number;
}

/** The gauges: every run and every step in the store, by status. */
export interface StatusCounts {
  runs_by_status: Partial<Record<RunStatus, number>>;
  steps_by_status: Partial<Record<StepStatus, number>>;
}

/** One closed attempt (finished_at set), as `/metrics` counts it. */
export interface ClosedAttempt {
  step_id: string;
  attempt_seq: number;
  status: AttemptStatus;
  error_code: string | null;
  /** finished_at, epoch ms: the clock of the transaction that closed the attempt (store.now()). */
  finished_ms: number;
  /** started_at − due_at, ms (negative values count as 0). */
  claim_ms: number;
  /** finished_at − started_at, ms (negative values count as 0). */
  step_ms: number;
}

export function countsByKey<K extends string>(
  rows: readonly { key: string; n: number }[],
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const row of rows) out[row.key as K] = Number(row.n);
  return out;
}
