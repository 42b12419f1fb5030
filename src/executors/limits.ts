// Limits and error classification shared by every executor kind (SPEC §8.4), so http, openai and command
// report the same codes and the same wording for the same problem.
import type { JsonObject, JsonValue } from "../spec/types.js";
import { isPlainObject, MAX_OUTPUT_DEPTH, mapStrings, responseTooDeepAt, someString } from "../util/json.js";
import { cutText } from "../util/text.js";
import type { AttemptErrorCode, ExecutionOutcome } from "../vocab.js";
import { MAX_DIGEST_CHARS, MAX_EVIDENCE_DIGESTS, OUTPUT_LIMIT_BYTES } from "./types.js";

export type AttemptFailure = Extract<ExecutionOutcome, { ok: false }>;

/** Retry-After values beyond this are clamped: the kernel never waits longer than 10 min between attempts. */
export const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

const MIB = 1024 * 1024;

export function failure(
  code: AttemptErrorCode,
  retryable: boolean,
  error: string,
  extra: { retry_after_ms?: number; details?: JsonValue } = {},
): AttemptFailure {
  return { ok: false, code, retryable, error: cutText(error), ...extra };
}

function withSource(message: string, source: string | undefined): string {
  return source ? `${message} (${source})` : message;
}

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

export type BodyResult = { ok: true; text: string } | { ok: false; failure: AttemptFailure };

/**
 * Reads a fetch body with a byte cap. Content-Length is trusted only to refuse early; the stream is counted
 * regardless, because a server can lie or send no length at all. Read errors (reset, abort) are thrown.
 */
export async function readBodyCapped(
  response: Response,
  source?: string,
  limit = OUTPUT_LIMIT_BYTES,
): Promise<BodyResult> {
  const declared = Number(response.headers.get("content-length"));
  if (response.headers.has("content-length") && Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    return { ok: false, failure: outputTooLarge(declared, source, limit) };
  }
  const bytes = await readUpTo(response, limit);
  if (bytes === null) return { ok: false, failure: outputTooLarge(null, source, limit) };
  return { ok: true, text: new TextDecoder().decode(bytes) };
}

/** The body's bytes, or null once more than `limit` bytes arrived (the rest is not downloaded). */
export async function readUpTo(response: Response, limit: number): Promise<Uint8Array | null> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** The start of a body for an error message: at most `maxBytes`, cut on a character boundary. */
export async function readBodyPrefix(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
      if (total > maxBytes) {
        truncated = true;
        await reader.cancel().catch(() => {});
        break;
      }
    }
  } catch {
    // A body that breaks mid-way still has a useful start; the status already says what went wrong.
  }
  const text = Buffer.concat(chunks, total).toString("utf8").trim();
  return truncated || Buffer.byteLength(text) > maxBytes ? cutText(text, maxBytes) : text;
}

export type JsonObjectResult = { ok: true; value: JsonObject } | { ok: false; failure: AttemptFailure };

export function parseJsonObject(text: string, source?: string): JsonObjectResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
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
    const reason = err instanceof Error ? err.message : String(err);
    return failure("BAD_OUTPUT", false, withSource(`BAD_OUTPUT: not JSON: ${reason}`, source));
  }
  if (bytes > OUTPUT_LIMIT_BYTES) return outputTooLarge(bytes, source);
  return checkEvidenceLimits(response, source);
}

/** Shorter secrets are not searched for: "***" for every "ab" would mangle a message more than it protects. */
const MIN_REDACTED_SECRET_CHARS = 4;

/** `text` with every occurrence of `secret` replaced by `***`. */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < MIN_REDACTED_SECRET_CHARS || !text.includes(secret)) return text;
  return text.split(secret).join("***");
}

/**
 * Belt and braces: a server that echoes a credential (the bearer token, the API key) must not get it into the
 * database. A failure's error and details are redacted, and so is every string of a successful response (the
 * candidate output a model wrote, its keys, the envelope around it): a model asked to can quote its own key.
 * Walked iteratively, never recursively: the response is untrusted and may nest arbitrarily deep.
 */
export function redactOutcome<T extends ExecutionOutcome>(outcome: T, secret: string | undefined): T {
  if (!secret || secret.length < MIN_REDACTED_SECRET_CHARS) return outcome;
  const redact = (text: string) => redactSecret(text, secret);
  const found = (text: string) => text.includes(secret);
  if (outcome.ok) {
    if (!someString(outcome.response, found)) return outcome;
    return { ...outcome, response: mapStrings(outcome.response, redact) };
  }
  const redacted: AttemptFailure = { ...outcome, error: redact(outcome.error) };
  if (outcome.details !== undefined && someString(outcome.details, found)) {
    redacted.details = mapStrings(outcome.details, redact);
  }
  return redacted as T;
}

/** Retry-After as delta-seconds or an HTTP-date, in ms from `nowMs`, clamped to [0, 10 min]; else undefined. */
export function parseRetryAfter(
  headerValue: string | null | undefined,
  nowMs = Date.now(),
): number | undefined {
  if (headerValue === null || headerValue === undefined) return undefined;
  const value = headerValue.trim();
  if (value === "") return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(value)) {
    ms = Math.round(Number(value) * 1000);
  } else {
    // Date.parse accepts bare numbers and odd fragments; an HTTP-date always names a month or a weekday.
    if (!/[a-z]/i.test(value)) return undefined;
    const at = Date.parse(value);
    if (!Number.isFinite(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

export function classifyHttpStatus(status: number): { code: AttemptErrorCode; retryable: boolean } {
  if (status >= 500) return { code: "HTTP_5XX", retryable: true };
  // Unfollowed 3xx and other odd statuses are configuration problems, so they share 4xx's non-retryable rule.
  return { code: "HTTP_4XX", retryable: status === 408 || status === 425 || status === 429 };
}

/** Bytes of an error body quoted in a failure message (SPEC §8.2). */
export const ERROR_BODY_LIMIT_BYTES = 512;

/**
 * The one rule for a non-2xx answer from an http runtime or an OpenAI-compatible server (SPEC §8.4): the code
 * and retryability from the status, `Retry-After` honoured, the body quoted up to 512 bytes.
 */
export async function httpStatusFailure(
  res: Response,
  endpoint: string,
  where: string,
  nowMs = Date.now(),
): Promise<AttemptFailure> {
  const { code, retryable } = classifyHttpStatus(res.status);
  const text = await readBodyPrefix(res, ERROR_BODY_LIMIT_BYTES);
  const message = `${endpoint} status: ${res.status} (${where})${text ? `: ${text}` : ""}`;
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"), nowMs);
  return failure(code, retryable, message, retryAfter === undefined ? {} : { retry_after_ms: retryAfter });
}

function causeCode(err: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof err !== "object" || err === null) return undefined;
  const record = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof record.code === "string") return record.code;
  if (Array.isArray(record.errors)) {
    for (const inner of record.errors) {
      const code = causeCode(inner, depth + 1);
      if (code) return code;
    }
  }
  return causeCode(record.cause, depth + 1);
}

function innermostMessage(err: unknown): string {
  let current: unknown = err;
  let message = err instanceof Error ? err.message : String(err);
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current.message) message = current.message;
    current = current.cause;
  }
  return message;
}

/** A failed fetch (refused, reset, DNS, TLS…) → TRANSPORT, naming the cause's code such as ECONNREFUSED. */
export function classifyFetchError(err: unknown, source?: string): AttemptFailure {
  const code = causeCode(err);
  const message = innermostMessage(err);
  const head = code && !message.includes(code) ? `TRANSPORT: ${code} ${message}` : `TRANSPORT: ${message}`;
  return failure("TRANSPORT", true, withSource(head, source));
}

/** An environment variable name, as config stores it (never its value). */
export const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The longest `timeout_ms` any executor config accepts: the longest agent timeout. */
export const MAX_EXECUTOR_TIMEOUT_MS = 60 * 60 * 1000;

/** Config checks every kind shares: unknown keys and the optional `timeout_ms` cap. */
export function commonConfigProblems(config: JsonObject, known: readonly string[]): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) problems.push(`${key}: unknown key (expected one of ${known.join(", ")})`);
  }
  const t = config.timeout_ms;
  if (
    t !== undefined &&
    (typeof t !== "number" || !Number.isInteger(t) || t < 1 || t > MAX_EXECUTOR_TIMEOUT_MS)
  ) {
    problems.push(`timeout_ms: ${JSON.stringify(t)} must be an integer from 1 to ${MAX_EXECUTOR_TIMEOUT_MS}`);
  }
  return problems;
}
