// What every conformance test file shares: the store factory contract, spec builders, fabricated executor
// outcomes and small readers. Tests drive the kernel directly (claimSteps → finishAttempt) with injected
// times, so nothing here sleeps on a lease or talks to an executor.
import { expect } from "vitest";
import { type AttemptLease, leaseOf } from "../../src/kernel/index.js";
import { validateRunSpec } from "../../src/spec/index.js";
import type { JsonObject, JsonValue, RunSpec } from "../../src/spec/types.js";
import type { Store } from "../../src/store/port.js";
import type { ClaimedStep, EventRecord } from "../../src/store/run-port.js";
import type { ExecutionOutcome } from "../../src/vocab.js";

/**
 * Opens a migrated store. Without `sameAs`: on a fresh, empty target (a new PostgreSQL schema, a new SQLite
 * file). With `sameAs`: another store on that store's target, as a second process would open it.
 * The suite closes every store it opened after each test.
 */
export type MakeStore = (opts?: { sameAs?: Store }) => Promise<Store>;

export interface SuiteContext {
  /** A migrated store on a fresh target, closed after the test. */
  fresh(): Promise<Store>;
  /** Another store on the same target (closed after the test). */
  peer(store: Store): Promise<Store>;
}

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// ---------------------------------------------------------------------------------------------- specs

export interface AgentDraft {
  agent_id: string;
  priority?: number;
  weight?: number;
  inputs?: JsonObject;
}

export interface SpecDraft {
  agents?: (string | AgentDraft)[];
  shared_inputs?: JsonValue;
  retry?: { max_attempts?: number; backoff_ms?: number };
  aggregation?: JsonObject;
}

/** A validated, fully defaulted spec (what the CLI stores). Default: agents a and b, no retries to spare. */
export function makeSpec(runId: string, draft: SpecDraft = {}): RunSpec {
  const agents = (draft.agents ?? ["a", "b"]).map((a) => {
    const agent = typeof a === "string" ? { agent_id: a } : a;
    return { prompt: `prompt of ${agent.agent_id}`, executor: "sim", ...agent };
  });
  const raw: JsonObject = {
    run_id: runId,
    shared_inputs: draft.shared_inputs ?? { topic: "conformance" },
    agents: agents as unknown as JsonValue,
    retry: { max_attempts: 1, backoff_ms: 1000, ...draft.retry },
  };
  if (draft.aggregation) raw.aggregation = draft.aggregation;
  const checked = validateRunSpec(raw);
  if (!checked.ok) throw new Error(`test spec invalid: ${JSON.stringify(checked.issues)}`);
  return checked.spec;
}

/** An aggregation block whose null chain finalizes at once, so an all-failed round makes the run FAILED. */
export const FINALIZE_NULL: JsonObject = { null_policy: { chain: ["FINALIZE_NULL"] } };

// ---------------------------------------------------------------------------------------------- outcomes

export function vote(decision: JsonValue, extra: JsonObject = {}): ExecutionOutcome {
  return { ok: true, response: { candidate_output: { decision, confidence: 0.8, ...extra } } };
}

export function failure(retryable: boolean, extra: { retry_after_ms?: number } = {}): ExecutionOutcome {
  return {
    ok: false,
    code: "HTTP_5XX",
    retryable,
    error: "runtime /execute status: 500",
    details: { status: 500 },
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------- time

export function plusMs(t: Date | string, ms: number): Date {
  return new Date((typeof t === "string" ? Date.parse(t) : t.getTime()) + ms);
}

/** The store's clock, truncated to the millisecond precision both stores keep. */
export async function clockOf(store: Store): Promise<Date> {
  return new Date((await store.now()).getTime());
}

/** Waits until the wall clock has moved past the current millisecond (ordering by created_at). */
export async function nextMillisecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 3));
}

// ---------------------------------------------------------------------------------------------- claims

export async function claim(
  store: Store,
  opts: { limit?: number; leaseMs?: number; now?: Date; runId?: string; workerId?: string } = {},
): Promise<ClaimedStep[]> {
  return store.claimSteps({
    workerId: opts.workerId ?? "w1",
    limit: opts.limit ?? 100,
    leaseMs: opts.leaseMs ?? 30_000,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
  });
}

/** Claims every due step of the run and returns the leases keyed by agent_id. */
export async function claimRun(
  store: Store,
  runId: string,
  opts: { leaseMs?: number; now?: Date } = {},
): Promise<Map<string, AttemptLease>> {
  const claimed = await claim(store, { ...opts, runId });
  return new Map(claimed.map((c) => [c.step.agent_id, leaseOf(c)]));
}

export function leaseFor(leases: Map<string, AttemptLease>, agentId: string): AttemptLease {
  const lease = leases.get(agentId);
  if (!lease) throw new Error(`no lease for agent ${agentId}`);
  return lease;
}

// ---------------------------------------------------------------------------------------------- reads

export async function eventsOf(store: Store, runId: string): Promise<EventRecord[]> {
  return store.listEvents(runId, { limit: 10_000 });
}

export async function eventTypes(store: Store, runId: string): Promise<string[]> {
  return (await eventsOf(store, runId)).map((e) => e.event_type);
}

export function countOf(types: readonly string[], type: string): number {
  return types.filter((t) => t === type).length;
}

export async function stepOf(store: Store, runId: string, agentId: string) {
  const step = (await store.getSteps(runId)).find((s) => s.agent_id === agentId);
  if (!step) throw new Error(`no step for agent ${agentId}`);
  return step;
}

export async function attemptsOf(store: Store, runId: string, agentId?: string) {
  const steps = await store.getSteps(runId);
  const ids = new Set(
    steps.filter((s) => agentId === undefined || s.agent_id === agentId).map((s) => s.step_id),
  );
  return (await store.getAttempts(runId)).filter((a) => ids.has(a.step_id));
}

export async function runOf(store: Store, runId: string) {
  const run = await store.getRun(runId);
  if (!run) throw new Error(`run ${runId} not found`);
  return run;
}

/** Asserts that `promise` rejects with a WattswarmError of this code. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: "WattswarmError", code });
}
