// Read side: RunView, result, events, lists (SPEC §6, §7). Reads take no locks.
import { WattswarmError } from "../errors.js";
import type { JsonObject } from "../spec/types.js";
import type { Store } from "../store/port.js";
import type { EventRecord, RunRecord } from "../store/run-port.js";
import type { RunStatus } from "../vocab.js";
import { countsFrom, provisionalResult, type RunView, runView, withOutputs } from "./result.js";

async function existingRun(store: Store, runId: string): Promise<RunRecord> {
  const run = await store.getRun(runId);
  if (!run) throw new WattswarmError("RUN_NOT_FOUND", `run "${runId}" not found`);
  return run;
}

export async function getRunView(store: Store, runId: string): Promise<RunView> {
  const run = await existingRun(store, runId);
  const counts = await store.countSteps([runId]);
  return runView(run, countsFrom(counts.get(runId) ?? {}));
}

/** The stored result of a finalized run, else the same shape with the current status (scripts can poll it). */
export async function getRunResult(store: Store, runId: string): Promise<JsonObject> {
  const run = await existingRun(store, runId);
  if ((run.status === "FINALIZED" || run.status === "FAILED") && run.result)
    return withOutputs(run.result, () => store.getSteps(runId));
  const counts = await store.countSteps([runId]);
  return provisionalResult(run, countsFrom(counts.get(runId) ?? {}));
}

/** An event as the CLI and the API show it: the stored record's fields, and only those. */
export type EventView = EventRecord;

export function eventView(e: EventRecord): EventView {
  return {
    id: e.id,
    run_id: e.run_id,
    seq: e.seq,
    event_type: e.event_type,
    payload: e.payload,
    created_at: e.created_at,
  };
}

export async function listRunEvents(
  store: Store,
  runId: string,
  opts: { after?: number; limit?: number; tail?: number },
): Promise<EventView[]> {
  await existingRun(store, runId);
  if (opts.tail !== undefined) {
    const newest = await store.listEvents(runId, { limit: opts.tail, tail: true });
    return newest.map(eventView);
  }
  const query: { after?: number; limit: number } = { limit: opts.limit ?? 50 };
  if (opts.after !== undefined) query.after = opts.after;
  return (await store.listEvents(runId, query)).map(eventView);
}

export async function listRunViews(
  store: Store,
  opts: { status?: RunStatus; limit?: number; before?: string },
): Promise<RunView[]> {
  const query: { status?: RunStatus; limit: number; before?: string } = { limit: opts.limit ?? 50 };
  if (opts.status !== undefined) query.status = opts.status;
  if (opts.before !== undefined) query.before = opts.before;
  const runs = await store.listRuns(query);
  const counts = await store.countSteps(runs.map((r) => r.run_id));
  return runs.map((r) => runView(r, countsFrom(counts.get(r.run_id) ?? {})));
}
