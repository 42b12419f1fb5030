// Transitions that end an attempt: completion, failure, release on shutdown, lease expiry (SPEC §4).
// Each presents the lease token it holds (fencing): a result for an attempt that is already closed is kept in
// that attempt's row, never applied.
import type { ExecutionOutcome } from "../executors/types.js";
import type { JsonValue } from "../spec/types.js";
import type { AttemptRecord, ClaimedStep, NewEvent, RunStore, RunTx, StepRecord } from "../store/run-port.js";
import type { AttemptStatus } from "../store/types.js";
import { cutText } from "../util/text.js";
import { retryDelayMs } from "./backoff.js";
import { stepEvent } from "./events.js";
import { type SettleOutcome, settleRun } from "./settle.js";
import { STEP_TRANSITIONS } from "./states.js";

export interface AttemptLease {
  run_id: string;
  step_id: string;
  attempt_seq: number;
  lease_token: string;
}

export function leaseOf(claimed: ClaimedStep): AttemptLease {
  return {
    run_id: claimed.step.run_id,
    step_id: claimed.step.step_id,
    attempt_seq: claimed.attempt.attempt_seq,
    lease_token: claimed.attempt.lease_token,
  };
}

export type FinishOutcome =
  | { applied: true; step_status: StepRecord["status"]; run: SettleOutcome }
  /** The attempt was already closed with this same outcome (a retried commit). */
  | { applied: false; reason: "IDEMPOTENT" }
  /** The lease was lost (reclaimed, expired or cancelled): the result was recorded in the attempt row only. */
  | { applied: false; reason: "STALE"; closed_as: AttemptStatus }
  | { applied: false; reason: "NOT_FOUND" };

function attemptStatusFor(outcome: ExecutionOutcome, attemptsLeft: boolean): AttemptStatus {
  if (outcome.ok) return "SUCCEEDED";
  return outcome.retryable && attemptsLeft ? "RETRYABLE_ERROR" : "FAILED";
}

function leasedEvent(step: StepRecord, attempt: AttemptRecord | null): NewEvent {
  return stepEvent(
    "STEP_LEASED",
    step,
    { worker_id: attempt?.worker_id ?? step.lease_owner, due_at: attempt?.due_at ?? null },
    attempt?.started_at,
  );
}

/** Records what an executor returned for one attempt, and settles the run if that was its last active step. */
export async function finishAttempt(
  store: RunStore,
  lease: AttemptLease,
  outcome: ExecutionOutcome,
  opts: { now?: Date } = {},
): Promise<FinishOutcome> {
  return store.transaction(async (tx) => {
    const run = await tx.lockRun(lease.run_id);
    if (!run) return { applied: false, reason: "NOT_FOUND" };
    const steps = await tx.lockSteps(lease.run_id);
    const step = steps.find((s) => s.step_id === lease.step_id);
    if (!step) return { applied: false, reason: "NOT_FOUND" };
    const now = tx.now.toISOString();
    const error = outcome.ok ? null : cutText(outcome.error);
    const result: JsonValue | null = outcome.ok ? outcome.response : (outcome.details ?? null);

    if (step.status !== "LEASED" || step.lease_token !== lease.lease_token) {
      return recordStale(tx, lease, outcome, result, error);
    }
    const attempt = await tx.getAttempt(step.step_id, step.attempt_seq);
    const attemptsLeft = step.attempt < step.max_attempts;
    const attemptStatus = attemptStatusFor(outcome, attemptsLeft);
    await tx.updateAttempt(step.step_id, step.attempt_seq, {
      status: attemptStatus,
      error_code: outcome.ok ? null : outcome.code,
      result,
      error_text: error,
      finished_at: now,
    });
    const events: NewEvent[] = [leasedEvent(step, attempt)];
    const cleared = { lease_token: null, lease_owner: null, lease_until: null };
    let stepStatus: StepRecord["status"];
    if (outcome.ok) {
      stepStatus = "SUCCEEDED";
      await tx.updateSteps([step.step_id], STEP_TRANSITIONS.complete.from, {
        ...cleared,
        status: stepStatus,
        result: outcome.response,
        error_text: null,
        finished_at: now,
      });
      events.push(stepEvent("STEP_COMPLETED", step, { status: stepStatus }));
    } else if (attemptStatus === "RETRYABLE_ERROR") {
      stepStatus = "RETRY_WAIT";
      const delay = retryDelayMs(run.spec.retry.backoff_ms, step.attempt, outcome.retry_after_ms);
      const nextRunAt = new Date(tx.now.getTime() + delay).toISOString();
      await tx.updateSteps([step.step_id], STEP_TRANSITIONS.retryWait.from, {
        ...cleared,
        status: stepStatus,
        next_run_at: nextRunAt,
        error_text: error,
      });
      events.push(
        stepEvent("STEP_RETRY_WAIT", step, {
          error,
          error_code: outcome.code,
          next_run_at: nextRunAt,
          delay_ms: delay,
        }),
      );
    } else {
      stepStatus = "FAILED";
      await tx.updateSteps([step.step_id], STEP_TRANSITIONS.fail.from, {
        ...cleared,
        status: stepStatus,
        error_text: error,
        finished_at: now,
      });
      events.push(stepEvent("STEP_COMPLETED", step, { status: stepStatus, error, error_code: outcome.code }));
    }
    await tx.appendEvents(run.run_id, events);
    const settled = await settleRun(tx, run, { completed: outcome.ok });
    return { applied: true, step_status: stepStatus, run: settled };
  }, opts);
}

async function recordStale(
  tx: RunTx,
  lease: AttemptLease,
  outcome: ExecutionOutcome,
  result: JsonValue | null,
  error: string | null,
): Promise<FinishOutcome> {
  const attempt = await tx.findAttemptByToken(lease.step_id, lease.lease_token);
  if (!attempt) return { applied: false, reason: "NOT_FOUND" };
  if (attempt.status === "STALE")
    return { applied: false, reason: "STALE", closed_as: attempt.closed_as ?? "STALE" };
  const same = outcome.ok
    ? attempt.status === "SUCCEEDED"
    : attempt.status === "FAILED" || attempt.status === "RETRYABLE_ERROR";
  if (same) return { applied: false, reason: "IDEMPOTENT" };
  await tx.updateAttempt(attempt.step_id, attempt.attempt_seq, {
    status: "STALE",
    closed_as: attempt.status,
    error_code: outcome.ok ? attempt.error_code : outcome.code,
    result,
    error_text: error ?? attempt.error_text,
  });
  return { applied: false, reason: "STALE", closed_as: attempt.status };
}

/** Graceful shutdown: hands unfinished steps back (attempt not counted). One transaction per run. */
export async function releaseAttempts(store: RunStore, leases: readonly AttemptLease[]): Promise<number> {
  const byRun = new Map<string, AttemptLease[]>();
  for (const l of leases) byRun.set(l.run_id, [...(byRun.get(l.run_id) ?? []), l]);
  let released = 0;
  for (const runId of [...byRun.keys()].sort()) {
    released += await store.transaction(async (tx) => {
      const run = await tx.lockRun(runId);
      if (!run) return 0;
      const steps = await tx.lockSteps(runId);
      const now = tx.now.toISOString();
      const events: NewEvent[] = [];
      let count = 0;
      for (const lease of byRun.get(runId) ?? []) {
        const step = steps.find((s) => s.step_id === lease.step_id);
        if (step?.status !== "LEASED" || step.lease_token !== lease.lease_token) continue;
        const attempt = await tx.getAttempt(step.step_id, step.attempt_seq);
        await tx.updateAttempt(step.step_id, step.attempt_seq, { status: "RELEASED", finished_at: now });
        await tx.updateSteps([step.step_id], STEP_TRANSITIONS.release.from, {
          status: "QUEUED",
          attempt: Math.max(0, step.attempt - 1),
          next_run_at: now,
          lease_token: null,
          lease_owner: null,
          lease_until: null,
        });
        events.push(
          leasedEvent(step, attempt),
          stepEvent("STEP_RELEASED", step, { reason: "WORKER_SHUTDOWN" }),
        );
        count += 1;
      }
      if (events.length > 0) {
        await tx.appendEvents(runId, events);
        tx.notify(runId);
      }
      return count;
    });
  }
  return released;
}

/** Expires every lease past its deadline: one transaction per affected run, run row first. */
export async function expireLeases(store: RunStore, opts: { now?: Date } = {}): Promise<number> {
  let expired = 0;
  for (const runId of await store.findExpiredLeaseRuns(opts.now)) {
    expired += await store.transaction(async (tx) => {
      const run = await tx.lockRun(runId);
      if (!run) return 0;
      const steps = await tx.lockSteps(runId);
      const nowMs = tx.now.getTime();
      const now = tx.now.toISOString();
      const stale = steps.filter(
        (s) => s.status === "LEASED" && s.lease_until !== null && Date.parse(s.lease_until) < nowMs,
      );
      if (stale.length === 0) return 0;
      const events: NewEvent[] = [];
      for (const step of stale) {
        const attempt = await tx.getAttempt(step.step_id, step.attempt_seq);
        const left = step.attempt < step.max_attempts;
        const error = `LEASE_EXPIRED: lease of worker ${step.lease_owner ?? "?"} ended at ${step.lease_until}`;
        await tx.updateAttempt(step.step_id, step.attempt_seq, {
          status: "LEASE_EXPIRED",
          error_code: "LEASE_EXPIRED",
          error_text: error,
          finished_at: now,
        });
        const status = left ? "RETRY_WAIT" : "FAILED";
        await tx.updateSteps([step.step_id], ["LEASED"], {
          status,
          next_run_at: now,
          lease_token: null,
          lease_owner: null,
          lease_until: null,
          error_text: error,
          ...(left ? {} : { finished_at: now }),
        });
        events.push(
          leasedEvent(step, attempt),
          stepEvent("STEP_LEASE_EXPIRED", step, { status, error, error_code: "LEASE_EXPIRED" }),
        );
      }
      await tx.appendEvents(runId, events);
      tx.notify(runId);
      await settleRun(tx, run);
      return stale.length;
    }, opts);
  }
  return expired;
}
