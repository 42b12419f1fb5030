// The run half of the PostgreSQL adapter (transactions, claims, heartbeats and reads): the base class of
// PostgresStore (index.ts), which adds the connection, migrations, the executor registry, metrics and prune.
import { WattswarmError } from "../../errors.js";
import type { StepStatus } from "../../vocab.js";
import type { LeaseRef } from "../port.js";
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
import type { PgDatabase } from "./database.js";
import { LIST_REPUTATION } from "./knowledge-queries.js";
import { nudgePayload, type PgNotifier } from "./notifier.js";
import {
  CLAIM_RUN_STEPS,
  CLAIM_STEPS,
  COUNT_STEPS,
  EXPIRED_LEASE_RUNS,
  GET_ATTEMPTS,
  GET_RUN,
  GET_STEPS,
  HAS_PENDING_WORK,
  HEARTBEAT,
  LIST_EVENTS_AFTER,
  LIST_EVENTS_TAIL,
  LIST_RUNS,
  TX_BEGIN_NOW,
  VALID_LEASES,
} from "./run-queries.js";
import { iso, toAttemptRecord, toEventRecord, toRunRecord, toStepRecord } from "./run-rows.js";
import { PgRunTx } from "./run-tx.js";

const UNIQUE_VIOLATION = "23505";
const SERIALIZATION_FAILURES = new Set(["40001", "40P01"]);

function leaseArrays(leases: readonly LeaseRef[]): [string[], string[]] {
  return [leases.map((l) => l.step_id), leases.map((l) => l.lease_token)];
}

export abstract class PgRunStore {
  constructor(
    protected readonly db: PgDatabase,
    protected readonly notifier: PgNotifier,
  ) {}

  async transaction<T>(fn: (tx: RunTx) => Promise<T>, opts: { now?: Date } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        let nudge: string | undefined;
        return await this.db.tx(
          async (client, begun) => {
            const now = opts.now ?? (begun[1]?.rows[0]?.now as Date);
            const tx = new PgRunTx(client, now);
            const result = await fn(tx);
            nudge = tx.nudges.size > 0 ? nudgePayload(tx.nudges) : undefined;
            return result;
          },
          {
            // The transaction's clock comes back with BEGIN, in the same round trip.
            ...(opts.now ? {} : { begin: TX_BEGIN_NOW }),
            // NOTIFY is delivered at commit, and only if the transaction commits: at most one per transaction.
            commit: (literal) =>
              nudge === undefined
                ? "COMMIT"
                : `SELECT pg_notify(${literal(this.notifier.channel)}, ${literal(nudge)}); COMMIT`,
          },
        );
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === UNIQUE_VIOLATION) {
          throw new WattswarmError(
            "RUN_EXISTS",
            `a row with this key already exists: ${(err as Error).message}`,
          );
        }
        // Deadlock or serialization failure: the transaction rolled back as a whole, so running it again is safe.
        if (code !== undefined && SERIALIZATION_FAILURES.has(code) && attempt < 5) continue;
        throw err;
      }
    }
  }

  async claimSteps(opts: ClaimOptions): Promise<ClaimedStep[]> {
    if (opts.limit <= 0) return [];
    const params = [opts.workerId, opts.limit, opts.leaseMs, opts.now?.toISOString() ?? null];
    const rows =
      opts.runId === undefined
        ? await this.db.query(CLAIM_STEPS, params)
        : await this.db.query(CLAIM_RUN_STEPS, [...params, opts.runId]);
    return rows.map((r) => {
      const step = toStepRecord(r);
      const attempt = openedAttempt(step, opts.workerId, iso(r.claim_due_at), iso(r.claim_at));
      return { step, attempt, task_type: r.run_task_type as string };
    });
  }

  async heartbeat(leases: readonly LeaseRef[], leaseMs: number, now?: Date): Promise<string[]> {
    if (leases.length === 0) return [];
    const rows = await this.db.query(HEARTBEAT, [
      ...leaseArrays(leases),
      leaseMs,
      now?.toISOString() ?? null,
    ]);
    return rows.map((r) => r.step_id as string);
  }

  async validLeases(leases: readonly LeaseRef[]): Promise<string[]> {
    if (leases.length === 0) return [];
    const rows = await this.db.query(VALID_LEASES, leaseArrays(leases));
    return rows.map((r) => r.step_id as string);
  }

  async findExpiredLeaseRuns(now?: Date): Promise<string[]> {
    const rows = await this.db.query(EXPIRED_LEASE_RUNS, [now?.toISOString() ?? null]);
    return rows.map((r) => r.run_id as string);
  }

  async hasPendingWork(runId?: string): Promise<boolean> {
    const rows = await this.db.query(HAS_PENDING_WORK, [runId ?? null]);
    return rows[0]?.pending === true;
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const rows = await this.db.query(GET_RUN, [runId]);
    return rows[0] ? toRunRecord(rows[0]) : null;
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return (await this.db.query(GET_STEPS, [runId])).map(toStepRecord);
  }

  async getAttempts(runId: string): Promise<AttemptRecord[]> {
    return (await this.db.query(GET_ATTEMPTS, [runId])).map(toAttemptRecord);
  }

  async listReputation(opts: { agentId?: string } = {}): Promise<ReputationRecord[]> {
    const rows = await this.db.query(LIST_REPUTATION, [opts.agentId ?? null]);
    return rows.map((r) => toReputationRecord(r, iso));
  }

  async listRuns(opts: RunListOptions): Promise<RunRecord[]> {
    const rows = await this.db.query(LIST_RUNS, [opts.status ?? null, opts.limit, opts.before ?? null]);
    return rows.map(toRunRecord);
  }

  async countSteps(runIds: readonly string[]): Promise<Map<string, Partial<Record<StepStatus, number>>>> {
    const out = new Map<string, Partial<Record<StepStatus, number>>>();
    if (runIds.length === 0) return out;
    for (const r of await this.db.query(COUNT_STEPS, [[...runIds]])) {
      const counts = out.get(r.run_id as string) ?? {};
      counts[r.status as StepStatus] = r.n as number;
      out.set(r.run_id as string, counts);
    }
    return out;
  }

  async listEvents(
    runId: string,
    opts: { after?: number; limit: number; tail?: boolean },
  ): Promise<EventRecord[]> {
    const rows = opts.tail
      ? await this.db.query(LIST_EVENTS_TAIL, [runId, opts.limit])
      : await this.db.query(LIST_EVENTS_AFTER, [runId, opts.after ?? 0, opts.limit]);
    return rows.map(toEventRecord);
  }

  waitForNudge(timeoutMs: number, signal?: AbortSignal, filter?: NudgeFilter): Promise<void> {
    return this.notifier.wait(timeoutMs, signal, filter);
  }
}
