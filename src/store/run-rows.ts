// Row ↔ record mapping for the run tables, shared by both adapters. The field lists live here once; each
// adapter passes a codec for how its driver hands back json, timestamp and boolean columns (PostgreSQL: parsed
// json, Date, boolean; SQLite: JSON text, epoch-ms integers, 0/1).
import type { JsonObject, JsonValue, RunSpec } from "../spec/types.js";
import type { AttemptStatus, RunStatus, StepStatus } from "../vocab.js";
import type { AttemptRecord, EventRecord, RunRecord, StepRecord } from "./run-port.js";

export type Row = Record<string, unknown>;

export interface RowCodec {
  /** A non-null json column's value as the driver returned it. */
  json(value: unknown): unknown;
  /** A non-null timestamp column's value, as ISO-8601 UTC with milliseconds. */
  time(value: unknown): string;
  bool(value: unknown): boolean;
}

function jsonOrNull(c: RowCodec, value: unknown): unknown {
  return value === null || value === undefined ? null : c.json(value);
}

function timeOrNull(c: RowCodec, value: unknown): string | null {
  return value === null || value === undefined ? null : c.time(value);
}

export function toRunRecord(r: Row, c: RowCodec): RunRecord {
  return {
    run_id: r.run_id as string,
    status: r.status as RunStatus,
    task_type: r.task_type as string,
    spec: c.json(r.spec_json) as RunSpec,
    shared_inputs: c.json(r.shared_inputs_json) as JsonValue,
    round: r.round as number,
    event_seq: r.event_seq as number,
    active_steps: r.active_steps as number,
    reputation_applied: c.bool(r.reputation_applied),
    result: jsonOrNull(c, r.result_json) as JsonObject | null,
    error_text: (r.error_text ?? null) as string | null,
    created_at: c.time(r.created_at),
    updated_at: c.time(r.updated_at),
    started_at: timeOrNull(c, r.started_at),
    finished_at: timeOrNull(c, r.finished_at),
  };
}

export function toStepRecord(r: Row, c: RowCodec): StepRecord {
  return {
    step_id: r.step_id as string,
    run_id: r.run_id as string,
    ordinal: r.ordinal as number,
    agent_id: r.agent_id as string,
    executor: r.executor as string,
    profile: r.profile as string,
    prompt: r.prompt as string,
    inputs: c.json(r.inputs_json) as JsonObject,
    weight: Number(r.weight),
    priority: r.priority as number,
    timeout_ms: r.timeout_ms as number,
    status: r.status as StepStatus,
    round: r.round as number,
    attempt: r.attempt as number,
    attempt_seq: r.attempt_seq as number,
    max_attempts: r.max_attempts as number,
    next_run_at: c.time(r.next_run_at),
    run_created_at: c.time(r.run_created_at),
    lease_token: (r.lease_token ?? null) as string | null,
    lease_owner: (r.lease_owner ?? null) as string | null,
    lease_until: timeOrNull(c, r.lease_until),
    result: jsonOrNull(c, r.result_json) as JsonValue | null,
    error_text: (r.error_text ?? null) as string | null,
    created_at: c.time(r.created_at),
    updated_at: c.time(r.updated_at),
    started_at: timeOrNull(c, r.started_at),
    finished_at: timeOrNull(c, r.finished_at),
  };
}

export function toAttemptRecord(r: Row, c: RowCodec): AttemptRecord {
  return {
    step_id: r.step_id as string,
    attempt_seq: r.attempt_seq as number,
    run_id: r.run_id as string,
    round: r.round as number,
    attempt: r.attempt as number,
    worker_id: r.worker_id as string,
    lease_token: r.lease_token as string,
    status: r.status as AttemptStatus,
    closed_as: (r.closed_as ?? null) as AttemptStatus | null,
    error_code: (r.error_code ?? null) as string | null,
    result: jsonOrNull(c, r.result_json) as JsonValue | null,
    error_text: (r.error_text ?? null) as string | null,
    due_at: c.time(r.due_at),
    started_at: c.time(r.started_at),
    finished_at: timeOrNull(c, r.finished_at),
  };
}

export function toEventRecord(r: Row, c: RowCodec): EventRecord {
  return {
    id: Number(r.id),
    run_id: r.run_id as string,
    seq: r.seq as number,
    event_type: r.event_type as string,
    payload: c.json(r.payload_json) as JsonObject,
    created_at: c.time(r.created_at),
  };
}

/** How a patchable column is stored: plain, json, a timestamp (ISO in records) or a boolean. */
/** The attempt row a claim opens for `step` (already updated by the claim: attempt, attempt_seq, token). */
export function openedAttempt(
  step: StepRecord,
  workerId: string,
  dueAt: string,
  startedAt: string,
): AttemptRecord {
  return {
    step_id: step.step_id,
    attempt_seq: step.attempt_seq,
    run_id: step.run_id,
    round: step.round,
    attempt: step.attempt,
    worker_id: workerId,
    lease_token: step.lease_token as string,
    status: "RUNNING",
    closed_as: null,
    error_code: null,
    result: null,
    error_text: null,
    due_at: dueAt,
    started_at: startedAt,
    finished_at: null,
  };
}

export interface PatchColumn {
  column: string;
  kind?: "json" | "time" | "bool";
}

/** Record field → column of the guarded updates (RunPatch, StepPatch, AttemptPatch): the only updatable ones. */
export const RUN_PATCH_COLUMNS: Record<string, PatchColumn> = {
  status: { column: "status" },
  shared_inputs: { column: "shared_inputs_json", kind: "json" },
  round: { column: "round" },
  reputation_applied: { column: "reputation_applied", kind: "bool" },
  result: { column: "result_json", kind: "json" },
  error_text: { column: "error_text" },
  started_at: { column: "started_at", kind: "time" },
  finished_at: { column: "finished_at", kind: "time" },
};

export const STEP_PATCH_COLUMNS: Record<string, PatchColumn> = {
  status: { column: "status" },
  inputs: { column: "inputs_json", kind: "json" },
  round: { column: "round" },
  attempt: { column: "attempt" },
  next_run_at: { column: "next_run_at", kind: "time" },
  lease_token: { column: "lease_token" },
  lease_owner: { column: "lease_owner" },
  lease_until: { column: "lease_until", kind: "time" },
  result: { column: "result_json", kind: "json" },
  error_text: { column: "error_text" },
  finished_at: { column: "finished_at", kind: "time" },
};

export const ATTEMPT_PATCH_COLUMNS: Record<string, PatchColumn> = {
  status: { column: "status" },
  closed_as: { column: "closed_as" },
  error_code: { column: "error_code" },
  result: { column: "result_json", kind: "json" },
  error_text: { column: "error_text" },
  finished_at: { column: "finished_at", kind: "time" },
};

/** The patch's defined entries with their whitelisted columns; an unknown key is a programming error. */
export function patchEntries(
  patch: Record<string, unknown>,
  columns: Record<string, PatchColumn>,
): { spec: PatchColumn; value: unknown }[] {
  const out: { spec: PatchColumn; value: unknown }[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const spec = Object.hasOwn(columns, key) ? columns[key] : undefined;
    if (!spec) throw new Error(`not an updatable column: ${key}`);
    out.push({ spec, value });
  }
  return out;
}
