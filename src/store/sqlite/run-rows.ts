// Row ↔ record mapping for the run tables on SQLite: json is TEXT, times are epoch-ms INTEGERs, booleans 0/1
// (001_initial.sql). Reading shares the field lists with PostgreSQL (../run-rows.ts); writing is here.

import { ACTIVE_STEP_STATUSES } from "../../vocab.js";
import { isoTime } from "../records.js";
import type { AttemptRecord, EventRecord, RunRecord, StepRecord } from "../run-port.js";
import * as rows from "../run-rows.js";
import { type PatchColumn, patchEntries, type Row, type RowCodec } from "../run-rows.js";

export type { Row } from "../run-rows.js";

/** A value better-sqlite3 can bind. */
export type SqlValue = string | number | bigint | null;

const SQLITE_CODEC: RowCodec = {
  json: (value) => JSON.parse(value as string),
  time: (value) => isoTime(value as number),
  bool: (value) => value === 1,
};

export const toRunRecord = (r: Row): RunRecord => rows.toRunRecord(r, SQLITE_CODEC);
export const toStepRecord = (r: Row): StepRecord => rows.toStepRecord(r, SQLITE_CODEC);
export const toAttemptRecord = (r: Row): AttemptRecord => rows.toAttemptRecord(r, SQLITE_CODEC);
export const toEventRecord = (r: Row): EventRecord => rows.toEventRecord(r, SQLITE_CODEC);

/** An ISO time from a record or patch as the epoch ms SQLite stores; anything unparsable is refused. */
export function ms(value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`not an ISO time: ${value}`);
  return t;
}

export function msOrNull(value: string | null): number | null {
  return value === null ? null : ms(value);
}

export function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** Named parameters for INSERT_RUN. */
export function runParams(run: RunRecord): Record<string, SqlValue> {
  return {
    run_id: run.run_id,
    status: run.status,
    task_type: run.task_type,
    spec_json: JSON.stringify(run.spec),
    shared_inputs_json: JSON.stringify(run.shared_inputs),
    round: run.round,
    event_seq: run.event_seq,
    active_steps: run.active_steps,
    reputation_applied: run.reputation_applied ? 1 : 0,
    result_json: jsonOrNull(run.result),
    error_text: run.error_text,
    created_at: ms(run.created_at),
    updated_at: ms(run.updated_at),
    started_at: msOrNull(run.started_at),
    finished_at: msOrNull(run.finished_at),
  };
}

/** Named parameters for INSERT_STEP. */
export function stepParams(s: StepRecord): Record<string, SqlValue> {
  return {
    step_id: s.step_id,
    run_id: s.run_id,
    ordinal: s.ordinal,
    agent_id: s.agent_id,
    executor: s.executor,
    profile: s.profile,
    prompt: s.prompt,
    inputs_json: JSON.stringify(s.inputs),
    weight: s.weight,
    priority: s.priority,
    timeout_ms: s.timeout_ms,
    status: s.status,
    round: s.round,
    attempt: s.attempt,
    attempt_seq: s.attempt_seq,
    max_attempts: s.max_attempts,
    next_run_at: ms(s.next_run_at),
    run_created_at: ms(s.run_created_at),
    lease_token: s.lease_token,
    lease_owner: s.lease_owner,
    lease_until: msOrNull(s.lease_until),
    result_json: jsonOrNull(s.result),
    error_text: s.error_text,
    created_at: ms(s.created_at),
    updated_at: ms(s.updated_at),
    started_at: msOrNull(s.started_at),
    finished_at: msOrNull(s.finished_at),
  };
}

function encode(spec: PatchColumn, value: unknown): SqlValue {
  if (value === null) return null;
  switch (spec.kind) {
    case "json":
      return JSON.stringify(value);
    case "time":
      return ms(value as string);
    case "bool":
      return value ? 1 : 0;
    default:
      return value as SqlValue;
  }
}

/** Builds `col = ?, …` for the patch's keys (whitelisted) and appends their encoded values to `values`. */
export function setList(
  patch: Record<string, unknown>,
  columns: Record<string, PatchColumn>,
  values: SqlValue[],
): string[] {
  return patchEntries(patch, columns).map(({ spec, value }) => {
    values.push(encode(spec, value));
    return `${spec.column} = ?`;
  });
}

const ACTIVE: ReadonlySet<string> = new Set(ACTIVE_STEP_STATUSES);

/** Per run, how many steps a statement moved into an active status minus how many it moved out of one. */
export class ActiveCounts {
  private readonly byRun = new Map<string, number>();

  /** One step of `runId` went from `was` (null: it is new) to `now`. */
  add(runId: string, was: string | null, now: string): void {
    const delta = (ACTIVE.has(now) ? 1 : 0) - (was !== null && ACTIVE.has(was) ? 1 : 0);
    if (delta !== 0) this.byRun.set(runId, (this.byRun.get(runId) ?? 0) + delta);
  }

  /** The runs whose count changes, with the change. */
  deltas(): [string, number][] {
    return [...this.byRun].filter(([, d]) => d !== 0);
  }
}
