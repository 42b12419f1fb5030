// What `/metrics` reads from the store (SPEC §10): counts by status over every run and step, and the attempts
// closed since a given time. Computed by the database, so it covers every worker sharing the store.
import type { AttemptStatus, RunStatus, StepStatus } from "./types.js";

/** Cumulative bucket counts: `counts[i]` = observations ≤ `bounds_ms[i]` (Prometheus `le` semantics). */
export interface LatencyHistogram {
  bounds_ms: number[];
  counts: number[];
  count: number;
  sum_ms: number;
}

export interface AttemptCount {
  status: AttemptStatus;
  error_code: string | null;
  count: number;
}

export interface StoreMetrics {
  runs_by_status: Partial<Record<RunStatus, number>>;
  steps_by_status: Partial<Record<StepStatus, number>>;
  /** Attempts closed (finished_at set) since `since`, by status and error_code. */
  attempts: AttemptCount[];
  /** started_at − due_at of those attempts (negative values count as 0). */
  claim_latency: LatencyHistogram;
  /** finished_at − started_at of those attempts. */
  step_latency: LatencyHistogram;
}

export interface MetricsQuery {
  since: Date;
  /** Ascending upper bounds of the histogram buckets, in ms (+Inf is implied). */
  boundsMs: readonly number[];
}

/** Builds a histogram from per-bound counts (as the adapters' SQL returns them) plus the total count and sum. */
export function histogramOf(
  boundsMs: readonly number[],
  countsByBound: ReadonlyMap<number, number>,
  count: number,
  sumMs: number,
): LatencyHistogram {
  return {
    bounds_ms: [...boundsMs],
    counts: boundsMs.map((b) => countsByBound.get(b) ?? 0),
    count,
    sum_ms: sumMs,
  };
}

export function countsByKey<K extends string>(
  rows: readonly { key: string; n: number }[],
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const row of rows) out[row.key as K] = Number(row.n);
  return out;
}
