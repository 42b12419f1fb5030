// Run-level transitions requested by a user: submit, kickoff, cancel, retry (SPEC §4). Each is one
// transaction that locks the run row first, applies a guarded update and appends its events.
import { canonicalJson } from "../aggregation/normalize.js";
import { WattswarmError } from "../errors.js";
import { buildStepInputs } from "../spec/inputs.js";
import type { JsonObject, JsonValue, RunSpec } from "../spec/types.js";
import type { Store } from "../store/port.js";
import type { NewEvent, RunRecord, RunTx, StepRecord } from "../store/run-port.js";
import type { RunStatus } from "../vocab.js";
import { runEvent } from "./events.js";
import { newStepId } from "./ids.js";
import { CANCELLED_RESOLUTION, countSteps, provisionalResult } from "./result.js";
import { cancelSteps, isActive } from "./settle.js";
import {
  canRun,
  canStep,
  isTerminalRun,
  moveRun,
  moveRunSteps,
  moveSteps,
  RUN_TRANSITIONS,
} from "./states.js";

export async function lockExistingRun(tx: RunTx, runId: string): Promise<RunRecord> {
  const run = await tx.lockRun(runId);
  if (!run) throw new WattswarmError("RUN_NOT_FOUND", `run "${runId}" not found`);
  return run;
}

export interface SubmitOutcome {
  ok: true;
  run_id: string;
  kicked_off: boolean;
  created: boolean;
}

function newRun(spec: RunSpec, status: RunStatus, now: string): RunRecord {
  return {
    run_id: spec.run_id,
    status,
    task_type: spec.task_type,
    spec,
    shared_inputs: spec.shared_inputs,
    round: 1,
    event_seq: 0,
    // Counted by insertSteps, like every change of a step's status.
    active_steps: 0,
    reputation_applied: false,
    result: null,
    error_text: null,
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
  };
}

function newSteps(spec: RunSpec, status: "CREATED" | "QUEUED", now: Date): StepRecord[] {
  const iso = now.toISOString();
  return spec.agents.map((agent, ordinal) => ({
    step_id: newStepId(now.getTime(), ordinal),
    run_id: spec.run_id,
    ordinal,
    agent_id: agent.agent_id,
    executor: agent.executor,
    profile: agent.profile,
    prompt: agent.prompt,
    inputs: buildStepInputs(spec, ordinal, null),
    weight: agent.weight,
    priority: agent.priority,
    timeout_ms: agent.timeout_ms,
    status,
    round: 1,
    attempt: 0,
    attempt_seq: 0,
    max_attempts: spec.retry.max_attempts,
    next_run_at: iso,
    run_created_at: iso,
    lease_token: null,
    lease_owner: null,
    lease_until: null,
    result: null,
    error_text: null,
    created_at: iso,
    updated_at: iso,
    started_at: null,
    finished_at: null,
  }));
}

/** Stores a validated, defaulted spec. An identical resubmit is a no-op; a different spec under the same id is a conflict. */
export async function submitRun(store: Store, spec: RunSpec, kickoff: boolean): Promise<SubmitOutcome> {
  try {
    return await submitOnce(store, spec, kickoff);
  } catch (err) {
    // A concurrent submit of the same run_id won the insert: judge this one against what it stored.
    if (
      err instanceof WattswarmError &&
      err.code === "RUN_EXISTS" &&
      !err.message.includes("different spec")
    ) {
      return submitOnce(store, spec, kickoff);
    }
    throw err;
  }
}

function submitOnce(store: Store, spec: RunSpec, kickoff: boolean): Promise<SubmitOutcome> {
  return store.transaction(async (tx) => {
    const existing = await tx.lockRun(spec.run_id);
    if (existing) {
      if (
        canonicalJson(existing.spec as unknown as JsonValue) !== canonicalJson(spec as unknown as JsonValue)
      ) {
        throw new WattswarmError(
          "RUN_EXISTS",
          `run "${spec.run_id}" already exists with a different spec; choose another run_id`,
        );
      }
      const kicked =
        kickoff && canRun("kickoff", existing.status) ? await kickoffLocked(tx, existing) : false;
      return { ok: true, run_id: spec.run_id, kicked_off: kicked, created: false };
    }
    const now = tx.now.toISOString();
    await tx.insertRun(newRun(spec, kickoff ? "QUEUED" : "CREATED", now));
    await tx.insertSteps(newSteps(spec, kickoff ? "QUEUED" : "CREATED", tx.now));
    const events: NewEvent[] = [
      runEvent("RUN_CREATED", spec.run_id, { task_type: spec.task_type, agents: spec.agents.length }),
    ];
    if (kickoff) events.push(runEvent("RUN_KICKOFF", spec.run_id, { steps_queued: spec.agents.length }));
    await tx.appendEvents(spec.run_id, events);
    if (kickoff) tx.notify(spec.run_id, "work");
    return { ok: true, run_id: spec.run_id, kicked_off: kickoff, created: true };
  });
}

async function kickoffLocked(tx: RunTx, run: RunRecord): Promise<boolean> {
  const now = tx.now.toISOString();
  await moveRun(tx, run.run_id, "kickoff");
  // One statement for all the run's steps, CREATED like the run since submit (the run row is locked: nothing
  // else moves them); one step per agent of the spec.
  const queued = await moveRunSteps(tx, run.run_id, "kickoff", run.spec.agents.length, { next_run_at: now });
  await tx.appendEvents(run.run_id, [runEvent("RUN_KICKOFF", run.run_id, { steps_queued: queued })]);
  tx.notify(run.run_id, "work");
  return true;
}

export async function kickoffRun(
  store: Store,
  runId: string,
): Promise<{ ok: true; run_id: string; status: RunStatus; kicked_off: boolean }> {
  return store.transaction(async (tx) => {
    const run = await lockExistingRun(tx, runId);
    if (canRun("kickoff", run.status)) {
      await kickoffLocked(tx, run);
      return { ok: true, run_id: runId, status: RUN_TRANSITIONS.kickoff.to, kicked_off: true };
    }
    if (isTerminalRun(run.status)) {
      throw new WattswarmError(
        "INVALID_STATE",
        `run "${runId}" is ${run.status}; only a CREATED run can be kicked off`,
      );
    }
    return { ok: true, run_id: runId, status: run.status, kicked_off: false };
  });
}

export async function cancelRun(
  store: Store,
  runId: string,
): Promise<{ ok: true; run_id: string; status: RunStatus }> {
  return store.transaction(async (tx) => {
    const run = await lockExistingRun(tx, runId);
    if (run.status === RUN_TRANSITIONS.cancel.to) return { ok: true, run_id: runId, status: run.status };
    if (!canRun("cancel", run.status)) {
      throw new WattswarmError(
        "INVALID_STATE",
        `run "${runId}" is already ${run.status}; it cannot be cancelled`,
      );
    }
    const steps = await tx.lockSteps(runId);
    const now = tx.now.toISOString();
    const events: NewEvent[] = [runEvent("RUN_CANCEL_REQUESTED", runId, { previous_status: run.status })];
    events.push(...(await cancelSteps(tx, steps.filter(isActive), "RUN_CANCELLED")));
    const after = await tx.lockSteps(runId);
    const counts = countSteps(after);
    const cancelled: RunRecord = { ...run, status: RUN_TRANSITIONS.cancel.to, finished_at: now };
    await moveRun(tx, runId, "cancel", {
      finished_at: now,
      result: provisionalResult(cancelled, counts),
    });
    events.push(
      runEvent("RUN_FINALIZED", runId, {
        status: "CANCELLED",
        final_decision: null,
        resolution_paths: {},
        null_resolution: CANCELLED_RESOLUTION as unknown as JsonObject,
        counts: counts as unknown as JsonObject,
      }),
    );
    await tx.appendEvents(runId, events);
    tx.notify(runId, "revoke");
    return { ok: true, run_id: runId, status: cancelled.status };
  });
}

export async function retryRun(
  store: Store,
  runId: string,
): Promise<{ ok: true; run_id: string; status: RunStatus; steps_requeued: number }> {
  return store.transaction(async (tx) => {
    const run = await lockExistingRun(tx, runId);
    if (!canRun("retry", run.status)) {
      throw new WattswarmError(
        "INVALID_STATE",
        `run "${runId}" is ${run.status}; retry needs a FAILED run or one with FAILED or RETRY_WAIT steps`,
      );
    }
    const steps = await tx.lockSteps(runId);
    const movable = steps.filter((s) => canStep("retry", s.status));
    if (movable.length === 0) {
      throw new WattswarmError("INVALID_STATE", `run "${runId}" has no FAILED or RETRY_WAIT step to retry`);
    }
    const now = tx.now.toISOString();
    await moveSteps(
      tx,
      runId,
      movable.map((s) => s.step_id),
      "retry",
      { attempt: 0, next_run_at: now, error_text: null, finished_at: null },
    );
    let status = run.status;
    // A terminal run (FAILED: the only one retry accepts) goes back to QUEUED; a QUEUED or RUNNING one stays.
    if (isTerminalRun(run.status)) {
      await moveRun(tx, runId, "retry", { result: null, error_text: null, finished_at: null });
      status = RUN_TRANSITIONS.retry.to;
    }
    await tx.appendEvents(runId, [
      runEvent("RUN_RETRY_REQUESTED", runId, {
        previous_status: run.status,
        steps_requeued: movable.length,
        agents: movable.map((s) => s.agent_id),
      }),
    ]);
    tx.notify(runId, "work");
    return { ok: true, run_id: runId, status, steps_requeued: movable.length };
  });
}
