// Credentials a server echoes never reach the database: the executor's own secret is replaced by `***` in
// what an attempt returns.
import { mapStrings, someString } from "../util/json.js";
import type { ExecutionOutcome } from "../vocab.js";
import type { AttemptFailure } from "./failures.js";

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
