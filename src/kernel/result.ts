// The run-level views: counts, RunView and the result document (SPEC §6, §7).
import { extractOutput } from "../aggregation/normalize.js";
import type { AggregationResult, NullResolution } from "../aggregation/types.js";
import type { JsonObject, JsonValue } from "../spec/types.js";
import type { RunRecord, StepRecord } from "../store/run-port.js";
import type { StepStatus } from "../vocab.js";
import { COUNT_KEYS } from "./states.js";

export interface StepCounts {
  created: number;
  queued: number;
  leased: number;
  succeeded: number;
  failed: number;
  retry_wait: number;
  cancelled: number;
}

export function emptyCounts(): StepCounts {
  return { created: 0, queued: 0, leased: 0, succeeded: 0, failed: 0, retry_wait: 0, cancelled: 0 };
}

export function countsFrom(byStatus: Partial<Record<StepStatus, number>>): StepCounts {
  const counts = emptyCounts();
  for (const [status, n] of Object.entries(byStatus) as [StepStatus, number][]) {
    (counts as unknown as Record<string, number>)[COUNT_KEYS[status]] = n;
  }
  return counts;
}

export function countSteps(steps: readonly Pick<StepRecord, "status">[]): StepCounts {
  const byStatus: Partial<Record<StepStatus, number>> = {};
  for (const s of steps) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  return countsFrom(byStatus);
}

export interface RunView {
  run_id: string;
  status: RunRecord["status"];
  task_type: string;
  round: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  counts: StepCounts;
}

export function runView(run: RunRecord, counts: StepCounts): RunView {
  return {
    run_id: run.run_id,
    status: run.status,
    task_type: run.task_type,
    round: run.round,
    created_at: run.created_at,
    updated_at: run.updated_at,
    started_at: run.started_at,
    finished_at: run.finished_at,
    counts,
  };
}

function header(run: RunRecord, status: RunRecord["status"], finishedAt: string | null): JsonObject {
  return {
    run_id: run.run_id,
    status,
    task_type: run.task_type,
    created_at: run.created_at,
    finished_at: finishedAt,
    round: run.round,
  };
}

/** The stored result of a run that aggregation finalized. */
export function finalResult(
  run: RunRecord,
  result: AggregationResult,
  finishedAt: string,
  counts: StepCounts,
): JsonObject {
  return {
    ...header(run, result.status, finishedAt),
    error: result.error,
    warnings: result.warnings,
    final_decision: result.final_decision,
    final_answer: result.final_answer,
    null_resolution: result.aggregation.null_resolution as unknown as JsonValue,
    confidence: result.confidence as unknown as JsonObject,
    conclusions: result.conclusions as unknown as JsonValue,
    aggregation: result.aggregation as unknown as JsonObject,
    counts: counts as unknown as JsonObject,
  };
}

/**
 * The result document as the kernel stores it: each conclusion without its `output`. An output stays in its
 * step row, where the completion wrote it (a finalized run's steps no longer change: only a FAILED run can be
 * retried, and then its result is dropped), and withOutputs puts it back when the result is read. So
 * finalizing a run of N agents neither reads nor writes their N whole outputs.
 */
export function storedResult(doc: JsonObject): JsonObject {
  if (!Array.isArray(doc.conclusions)) return doc;
  const conclusions = doc.conclusions.map((c) => {
    if (c === null || typeof c !== "object" || Array.isArray(c)) return c;
    const { output: _output, ...rest } = c;
    return rest;
  });
  return { ...doc, conclusions };
}

/**
 * A stored result with each conclusion's `output` read back from the run's steps (SPEC §6: the candidate
 * output of the step's latest attempt, null unless the conclusion SUCCEEDED). Conclusions that carry an
 * output already (results stored before outputs were kept apart) are left as they are; `steps` is read only
 * when a conclusion lacks one.
 */
export async function withOutputs(
  doc: JsonObject,
  steps: () => Promise<readonly Pick<StepRecord, "agent_id" | "result">[]>,
): Promise<JsonObject> {
  const conclusions = doc.conclusions;
  if (!Array.isArray(conclusions)) return doc;
  const missing = (c: JsonValue): c is JsonObject =>
    c !== null && typeof c === "object" && !Array.isArray(c) && !Object.hasOwn(c, "output");
  if (!conclusions.some(missing)) return doc;
  const resultOf = new Map((await steps()).map((s) => [s.agent_id, s.result]));
  return {
    ...doc,
    conclusions: conclusions.map((c) => {
      if (!missing(c)) return c;
      const result = c.status === "SUCCEEDED" ? (resultOf.get(String(c.agent_id)) ?? null) : null;
      return { ...c, output: extractOutput(result) };
    }),
  };
}

export const CANCELLED_RESOLUTION: NullResolution = { primary_kind: "CANCELLED", reason: "RUN_CANCELLED" };

/** The result shape for a run that is not finalized (yet), or that was cancelled. */
export function provisionalResult(run: RunRecord, counts: StepCounts): JsonObject {
  const cancelled = run.status === "CANCELLED";
  return {
    ...header(run, run.status, run.finished_at),
    error: run.error_text,
    warnings: [],
    final_decision: null,
    final_answer: null,
    confidence: null,
    conclusions: [],
    aggregation: null,
    null_resolution: cancelled ? (CANCELLED_RESOLUTION as unknown as JsonObject) : null,
    counts: counts as unknown as JsonObject,
  };
}
