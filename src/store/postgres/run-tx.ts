// RunTx on PostgreSQL: one pooled client between BEGIN and COMMIT. Row locks follow SPEC §4: run rows, then
// step rows, then agent_reputation rows.
import type { JsonValue } from "../../spec/types.js";
import type { RunStatus, StepStatus } from "../../vocab.js";
import { orderedDeltas } from "../reputation-rows.js";
import type {
  AttemptClaimInfo,
  AttemptClose,
  AttemptPatch,
  AttemptRecord,
  EventBatch,
  EventRecord,
  Isolated,
  LeaseClose,
  NewEvent,
  NudgeKind,
  ReputationDelta,
  RunPatch,
  RunRecord,
  RunTx,
  StepInputs,
  StepPatch,
  StepRecord,
} from "../run-port.js";
import type { PatchColumn } from "../run-rows.js";
import type { PgQueryable } from "./database.js";
import { isDatabaseFailure } from "./errors.js";
import { APPLY_REPUTATION, GET_FEEDBACK, PUT_FEEDBACK } from "./knowledge-queries.js";
import { nudgeEntry } from "./notifier.js";
import {
  APPEND_EVENTS,
  CLOSE_ATTEMPTS,
  CLOSE_LEASES,
  EVENTS_OF_TYPES,
  FIND_ATTEMPT_BY_TOKEN,
  GET_ATTEMPT,
  INSERT_RUN,
  INSERT_STEPS,
  LOCK_RUN,
  LOCK_RUNS,
  LOCK_STEPS,
  LOCK_STEPS_BY_ID,
  LOCK_STEPS_PROJECTED,
  REPUTATION_UNITS,
  SUCCEEDED_ATTEMPTS_BEFORE,
  SUCCEEDED_ATTEMPTS_BEFORE_PROJECTED,
  TRY_SWEEP_LOCK,
  updateStepInputs,
  updateStepStatuses,
} from "./run-queries.js";
import {
  ATTEMPT_PATCH_COLUMNS,
  iso,
  RUN_PATCH_COLUMNS,
  STEP_PATCH_COLUMNS,
  setList,
  toAttemptRecord,
  toEventRecord,
  toRunRecord,
  toStepRecord,
} from "./run-rows.js";

function runRow(run: RunRecord): Record<string, JsonValue> {
  return {
    run_id: run.run_id,
    status: run.status,
    task_type: run.task_type,
    spec_json: run.spec as unknown as JsonValue,
    shared_inputs_json: run.shared_inputs,
    round: run.round,
    event_seq: run.event_seq,
    active_steps: run.active_steps,
    reputation_applied: run.reputation_applied,
    result_json: run.result,
    error_text: run.error_text,
    created_at: run.created_at,
    updated_at: run.updated_at,
    started_at: run.started_at,
    finished_at: run.finished_at,
  };
}

/** A json[] element: the value as JSON text, or SQL NULL. */
function jsonParam(value: JsonValue | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function stepRow(s: StepRecord): Record<string, JsonValue> {
  const { inputs, result, ...rest } = s;
  return { ...rest, inputs_json: inputs, result_json: result };
}

export class PgRunTx implements RunTx {
  /** Run ids to NOTIFY about at commit (at most one NOTIFY per transaction is sent). */
  /** `kind:run_id` of each nudge asked for, in order (see notifier.ts for the payload). */
  readonly nudges = new Set<string>();
  private savepoints = 0;

  constructor(
    private readonly client: PgQueryable,
    readonly now: Date,
  ) {}

  private get nowIso(): string {
    return this.now.toISOString();
  }

  async lockRun(runId: string): Promise<RunRecord | null> {
    const { rows } = await this.client.query(LOCK_RUN, [runId]);
    return rows[0] ? toRunRecord(rows[0]) : null;
  }

  async lockSteps(runId: string, resultKeys?: readonly string[]): Promise<StepRecord[]> {
    const { rows } = resultKeys
      ? await this.client.query(LOCK_STEPS_PROJECTED, [runId, [...resultKeys]])
      : await this.client.query(LOCK_STEPS, [runId]);
    return rows.map(toStepRecord);
  }

  async lockRuns(runIds: readonly string[]): Promise<RunRecord[]> {
    if (runIds.length === 0) return [];
    const { rows } = await this.client.query(LOCK_RUNS, [[...runIds]]);
    return rows.map(toRunRecord);
  }

  async lockStepsById(stepIds: readonly string[]): Promise<StepRecord[]> {
    if (stepIds.length === 0) return [];
    const { rows } = await this.client.query(LOCK_STEPS_BY_ID, [[...stepIds]]);
    return rows.map(toStepRecord);
  }

  async insertRun(run: RunRecord): Promise<void> {
    await this.client.query(INSERT_RUN, [JSON.stringify(runRow(run))]);
  }

  async insertSteps(steps: StepRecord[]): Promise<void> {
    if (steps.length === 0) return;
    await this.client.query(INSERT_STEPS, [JSON.stringify(steps.map(stepRow))]);
  }

  async updateRun(runId: string, from: readonly RunStatus[], patch: RunPatch): Promise<boolean> {
    return (await this.guardedUpdate("runs", "run_id = $1", runId, from, patch, RUN_PATCH_COLUMNS)) > 0;
  }

  async updateSteps(
    stepIds: readonly string[],
    from: readonly StepStatus[],
    patch: StepPatch,
  ): Promise<number> {
    if (stepIds.length === 0) return 0;
    return this.guardedUpdate(
      "run_steps",
      "step_id = ANY($1::text[])",
      [...stepIds],
      from,
      patch,
      STEP_PATCH_COLUMNS,
    );
  }

  async updateStepsWithInputs(
    steps: readonly StepInputs[],
    from: readonly StepStatus[],
    patch: Omit<StepPatch, "inputs">,
  ): Promise<number> {
    if (steps.length === 0) return 0;
    const values: unknown[] = [
      steps.map((s) => s.step_id),
      steps.map((s) => JSON.stringify(s.inputs)),
      [...from],
      this.nowIso,
    ];
    const sets = setList(patch, STEP_PATCH_COLUMNS, values);
    sets.push("inputs_json = u.inputs", "updated_at = $4");
    // The same statement keeps runs.active_steps when the patch writes a status (it does: re-explore).
    const { rows } = await this.client.query(updateStepInputs(sets.join(", ")), values);
    return (rows[0]?.n as number | undefined) ?? 0;
  }

  async updateRunSteps(runId: string, from: readonly StepStatus[], patch: StepPatch): Promise<number> {
    return this.guardedUpdate("run_steps", "run_id = $1", runId, from, patch, STEP_PATCH_COLUMNS);
  }

  /** `UPDATE table SET <patch>, updated_at WHERE <key: $1> AND status = ANY(from)`; returns the rows changed. */
  private async guardedUpdate(
    table: "runs" | "run_steps",
    keyCondition: string,
    key: unknown,
    from: readonly string[],
    patch: RunPatch | StepPatch,
    columns: Record<string, PatchColumn>,
  ): Promise<number> {
    const values: unknown[] = [key, [...from], this.nowIso];
    const sets = setList(patch, columns, values);
    sets.push("updated_at = $3");
    if (table === "run_steps" && "status" in patch && patch.status !== undefined) {
      // A step status changes: the same statement keeps runs.active_steps.
      const { rows } = await this.client.query(updateStepStatuses(sets.join(", "), keyCondition), values);
      return (rows[0]?.n as number | undefined) ?? 0;
    }
    const { rowCount } = await this.client.query(
      `UPDATE ${table} SET ${sets.join(", ")} WHERE ${keyCondition} AND status = ANY($2::text[])`,
      values,
    );
    return rowCount ?? 0;
  }

  async getAttempt(stepId: string, attemptSeq: number): Promise<AttemptRecord | null> {
    const { rows } = await this.client.query(GET_ATTEMPT, [stepId, attemptSeq]);
    return rows[0] ? toAttemptRecord(rows[0]) : null;
  }

  async findAttemptByToken(stepId: string, leaseToken: string): Promise<AttemptRecord | null> {
    const { rows } = await this.client.query(FIND_ATTEMPT_BY_TOKEN, [stepId, leaseToken]);
    return rows[0] ? toAttemptRecord(rows[0]) : null;
  }

  async updateAttempt(stepId: string, attemptSeq: number, patch: AttemptPatch): Promise<void> {
    const values: unknown[] = [stepId, attemptSeq];
    const sets = setList(patch, ATTEMPT_PATCH_COLUMNS, values);
    if (sets.length === 0) return;
    await this.client.query(
      `UPDATE run_step_attempts SET ${sets.join(", ")} WHERE step_id = $1 AND attempt_seq = $2`,
      values,
    );
  }

  async trySweepLock(): Promise<boolean> {
    const { rows } = await this.client.query(TRY_SWEEP_LOCK);
    return rows[0]?.locked === true;
  }

  async closeAttempts(closes: readonly AttemptClose[]): Promise<AttemptClaimInfo[]> {
    if (closes.length === 0) return [];
    const { rows } = await this.client.query(CLOSE_ATTEMPTS, [
      closes.map((c) => c.step_id),
      closes.map((c) => c.attempt_seq),
      closes.map((c) => c.status),
      closes.map((c) => c.error_code),
      closes.map((c) => jsonParam(c.result)),
      closes.map((c) => c.error_text),
      closes.map((c) => c.finished_at),
    ]);
    return rows.map((r) => ({
      step_id: r.step_id as string,
      attempt_seq: r.attempt_seq as number,
      worker_id: r.worker_id as string,
      due_at: iso(r.due_at),
      started_at: iso(r.started_at),
    }));
  }

  async closeLeases(closes: readonly LeaseClose[]): Promise<number> {
    if (closes.length === 0) return 0;
    const { rows } = await this.client.query(CLOSE_LEASES, [
      closes.map((c) => c.step_id),
      closes.map((c) => c.lease_token),
      closes.map((c) => c.status),
      closes.map((c) => jsonParam(c.result)),
      closes.map((c) => c.error_text),
      closes.map((c) => c.next_run_at),
      closes.map((c) => c.finished_at),
      this.nowIso,
    ]);
    return (rows[0]?.n as number | undefined) ?? 0;
  }

  async listSucceededAttemptsBefore(
    runId: string,
    round: number,
    resultKeys?: readonly string[],
  ): Promise<AttemptRecord[]> {
    const { rows } = resultKeys
      ? await this.client.query(SUCCEEDED_ATTEMPTS_BEFORE_PROJECTED, [runId, round, [...resultKeys]])
      : await this.client.query(SUCCEEDED_ATTEMPTS_BEFORE, [runId, round]);
    return rows.map(toAttemptRecord);
  }

  async listEventsOfTypes(runId: string, types: readonly string[]): Promise<EventRecord[]> {
    const { rows } = await this.client.query(EVENTS_OF_TYPES, [runId, [...types]]);
    return rows.map(toEventRecord);
  }

  async getReputationUnits(agentIds: readonly string[], taskType: string): Promise<Record<string, number>> {
    const { rows } = await this.client.query(REPUTATION_UNITS, [[...agentIds], taskType]);
    // Null prototype: "__proto__" is a valid agent_id, and assigning it on a plain object would be lost.
    const units: Record<string, number> = Object.create(null);
    for (const r of rows) units[r.agent_id as string] = Number(r.units);
    return units;
  }

  async getFeedback(runId: string): Promise<string | null> {
    const { rows } = await this.client.query(GET_FEEDBACK, [runId]);
    return rows[0] ? (rows[0].correct as string) : null;
  }

  async putFeedback(runId: string, correct: string): Promise<void> {
    await this.client.query(PUT_FEEDBACK, [runId, correct, this.nowIso]);
  }

  async applyReputation(deltas: readonly ReputationDelta[]): Promise<void> {
    const rows = orderedDeltas(deltas);
    if (rows.length === 0) return;
    await this.client.query(APPLY_REPUTATION, [
      rows.map((d) => d.agent_id),
      rows.map((d) => d.task_type),
      rows.map((d) => d.runs),
      rows.map((d) => d.agreed),
      rows.map((d) => d.correct),
      rows.map((d) => d.wrong),
      this.nowIso,
    ]);
  }

  async appendEvents(runId: string, events: readonly NewEvent[]): Promise<EventRecord[]> {
    if (events.length === 0) return [];
    const { rows } = await this.client.query(APPEND_EVENTS, this.eventArrays([{ run_id: runId, events }]));
    if (rows.length !== events.length) throw new Error(`appendEvents: run ${runId} not found`);
    return rows.map(toEventRecord).sort((a, b) => a.seq - b.seq);
  }

  async appendEventBatches(batches: readonly EventBatch[]): Promise<void> {
    const expected = batches.reduce((n, b) => n + b.events.length, 0);
    if (expected === 0) return;
    const { rowCount } = await this.client.query(APPEND_EVENTS, this.eventArrays(batches));
    if (rowCount !== expected)
      throw new Error(`appendEventBatches: ${expected - (rowCount ?? 0)} events had no run`);
  }

  private eventArrays(batches: readonly EventBatch[]): unknown[] {
    const runIds: string[] = [];
    const types: string[] = [];
    const payloads: string[] = [];
    const times: string[] = [];
    // APPEND_EVENTS needs each run's events side by side.
    const byRun = new Map<string, NewEvent[]>();
    for (const b of batches) byRun.set(b.run_id, [...(byRun.get(b.run_id) ?? []), ...b.events]);
    for (const [runId, events] of byRun) {
      for (const e of events) {
        runIds.push(runId);
        types.push(e.event_type);
        payloads.push(JSON.stringify(e.payload));
        times.push(e.created_at ?? this.nowIso);
      }
    }
    return [runIds, types, payloads, times];
  }

  notify(runId: string, kind: NudgeKind): void {
    this.nudges.add(nudgeEntry(kind, runId));
  }

  async isolate<T>(fn: () => Promise<T>): Promise<Isolated<T>> {
    const savepoint = `ws_isolate_${++this.savepoints}`;
    await this.client.query(`SAVEPOINT ${savepoint}`);
    try {
      const value = await fn();
      await this.client.query(`RELEASE SAVEPOINT ${savepoint}`);
      return { ok: true, value };
    } catch (err) {
      if (isDatabaseFailure(err)) throw err;
      await this.client.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      return { ok: false, error: err };
    }
  }
}
