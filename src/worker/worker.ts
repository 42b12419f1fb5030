// The claim loop. One loop per worker process:
//   expire stale leases (at most once per sweep interval) → check held tokens → claim up to the free slots →
//   launch each step on its own (no batch barrier) → wait for a free slot, a NOTIFY nudge or the poll interval.
// A heartbeat timer extends held leases every H and aborts the calls whose lease was lost. Database errors
// are logged and retried with capped backoff; they never crash the worker. stop() is graceful: claiming
// stops, in-flight steps get `shutdownGraceMs` to finish, the rest are aborted and released.
import { isDbUnavailable } from "../errors.js";
import { buildExecuteRequest } from "../executors/request.js";
import { runAttempt } from "../executors/run-attempt.js";
import {
  type AttemptLease,
  finishAttempts,
  leaseOf,
  type ReleaseReason,
  releaseAttempts,
} from "../kernel/attempts.js";
import { newAttemptId } from "../kernel/ids.js";
import type { Store } from "../store/port.js";
import type { ClaimedStep, NudgeFilter } from "../store/run-port.js";
import { type Logger, silentLogger } from "../util/log.js";
import { abortableSleep, sleep } from "../util/signals.js";
import type { ExecutionOutcome } from "../vocab.js";
import { CompletionBatcher } from "./completions.js";
import { ExecutorCache, type Loaded } from "./executor-cache.js";
import type { WorkerOptions } from "./options.js";
import { LeaseSweeper, sweepIntervalMs } from "./sweeper.js";

interface InFlight {
  lease: AttemptLease;
  controller: AbortController;
  /** Why the call was aborted, when it was. */
  abortReason: "shutdown" | "lease-lost" | null;
  done: Promise<void>;
}

/** A worker wakes for claimable work and for leases taken back, not for every other run's finalization. */
const WORKER_NUDGES: NudgeFilter = { kinds: ["work", "revoke"] };
/** After a failed heartbeat or lease expiry: retry this soon, this many times, before the next tick (H). */
const HEARTBEAT_RETRY_MS = 150;
const HEARTBEAT_RETRIES = 2;

export class Worker {
  private readonly inflight = new Map<string, InFlight>();
  private readonly executors: ExecutorCache;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  /** What happened since the loop last waited: a slot freed, a nudge or a poll tick. */
  private wakes = { slot: false, nudge: false };
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  /** Completions are committed in groups: many per transaction while the worker is busy. */
  private readonly completions: CompletionBatcher;
  /** Lease expiry: at most once per interval from the claim loop, every H from the heartbeat. */
  private readonly sweeper: LeaseSweeper;
  /** Steps this worker finished (for tests and `--once` accounting). */
  completed = 0;

  constructor(
    private readonly store: Store,
    readonly options: WorkerOptions,
    /** `clock`: milliseconds, for the sweep interval (default Date.now; tests inject one). */
    deps: { logger?: Logger; clock?: () => number } = {},
  ) {
    this.log = deps.logger ?? silentLogger();
    this.executors = new ExecutorCache(store, this.log);
    this.completions = new CompletionBatcher((items) => finishAttempts(this.store, items));
    this.sweeper = new LeaseSweeper(store, sweepIntervalMs(options.leaseMs), deps.clock);
  }

  /** Runs until stop() (or --once / --exit-when-idle); resolves after a graceful drain. */
  async run(): Promise<void> {
    const o = this.options;
    this.log.info(
      { worker_id: o.workerId, concurrency: o.concurrency, lease_ms: o.leaseMs },
      "worker started",
    );
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), o.heartbeatMs);
    this.heartbeatTimer.unref();
    let claimedOnce = false;
    let errorDelay = 0;
    // Held tokens are checked at a NOTIFY, at every poll interval and after an error (SPEC §4), not each time
    // a finished step frees a slot.
    let recheck = true;
    const listening = new AbortController();
    const nudges = this.listenForNudges(listening.signal);
    try {
      while (!this.stopping) {
        try {
          // Not before every claim: at most once per sweep interval. A sweep that fails on one run's account
          // must not stop claims (the heartbeat sweeps again).
          await this.sweeper.sweep().catch((err: unknown) => {
            if (isDbUnavailable(err)) throw err;
            this.log.warn({ err: String(err) }, "lease expiry failed; claiming anyway");
          });
          if (recheck) await this.checkLeases();
          const free = o.concurrency - this.inflight.size;
          if (free > 0 && !(o.once && claimedOnce)) {
            const claimOpts = { workerId: o.workerId, limit: free, leaseMs: o.leaseMs };
            const claimed = await this.store.claimSteps(
              o.runId !== undefined ? { ...claimOpts, runId: o.runId } : claimOpts,
            );
            claimedOnce = true;
            for (const c of claimed) this.launch(c);
          }
          if (o.once && claimedOnce && this.inflight.size === 0) break;
          if (o.exitWhenIdle && this.inflight.size === 0 && !(await this.store.hasPendingWork(o.runId)))
            break;
          errorDelay = 0;
          recheck = await this.waitForWork();
        } catch (err) {
          errorDelay = Math.min(5_000, Math.max(250, errorDelay * 2));
          this.log.error({ err: String(err), retry_in_ms: errorDelay }, "worker loop error; retrying");
          recheck = true;
          await sleep(errorDelay);
        }
      }
    } finally {
      listening.abort();
      await nudges;
      await this.drain();
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
      if (this.heartbeatRetry) clearTimeout(this.heartbeatRetry);
      this.log.info({ worker_id: o.workerId, completed: this.completed }, "worker stopped");
    }
  }

  /** Stop claiming; in-flight steps finish within the grace period, the rest are released. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.wakeUp?.();
  }

  get inFlightCount(): number {
    return this.inflight.size;
  }

  /**
   * Waits for a free slot, a nudge or the poll interval, unless one came while the loop was busy (none is
   * lost); true after a nudge or a poll tick, when held tokens are due for a check (listenForNudges marks
   * one at least every pollMs, however busy the loop is).
   */
  private async waitForWork(): Promise<boolean> {
    if (!this.wakes.slot && !this.wakes.nudge) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
      this.wakeUp = null;
    }
    const nudged = this.wakes.nudge;
    this.wakes = { slot: false, nudge: false };
    return nudged;
  }

  /**
   * Listens for nudges for the worker's whole life, so that a NOTIFY that arrives while the loop is claiming
   * is remembered, not lost. A NOTIFY may bring work, or revoke leases this worker holds (cancel, early stop):
   * the loop then checks its tokens at once (SPEC §4), even with every slot taken. Each wait also ends by
   * itself after pollMs: that is the poll.
   */
  private async listenForNudges(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.store
        .waitForNudge(this.options.pollMs, signal, WORKER_NUDGES)
        .catch(() => sleep(this.options.pollMs));
      this.wakes.nudge = true;
      this.wakeUp?.();
    }
  }

  private launch(claimed: ClaimedStep): void {
    const entry: InFlight = {
      lease: leaseOf(claimed),
      controller: new AbortController(),
      abortReason: null,
      done: Promise.resolve(),
    };
    this.inflight.set(claimed.step.step_id, entry);
    entry.done = this.execute(claimed, entry)
      .catch((err) => this.log.error({ err: String(err), step_id: claimed.step.step_id }, "step crashed"))
      .finally(() => {
        this.inflight.delete(claimed.step.step_id);
        this.wakes.slot = true;
        this.wakeUp?.();
      });
  }

  /**
   * The step's executor. A failure to read the registry is the worker's problem, never the agent's: it is
   * retried with capped backoff while the lease holds (L), then, or at shutdown, the step is released (its
   * attempt not counted). Null when the step was released or its lease lost.
   */
  private async loadExecutor(name: string, entry: InFlight): Promise<Loaded | null> {
    const giveUpAt = Date.now() + this.options.leaseMs;
    const { signal } = entry.controller;
    for (let delay = 100; ; delay = Math.min(5_000, delay * 2)) {
      try {
        return await this.executors.get(name);
      } catch (err) {
        const retry = !signal.aborted && Date.now() + delay < giveUpAt;
        const step_id = entry.lease.step_id;
        if (!retry) {
          this.log.warn({ err: String(err), step_id }, "reading the executor failed; releasing the step");
          break;
        }
        this.log.warn({ err: String(err), step_id, retry_in_ms: delay }, "reading the executor failed");
        await abortableSleep(delay, signal);
      }
    }
    if (entry.abortReason !== "lease-lost") {
      await this.release(entry.lease, signal.aborted ? "WORKER_SHUTDOWN" : "EXECUTOR_LOOKUP_FAILED");
    }
    return null;
  }

  private async execute(claimed: ClaimedStep, entry: InFlight): Promise<void> {
    const { step, attempt } = claimed;
    const loaded = await this.loadExecutor(step.executor, entry);
    if (loaded === null) return;
    if (!loaded.ok) {
      await this.finish(entry.lease, loaded.outcome);
      return;
    }
    const request = buildExecuteRequest({
      run_id: step.run_id,
      agent_id: step.agent_id,
      round: step.round,
      attempt_seq: step.attempt_seq,
      attempt_id: newAttemptId(step.step_id, step.attempt_seq),
      task_type: claimed.task_type,
      profile: step.profile,
      inputs: step.inputs,
      timeout_ms: step.timeout_ms,
    });
    const ctx = {
      run_id: step.run_id,
      step_id: step.step_id,
      agent_id: step.agent_id,
      round: step.round,
      attempt: step.attempt,
      attempt_seq: attempt.attempt_seq,
      timeout_ms: step.timeout_ms,
      deadline_ms: Date.now() + step.timeout_ms,
    };
    const result = await runAttempt(loaded.executor, request, ctx, entry.controller.signal);
    if ("cancelled" in result) {
      if (entry.abortReason === "shutdown") await this.release(entry.lease);
      return;
    }
    await this.finish(entry.lease, result);
  }

  /** Records the outcome; a database error is retried until the lease would have expired anyway. */
  private async finish(lease: AttemptLease, outcome: ExecutionOutcome): Promise<void> {
    const giveUpAt = Date.now() + this.options.leaseMs * 2;
    let delay = 100;
    for (;;) {
      try {
        const result = await this.completions.submit({ lease, outcome });
        // IDEMPOTENT: an earlier try of this same result committed (e.g. a batch retried item by item).
        if (result.applied || result.reason === "IDEMPOTENT") this.completed += 1;
        else
          this.log.warn(
            { step_id: lease.step_id, reason: result.reason },
            "result not applied (lease no longer held)",
          );
        return;
      } catch (err) {
        if (Date.now() > giveUpAt) {
          this.log.error(
            { err: String(err), step_id: lease.step_id },
            "could not record a result; the lease will expire",
          );
          return;
        }
        this.log.warn(
          { err: String(err), step_id: lease.step_id, retry_in_ms: delay },
          "recording a result failed",
        );
        await sleep(delay);
        delay = Math.min(5_000, delay * 2);
      }
    }
  }

  private async release(lease: AttemptLease, reason: ReleaseReason = "WORKER_SHUTDOWN"): Promise<void> {
    try {
      await releaseAttempts(this.store, [lease], reason);
    } catch (err) {
      this.log.warn({ err: String(err), step_id: lease.step_id }, "release failed; the lease will expire");
    }
  }

  private leases(): AttemptLease[] {
    return [...this.inflight.values()].map((e) => e.lease);
  }

  /**
   * Aborts the calls whose lease was `sent` but not `held`. Only sent leases are judged: a step claimed while the
   * query was in flight, or reclaimed under a new token, is not in its answer and has not lost anything.
   */
  private abortLost(sent: readonly AttemptLease[], held: readonly string[]): void {
    const keep = new Set(held);
    for (const lease of sent) {
      const entry = this.inflight.get(lease.step_id);
      if (keep.has(lease.step_id) || entry?.lease.lease_token !== lease.lease_token || entry.abortReason) {
        continue;
      }
      entry.abortReason = "lease-lost";
      entry.controller.abort(new Error("lease lost"));
      this.log.info(
        { step_id: lease.step_id },
        "lease lost (cancelled, early stop or expired); call aborted",
      );
    }
  }

  /** Token check without a write: catches cancel and early stop between heartbeats. */
  private async checkLeases(): Promise<void> {
    const leases = this.leases();
    if (leases.length === 0) return;
    this.abortLost(leases, await this.store.validLeases(leases));
  }

  // Heartbeat state: a heartbeat in progress (a tick never overlaps it) and a pending early retry.
  private heartbeatBusy = false;
  private heartbeatRetry: NodeJS.Timeout | null = null;

  /**
   * Extends held leases, then expires stale ones (SPEC §4: every H). The expiry is what makes a dead worker's
   * step claimable again, and the claim loop may be backing off after the same database error (a cut
   * connection, a restart), so a failed heartbeat or expiry is retried after HEARTBEAT_RETRY_MS, at most
   * HEARTBEAT_RETRIES times, instead of a full H later.
   */
  private async heartbeat(retry = 0): Promise<void> {
    if (this.heartbeatBusy) return;
    this.heartbeatBusy = true;
    if (this.heartbeatRetry) clearTimeout(this.heartbeatRetry);
    this.heartbeatRetry = null;
    let failed = false;
    try {
      try {
        const leases = this.leases();
        if (leases.length > 0)
          this.abortLost(leases, await this.store.heartbeat(leases, this.options.leaseMs));
      } catch (err) {
        failed = true;
        this.log.warn({ err: String(err) }, "heartbeat failed");
      }
      // Even when the lease write failed: recovering other workers' steps does not depend on it. Forced: the
      // recovery bound counts on a sweep every H, whatever the claim loop did.
      try {
        await this.sweeper.sweep({ force: true });
      } catch (err) {
        failed = true;
        this.log.warn({ err: String(err) }, "lease expiry failed");
      }
    } finally {
      this.heartbeatBusy = false;
    }
    if (failed) this.retryHeartbeatSoon(retry + 1);
  }

  /**
   * One-shot and unref'd; run() clears a pending one when it ends. Once stop() is called and no step is in
   * flight, none is scheduled and one already pending does nothing.
   */
  private retryHeartbeatSoon(retry: number): void {
    const stopped = () => this.stopping && this.inflight.size === 0;
    if (retry > HEARTBEAT_RETRIES || stopped()) return;
    this.heartbeatRetry = setTimeout(() => {
      this.heartbeatRetry = null;
      if (!stopped()) void this.heartbeat(retry);
    }, HEARTBEAT_RETRY_MS);
    this.heartbeatRetry.unref();
  }

  private async drain(): Promise<void> {
    if (this.inflight.size === 0) return;
    const all = () => Promise.all([...this.inflight.values()].map((e) => e.done));
    // The grace timer must not outlive the drain: a pending 10 s timer would keep the process alive.
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, this.options.shutdownGraceMs);
    });
    await Promise.race([all(), grace]);
    clearTimeout(graceTimer);
    for (const entry of this.inflight.values()) {
      entry.abortReason = "shutdown";
      entry.controller.abort(new Error("worker shutdown"));
    }
    await all();
  }
}
