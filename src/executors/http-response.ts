// Reading the answer of an http runtime or an OpenAI-compatible server: bodies under a byte cap, a non-2xx
// status as a failure (SPEC §8.4: code, retryability, Retry-After, the body quoted), a failed fetch as TRANSPORT.
import { errorMessage } from "../errors.js";
import { cutText } from "../util/text.js";
import type { AttemptErrorCode } from "../vocab.js";
import { type AttemptFailure, failure, withSource } from "./failures.js";
import { OUTPUT_LIMIT_BYTES, outputTooLarge } from "./output.js";

/** Retry-After values beyond this are clamped: the kernel never waits longer than 10 min between attempts. */
export const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

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
  let message = errorMessage(err);
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
