// Both adapters keep their run-port operations in a separate class (run-store.ts) and expose them on the store
// object itself. This base class is that forwarding, written once.

import type { StepStatus } from "../vocab.js";
import type {
  AttemptRecord,
  ClaimedStep,
  ClaimOptions,
  EventRecord,
  NudgeFilter,
  ReputationRecord,
  RunListOptions,
  RunRecord,
  RunStore,
  RunTx,
  StepRecord,
} from "./run-port.js";

export abstract class RunStoreDelegate implements RunStore {
  /** The adapter's run-port implementation, set by the subclass constructor. */
  protected abstract readonly runs: RunStore;

  transaction<T>(fn: (tx: RunTx) => Promise<T>, opts?: { now?: Date }): Promise<T> {
    return this.runs.transaction(fn, opts);
  }

  claimSteps(opts: ClaimOptions): Promise<ClaimedStep[]> {
    return this.runs.claimSteps(opts);
  }

  heartbeat(
    leases: readonly { step_id: string; lease_token: string }[],
    leaseMs: number,
    now?: Date,
  ): Promise<string[]> {
    return this.runs.heartbeat(leases, leaseMs, now);
  }

  validLeases(leases: readonly { step_id: string; lease_token: string }[]): Promise<string[]> {
    return this.runs.validLeases(leases);
  }

  findExpiredLeaseRuns(now?: Date): Promise<string[]> {
    return this.runs.findExpiredLeaseRuns(now);
  }

  hasPendingWork(runId?: string): Promise<boolean> {
    return this.runs.hasPendingWork(runId);
  }

  getRun(runId: string): Promise<RunRecord | null> {
    return this.runs.getRun(runId);
  }

  getSteps(runId: string): Promise<StepRecord[]> {
    return this.runs.getSteps(runId);
  }

  getAttempts(runId: string): Promise<AttemptRecord[]> {
    return this.runs.getAttempts(runId);
  }

  listReputation(opts?: { agentId?: string }): Promise<ReputationRecord[]> {
    return this.runs.listReputation(opts);
  }

  listRuns(opts: RunListOptions): Promise<RunRecord[]> {
    return this.runs.listRuns(opts);
  }

  countSteps(runIds: readonly string[]): Promise<Map<string, Partial<Record<StepStatus, number>>>> {
    return this.runs.countSteps(runIds);
  }

  listEvents(runId: string, opts: { after?: number; limit: number; tail?: boolean }): Promise<EventRecord[]> {
    return this.runs.listEvents(runId, opts);
  }

  waitForNudge(timeoutMs: number, signal?: AbortSignal, filter?: NudgeFilter): Promise<void> {
    return this.runs.waitForNudge(timeoutMs, signal, filter);
  }
}
