// What happens to a run after one of its steps changed state, inside the same transaction (run row locked):
// the lazy QUEUED → RUNNING start, the early-stop check, and — once no step is active — aggregation, which
// either finalizes the run (exactly once: the run row lock and the status guard see to it) or starts a
// re-explore round.
import { checkEarlyStop, decide, needsReputation } from "../aggregation/index.js";
import { aggregationKeys, extractEvidence, extractOutput } from "../aggregation/normalize.js";
import type {
  AggregationInput,
  AggregationSignal,
  EarlyStopReport,
  ReexploreRecord,
  StepState,
} from "../aggregation/types.js";
import { buildStepInputs } from "../spec/inputs.js";
import type { JsonObject, JsonValue } from "../spec/types.js";
import type {
  AttemptRecord,
  NewEvent,
  ReputationDelta,
  RunRecord,
  RunTx,
  StepRecord,
} from "../store/run-port.js";
import { cutText } from "../util/text.js";
import { isActiveStepStatus } from "../vocab.js";
import { runEvent, stepEvent } from "./events.js";
import { finalizationDeltas } from "./reputation.js";
import { countSteps, finalResult, provisionalResult, storedResult } from "./result.js";
import {
  canRun,
  LEASE_HELD,
  moveRun,
  moveSteps,
  moveStepsWithInputs,
  RUN_TRANSITIONS,
  STEP_TRANSITIONS,
} from "./states.js";

const REEXPLORE_EVENTS = ["RUN_TIE_REEXPLORE_TRIGGERED", "RUN_NULL_REEXPLORE_TRIGGERED"] as const;

export function isActive(step: Pick<StepRecord, "status">): boolean {
  return isActiveStepStatus(step.status);
}

export function toStepState(step: StepRecord): StepState {
  return {
    ordinal: step.ordinal,
    agent_id: step.agent_id,
    executor: step.executor,
    profile: step.profile,
    status: step.status,
    round: step.round,
    attempt: step.attempt,
    response: step.status === "SUCCEEDED" ? step.result : null,
    error: step.error_text,
  };
}

/** agent_id → the evidence digests of these (SUCCEEDED, earlier-round) attempts, in the order given. */
export function evidenceByAgent(
  steps: readonly Pick<StepRecord, "step_id" | "agent_id">[],
  attempts: readonly AttemptRecord[],
): Record<string, string[]> {
  const agentOf = new Map(steps.map((s) => [s.step_id, s.agent_id]));
  const prior: Record<string, string[]> = {};
  for (const attempt of attempts) {
    const agent = agentOf.get(attempt.step_id);
    if (agent === undefined) continue;
    const digests = extractEvidence(attempt.result, extractOutput(attempt.result));
    prior[agent] = [...(prior[agent] ?? []), ...digests];
  }
  return prior;
}

/**
 * The run's steps, locked, each result read as only what aggregation looks at (RunTx.lockSteps): settling a
 * run of N agents moves N small objects, never their N whole outputs (the result keeps none: see
 * storedResult).
 */
function lockStepsToSettle(tx: RunTx, run: RunRecord): Promise<StepRecord[]> {
  return tx.lockSteps(run.run_id, aggregationKeys(run.spec.aggregation.tie_policy.confidence_weighted));
}

export async function aggregationInput(
  tx: RunTx,
  run: RunRecord,
  steps: readonly StepRecord[],
  earlyStop: EarlyStopReport | null,
): Promise<AggregationInput> {
  const keys = aggregationKeys(run.spec.aggregation.tie_policy.confidence_weighted);
  const prior =
    run.round > 1
      ? evidenceByAgent(steps, await tx.listSucceededAttemptsBefore(run.run_id, run.round, keys))
      : {};
  // A re-explore always starts a new round: in round 1 there is no history to read.
  const history = run.round > 1 ? await tx.listEventsOfTypes(run.run_id, REEXPLORE_EVENTS) : [];
  const reexplores: ReexploreRecord[] = history.map((e) => ({
    chain: e.payload.chain === "TIE" ? "TIE" : "NULL",
    new_evidence_agents: Array.isArray(e.payload.new_evidence_agents)
      ? e.payload.new_evidence_agents.filter((a): a is string => typeof a === "string")
      : [],
  }));
  const input: AggregationInput = {
    spec: run.spec,
    round: run.round,
    steps: steps.map(toStepState),
    prior_evidence: prior,
    reexplores,
    early_stop: earlyStop,
  };
  if (needsReputation(run.spec.aggregation)) {
    input.reputation_units = await tx.getReputationUnits(
      run.spec.agents.map((a) => a.agent_id),
      run.task_type,
    );
  }
  return input;
}

/** The claim time of the run's first claim, for the lazy QUEUED → RUNNING transition. */
function firstClaim(steps: readonly StepRecord[]): string | null {
  let first: string | null = null;
  for (const s of steps) if (s.started_at && (!first || s.started_at < first)) first = s.started_at;
  return first;
}

export interface SettleOptions {
  /**
   * Settle under a savepoint (RunTx.isolate): when settling throws, its writes are undone and the run is
   * FAILED on its own (failUnsettled) instead of failing the caller's transaction.
   */
  isolate?: boolean;
}

export type SettleOutcome = "ACTIVE" | "FINALIZED" | "FAILED" | "REEXPLORED" | "EARLY_STOPPED";

/** What settling a run wrote, and what the caller still has to write (events, then reputation last). */
export interface Settled {
  outcome: SettleOutcome;
  /** The run's events from settling, in order, to append after the step events that led to it. */
  events: NewEvent[];
  /** Reputation deltas of a finalization (SPEC §9), to apply as the transaction's last statement. */
  reputation: ReputationDelta[];
}

/**
 * What a settling transaction knows of the run's steps: every one of them (locked, as written), or only how
 * many are active now (the run row's active_steps after this transaction's writes) and the steps it wrote.
 * With the count, the run's other steps are read only when needed: once the run is idle (to aggregate it,
 * once), in `early_stop` mode (its check looks at every vote), or when settling fails.
 */
export interface KnownSteps {
  /** Every step of the run, locked, as written. */
  all?: readonly StepRecord[];
  /** Without `all`: how many of the run's steps are active now (neither given: the steps are read). */
  active?: number;
  /** Without `all`: the steps this transaction wrote, as written. */
  touched?: readonly StepRecord[];
}

/** Brings the run in line with its steps. `run` must be the locked row as it is now. */
export async function settleRun(tx: RunTx, run: RunRecord, opts: SettleOptions = {}): Promise<SettleOutcome> {
  // Nothing known: settling reads the steps itself (under the savepoint when isolated).
  const settled = await settleSteps(tx, run, {}, opts);
  await tx.appendEvents(run.run_id, settled.events);
  if (settled.reputation.length > 0) await tx.applyReputation(settled.reputation);
  return settled.outcome;
}

/**
 * settleRun without its two last writes: `known` is what the caller knows of the run's steps (written
 * already); the events and reputation deltas are returned for the caller to write, so that one transaction
 * can settle many runs and write their events and reputation in one statement each.
 */
export async function settleSteps(
  tx: RunTx,
  run: RunRecord,
  known: KnownSteps,
  opts: SettleOptions = {},
): Promise<Settled> {
  if (!opts.isolate) return settleOrThrow(tx, run, known);
  const settled = await tx.isolate(() => settleOrThrow(tx, run, known));
  if (settled.ok) return settled.value;
  // Rare: read the whole run (as written before settling began) to fail it on its own.
  // Read as stored: the projection of lockStepsToSettle may be what failed (SQLite refuses too deep JSON).
  return failUnsettled(tx, run, known.all ?? (await tx.lockSteps(run.run_id)), settled.error);
}

async function settleOrThrow(tx: RunTx, run: RunRecord, known: KnownSteps): Promise<Settled> {
  let all = known.all ?? (known.active === undefined ? await lockStepsToSettle(tx, run) : undefined);
  const readAll = async (): Promise<readonly StepRecord[]> => {
    all ??= await lockStepsToSettle(tx, run);
    return all;
  };
  const now = tx.now.toISOString();
  // The run is RUNNING once a step of it was claimed (the claim does it unless the run row was locked then).
  const claimed = all ?? known.touched ?? [];
  if (canRun("start", run.status) && claimed.some((s) => s.started_at !== null && s.status !== "QUEUED")) {
    const startedAt = run.started_at ?? firstClaim(claimed) ?? now;
    await moveRun(tx, run.run_id, "start", { started_at: startedAt });
    run = { ...run, status: RUN_TRANSITIONS.start.to, started_at: startedAt };
  }
  let activeCount = all ? all.filter(isActive).length : (known.active ?? 0);
  let earlyStop: EarlyStopReport | null = null;
  const events: NewEvent[] = [];
  if (run.spec.aggregation.mode === "early_stop") {
    earlyStop = { stopped: false, steps_saved: 0, calls_aborted: 0 };
    // After every completion, failures and expired leases included: a step that can no longer vote lowers
    // what the others could still cast (SPEC §5.6). The check looks at every vote, so it reads the run.
    if (activeCount > 0) {
      const steps = await readAll();
      const active = steps.filter(isActive);
      const check = checkEarlyStop(await aggregationInput(tx, run, steps, null));
      if (check.stop) {
        const leased = active.filter((s) => s.status === LEASE_HELD);
        events.push(...(await cancelSteps(tx, active, "EARLY_STOP")));
        earlyStop = { stopped: true, steps_saved: active.length, calls_aborted: leased.length };
        // Workers holding the cancelled leases abort their calls at once.
        if (leased.length > 0) tx.notify(run.run_id, "revoke");
        all = await lockStepsToSettle(tx, run);
        activeCount = 0;
      }
    }
  }
  if (activeCount > 0) return { outcome: "ACTIVE", events, reputation: [] };
  // The run is idle: its steps are read, once, to aggregate it.
  const steps = await readAll();
  const stillActive = steps.filter(isActive).length;
  if (stillActive > 0)
    throw new Error(`run ${run.run_id}: active_steps says 0 but ${stillActive} steps are active`);
  const decision = decide(await aggregationInput(tx, run, steps, earlyStop));
  if (decision.action === "REEXPLORE") {
    await startReexplore(tx, run, steps, decision, events);
    return { outcome: "REEXPLORED", events, reputation: [] };
  }
  const counts = countSteps(steps);
  const result = storedResult(finalResult(run, decision.result, now, counts));
  const status = decision.result.status;
  const transition = status === RUN_TRANSITIONS.finalize.to ? "finalize" : "fail";
  if (RUN_TRANSITIONS[transition].to !== status)
    throw new Error(`run ${run.run_id}: no transition to ${status}`);
  // Reputation counts once per run (SPEC §9); the flag is set with the finalization, the rows last of all.
  const reputation = run.reputation_applied ? [] : finalizationDeltas(run.task_type, decision.result);
  await moveRun(tx, run.run_id, transition, {
    result,
    error_text: decision.result.error,
    finished_at: now,
    ...(reputation.length > 0 ? { reputation_applied: true } : {}),
  });
  events.push(
    runEvent("RUN_FINALIZED", run.run_id, {
      status,
      final_decision: decision.result.final_decision,
      resolution_paths: decision.result.aggregation.resolution_paths as JsonObject,
      null_resolution: decision.result.aggregation.null_resolution as unknown as JsonValue,
      counts: counts as unknown as JsonObject,
    }),
  );
  tx.notify(run.run_id, "run");
  return { outcome: earlyStop?.stopped ? "EARLY_STOPPED" : status, events, reputation };
}

/** The error code of a run that could not be settled (RUN_FINALIZED payload; error_text prefix). */
const SETTLE_FAILED = "SETTLE_FAILED";

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.name === "Error" ? err.message : `${err.name}: ${err.message}`;
}

/**
 * A run whose settling threw (bad stored data, a bug): FAILED on its own, with the reason in error_text and
 * RUN_FINALIZED (`error_code: SETTLE_FAILED`), its active steps cancelled (reason `RUN_FAILED`), so that nothing
 * of it is left for a sweep or a claim to trip over again. `steps` are the run's steps as written before
 * settling began.
 */
async function failUnsettled(
  tx: RunTx,
  run: RunRecord,
  steps: readonly StepRecord[],
  err: unknown,
): Promise<Settled> {
  if (!canRun("fail", run.status)) throw err;
  const now = tx.now.toISOString();
  const error = cutText(`${SETTLE_FAILED}: ${describeError(err)}`);
  const active = steps.filter(isActive);
  const events = active.length > 0 ? await cancelSteps(tx, active, "RUN_FAILED") : [];
  const counts = countSteps(steps.map((s) => (isActive(s) ? { status: STEP_TRANSITIONS.cancel.to } : s)));
  const failed: RunRecord = {
    ...run,
    status: RUN_TRANSITIONS.fail.to,
    error_text: error,
    finished_at: now,
    started_at: run.started_at ?? firstClaim(steps),
  };
  await moveRun(tx, run.run_id, "fail", {
    result: provisionalResult(failed, counts),
    error_text: error,
    finished_at: now,
    started_at: failed.started_at,
  });
  events.push(
    runEvent("RUN_FINALIZED", run.run_id, {
      status: "FAILED",
      final_decision: null,
      resolution_paths: {},
      null_resolution: null,
      counts: counts as unknown as JsonObject,
      error_code: SETTLE_FAILED,
      error,
    }),
  );
  // Its cancelled leases are taken back: workers abort those calls, followers see the end.
  tx.notify(run.run_id, "revoke");
  return { outcome: "FAILED", events, reputation: [] };
}

/**
 * Cancels these active steps (closing the attempts of LEASED ones) and returns their events, in step order.
 * Two statements however many steps: the attempts closed by one (returning what their claims recorded, for
 * STEP_LEASED), the steps written by one.
 */
export async function cancelSteps(
  tx: RunTx,
  active: readonly StepRecord[],
  reason: "RUN_CANCELLED" | "EARLY_STOP" | "RUN_FAILED",
): Promise<NewEvent[]> {
  const now = tx.now.toISOString();
  const leased = active.filter((s) => s.status === LEASE_HELD);
  const closed = await tx.closeAttempts(
    leased.map((s) => ({
      step_id: s.step_id,
      attempt_seq: s.attempt_seq,
      status: "CANCELLED",
      error_code: null,
      result: null,
      error_text: null,
      finished_at: now,
    })),
  );
  const claims = new Map(closed.map((a) => [a.step_id, a]));
  const events: NewEvent[] = [];
  for (const step of active) {
    if (step.status === LEASE_HELD) {
      const claim = claims.get(step.step_id);
      events.push(stepEvent("STEP_LEASED", step, { worker_id: claim?.worker_id ?? null }, claim?.started_at));
    }
    events.push(stepEvent("STEP_CANCELLED", step, { reason, status: STEP_TRANSITIONS.cancel.to }));
  }
  if (active.length > 0) {
    // The steps are held locked (with their run row): a step that left the cancel's from-set is a bug.
    await moveSteps(
      tx,
      active[0]?.run_id as string,
      active.map((s) => s.step_id),
      "cancel",
      { lease_token: null, lease_owner: null, lease_until: null, finished_at: now },
    );
  }
  return events;
}

function withSignal(shared: JsonValue, signal: AggregationSignal): JsonObject {
  const base: JsonObject =
    shared !== null && typeof shared === "object" && !Array.isArray(shared)
      ? Object.assign(Object.create(null) as JsonObject, shared)
      : { shared_inputs: shared };
  base._aggregation_signal = signal as unknown as JsonObject;
  return base;
}

async function startReexplore(
  tx: RunTx,
  run: RunRecord,
  steps: readonly StepRecord[],
  decision: Extract<ReturnType<typeof decide>, { action: "REEXPLORE" }>,
  events: NewEvent[],
): Promise<void> {
  const now = tx.now.toISOString();
  const { reexplore } = decision;
  const signal = reexplore.signal as unknown as JsonObject;
  const round = run.round + 1;
  await moveRun(tx, run.run_id, "reexplore", {
    round,
    shared_inputs: withSignal(run.shared_inputs, reexplore.signal),
  });
  // Every step re-queued by one statement, each with its own inputs.
  await moveStepsWithInputs(
    tx,
    run.run_id,
    steps.map((step) => ({ step_id: step.step_id, inputs: buildStepInputs(run.spec, step.ordinal, signal) })),
    "reexplore",
    {
      round,
      attempt: 0,
      next_run_at: now,
      lease_token: null,
      lease_owner: null,
      lease_until: null,
      result: null,
      error_text: null,
      finished_at: null,
    },
  );
  const type = reexplore.chain === "TIE" ? "RUN_TIE_REEXPLORE_TRIGGERED" : "RUN_NULL_REEXPLORE_TRIGGERED";
  events.push(
    runEvent(type, run.run_id, {
      chain: reexplore.chain,
      round,
      iteration: reexplore.iteration,
      signal,
      new_evidence_agents: reexplore.new_evidence_agents,
      no_new_rounds: reexplore.no_new_rounds,
      aggregation: decision.result.aggregation as unknown as JsonObject,
    }),
  );
  tx.notify(run.run_id, "work");
}
