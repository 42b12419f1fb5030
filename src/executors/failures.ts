// How an attempt fails: the one constructor of a failure outcome, its error text cut to the stored limit, so
// that every executor kind reports the same codes and the same wording for the same problem (SPEC §8.4).
import type { JsonValue } from "../spec/types.js";
import { cutText } from "../util/text.js";
import type { AttemptErrorCode, ExecutionOutcome } from "../vocab.js";

export type AttemptFailure = Extract<ExecutionOutcome, { ok: false }>;

export function failure(
  code: AttemptErrorCode,
  retryable: boolean,
  error: string,
  extra: { retry_after_ms?: number; details?: JsonValue } = {},
): AttemptFailure {
  return { ok: false, code, retryable, error: cutText(error), ...extra };
}

export function withSource(message: string, source: string | undefined): string {
  return source ? `${message} (${source})` : message;
}
