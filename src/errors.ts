// One error class with a stable code. The CLI maps codes to exit codes (SPEC §7), the HTTP API to statuses.

export type ErrorCode =
  | "SPEC_INVALID"
  | "USAGE"
  | "RUN_NOT_FOUND"
  | "RUN_EXISTS"
  | "EXECUTOR_NOT_FOUND"
  | "AGENT_NOT_FOUND"
  | "INVALID_STATE"
  | "DB_UNAVAILABLE"
  | "SCHEMA_CONFLICT"
  | "INTERNAL";

export interface ValidationIssue {
  /** JSON path such as `agents[2].agent_id`; `` (empty) for the document root. */
  path: string;
  message: string;
}

export class WattswarmError extends Error {
  readonly code: ErrorCode;
  readonly details: ValidationIssue[] | undefined;

  constructor(code: ErrorCode, message: string, details?: ValidationIssue[]) {
    super(message);
    this.name = "WattswarmError";
    this.code = code;
    this.details = details;
  }
}

export const EXIT_CODES: Record<ErrorCode, number> = {
  SPEC_INVALID: 2,
  USAGE: 2,
  RUN_NOT_FOUND: 3,
  EXECUTOR_NOT_FOUND: 3,
  AGENT_NOT_FOUND: 3,
  RUN_EXISTS: 4,
  INVALID_STATE: 4,
  DB_UNAVAILABLE: 1,
  SCHEMA_CONFLICT: 1,
  INTERNAL: 1,
};

export function isWattswarmError(err: unknown): err is WattswarmError {
  return err instanceof WattswarmError;
}

/** True when the database could not be reached (or stayed locked): retrying elsewhere or splitting won't help. */
export function isDbUnavailable(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "DB_UNAVAILABLE";
}

/** The message of a thrown value: an Error's `message`, anything else as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
