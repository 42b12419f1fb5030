// POST /api/runs and the original's POST /api/run/submit: a body with `spec` or `run_spec` is an envelope
// `{spec, kickoff}`; any other body is the spec itself (SPEC §10). Validation is the one `run submit` uses.
import { admitRunSpec } from "../kernel/admit.js";
import { type SubmitOutcome, submitRun } from "../kernel/lifecycle.js";
import { formatPath } from "../spec/issues.js";
import type { Store } from "../store/port.js";
import { isPlainRecord } from "../util/json.js";
import { ApiError } from "./errors.js";
import { SubmitEnvelope } from "./schemas.js";

export interface Submission {
  input: unknown;
  kickoff: boolean;
  source: string;
}

export function readSubmission(body: unknown, kickoffQuery: string | undefined): Submission {
  const queryKickoff = kickoffQuery === "true" || kickoffQuery === "1";
  if (body === undefined) throw new ApiError(400, "BAD_REQUEST", "the request has no body: send a run spec");
  if (!isPlainRecord(body) || !("spec" in body || "run_spec" in body)) {
    return { input: body, kickoff: queryKickoff, source: "the request body" };
  }
  const envelope = SubmitEnvelope.safeParse(body);
  if (!envelope.success) {
    const details = envelope.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    throw new ApiError(400, "SPEC_INVALID", "invalid envelope: expected {spec, kickoff}", details);
  }
  const { spec, run_spec, kickoff } = envelope.data;
  if (spec !== undefined && run_spec !== undefined)
    throw new ApiError(400, "SPEC_INVALID", "the envelope has both `spec` and `run_spec`; send one");
  const key = spec !== undefined ? "spec" : "run_spec";
  return { input: spec ?? run_spec, kickoff: kickoff ?? queryKickoff, source: `\`${key}\`` };
}

export async function submitFromBody(
  store: Store,
  body: unknown,
  kickoffQuery: string | undefined,
): Promise<SubmitOutcome & { warnings?: string[] }> {
  const { input, kickoff, source } = readSubmission(body, kickoffQuery);
  const { spec, warnings } = await admitRunSpec(store, input, source);
  const outcome = await submitRun(store, spec, kickoff);
  return warnings.length > 0 ? { ...outcome, warnings } : outcome;
}
