// Retry timing (SPEC §2 retry.backoff_ms, §8.4 Retry-After).

export const MAX_RETRY_DELAY_MS = 10 * 60 * 1000;

/** Delay before attempt n+1 after attempt n failed: max(200, backoff·2^(n−1)), then Retry-After, capped at 10 min. */
export function retryDelayMs(backoffMs: number, attempt: number, retryAfterMs?: number): number {
  const exponential = Math.max(200, backoffMs * 2 ** Math.max(0, attempt - 1));
  const delay = Math.max(exponential, retryAfterMs ?? 0);
  return Math.min(MAX_RETRY_DELAY_MS, delay);
}
