// Transitions that end an attempt: completion, failure, release on shutdown, lease expiry (SPEC §4).
// Each presents the lease token it holds (fencing): a result for an attempt that is already closed is kept in
// that attempt's row, never applied.

import { needsReputation } from "../aggregation/index.js";
import { isDbUnavailable } from "../errors.js";
import type { JsonValue } from "../spec/types.js";
import type { Store } from "../store/port.js";
import type {
  AttemptClaimInfo,
  ClaimedStep,
  EventBatch,
  NewEvent,
  ReputationDelta,
  RunRecord,
  RunTx,
  StepRecord,
} from "../store/run-port.js";
import { cutText, replaceNulDeep } from "../util/text.js";
import type { AttemptStatus, ExecutionOutcome } from "../vocab.js";
import { retryDelayMs } from "./backoff.js";
import { stepEvent } from "./events.js";
import { isActive, type SettleOutcome, settleRun, settleSteps } from "./settle.js";
import {
  canStep,
  expectLeasesClosed,
  LEASE_HELD,
  moveSteps,
  STEP_TRANSITIONS,
  type StepTransition,
} from "./states.js";

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

/** The step transition that records an executor's outcome (SPEC §4): complete, retryWait or fail. */
function closingTransition(outcome: ExecutionOutcome, attemptsLeft: boolean): StepTransition {
  if (outcome.ok) return "complete";
  return outcome.retryable && attemptsLeft ? "retryWait" : "fail";
}

function leasedEvent(step: StepRecord, attempt: AttemptClaimInfo | null): NewEvent {
  return stepEvent(
    "STEP_LEASED",
    step,
    { worker_id: attempt?.worker_id ?? step.lease_owner, due_at: attempt?.due_at ?? null },
    attempt?.started_at,
  );
}

/** What an executor returned for one attempt, with the lease it was called under. */
export interface Completion {
  lease: AttemptLease;
  outcome: ExecutionOutcome;
}

/** Records what an executor returned for one attempt, and settles the run if that was its last active step. */
export async function finishAttempt(
  store: Store,
  lease: AttemptLease,
  outcome: ExecutionOutcome,
  opts: { now?: Date } = {},
): Promise<FinishOutcome> {
  const [result] = await finishAttempts(store, [{ lease, outcome }], opts);
  return result as FinishOutcome;
}

/** A completion whose lease still holds, as it will be written. */
interface Applied {
  index: number;
  outcome: ExecutionOutcome;
  step: StepRecord;
  /** The step as it is after this completion. */
  after: StepRecord;
  attemptStatus: AttemptStatus;
  outcomeEvent: NewEvent;
}

type Indexed = Completion & { index: number };

/**
 * Records many completions (the worker's group commit) with the effect of recording them one by one in some
 * order (serializable): in one transaction, runs locked in ascending run_id order, then their steps (SPEC §4);
 * every attempt closed and every step written by one statement each, each touched run settled once, all events
 * appended by one statement, and the reputation of every run finalized here upserted last. Two kinds of run
 * keep one-by-one semantics explicitly: an `early_stop` run takes one completion per pass (a later one finds
 * its step cancelled by the stop and is STALE, as it would be alone), and when the batch spans several runs, a
 * run whose aggregation reads stored reputation is settled afterwards in a transaction of its own, so it sees
 * the reputation the others wrote. Results come back in the order of `completions`.
 */
export async function finishAttempts(
  store: Store,
  completions: readonly Completion[],
  opts: { now?: Date } = {},
): Promise<FinishOutcome[]> {
  const results: FinishOutcome[] = new Array(completions.length);
  if (completions.length === 0) return results;
  // Where executor text enters the store (SPEC §8.4): U+0000, which PostgreSQL refuses, becomes U+FFFD in
  // the error text and in every value and key of the output, before anything reads or writes them.
  const all = completions.map((c, index) => ({ lease: c.lease, outcome: replaceNulDeep(c.outcome), index }));
  const deferred = await settlingApart(
    store,
    (tx, isolate) => finishInTx(tx, all, results, true, isolate),
    opts,
  );
  const byRun = new Map<string, Indexed[]>();
  for (const c of deferred) byRun.set(c.lease.run_id, [...(byRun.get(c.lease.run_id) ?? []), c]);
  for (const runId of [...byRun.keys()].sort()) {
    const items = byRun.get(runId) ?? [];
    await settlingApart(store, (tx, isolate) => finishInTx(tx, items, results, false, isolate), opts);
  }
  return results;
}

/**
 * Runs `fn` in a transaction; when that fails for any reason but an unreachable database, runs it once more
 * with every run's settling isolated (SettleOptions.isolate), so that a run that cannot be settled is FAILED
 * on its own while the rest of the transaction commits. The savepoints are paid for only after a failure.
 */
async function settlingApart<T>(
  store: Store,
  fn: (tx: RunTx, isolate: boolean) => Promise<T>,
  opts: { now?: Date },
): Promise<T> {
  try {
    return await store.transaction((tx) => fn(tx, false), opts);
  } catch (err) {
    if (isDbUnavailable(err)) throw err;
    return store.transaction((tx) => fn(tx, true), opts);
  }
}

/** One transaction of finishAttempts; returns the completions left for transactions of their own. */
async function finishInTx(
  tx: RunTx,
  items: readonly Indexed[],
  results: FinishOutcome[],
  deferReputationReaders: boolean,
  isolate: boolean,
): Promise<Indexed[]> {
  const runIds = [...new Set(items.map((c) => c.lease.run_id))].sort();
  const locked = new Map((await tx.lockRuns(runIds)).map((r) => [r.run_id, r]));
  const deferred: Indexed[] = [];
  let pending: Indexed[] = [];
  for (const item of items) {
    const run = locked.get(item.lease.run_id);
    if (!run) results[item.index] = { applied: false, reason: "NOT_FOUND" };
    else if (deferReputationReaders && locked.size > 1 && needsReputation(run.spec.aggregation))
      deferred.push(item);
    else pending.push(item);
  }
  const events = new Map<string, NewEvent[]>();
  const reputation: ReputationDelta[] = [];
  for (let pass = 0; pending.length > 0; pass++) {
    const passRunIds = [...new Set(pending.map((c) => c.lease.run_id))].sort();
    // A run written by the previous pass (finalized, re-explored) is read again; its lock is already held.
    const runs = pass === 0 ? locked : new Map((await tx.lockRuns(passRunIds)).map((r) => [r.run_id, r]));
    // Only the completing steps are read and locked: a completion costs O(1) rows of its run (issue 15).
    const stepIds = [...new Set(pending.map((c) => c.lease.step_id))];
    const steps = new Map((await tx.lockStepsById(stepIds)).map((s) => [s.step_id, s]));
    const ordinal = (c: Indexed) => steps.get(c.lease.step_id)?.ordinal ?? -1;
    const ordered = [...pending].sort((a, b) => ordinal(a) - ordinal(b) || a.index - b.index);
    const later: Indexed[] = [];
    const oneTaken = new Set<string>();
    const now: Indexed[] = [];
    for (const c of ordered) {
      const run = runs.get(c.lease.run_id) as RunRecord;
      if (run.spec.aggregation.mode === "early_stop") {
        if (oneTaken.has(run.run_id)) {
          later.push(c);
          continue;
        }
        oneTaken.add(run.run_id);
      }
      now.push(c);
    }
    pending = later;
    await finishPass(tx, runs, steps, now, results, events, reputation, isolate);
  }
  const batches: EventBatch[] = [...events].map(([run_id, list]) => ({ run_id, events: list }));
  await tx.appendEventBatches(batches.sort((a, b) => (a.run_id < b.run_id ? -1 : 1)));
  // agent_reputation rows are the last locks of SPEC §4's order: one upsert, last.
  if (reputation.length > 0) await tx.applyReputation(reputation);
  return deferred;
}

/** Writes one pass: completions in step order, at most one per early_stop run. */
async function finishPass(
  tx: RunTx,
  runs: ReadonlyMap<string, RunRecord>,
  steps: Map<string, StepRecord>,
  items: readonly Indexed[],
  results: FinishOutcome[],
  events: Map<string, NewEvent[]>,
  reputation: ReputationDelta[],
  isolate: boolean,
): Promise<void> {
  const now = tx.now.toISOString();
  const applied: Applied[] = [];
  const stale: Indexed[] = [];
  const taken = new Set<string>();
  for (const c of items) {
    const step = steps.get(c.lease.step_id);
    const run = runs.get(c.lease.run_id) as RunRecord;
    if (step?.run_id !== c.lease.run_id) {
      results[c.index] = { applied: false, reason: "NOT_FOUND" };
    } else if (
      !canStep(closingTransition(c.outcome, step.attempt < step.max_attempts), step.status) ||
      step.lease_token !== c.lease.lease_token ||
      taken.has(step.step_id)
    ) {
      stale.push(c);
    } else {
      taken.add(step.step_id);
      applied.push({ index: c.index, outcome: c.outcome, step, ...outcomeOf(run, step, c.outcome, tx.now) });
    }
  }
  const closed = await tx.closeAttempts(
    applied.map(({ outcome, step, after, attemptStatus }) => ({
      step_id: step.step_id,
      attempt_seq: step.attempt_seq,
      status: attemptStatus,
      error_code: outcome.ok ? null : outcome.code,
      result: resultOf(outcome),
      // The step's error_text after this completion is the attempt's (cut once, in outcomeOf).
      error_text: after.error_text,
      finished_at: now,
    })),
  );
  const claims = new Map(closed.map((a) => [a.step_id, a]));
  const leases = applied.map(({ step, after }) => ({
    step_id: step.step_id,
    lease_token: step.lease_token as string,
    status: after.status,
    result: after.result,
    error_text: after.error_text,
    next_run_at: after.next_run_at,
    finished_at: after.finished_at,
  }));
  // The steps are held locked with the tokens read: a lease that is not closed is a bug.
  expectLeasesClosed(
    `finishAttempts: run ${[...new Set(applied.map((a) => a.step.run_id))].join(", ")}`,
    leases,
    await tx.closeLeases(leases),
  );

  for (const runId of [...new Set(applied.map((a) => a.step.run_id))].sort()) {
    const run = runs.get(runId) as RunRecord;
    const mine = applied.filter((a) => a.step.run_id === runId);
    const list = events.get(runId) ?? [];
    events.set(runId, list);
    for (const a of mine) list.push(leasedEvent(a.step, claims.get(a.step.step_id) ?? null), a.outcomeEvent);
    // closeLeases kept runs.active_steps; the run row read under lock before it is the count before.
    const ended = mine.filter((a) => !isActive(a.after)).length;
    const known = { active: run.active_steps - ended, touched: mine.map((a) => a.after) };
    const settled = await settleSteps(tx, run, known, { isolate });
    list.push(...settled.events);
    reputation.push(...settled.reputation);
    // Each completion reports what the transaction that recorded it did to its run.
    for (const a of mine)
      results[a.index] = { applied: true, step_status: a.after.status, run: settled.outcome };
  }
  for (const c of stale) results[c.index] = await recordStale(tx, c.lease, c.outcome);
}

function resultOf(outcome: ExecutionOutcome): JsonValue | null {
  return outcome.ok ? outcome.response : (outcome.details ?? null);
}

/** The attempt's closing status, the step after it, and the step's outcome event (SPEC §4 table). */
function outcomeOf(
  run: RunRecord,
  step: StepRecord,
  outcome: ExecutionOutcome,
  at: Date,
): Omit<Applied, "index" | "outcome" | "step"> {
  const now = at.toISOString();
  const attemptStatus = attemptStatusFor(outcome, step.attempt < step.max_attempts);
  const status = STEP_TRANSITIONS[closingTransition(outcome, step.attempt < step.max_attempts)].to;
  const cleared = { lease_token: null, lease_owner: null, lease_until: null, updated_at: now };
  if (outcome.ok) {
    const after: StepRecord = {
      ...step,
      ...cleared,
      status,
      result: outcome.response,
      error_text: null,
      finished_at: now,
    };
    return { attemptStatus, after, outcomeEvent: stepEvent("STEP_COMPLETED", step, { status }) };
  }
  const error = cutText(outcome.error);
  if (attemptStatus === "RETRYABLE_ERROR") {
    const delay = retryDelayMs(run.spec.retry.backoff_ms, step.attempt, outcome.retry_after_ms);
    const nextRunAt = new Date(at.getTime() + delay).toISOString();
    const after: StepRecord = {
      ...step,
      ...cleared,
      status,
      next_run_at: nextRunAt,
      error_text: error,
    };
    const payload = { error, error_code: outcome.code, next_run_at: nextRunAt, delay_ms: delay };
    return { attemptStatus, after, outcomeEvent: stepEvent("STEP_RETRY_WAIT", step, payload) };
  }
  const after: StepRecord = { ...step, ...cleared, status, error_text: error, finished_at: now };
  const payload = { status, error, error_code: outcome.code };
  return { attemptStatus, after, outcomeEvent: stepEvent("STEP_COMPLETED", step, payload) };
}

async function recordStale(
  tx: RunTx,
  lease: AttemptLease,
  outcome: ExecutionOutcome,
): Promise<FinishOutcome> {
  const result = resultOf(outcome);
  const error = outcome.ok ? null : cutText(outcome.error);
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

/** Why a worker hands a step back: it is shutting down, or it could not read the step's executor. */
export type ReleaseReason = "WORKER_SHUTDOWN" | "EXECUTOR_LOOKUP_FAILED";

/** Hands unfinished steps back (attempt not counted), e.g. on graceful shutdown. One transaction per run. */
export async function releaseAttempts(
  store: Store,
  leases: readonly AttemptLease[],
  reason: ReleaseReason = "WORKER_SHUTDOWN",
): Promise<number> {
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
        // A lease this worker lost (expired, reclaimed, cancelled) is not its to release: a legal race.
        if (!step || !canStep("release", step.status) || step.lease_token !== lease.lease_token) continue;
        const attempt = await tx.getAttempt(step.step_id, step.attempt_seq);
        await tx.updateAttempt(step.step_id, step.attempt_seq, { status: "RELEASED", finished_at: now });
        await moveSteps(tx, runId, [step.step_id], "release", {
          attempt: Math.max(0, step.attempt - 1),
          next_run_at: now,
          lease_token: null,
          lease_owner: null,
          lease_until: null,
        });
        events.push(leasedEvent(step, attempt), stepEvent("STEP_RELEASED", step, { reason }));
        count += 1;
      }
      if (events.length > 0) {
        await tx.appendEvents(runId, events);
        tx.notify(runId, "work");
      }
      return count;
    });
  }
  return released;
}

/**
 * Expires every lease past its deadline: one transaction per affected run, run row first. A run whose
 * transaction fails does not hold back the others; the first such error is thrown after all were tried.
 *
 * One sweeper at a time (RunTx.trySweepLock): each run's transaction first tries the sweep lock; when another
 * sweeper holds it, this sweep stops there (its runs are that sweeper's to expire, or the next sweep's) instead
 * of queueing on the same run rows. Returns how many leases this sweep expired.
 */
export async function expireLeases(store: Store, opts: { now?: Date } = {}): Promise<number> {
  let expired = 0;
  let failed: { error: unknown } | undefined;
  for (const runId of await store.findExpiredLeaseRuns(opts.now)) {
    try {
      const n = await settlingApart(store, (tx, isolate) => expireRunLeases(tx, runId, isolate), opts);
      if (n === null) break;
      expired += n;
    } catch (err) {
      if (isDbUnavailable(err)) throw err;
      failed ??= { error: err };
    }
  }
  if (failed) throw failed.error;
  return expired;
}

/**
 * The run's stale leases, in a constant number of statements however many there are: the attempts closed
 * (returning what their claims recorded, for STEP_LEASED) by one, the steps written by one. Null when another
 * sweeper holds the sweep lock.
 */
async function expireRunLeases(tx: RunTx, runId: string, isolate: boolean): Promise<number | null> {
  if (!(await tx.trySweepLock())) return null;
  const run = await tx.lockRun(runId);
  if (!run) return 0;
  const steps = await tx.lockSteps(runId);
  const nowMs = tx.now.getTime();
  const now = tx.now.toISOString();
  const stale = steps
    .filter((s) => s.status === LEASE_HELD && s.lease_until !== null && Date.parse(s.lease_until) < nowMs)
    .map((step) => {
      const left = step.attempt < step.max_attempts;
      const error = `LEASE_EXPIRED: lease of worker ${step.lease_owner ?? "?"} ended at ${step.lease_until}`;
      // expireRetry or expireFail (both from the lease-held status): the table names the status it leaves.
      return { step, left, error, status: STEP_TRANSITIONS[left ? "expireRetry" : "expireFail"].to };
    });
  if (stale.length === 0) return 0;
  const closed = await tx.closeAttempts(
    stale.map(({ step, error }) => ({
      step_id: step.step_id,
      attempt_seq: step.attempt_seq,
      status: "LEASE_EXPIRED",
      error_code: "LEASE_EXPIRED",
      result: null,
      error_text: error,
      finished_at: now,
    })),
  );
  const claims = new Map(closed.map((a) => [a.step_id, a]));
  const leases = stale.map(({ step, left, error, status }) => ({
    step_id: step.step_id,
    lease_token: step.lease_token as string,
    status,
    result: step.result,
    error_text: error,
    next_run_at: now,
    finished_at: left ? step.finished_at : now,
  }));
  // The steps are held locked with the tokens read: a lease that is not closed is a bug.
  expectLeasesClosed(`expireLeases: run ${runId}`, leases, await tx.closeLeases(leases));
  const events: NewEvent[] = [];
  for (const { step, error, status } of stale) {
    events.push(
      leasedEvent(step, claims.get(step.step_id) ?? null),
      stepEvent("STEP_LEASE_EXPIRED", step, { status, error, error_code: "LEASE_EXPIRED" }),
    );
  }
  await tx.appendEvents(runId, events);
  tx.notify(runId, "work");
  await settleRun(tx, run, { isolate });
  return stale.length;
}
