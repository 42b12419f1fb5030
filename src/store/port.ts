// The store port: what the kernel, worker, CLI and server need from a database, and nothing more. Each
// adapter (postgres/, sqlite/) implements it with its own named SQL; callers never branch on `kind` for
// behaviour, only for display. Run transitions (claimSteps, completeStep, …) are added here as they land.

import type { RunStatus } from "../vocab.js";
import type { ClosedAttempt, StatusCounts } from "./metrics.js";
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

export interface Store {
  readonly kind: StoreKind;

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

  /** All registered executors, ordered by name. */
  listExecutors(): Promise<ExecutorRecord[]>;

  getExecutor(name: string): Promise<ExecutorRecord | null>;

  /** Registers or replaces an executor; a replacement keeps the original `created_at`. */
  upsertExecutor(input: ExecutorInput): Promise<ExecutorRecord>;

  /** Returns false when no executor had that name. */
  removeExecutor(name: string): Promise<boolean>;

  /** Runs and steps by status, for the `/metrics` gauges (SPEC §10): read from the database, every worker's. */
  readStatusCounts(): Promise<StatusCounts>;

  /**
   * Every attempt closed at or after `since` (its `finished_at`, in the clock of `now()`), one row each, for the
   * `/metrics` counters. A range scan of `run_step_attempts_finished_idx`: it reads only those rows.
   */
  readClosedAttempts(since: Date): Promise<ClosedAttempt[]>;

  /**
   * Deletes up to `limit` matching runs (oldest finished first; rows locked elsewhere are skipped) with their
   * steps, attempts, events and feedback in one transaction; agent_reputation is untouched.
   */
  pruneRuns(query: PruneQuery, limit: number): Promise<PruneCounts>;

  /** What pruneRuns would remove in all (no write). */
  countPrunable(query: PruneQuery): Promise<PruneCounts>;
}
