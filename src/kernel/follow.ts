// Followers: `run watch`, `run events --follow` and the HTTP API's SSE stream all read the same way (SPEC §4).
// They read by state and by seq on every NOTIFY nudge and at least every 250 ms: the nudge only cuts latency,
// polling is the guarantee, so nothing is lost when a NOTIFY is.
import { WattswarmError } from "../errors.js";
import type { Store } from "../store/port.js";
import { type EventView, eventView, getRunView } from "./queries.js";
import type { RunView } from "./result.js";
import { isTerminalRun } from "./states.js";

export const FOLLOW_POLL_MS = 250;
const EVENT_BATCH = 500;

export interface FollowRunOptions {
  timeoutMs?: number;
  /** Called with each view read (for progress displays). */
  onView?: (view: RunView) => void;
  signal?: AbortSignal;
  pollMs?: number;
}

/** Follows a run until it is terminal; returns the last view and whether the timeout (or signal) came first. */
export async function followRun(
  store: Store,
  runId: string,
  opts: FollowRunOptions = {},
): Promise<{ view: RunView; timedOut: boolean }> {
  const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Number.POSITIVE_INFINITY;
  const pollMs = opts.pollMs ?? FOLLOW_POLL_MS;
  for (;;) {
    const view = await getRunView(store, runId);
    opts.onView?.(view);
    if (isTerminalRun(view.status)) return { view, timedOut: false };
    const left = deadline - Date.now();
    if (left <= 0 || opts.signal?.aborted) return { view, timedOut: true };
    await store.waitForNudge(Math.min(pollMs, left), opts.signal, { runId });
  }
}

export interface FollowEventsOptions {
  /** Start after this seq (0: from the first event). */
  after?: number;
  signal?: AbortSignal;
  pollMs?: number;
}

/**
 * Yields the run's events in seq order, from `after` on, each exactly once, and returns once the run is
 * terminal and every event it has is yielded (or when `signal` aborts). RUN_NOT_FOUND for an unknown run.
 * The run row is read before its events: a terminal status read first means its event_seq is final, so
 * `seq >= event_seq` after that read proves nothing is left.
 */
export async function* followEvents(
  store: Store,
  runId: string,
  opts: FollowEventsOptions = {},
): AsyncGenerator<EventView, void, undefined> {
  let seq = opts.after ?? 0;
  const pollMs = opts.pollMs ?? FOLLOW_POLL_MS;
  for (;;) {
    if (opts.signal?.aborted) return;
    const run = await store.getRun(runId);
    if (!run) throw new WattswarmError("RUN_NOT_FOUND", `run "${runId}" not found`);
    const events = await store.listEvents(runId, { after: seq, limit: EVENT_BATCH });
    for (const e of events) {
      seq = e.seq;
      yield eventView(e);
    }
    if (events.length === EVENT_BATCH) continue;
    if (isTerminalRun(run.status) && seq >= run.event_seq) return;
    await store.waitForNudge(pollMs, opts.signal, { runId });
  }
}
