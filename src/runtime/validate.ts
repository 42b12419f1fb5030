// Checking what arrives at the runtime and what the handler hands back (SPEC §8.2). Every problem is listed
// at once, so a 400 tells a client author everything that is wrong with the request.
import type { ExecuteRequest } from "../executors/types.js";
import type { JsonObject, JsonValue } from "../spec/types.js";
import { isPlainObject } from "../util/json.js";
import type { VerifyRequest, VerifyResult } from "./types.js";

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: string[] };

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function requireString(body: JsonObject, key: string, problems: string[]): void {
  if (typeof body[key] !== "string" || body[key] === "") {
    problems.push(`${key}: must be a non-empty string (got ${describe(body[key])})`);
  }
}

export function checkExecuteRequest(body: unknown): Checked<ExecuteRequest> {
  if (!isPlainObject(body))
    return { ok: false, problems: [`body: must be a JSON object (got ${describe(body)})`] };
  const problems: string[] = [];
  requireString(body, "task_id", problems);
  requireString(body, "task_type", problems);
  if (!isPlainObject(body.inputs)) problems.push(`inputs: must be an object (got ${describe(body.inputs)})`);
  if (body.attempt_id === undefined && body.execution_id === undefined) {
    problems.push("attempt_id: required (or execution_id)");
  } else if (body.attempt_id !== undefined) requireString(body, "attempt_id", problems);
  if (body.profile !== undefined && typeof body.profile !== "string") {
    problems.push(`profile: must be a string (got ${describe(body.profile)})`);
  }
  if (body.task_contract !== undefined && body.task_contract !== null && !isPlainObject(body.task_contract)) {
    problems.push(`task_contract: must be an object (got ${describe(body.task_contract)})`);
  }
  if (problems.length > 0) return { ok: false, problems };
  // Older clients omit fields the kernel always sends; fill them so handlers can rely on the full shape.
  const request = {
    execution_id: body.attempt_id ?? body.execution_id,
    attempt_id: body.execution_id ?? body.attempt_id,
    profile: "default",
    stage: "EXPLORE",
    seed_bundle: null,
    ...body,
  } as unknown as ExecuteRequest;
  return { ok: true, value: request };
}

export function checkVerifyRequest(body: unknown): Checked<VerifyRequest> {
  if (!isPlainObject(body))
    return { ok: false, problems: [`body: must be a JSON object (got ${describe(body)})`] };
  const problems: string[] = [];
  if (!Object.hasOwn(body, "candidate_output")) problems.push("candidate_output: required");
  if (body.evidence_refs !== undefined && !Array.isArray(body.evidence_refs)) {
    problems.push(`evidence_refs: must be an array (got ${describe(body.evidence_refs)})`);
  }
  if (body.task_contract !== undefined && body.task_contract !== null && !isPlainObject(body.task_contract)) {
    problems.push(`task_contract: must be an object (got ${describe(body.task_contract)})`);
  }
  if (problems.length > 0) return { ok: false, problems };
  const text = (v: JsonValue | undefined): string => (typeof v === "string" ? v : "");
  return {
    ok: true,
    value: {
      task_id: text(body.task_id),
      execution_id: text(body.execution_id),
      attempt_id: text(body.attempt_id),
      task_contract: isPlainObject(body.task_contract) ? body.task_contract : null,
      candidate_output: body.candidate_output ?? null,
      evidence_refs: Array.isArray(body.evidence_refs) ? body.evidence_refs : [],
    },
  };
}

/** The check a runtime without its own `verify` applies: the output has the shape of the output schema. */
export function defaultVerify(candidate: JsonValue): VerifyResult {
  if (!isPlainObject(candidate)) return { passed: false, reason_codes: ["OUTPUT_NOT_OBJECT"] };
  const reasons: string[] = [];
  const has = (key: string): boolean => typeof candidate[key] === "string" && candidate[key] !== "";
  if (!has("decision") && !has("answer")) reasons.push("NO_DECISION_OR_ANSWER");
  for (const key of ["decision", "answer"]) {
    if (candidate[key] !== undefined && typeof candidate[key] !== "string")
      reasons.push(`${key.toUpperCase()}_NOT_STRING`);
  }
  const c = candidate.confidence;
  if (c !== undefined && (typeof c !== "number" || !(c >= 0 && c <= 1)))
    reasons.push("CONFIDENCE_OUT_OF_RANGE");
  return reasons.length === 0 ? { passed: true } : { passed: false, reason_codes: reasons };
}

/** A handler's `execute` result as an ExecuteResponse, or why it cannot be one. */
export function toExecuteResponse(result: unknown): Checked<JsonObject> {
  if (!isPlainObject(result)) {
    return { ok: false, problems: [`the handler returned ${describe(result)}; expected an output object`] };
  }
  return {
    ok: true,
    value: Object.hasOwn(result, "candidate_output") ? result : { candidate_output: result },
  };
}

/** A handler's `verify` result as `{passed, reason_codes}`. */
export function toVerifyResult(result: unknown): Checked<VerifyResult> {
  if (typeof result === "boolean")
    return { ok: true, value: result ? { passed: true } : { passed: false, reason_codes: [] } };
  if (!isPlainObject(result) || typeof result.passed !== "boolean") {
    return {
      ok: false,
      problems: [`verify returned ${describe(result)}; expected {passed: boolean, reason_codes?}`],
    };
  }
  const reasons = Array.isArray(result.reason_codes)
    ? result.reason_codes.filter((r) => typeof r === "string")
    : [];
  return {
    ok: true,
    value: result.passed ? { passed: true } : { passed: false, reason_codes: reasons as string[] },
  };
}
