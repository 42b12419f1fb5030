// The run half of the SQLite adapter (transactions, claims, heartbeats and reads): the base class of
// SqliteStore (index.ts), which adds the connection, migrations, the executor registry, metrics and prune.
//
// Concurrency. Within a process, the store's one connection is used by one section at a time (SerialQueue in
// connection.ts): a run transition awaits between statements, and a second BEGIN on the same connection would
// fail, or a claim would land inside someone else's transaction. Across processes, every writing section is
// BEGIN IMMEDIATE: it takes the database's write lock up front, so no transaction ever fails half-way on a
// lock upgrade; while another connection holds the lock, the BEGIN is retried after asynchronous waits (the
// event loop keeps running), for the store's busy wait (5 s by default) in all, before anything ran.
import { randomUUID } from "node:crypto";
import { WattswarmError } from "../../errors.js";
import type { StepStatus } from "../../vocab.js";
import type { LeaseRef } from "../port.js";
import { isoTime } from "../records.js";
import { toReputationRecord } from "../reputation-rows.js";
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
} from "../run-port.js";
import { openedAttempt } from "../run-rows.js";
import { STEP_TRANSITIONS } from "../transitions.js";
import { type BusyWait, cached, immediate, type SqliteDb } from "./connection.js";
import { LIST_REPUTATION } from "./knowledge-queries.js";
import {
  COUNT_STEPS,
  EXPIRED_LEASE_RUNS,
  GET_ATTEMPTS,
  GET_RUN,
  GET_STEPS,
  HAS_PENDING_WORK,
  HEARTBEAT,
  LEASE_STEPS,
  LIST_EVENTS_AFTER,
  LIST_EVENTS_TAIL,
  LIST_RUNS,
  OPEN_ATTEMPTS,
  PICK_DUE_STEPS,
  PICK_RUN_DUE_STEPS,
  RUN_TASK_TYPES,
  START_RUNS,
  VALID_LEASES,
} from "./run-queries.js";
import { type Row, toAttemptRecord, toEventRecord, toRunRecord, toStepRecord } from "./run-rows.js";
import { SqliteRunTx } from "./run-tx.js";

const UNIQUE_VIOLATIONS = new Set(["SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"]);
function leasesJson(leases: readonly LeaseRef[]): string {
  return JSON.stringify(leases.map((l) => ({ step_id: l.step_id, lease_token: l.lease_token })));
}

export abstract class SqliteRunStore {
  constructor(
    /** The database clock in epoch ms. */
    protected readonly clock: () => number,
    protected readonly busy: BusyWait,
  ) {}

  /** Runs `fn` with the connection, alone (the store's serial queue). */
  protected abstract run<T>(fn: (db: SqliteDb) => T | Promise<T>): Promise<T>;

  /** The time of a call: the caller's `now`, else the process clock (read once the write lock is held). */
  private timeOf(now?: Date): number {
    return now ? now.getTime() : Math.trunc(this.clock());
  }

  /** One BEGIN IMMEDIATE … COMMIT section; a throw rolls back. */
  private immediate<T>(fn: (db: SqliteDb) => T | Promise<T>): Promise<T> {
    return this.run((db) => immediate(db, this.busy, () => fn(db)));
  }

  private read<T>(fn: (db: SqliteDb) => T): Promise<T> {
    return this.run(fn);
  }

  async transaction<T>(fn: (tx: RunTx) => Promise<T>, opts: { now?: Date } = {}): Promise<T> {
    try {
      return await this.immediate((db) => fn(new SqliteRunTx(db, new Date(this.timeOf(opts.now)))));
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code === "string" && UNIQUE_VIOLATIONS.has(code)) {
        throw new WattswarmError(
          "RUN_EXISTS",
          `a row with this key already exists: ${(err as Error).message}`,
        );
      }
      throw err;
    }
  }

  claimSteps(opts: ClaimOptions): Promise<ClaimedStep[]> {
    if (opts.limit <= 0) return Promise.resolve([]);
    return this.immediate((db) => {
      const now = this.timeOf(opts.now);
      const picked = (
        opts.runId === undefined
          ? cached(db, PICK_DUE_STEPS).all({ now, limit: opts.limit })
          : cached(db, PICK_RUN_DUE_STEPS).all({ now, run_id: opts.runId, limit: opts.limit })
      ) as Row[];
      if (picked.length === 0) return [];
      const stepIds = picked.map((p) => p.step_id as string);
      // The claim order of the pick; the statements below return rows in no particular order.
      const order = new Map(stepIds.map((id, i) => [id, i]));
      const leased = (
        cached(db, LEASE_STEPS).all({
          leases: JSON.stringify(stepIds.map((id) => [id, randomUUID()])),
          worker_id: opts.workerId,
          now,
          lease_ms: opts.leaseMs,
        }) as Row[]
      )
        .map(toStepRecord)
        .sort((a, b) => (order.get(a.step_id) ?? 0) - (order.get(b.step_id) ?? 0));
      // The claim's guard (the claim transition's from-set) rereads what the pick just selected under the same
      // write lock: a step it does not match is a bug, not a race.
      if (leased.length !== stepIds.length)
        throw new Error(
          `claimSteps: claim guard matched ${leased.length} of ${stepIds.length} picked steps (expected status in [${STEP_TRANSITIONS.claim.from.join(", ")}])`,
        );
      const ids = JSON.stringify(leased.map((s) => s.step_id));
      cached(db, OPEN_ATTEMPTS).run({ step_ids: ids, worker_id: opts.workerId, now });
      // The lazy QUEUED → RUNNING start: on SQLite the claim already holds the run rows' lock too. Its guard
      // (the start transition's from-set) matching fewer runs is legal: a run already RUNNING stays as it is.
      const runIds = JSON.stringify([...new Set(leased.map((s) => s.run_id))]);
      cached(db, START_RUNS).run({ run_ids: runIds, now });
      const taskTypes = new Map(
        (cached(db, RUN_TASK_TYPES).all(runIds) as Row[]).map((r) => [
          r.run_id as string,
          r.task_type as string,
        ]),
      );
      const startedAt = new Date(now).toISOString();
      return leased.map(
        (step): ClaimedStep => ({
          step,
          attempt: openedAttempt(step, opts.workerId, step.next_run_at, startedAt),
          task_type: taskTypes.get(step.run_id) as string,
        }),
      );
    });
  }

  heartbeat(
    leases: readonly { step_id: string; lease_token: string }[],
    leaseMs: number,
    now?: Date,
  ): Promise<string[]> {
    if (leases.length === 0) return Promise.resolve([]);
    return this.immediate((db) => {
      const t = this.timeOf(now);
      const rows = cached(db, HEARTBEAT).all(t, leaseMs, t, leasesJson(leases)) as Row[];
      return rows.map((r) => r.step_id as string);
    });
  }

  validLeases(leases: readonly { step_id: string; lease_token: string }[]): Promise<string[]> {
    if (leases.length === 0) return Promise.resolve([]);
    return this.read((db) =>
      (cached(db, VALID_LEASES).all(leasesJson(leases)) as Row[]).map((r) => r.step_id as string),
    );
  }

  findExpiredLeaseRuns(now?: Date): Promise<string[]> {
    return this.read((db) =>
      (cached(db, EXPIRED_LEASE_RUNS).all(this.timeOf(now)) as Row[]).map((r) => r.run_id as string),
    );
  }

  hasPendingWork(runId?: string): Promise<boolean> {
    return this.read((db) => {
      const row = cached(db, HAS_PENDING_WORK).get({ run_id: runId ?? null }) as Row | undefined;
      return row?.pending === 1;
    });
  }

  getRun(runId: string): Promise<RunRecord | null> {
    return this.read((db) => {
      const row = cached(db, GET_RUN).get(runId) as Row | undefined;
      return row ? toRunRecord(row) : null;
    });
  }

  getSteps(runId: string): Promise<StepRecord[]> {
    return this.read((db) => (cached(db, GET_STEPS).all(runId) as Row[]).map(toStepRecord));
  }

  listReputation(opts: { agentId?: string } = {}): Promise<ReputationRecord[]> {
    return this.read((db) =>
      (cached(db, LIST_REPUTATION).all({ agent_id: opts.agentId ?? null }) as Row[]).map((r) =>
        toReputationRecord(r, (v) => isoTime(v as number)),
      ),
    );
  }

  getAttempts(runId: string): Promise<AttemptRecord[]> {
    return this.read((db) => (cached(db, GET_ATTEMPTS).all(runId) as Row[]).map(toAttemptRecord));
  }

  listRuns(opts: RunListOptions): Promise<RunRecord[]> {
    return this.read((db) => {
      const rows = cached(db, LIST_RUNS).all({
        status: opts.status ?? null,
        limit: opts.limit,
        before: opts.before ?? null,
      }) as Row[];
      return rows.map(toRunRecord);
    });
  }

  countSteps(runIds: readonly string[]): Promise<Map<string, Partial<Record<StepStatus, number>>>> {
    const out = new Map<string, Partial<Record<StepStatus, number>>>();
    if (runIds.length === 0) return Promise.resolve(out);
    return this.read((db) => {
      for (const r of cached(db, COUNT_STEPS).all(JSON.stringify(runIds)) as Row[]) {
        const counts = out.get(r.run_id as string) ?? {};
        counts[r.status as StepStatus] = r.n as number;
        out.set(r.run_id as string, counts);
      }
      return out;
    });
  }

  listEvents(runId: string, opts: { after?: number; limit: number; tail?: boolean }): Promise<EventRecord[]> {
    return this.read((db) => {
      const rows = opts.tail
        ? cached(db, LIST_EVENTS_TAIL).all(runId, opts.limit)
        : cached(db, LIST_EVENTS_AFTER).all(runId, opts.after ?? 0, opts.limit);
      return (rows as Row[]).map(toEventRecord);
    });
  }

  /** No NOTIFY on SQLite: a plain wait of `timeoutMs` (polling is the guarantee), cut short by `signal`. */
  waitForNudge(timeoutMs: number, signal?: AbortSignal, _filter?: NudgeFilter): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
