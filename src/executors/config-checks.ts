// Config rules every executor kind shares (SPEC §8.1).
import type { JsonObject } from "../spec/types.js";

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
