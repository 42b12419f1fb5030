// Domain types shared by the store port and its callers. This module imports no adapter, so the kernel, CLI
// and server can depend on it without pulling in `pg` or `better-sqlite3`.

import type { JsonObject } from "../spec/types.js";

export type StoreKind = "postgres" | "sqlite";

/** Status sets of SPEC §3/§4. The migrations' CHECK constraints list exactly these values. */
export const RUN_STATUSES = ["CREATED", "QUEUED", "RUNNING", "CANCELLED", "FINALIZED", "FAILED"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_RUN_STATUSES = [
  "CANCELLED",
  "FINALIZED",
  "FAILED",
] as const satisfies readonly RunStatus[];

export const STEP_STATUSES = [
  "CREATED",
  "QUEUED",
  "LEASED",
  "SUCCEEDED",
  "FAILED",
  "RETRY_WAIT",
  "CANCELLED",
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const ACTIVE_STEP_STATUSES = [
  "CREATED",
  "QUEUED",
  "LEASED",
  "RETRY_WAIT",
] as const satisfies readonly StepStatus[];

export const ATTEMPT_STATUSES = [
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
  "RETRYABLE_ERROR",
  "LEASE_EXPIRED",
  "RELEASED",
  "CANCELLED",
  "STALE",
] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export const EXECUTOR_KINDS = ["http", "command", "openai", "sim"] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

export function isExecutorKind(value: unknown): value is ExecutorKind {
  return typeof value === "string" && (EXECUTOR_KINDS as readonly string[]).includes(value);
}

/** A row of the `executors` registry. Times are ISO-8601 UTC with milliseconds. */
export interface ExecutorRecord {
  name: string;
  kind: ExecutorKind;
  /** Kind-specific settings; never secrets, only the names of env vars that hold them (SPEC §8.1). */
  config: JsonObject;
  created_at: string;
  updated_at: string;
}

export interface ExecutorInput {
  name: string;
  kind: ExecutorKind;
  config: JsonObject;
}

export interface MigrateResult {
  /** The highest applied migration version after this call. */
  schema_version: number;
  /** Names of the migrations this call applied, in order; empty when the schema was already current. */
  applied: string[];
}
