// RunTx on PostgreSQL: one pooled client between BEGIN and COMMIT. Row locks follow SPEC §4: run rows, then
// step rows, then agent_reputation rows.
import type { JsonValue } from "../../spec/types.js";
import { orderedDeltas } from "../reputation-rows.js";
import type {
  AttemptPatch,
  AttemptRecord,
  EventRecord,
  NewEvent,
  ReputationDelta,
  RunPatch,
  RunRecord,
  RunTx,
  StepPatch,
  StepRecord,
} from "../run-port.js";
import type { RunStatus, StepStatus } from "../types.js";
import type { PgQueryable } from "./database.js";
import { APPLY_REPUTATION, GET_FEEDBACK, PUT_FEEDBACK } from "./knowledge-queries.js";
import {
  BUMP_EVENT_SEQ,
  EVENTS_OF_TYPES,
  FIND_ATTEMPT_BY_TOKEN,
  GET_ATTEMPT,
  INSERT_EVENTS,
  INSERT_RUN,
  INSERT_STEPS,
  LOCK_RUN,
  LOCK_STEPS,
  REPUTATION_UNITS,
  SUCCEEDED_ATTEMPTS_BEFORE,
} from "./run-queries.js";
import {
  ATTEMPT_PATCH_COLUMNS,
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
    reputation_applied: run.reputation_applied,
    result_json: run.result,
    error_text: run.error_text,
    created_at: run.created_at,
    updated_at: run.updated_at,
    started_at: run.started_at,
    finished_at: run.finished_at,
  };
}

function stepRow(s: StepRecord): Record<string, JsonValue> {
  const { inputs, result, ...rest } = s;
  return { ...rest, inputs_json: inputs, result_json: result };
}

export class PgRunTx implements RunTx {
  /** Run ids to NOTIFY about at commit (at most one NOTIFY per transaction is sent). */
  readonly nudges = new Set<string>();

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

  async lockSteps(runId: string): Promise<StepRecord[]> {
    const { rows } = await this.client.query(LOCK_STEPS, [runId]);
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
    const values: unknown[] = [runId, [...from], this.nowIso];
    const sets = setList(patch, RUN_PATCH_COLUMNS, values);
    sets.push("updated_at = $3");
    const { rowCount } = await this.client.query(
      `UPDATE runs SET ${sets.join(", ")} WHERE run_id = $1 AND status = ANY($2::text[])`,
      values,
    );
    return (rowCount ?? 0) > 0;
  }

  async updateSteps(
    stepIds: readonly string[],
    from: readonly StepStatus[],
    patch: StepPatch,
  ): Promise<number> {
    if (stepIds.length === 0) return 0;
    const values: unknown[] = [[...stepIds], [...from], this.nowIso];
    const sets = setList(patch, STEP_PATCH_COLUMNS, values);
    sets.push("updated_at = $3");
    const { rowCount } = await this.client.query(
      `UPDATE run_steps SET ${sets.join(", ")} WHERE step_id = ANY($1::text[]) AND status = ANY($2::text[])`,
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

  async listSucceededAttemptsBefore(runId: string, round: number): Promise<AttemptRecord[]> {
    const { rows } = await this.client.query(SUCCEEDED_ATTEMPTS_BEFORE, [runId, round]);
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
    const bumped = await this.client.query(BUMP_EVENT_SEQ, [runId, events.length]);
    const last = bumped.rows[0]?.event_seq as number | undefined;
    if (last === undefined) throw new Error(`appendEvents: run ${runId} not found`);
    const first = last - events.length + 1;
    const { rows } = await this.client.query(INSERT_EVENTS, [
      runId,
      events.map((_, i) => first + i),
      events.map((e) => e.event_type),
      events.map((e) => JSON.stringify(e.payload)),
      events.map((e) => e.created_at ?? this.nowIso),
    ]);
    return rows.map(toEventRecord).sort((a, b) => a.seq - b.seq);
  }

  notify(runId: string): void {
    this.nudges.add(runId);
  }
}
