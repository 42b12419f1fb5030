// What a successful attempt may return (SPEC §8.4): a JSON object, nested at most 64 levels, at most 1 MiB as
// JSON, with at most 64 distinct evidence digests of at most 512 chars. The same rules for every executor kind.
import { errorMessage } from "../errors.js";
import type { JsonObject, JsonValue } from "../spec/types.js";
import { isPlainObject, MAX_OUTPUT_DEPTH, responseTooDeepAt } from "../util/json.js";
import { type AttemptFailure, failure, withSource } from "./failures.js";

export const OUTPUT_LIMIT_BYTES = 1024 * 1024;
export const MAX_EVIDENCE_DIGESTS = 64;
export const MAX_DIGEST_CHARS = 512;

const MIB = 1024 * 1024;

function formatSize(bytes: number, limit: number): string {
  const mib = (bytes / MIB).toFixed(1);
  // "1.0 MiB > 1 MiB" would read as a contradiction: fall back to bytes when rounding hides the excess.
  return Number(mib) * MIB > limit ? `${mib} MiB` : `${bytes} bytes`;
}

function formatLimit(limit: number): string {
  return limit % MIB === 0 ? `${limit / MIB} MiB` : `${limit} bytes`;
}

/** OUTPUT_TOO_LARGE naming the limit; `bytes` null when the stream was cut before its end was known. */
export function outputTooLarge(
  bytes: number | null,
  source?: string,
  limit = OUTPUT_LIMIT_BYTES,
): AttemptFailure {
  const size = bytes === null ? "" : `${formatSize(bytes, limit)} `;
  return failure(
    "OUTPUT_TOO_LARGE",
    false,
    withSource(`OUTPUT_TOO_LARGE: ${size}> ${formatLimit(limit)}`, source),
  );
}

export type JsonObjectResult = { ok: true; value: JsonObject } | { ok: false; failure: AttemptFailure };

export function parseJsonObject(text: string, source?: string): JsonObjectResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = errorMessage(err);
    return { ok: false, failure: failure("BAD_OUTPUT", true, withSource(`not JSON: ${reason}`, source)) };
  }
  if (!isPlainObject(value)) {
    const got = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return {
      ok: false,
      failure: failure("BAD_OUTPUT", true, withSource(`not an object: got ${got}`, source)),
    };
  }
  return { ok: true, value };
}

function collectDigests(refs: JsonValue | undefined, into: string[]): void {
  if (!Array.isArray(refs)) return;
  for (const ref of refs) if (isPlainObject(ref) && typeof ref.digest === "string") into.push(ref.digest);
}

/**
 * Every digest an attempt reports, where aggregation reads them: the response's `evidence_refs`, and the
 * candidate output's `evidence_digests` and `evidence_refs` (a bare output object is its own candidate).
 */
export function evidenceDigests(response: JsonObject): string[] {
  const digests: string[] = [];
  let output: JsonValue | undefined = response;
  if (Object.hasOwn(response, "candidate_output")) {
    collectDigests(response.evidence_refs, digests);
    output = response.candidate_output;
  }
  if (isPlainObject(output)) {
    const listed = output.evidence_digests;
    if (Array.isArray(listed)) for (const d of listed) if (typeof d === "string") digests.push(d);
    collectDigests(output.evidence_refs, digests);
  }
  return digests;
}

/** BAD_OUTPUT when the evidence exceeds SPEC §8.4 limits, else null. Distinct digests are counted. */
export function checkEvidenceLimits(response: JsonObject, source?: string): AttemptFailure | null {
  const digests = evidenceDigests(response);
  const long = digests.find((d) => d.length > MAX_DIGEST_CHARS);
  if (long !== undefined) {
    const message = `evidence digest of ${long.length} chars > ${MAX_DIGEST_CHARS} chars limit`;
    return failure("BAD_OUTPUT", true, withSource(message, source));
  }
  const distinct = new Set(digests.map((d) => d.trim()).filter((d) => d !== "")).size;
  if (distinct > MAX_EVIDENCE_DIGESTS) {
    const message = `${distinct} evidence digests > ${MAX_EVIDENCE_DIGESTS} per attempt limit`;
    return failure("BAD_OUTPUT", true, withSource(message, source));
  }
  return null;
}

/**
 * The SPEC §8.4 limits of a successful response, the same for every executor kind (runAttempt applies it to
 * all of them): nesting (BAD_OUTPUT, not retried), size (OUTPUT_TOO_LARGE), then evidence. Nesting comes
 * first: it bounds the recursion of the JSON.stringify that measures the size.
 */
export function checkOutputLimits(response: JsonObject, source?: string): AttemptFailure | null {
  if (responseTooDeepAt(response) !== undefined) {
    const message = `BAD_OUTPUT: candidate_output nested more than ${MAX_OUTPUT_DEPTH} levels (limit ${MAX_OUTPUT_DEPTH})`;
    return failure("BAD_OUTPUT", false, withSource(message, source));
  }
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(response) ?? "", "utf8");
  } catch (err) {
    const reason = errorMessage(err);
    return failure("BAD_OUTPUT", false, withSource(`BAD_OUTPUT: not JSON: ${reason}`, source));
  }
  if (bytes > OUTPUT_LIMIT_BYTES) return outputTooLarge(bytes, source);
  return checkEvidenceLimits(response, source);
}
