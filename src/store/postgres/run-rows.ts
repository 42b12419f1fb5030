// Row ↔ record mapping for the run tables (PostgreSQL returns timestamptz as Date and json parsed).
import type { JsonObject, JsonValue, RunSpec } from "../../spec/types.js";
import type { AttemptRecord, EventRecord, RunRecord, StepRecord } from "../run-port.js";
import type { AttemptStatus, RunStatus, StepStatus } from "../types.js";

type Row = Record<string, unknown>;

export function iso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return new Date(value as string).toISOString();
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

export function toRunRecord(r: Row): RunRecord {
  return {
    run_id: r.run_id as string,
    status: r.status as RunStatus,
    task_type: r.task_type as string,
    spec: r.spec_json as RunSpec,
    shared_inputs: r.shared_inputs_json as JsonValue,
    round: r.round as number,
    event_seq: r.event_seq as number,
    reputation_applied: r.reputation_applied as boolean,
    result: (r.result_json ?? null) as JsonObject | null,
    error_text: (r.error_text ?? null) as string | null,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    started_at: isoOrNull(r.started_at),
    finished_at: isoOrNull(r.finished_at),
  };
}

export function toStepRecord(r: Row): StepRecord {
  return {
    step_id: r.step_id as string,
    run_id: r.run_id as string,
    ordinal: r.ordinal as number,
    agent_id: r.agent_id as string,
    executor: r.executor as string,
    profile: r.profile as string,
    prompt: r.prompt as string,
    inputs: r.inputs_json as JsonObject,
    weight: Number(r.weight),
    priority: r.priority as number,
    timeout_ms: r.timeout_ms as number,
    status: r.status as StepStatus,
    round: r.round as number,
    attempt: r.attempt as number,
    attempt_seq: r.attempt_seq as number,
    max_attempts: r.max_attempts as number,
    next_run_at: iso(r.next_run_at),
    run_created_at: iso(r.run_created_at),
    lease_token: (r.lease_token ?? null) as string | null,
    lease_owner: (r.lease_owner ?? null) as string | null,
    lease_until: isoOrNull(r.lease_until),
    result: (r.result_json ?? null) as JsonValue | null,
    error_text: (r.error_text ?? null) as string | null,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    started_at: isoOrNull(r.started_at),
    finished_at: isoOrNull(r.finished_at),
  };
}

export function toAttemptRecord(r: Row): AttemptRecord {
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
    result: (r.result_json ?? null) as JsonValue | null,
    error_text: (r.error_text ?? null) as string | null,
    due_at: iso(r.due_at),
    started_at: iso(r.started_at),
    finished_at: isoOrNull(r.finished_at),
  };
}

export function toEventRecord(r: Row): EventRecord {
  return {
    id: Number(r.id),
    run_id: r.run_id as string,
    seq: r.seq as number,
    event_type: r.event_type as string,
    payload: r.payload_json as JsonObject,
    created_at: iso(r.created_at),
  };
}

/** Record field → column, and whether the column is json (so the value travels as JSON text). */
export const RUN_PATCH_COLUMNS: Record<string, { column: string; json?: boolean }> = {
  status: { column: "status" },
  shared_inputs: { column: "shared_inputs_json", json: true },
  round: { column: "round" },
  reputation_applied: { column: "reputation_applied" },
  result: { column: "result_json", json: true },
  error_text: { column: "error_text" },
  started_at: { column: "started_at" },
  finished_at: { column: "finished_at" },
};

export const STEP_PATCH_COLUMNS: Record<string, { column: string; json?: boolean }> = {
  status: { column: "status" },
  inputs: { column: "inputs_json", json: true },
  round: { column: "round" },
  attempt: { column: "attempt" },
  next_run_at: { column: "next_run_at" },
  lease_token: { column: "lease_token" },
  lease_owner: { column: "lease_owner" },
  lease_until: { column: "lease_until" },
  result: { column: "result_json", json: true },
  error_text: { column: "error_text" },
  finished_at: { column: "finished_at" },
};

export const ATTEMPT_PATCH_COLUMNS: Record<string, { column: string; json?: boolean }> = {
  status: { column: "status" },
  closed_as: { column: "closed_as" },
  error_code: { column: "error_code" },
  result: { column: "result_json", json: true },
  error_text: { column: "error_text" },
  finished_at: { column: "finished_at" },
};

/** Builds `col = $n, …` for the patch's keys (whitelisted) and appends their values to `values`. */
export function setList(
  patch: Record<string, unknown>,
  columns: Record<string, { column: string; json?: boolean }>,
  values: unknown[],
): string[] {
  const sets: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const spec = columns[key];
    if (!spec) throw new Error(`not an updatable column: ${key}`);
    values.push(spec.json && value !== null ? JSON.stringify(value) : value);
    sets.push(`${spec.column} = $${values.length}${spec.json ? "::json" : ""}`);
  }
  return sets;
}
