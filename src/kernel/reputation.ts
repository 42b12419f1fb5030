// The knowledge store (SPEC §9): reputation counts applied once per finalized run, feedback that records the
// true outcome (and may be replaced), and the units formula. Both writers end their transaction with one
// multi-row agent_reputation upsert (RunTx.applyReputation), the last lock of SPEC §4's order.
import type { AggregationResult, Conclusion } from "../aggregation/types.js";
import type { VoteOn } from "../spec/types.js";
import type { ReputationDelta, ReputationRecord } from "../store/run-port.js";

/** An agent without a row has these units. */
export const DEFAULT_UNITS = 500;

/** Units of a row: feedback when the agent has any, else agreement with the decisions (SPEC §9). */
export function reputationUnits(
  row: Pick<ReputationRecord, "runs" | "agreed" | "correct" | "wrong">,
): number {
  const judged = row.correct + row.wrong;
  if (judged > 0) return Math.round((1000 * (row.correct + 1)) / (judged + 2));
  return Math.round((1000 * (row.agreed + 1)) / (row.runs + 2));
}

/** The task_type row and the overall '*' row (one row when the task type is '*' itself). */
function rowKeys(taskType: string): string[] {
  return taskType === "*" ? ["*"] : [taskType, "*"];
}

function delta(agentId: string, taskType: string, counts: Partial<ReputationDelta>): ReputationDelta {
  return { agent_id: agentId, task_type: taskType, runs: 0, agreed: 0, correct: 0, wrong: 0, ...counts };
}

/** The counted voters of a result and their ballot (`vote_on`) values. */
export function voters(
  conclusions: readonly Conclusion[],
  voteOn: VoteOn,
): { agent_id: string; ballot: string }[] {
  return conclusions.flatMap((c) => {
    const ballot = voteOn === "decision" ? c.decision : c.answer;
    return c.voted && ballot !== null ? [{ agent_id: c.agent_id, ballot }] : [];
  });
}

/** True when a finalized result counts for reputation: a decision reached on WINNER_PATH or by CONFIDENCE_WEIGHTED. */
export function countsForReputation(result: AggregationResult): boolean {
  if (result.status !== "FINALIZED" || result.final_decision === null) return false;
  const { aggregation } = result;
  if (aggregation.resolution_paths[aggregation.vote_on] === "WINNER_PATH") return true;
  return aggregation.tie_policy.trace.some(
    (t) => t.resolver === "CONFIDENCE_WEIGHTED" && t.outcome === "RESOLVED",
  );
}

/** runs + 1 for every voter, agreed + 1 for those whose vote equalled the decision. */
export function finalizationDeltas(taskType: string, result: AggregationResult): ReputationDelta[] {
  if (!countsForReputation(result)) return [];
  return voters(result.conclusions, result.aggregation.vote_on).flatMap((v) =>
    rowKeys(taskType).map((t) =>
      delta(v.agent_id, t, { runs: 1, agreed: v.ballot === result.final_decision ? 1 : 0 }),
    ),
  );
}

/** correct/wrong changes when a run's feedback goes from `previous` (null: none yet) to `next`. */
export function feedbackDeltas(
  taskType: string,
  result: Pick<AggregationResult, "conclusions" | "aggregation">,
  previous: string | null,
  next: string,
): ReputationDelta[] {
  const out: ReputationDelta[] = [];
  for (const v of voters(result.conclusions, result.aggregation.vote_on)) {
    const counts = { correct: 0, wrong: 0 };
    if (previous !== null) counts[v.ballot === previous ? "correct" : "wrong"] -= 1;
    counts[v.ballot === next ? "correct" : "wrong"] += 1;
    if (counts.correct === 0 && counts.wrong === 0) continue;
    for (const t of rowKeys(taskType)) out.push(delta(v.agent_id, t, counts));
  }
  return out;
}

export interface ReputationView extends ReputationRecord {
  /** agreed/runs and correct/(correct+wrong), rounded to 3 decimals; null without data. */
  agreement: number | null;
  accuracy: number | null;
}

function ratio(a: number, b: number): number | null {
  return b === 0 ? null : Math.round((a / b) * 1000) / 1000;
}

export function reputationView(r: ReputationRecord): ReputationView {
  return { ...r, agreement: ratio(r.agreed, r.runs), accuracy: ratio(r.correct, r.correct + r.wrong) };
}

/** Units per agent from rows: the task_type row first, then '*' (what REPUTATION_WEIGHTED reads). */
export function unitsFromRows(rows: readonly ReputationRecord[], taskType: string): Record<string, number> {
  const units: Record<string, number> = Object.create(null);
  for (const r of rows)
    if (r.task_type === "*" && !Object.hasOwn(units, r.agent_id)) units[r.agent_id] = r.units;
  for (const r of rows) if (r.task_type === taskType) units[r.agent_id] = r.units;
  return units;
}
