// The shared vocabulary of SPEC §3/§4/§8: statuses, executor kinds, attempt error codes and what one attempt
// comes to, and the JSON value types. The bottom module: every layer may import it, and it imports nothing.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

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

/** A step that still has work ahead of it (created, queued, leased or waiting to retry). */
export function isActiveStepStatus(status: StepStatus): boolean {
  return (ACTIVE_STEP_STATUSES as readonly StepStatus[]).includes(status);
}

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

/** The executor kinds of SPEC §8.1. */
export const EXECUTOR_KINDS = ["http", "command", "openai", "sim"] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

export function isExecutorKind(value: unknown): value is ExecutorKind {
  return typeof value === "string" && (EXECUTOR_KINDS as readonly string[]).includes(value);
}

/** The error codes of a failed attempt (SPEC §8.4). */
export const ERROR_CODES = [
  "TIMEOUT",
  "HTTP_4XX",
  "HTTP_5XX",
  "TRANSPORT",
  "BAD_OUTPUT",
  "OUTPUT_TOO_LARGE",
  "EXIT_CODE",
  "EXECUTOR_INCOMPATIBLE",
  "VERIFY_FAILED",
  "LEASE_EXPIRED",
] as const;
export type AttemptErrorCode = (typeof ERROR_CODES)[number];

/** What one attempt of an executor comes to: the agent's response, or a failure the kernel classifies. */
export type ExecutionOutcome =
  | {
      ok: true;
      /** The ExecuteResponse (`{candidate_output, evidence_refs?, …}`) or a bare output object. */
      response: JsonObject;
    }
  | {
      ok: false;
      code: AttemptErrorCode;
      retryable: boolean;
      /** One line or a few; stored cut to 8 KiB. */
      error: string;
      /** From a Retry-After header. */
      retry_after_ms?: number;
      /** Anything useful the executor got back (e.g. verify reason codes). */
      details?: JsonValue;
    };

/** An executor registry entry as given (SPEC §8.1): config holds env-var NAMES, never secrets. */
export interface ExecutorInput {
  name: string;
  kind: ExecutorKind;
  config: JsonObject;
}
