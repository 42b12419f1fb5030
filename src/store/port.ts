// The store port: everything the kernel, worker, CLI and server need from a database, and nothing more. One
// interface, `Store`, read top to bottom; each adapter (postgres/, sqlite/) implements it with its own named
// SQL. Callers never branch on `kind` for behaviour, only for display. The records it returns and `RunTx`, the
// transaction handle, are in run-port.ts.
//
// How a run transition is built (the kernel writes each one once, inside `store.transaction(fn)`):
//   1. Lock run rows first: `tx.lockRun(id)`, or `tx.lockRuns(ids)` for several (ascending run_id).
//   2. Then step rows: `tx.lockSteps(runId)` or `tx.lockStepsById(ids)` (by run, then step order). SPEC §4's
//      lock order is run rows → step rows → reputation rows, so `tx.applyReputation` comes last.
//   3. Write with guarded updates: `updateRun`/`updateSteps`/`updateRunSteps`/`updateStepsWithInputs` write
//      only rows whose status is in `from` and say how many matched (false / 0: nothing written, the caller
//      decides what that means); `closeLeases` writes a step only while it still holds the lease token.
//   4. Append the run's events (`appendEvents`, `appendEventBatches`) under the run row lock.
//   5. Ask for nudges with `tx.notify(runId, kind)`: sent as the transaction's one NOTIFY, at commit, and only
//      if it commits. `tx.isolate(fn)` runs a part under a savepoint when its failure must not end the rest.
// Claims and heartbeats are not transactions of this kind: they lock only step rows, in one statement each.

import type { RunStatus, StepStatus } from "../vocab.js";
import type { ClosedAttempt, StatusCounts } from "./metrics.js";
import type {
  AttemptRecord,
  ClaimedStep,
  ClaimOptions,
  EventRecord,
  NudgeFilter,
  ReputationRecord,
  RunListOptions,
  RunRecord,
  RunTx,
  StepRecord,
} from "./run-port.js";
import type { ExecutorInput, ExecutorRecord, MigrateResult, StoreKind } from "./types.js";

/** Which runs `run prune` removes (SPEC §7): terminal runs of these statuses finished before `before`. */
export interface PruneQuery {
  before: Date;
  statuses: readonly RunStatus[];
}

/** Rows removed by `run prune` (or, for a dry run, that would be). */
export interface PruneCounts {
  runs: number;
  steps: number;
  attempts: number;
  events: number;
}

/** A lease as a worker holds it: the step and the token its claim issued. */
export interface LeaseRef {
  step_id: string;
  lease_token: string;
}

export interface Store {
  readonly kind: StoreKind;

  // ------------------------------------------------------------------------------------ the connection

  /** Where the data lives, safe to log: the PostgreSQL URL without its password, or the SQLite file path. */
  describe(): string;

  /**
   * Creates or upgrades the schema; idempotent and safe to run concurrently from many processes. The call
   * that creates the schema also registers the default executors (SPEC §8.3).
   */
  migrate(): Promise<MigrateResult>;

  /** Releases connections. The store must not be used afterwards. */
  close(): Promise<void>;

  /** The clock that lease and due-time comparisons use: PostgreSQL's `now()`, or the process clock on SQLite. */
  now(): Promise<Date>;

  // ------------------------------------------------------------------------------------ run transitions

  /**
   * Runs `fn` in one transaction (the header above: how its building blocks compose); retried by the adapter
   * on serialization/busy errors only before `fn` ran. PostgreSQL BEGIN … COMMIT on one connection, SQLite
   * BEGIN IMMEDIATE.
   */
  transaction<T>(fn: (tx: RunTx) => Promise<T>, opts?: { now?: Date }): Promise<T>;

  // ------------------------------------------------------------------------------------ the worker's loop

  /** Claims up to `limit` due steps in claim order in one statement; never waits on a locked row. */
  claimSteps(opts: ClaimOptions): Promise<ClaimedStep[]>;

  /** Extends the leases whose token still matches; returns the step_ids still held. */
  heartbeat(leases: readonly LeaseRef[], leaseMs: number, now?: Date): Promise<string[]>;

  /** Which of these leases are still valid (no write). */
  validLeases(leases: readonly LeaseRef[]): Promise<string[]>;

  /** Runs that have LEASED steps whose lease ended before now. */
  findExpiredLeaseRuns(now?: Date): Promise<string[]>;

  /** True when any step is QUEUED, RETRY_WAIT or LEASED (optionally of one run). */
  hasPendingWork(runId?: string): Promise<boolean>;

  /**
   * Resolves when there may be new work or events (a NOTIFY on PostgreSQL), or after `timeoutMs`.
   * Polling is the guarantee; this is only a nudge.
   */
  waitForNudge(timeoutMs: number, signal?: AbortSignal, filter?: NudgeFilter): Promise<void>;

  // ------------------------------------------------------------------------------------ reads

  getRun(runId: string): Promise<RunRecord | null>;

  getSteps(runId: string): Promise<StepRecord[]>;

  getAttempts(runId: string): Promise<AttemptRecord[]>;

  listRuns(opts: RunListOptions): Promise<RunRecord[]>;

  /** Step counts by status for these runs. */
  countSteps(runIds: readonly string[]): Promise<Map<string, Partial<Record<StepStatus, number>>>>;

  listEvents(runId: string, opts: { after?: number; limit: number; tail?: boolean }): Promise<EventRecord[]>;

  /** agent_reputation rows (of one agent when given), ordered by agent_id, then task_type. */
  listReputation(opts?: { agentId?: string }): Promise<ReputationRecord[]>;

  // ------------------------------------------------------------------------------------ executor registry

  /** All registered executors, ordered by name. */
  listExecutors(): Promise<ExecutorRecord[]>;

  getExecutor(name: string): Promise<ExecutorRecord | null>;

  /** Registers or replaces an executor; a replacement keeps the original `created_at`. */
  upsertExecutor(input: ExecutorInput): Promise<ExecutorRecord>;

  /** Returns false when no executor had that name. */
  removeExecutor(name: string): Promise<boolean>;

  // ------------------------------------------------------------------------------------ /metrics

  /** Runs and steps by status, for the `/metrics` gauges (SPEC §10): read from the database, every worker's. */
  readStatusCounts(): Promise<StatusCounts>;

  /**
   * Every attempt closed at or after `since` (its `finished_at`, in the clock of `now()`), one row each, for the
   * `/metrics` counters. A range scan of `run_step_attempts_finished_idx`: it reads only those rows.
   */
  readClosedAttempts(since: Date): Promise<ClosedAttempt[]>;

  // ------------------------------------------------------------------------------------ retention

  /**
   * Deletes up to `limit` matching runs (oldest finished first; rows locked elsewhere are skipped) with their
   * steps, attempts, events and feedback in one transaction; agent_reputation is untouched.
   */
  pruneRuns(query: PruneQuery, limit: number): Promise<PruneCounts>;

  /** What pruneRuns would remove in all (no write). */
  countPrunable(query: PruneQuery): Promise<PruneCounts>;
}
