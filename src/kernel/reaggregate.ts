// `run reaggregate` (SPEC §7): the result a run would have under a policy, recomputed from its stored attempts
// without calling any agent and without writing anything. The replay judges the stored rounds in order:
// round r with the counters and evidence of rounds < r, stopping at the first round the policy finalizes. A
// re-explore beyond the last stored round yields final_decision null and `would_reexplore`.
// `replayRun` is pure over data read from the store; `reaggregateRun` reads that data.
import { decide } from "../aggregation/index.js";
import type {
  AggregationSignal,
  Decision,
  EarlyStopReport,
  ReexploreRecord,
  StepState,
} from "../aggregation/types.js";
import { WattswarmError } from "../errors.js";
import type { JsonObject, JsonValue, RunSpec } from "../spec/types.js";
import type { Store } from "../store/port.js";
import type { AttemptRecord, RunRecord, StepRecord } from "../store/run-port.js";
import type { AttemptStatus, StepStatus } from "../vocab.js";
import { unitsFromRows } from "./reputation.js";
import { countSteps, finalResult } from "./result.js";
import { evidenceByAgent, toStepState } from "./settle.js";

export interface ReplayData {
  run: RunRecord;
  steps: readonly StepRecord[];
  /** Every attempt of the run, any round. */
  attempts: readonly AttemptRecord[];
  /** The spec whose `aggregation` is applied (the stored one, or the stored one with another policy). */
  spec: RunSpec;
  /** Reputation units for policies that read the knowledge store. */
  reputation_units: Record<string, number> | null;
}

export interface ReplayOutcome {
  /** The round whose judgement is reported. */
  round: number;
  decision: Decision;
  counts: ReturnType<typeof countSteps>;
}

/** How a step ended a round that is not the last stored one, from its last attempt in that round. */
function endedAs(last: AttemptRecord | undefined, maxAttempts: number): StepStatus {
  if (!last) return "CANCELLED"; // never claimed in that round: an early stop cancelled it
  const status: AttemptStatus = last.status === "STALE" ? (last.closed_as ?? "FAILED") : last.status;
  switch (status) {
    case "SUCCEEDED":
    case "FAILED":
      return status;
    case "LEASE_EXPIRED":
      return last.attempt >= maxAttempts ? "FAILED" : "CANCELLED";
    default:
      // RETRYABLE_ERROR, RELEASED, CANCELLED: the step was still active when the round ended.
      return "CANCELLED";
  }
}

function stepStatesOfRound(data: ReplayData, round: number): StepState[] {
  // The last round is what the kernel judged when it finalized: the step rows as they are.
  if (round === data.run.round) return data.steps.map(toStepState);
  return data.steps.map((s) => {
    const mine = data.attempts
      .filter((a) => a.step_id === s.step_id && a.round === round)
      .sort((a, b) => a.attempt_seq - b.attempt_seq);
    const last = mine.at(-1);
    const status = endedAs(last, s.max_attempts);
    return {
      ...toStepState(s),
      status,
      round,
      attempt: last?.attempt ?? 0,
      response: status === "SUCCEEDED" ? (last?.result ?? null) : null,
      error: status === "SUCCEEDED" ? null : (last?.error_text ?? null),
    };
  });
}

/** agent_id → digests of its SUCCEEDED attempts in rounds before `round` (what the kernel passes). */
function priorEvidence(data: ReplayData, round: number): Record<string, string[]> {
  const earlier = data.attempts
    .filter((a) => a.round < round && a.status === "SUCCEEDED")
    .sort((a, b) => a.round - b.round || a.attempt_seq - b.attempt_seq);
  return evidenceByAgent(data.steps, earlier);
}

function earlyStopOf(data: ReplayData, round: number): EarlyStopReport | null {
  if (data.spec.aggregation.mode !== "early_stop") return null;
  const stored = (data.run.result?.aggregation as JsonObject | null | undefined)?.early_stop;
  if (round === data.run.round && stored && typeof stored === "object" && !Array.isArray(stored)) {
    return stored as unknown as EarlyStopReport;
  }
  return { stopped: false, steps_saved: 0, calls_aborted: 0 };
}

/** Replays the stored rounds under `data.spec.aggregation`. */
export function replayRun(data: ReplayData): ReplayOutcome {
  const reexplores: ReexploreRecord[] = [];
  for (let round = 1; ; round++) {
    const steps = stepStatesOfRound(data, round);
    const decision = decide({
      spec: data.spec,
      round,
      steps,
      prior_evidence: priorEvidence(data, round),
      reexplores: [...reexplores],
      early_stop: earlyStopOf(data, round),
      reputation_units: data.reputation_units,
    });
    if (decision.action === "FINALIZE" || round >= data.run.round) {
      return { round, decision, counts: countSteps(steps) };
    }
    reexplores.push({
      chain: decision.reexplore.chain,
      new_evidence_agents: decision.reexplore.new_evidence_agents,
    });
  }
}

/** The result document of a replay: the `run result` shape plus `would_reexplore`. */
export function replayResult(data: ReplayData, outcome: ReplayOutcome): JsonObject {
  const { decision } = outcome;
  const finishedAt = data.run.finished_at ?? data.run.updated_at;
  const doc = finalResult({ ...data.run, round: outcome.round }, decision.result, finishedAt, outcome.counts);
  let would: { chain: string; signal: AggregationSignal } | null = null;
  if (decision.action === "REEXPLORE")
    would = { chain: decision.reexplore.chain, signal: decision.reexplore.signal };
  return { ...doc, would_reexplore: would as unknown as JsonValue };
}

/** The stored spec with another `aggregation` object, validated like a spec (SPEC §2); SPEC_INVALID otherwise. */
export async function specWithPolicy(stored: RunSpec, policy: unknown): Promise<RunSpec> {
  // Loaded on use: the validator (zod) is the largest part of the CLI's startup.
  const { validateRunSpec } = await import("../spec/validate.js");
  const checked = validateRunSpec({ ...stored, aggregation: policy });
  if (checked.ok) return checked.spec;
  const n = checked.issues.length;
  throw new WattswarmError(
    "SPEC_INVALID",
    `the policy is not a valid aggregation object (${n} problem${n === 1 ? "" : "s"})`,
    checked.issues,
  );
}

export interface ReaggregateOptions {
  /** An `aggregation` object (parsed JSON) to apply instead of the stored one. */
  policy?: unknown;
  /** Read the knowledge store's current units instead of those stored in the result. */
  liveReputation?: boolean;
}

function storedUnits(run: RunRecord): Record<string, number> | null {
  const units = (run.result?.aggregation as JsonObject | null | undefined)?.reputation_units;
  if (!units || typeof units !== "object" || Array.isArray(units)) return null;
  return Object.assign(Object.create(null) as Record<string, number>, units);
}

export async function reaggregateRun(
  store: Store,
  runId: string,
  opts: ReaggregateOptions = {},
): Promise<JsonObject> {
  const run = await store.getRun(runId);
  if (!run) throw new WattswarmError("RUN_NOT_FOUND", `run "${runId}" not found`);
  if (run.status !== "FINALIZED" && run.status !== "FAILED") {
    throw new WattswarmError(
      "INVALID_STATE",
      `run "${runId}" is ${run.status}; only FINALIZED or FAILED runs can be re-aggregated`,
    );
  }
  const spec = opts.policy === undefined ? run.spec : await specWithPolicy(run.spec, opts.policy);
  let units = opts.liveReputation ? null : storedUnits(run);
  if (units === null) {
    // Live units: asked for, or the stored policy did not weigh by reputation and so stored none.
    const agents = new Set(spec.agents.map((a) => a.agent_id));
    const rows = (await store.listReputation()).filter((r) => agents.has(r.agent_id));
    units = unitsFromRows(rows, run.task_type);
  }
  const [steps, attempts] = await Promise.all([store.getSteps(runId), store.getAttempts(runId)]);
  const data: ReplayData = { run, steps, attempts, spec, reputation_units: units };
  return replayResult(data, replayRun(data));
}
