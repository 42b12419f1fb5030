// The API's error body `{ok: false, error: {code, message, details?}}` and the status of each error (SPEC §10).
// Kernel errors keep their WattswarmError code; errors of the HTTP layer itself get codes of their own. Stack
// traces never leave the process.
import type { ErrorCode, ValidationIssue } from "../errors.js";
import { isWattswarmError } from "../errors.js";
import { ExecutorPolicyError } from "../kernel/executor-admin.js";

export type ApiErrorCode =
  | ErrorCode
  | "UNAUTHORIZED"
  | "NOT_FOUND"
  | "BODY_TOO_LARGE"
  | "BAD_REQUEST"
  | "FORBIDDEN"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_MANY_STREAMS"
  | "NOT_IMPLEMENTED";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: ValidationIssue[],
    /** Response headers that go with the error (Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const STATUS_OF: Record<ErrorCode, number> = {
  SPEC_INVALID: 400,
  USAGE: 400,
  RUN_NOT_FOUND: 404,
  EXECUTOR_NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  RUN_EXISTS: 409,
  INVALID_STATE: 409,
  DB_UNAVAILABLE: 503,
  SCHEMA_CONFLICT: 500,
  INTERNAL: 500,
};

export interface ErrorBody {
  ok: false;
  error: { code: string; message: string; details?: ValidationIssue[] };
}

/** Errors fastify raises itself (body limit, bad content) carry a statusCode and an FST_ code. */
function frameworkError(err: unknown): ApiError | null {
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown } | null;
  if (!e || typeof e.statusCode !== "number" || typeof e.code !== "string" || !e.code.startsWith("FST_"))
    return null;
  if (e.statusCode === 413)
    return new ApiError(413, "BODY_TOO_LARGE", "request body is larger than 1 MiB (1048576 bytes)");
  if (e.statusCode === 415)
    return new ApiError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "request bodies must be JSON: send Content-Type: application/json",
    );
  if (e.statusCode >= 400 && e.statusCode < 500)
    return new ApiError(e.statusCode, "BAD_REQUEST", String(e.message ?? "bad request"));
  return null;
}

/** The status and body for any thrown value; `internal` is true when it was unexpected (to be logged). */
export function toApiError(err: unknown): { error: ApiError; internal: boolean } {
  if (err instanceof ApiError) return { error: err, internal: false };
  if (err instanceof ExecutorPolicyError)
    return {
      error: new ApiError(err.code === "FORBIDDEN" ? 403 : 400, err.code, err.message),
      internal: false,
    };
  if (isWattswarmError(err)) {
    const status = STATUS_OF[err.code] ?? 500;
    return { error: new ApiError(status, err.code, err.message, err.details), internal: status === 500 };
  }
  const framework = frameworkError(err);
  if (framework) return { error: framework, internal: false };
  return { error: new ApiError(500, "INTERNAL", "internal error; see the server's log"), internal: true };
}

export function errorBody(err: ApiError): ErrorBody {
  const error: ErrorBody["error"] = { code: err.code, message: err.message };
  if (err.details !== undefined && err.details.length > 0) error.details = err.details;
  return { ok: false, error };
}

/** The original's `/api/run/*` envelope: `{ok: false, error: "<message>"}` (plus the code and details). */
export function legacyErrorBody(err: ApiError): Record<string, unknown> {
  const body: Record<string, unknown> = { ok: false, error: err.message, code: err.code };
  if (err.details !== undefined && err.details.length > 0) body.details = err.details;
  return body;
}
