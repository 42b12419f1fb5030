// Knowledge-store operations a user asks for (SPEC §7, §9): `run feedback` and `reputation list|show`.

import { normalizeBallot } from "../aggregation/normalize.js";
import type { AggregationResult } from "../aggregation/types.js";
import { WattswarmError } from "../errors.js";
import type { JsonValue } from "../spec/types.js";
import type { Store } from "../store/port.js";
import type { RunRecord } from "../store/run-port.js";
import { lockExistingRun } from "./lifecycle.js";
import { DEFAULT_UNITS, feedbackDeltas, type ReputationView, reputationView } from "./reputation.js";

export interface FeedbackOutcome {
  ok: true;
  run_id: string;
  correct: string;
  /** The feedback this call replaced (null when it is the first). */
  previous: string | null;
  /** False when the same value was already recorded (nothing changed). */
  changed: boolean;
}

function storedAggregation(run: RunRecord): Pick<AggregationResult, "conclusions" | "aggregation"> {
  const result = run.result as unknown as Partial<AggregationResult> | null;
  if (!result?.aggregation || !Array.isArray(result.conclusions)) {
    throw new WattswarmError("INVALID_STATE", `run "${run.run_id}" has no stored aggregation result`);
  }
  return { conclusions: result.conclusions, aggregation: result.aggregation };
}

/**
 * `run feedback`: records the true outcome of a FINALIZED run and corrects its voters' correct/wrong counts.
 * Idempotent per run; another value replaces the earlier one (its counts are taken back).
 */
export async function recordFeedback(
  store: Store,
  runId: string,
  correct: JsonValue,
): Promise<FeedbackOutcome> {
  const value = normalizeBallot(correct);
  if (value === null) {
    throw new WattswarmError(
      "USAGE",
      "--correct: the value is empty after normalization (a ballot needs a value)",
    );
  }
  return store.transaction(async (tx) => {
    const run = await lockExistingRun(tx, runId);
    if (run.status !== "FINALIZED") {
      throw new WattswarmError(
        "INVALID_STATE",
        `run "${runId}" is ${run.status}; feedback is only recorded for FINALIZED runs`,
      );
    }
    const result = storedAggregation(run);
    const previous = await tx.getFeedback(runId);
    if (previous === value) return { ok: true, run_id: runId, correct: value, previous, changed: false };
    await tx.putFeedback(runId, value);
    await tx.applyReputation(feedbackDeltas(run.task_type, result, previous, value));
    return { ok: true, run_id: runId, correct: value, previous, changed: true };
  });
}

export async function listReputation(store: Store): Promise<ReputationView[]> {
  return (await store.listReputation()).map(reputationView);
}

/** One agent's rows ('*' and per task type); AGENT_NOT_FOUND when the store has none (it would have 500). */
export async function showReputation(
  store: Store,
  agentId: string,
): Promise<{ agent_id: string; units: number; rows: ReputationView[] }> {
  const rows = await store.listReputation({ agentId });
  if (rows.length === 0) {
    throw new WattswarmError(
      "AGENT_NOT_FOUND",
      `agent "${agentId}" has no reputation yet (an agent without a row weighs ${DEFAULT_UNITS} units)`,
    );
  }
  const overall = rows.find((r) => r.task_type === "*");
  return { agent_id: agentId, units: overall?.units ?? DEFAULT_UNITS, rows: rows.map(reputationView) };
}
