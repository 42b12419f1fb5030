// Record and view shapes (SPEC §3, §6): every time is ISO-8601 UTC with milliseconds, and one deterministic
// scenario yields the same RunView, result, records and events on every store once ids, tokens and times are
// masked (`scenarioSnapshot`; cross-store.test.ts compares the stores with it directly).
import { expect, it } from "vitest";
import {
  cancelRun,
  finishAttempt,
  getRunResult,
  getRunView,
  leaseOf,
  listRunViews,
  submitRun,
} from "../../src/kernel/index.js";
import type { JsonValue } from "../../src/spec/types.js";
import type { Store } from "../../src/store/port.js";
import {
  claim,
  claimRun,
  clockOf,
  failure,
  ISO_MS,
  leaseFor,
  makeSpec,
  plusMs,
  type SuiteContext,
  vote,
} from "./harness.js";

/** Runs the same transitions on any store: one finalized run (with a retry and a failure) and one cancelled. */
export async function runScenario(store: Store): Promise<void> {
  const spec = makeSpec("shape-1", { agents: ["a", "b", "c"], retry: { max_attempts: 2, backoff_ms: 0 } });
  await submitRun(store, spec, true);
  const t = plusMs(await clockOf(store), 10);
  const leases = await claimRun(store, "shape-1", { now: t });
  await finishAttempt(
    store,
    leaseFor(leases, "a"),
    vote("approve", { answer: "Yes.", evidence_digests: ["d1"] }),
  );
  await finishAttempt(store, leaseFor(leases, "b"), failure(true), { now: t });
  await finishAttempt(store, leaseFor(leases, "c"), failure(false));
  const [b2] = await claim(store, { runId: "shape-1", now: plusMs(t, 200) });
  if (!b2) throw new Error("b not reclaimed");
  await finishAttempt(store, leaseOf(b2), vote("APPROVE", { answer: "yes.", confidence: 0.6 }));

  await submitRun(store, makeSpec("shape-2", { agents: ["x", "y"] }), true);
  await claimRun(store, "shape-2");
  await cancelRun(store, "shape-2");
  await submitRun(store, makeSpec("shape-3", { agents: ["z"] }), false);
}

/** Everything a user can read about the scenario's runs. */
export async function readScenario(store: Store): Promise<Record<string, JsonValue>> {
  const out: Record<string, unknown> = {};
  for (const id of ["shape-1", "shape-2", "shape-3"]) {
    out[id] = {
      view: await getRunView(store, id),
      result: await getRunResult(store, id),
      run: await store.getRun(id),
      steps: await store.getSteps(id),
      attempts: await store.getAttempts(id),
      events: await store.listEvents(id, { limit: 1000 }),
    };
  }
  out.list = await listRunViews(store, {});
  return JSON.parse(JSON.stringify(out)) as Record<string, JsonValue>;
}

/** Masks what differs by nature between stores and runs: times, step ids, lease tokens, event ids. */
export function normalize(value: JsonValue): JsonValue {
  const names = new Map<string, string>();
  const visit = (v: JsonValue, key?: string): JsonValue => {
    if (Array.isArray(v)) return v.map((x) => visit(x));
    if (v !== null && typeof v === "object") {
      const o: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(v)) o[k] = visit(x, k);
      return o;
    }
    if (typeof v === "string") {
      if (ISO_MS.test(v)) return "<time>";
      if (key === "lease_token") return "<token>";
      if (v.startsWith("st_")) {
        if (!names.has(v)) names.set(v, `<step ${names.size + 1}>`);
        return names.get(v) as string;
      }
    }
    if (key === "id" && typeof v === "number") return "<id>";
    return v;
  };
  return visit(value);
}

/** The scalar values under every key ending in `_at` or `_until`, with their paths. */
function collectTimes(value: unknown, path = "", out: [string, unknown][] = []): [string, unknown][] {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) collectTimes(v, `${path}[${i}]`, out);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      if (/(_at|_until)$/.test(k) && (v === null || typeof v !== "object")) out.push([p, v]);
      else collectTimes(v, p, out);
    }
  }
  return out;
}

export function shapeTests(ctx: SuiteContext): void {
  it("every stored and shown time is ISO-8601 UTC with milliseconds", async () => {
    const store = await ctx.fresh();
    await runScenario(store);
    const read = await readScenario(store);
    const times = collectTimes(read);
    expect(times.length).toBeGreaterThan(50);
    for (const [path, v] of times) {
      if (v === null) continue;
      expect(typeof v === "string" && ISO_MS.test(v), `${path} = ${JSON.stringify(v)}`).toBe(true);
    }
    // Nulls only where the state says so.
    const s1 = read["shape-1"] as { view: Record<string, unknown>; run: Record<string, unknown> };
    expect(s1.view.started_at).toMatch(ISO_MS);
    expect(s1.view.finished_at).toMatch(ISO_MS);
    const s3 = read["shape-3"] as { view: Record<string, unknown> };
    expect(s3.view).toMatchObject({ status: "CREATED", started_at: null, finished_at: null });
  });

  it("RunView, result and records have the documented shape", async () => {
    const store = await ctx.fresh();
    await runScenario(store);
    const view = await getRunView(store, "shape-1");
    expect(Object.keys(view)).toEqual([
      "run_id",
      "status",
      "task_type",
      "round",
      "created_at",
      "updated_at",
      "started_at",
      "finished_at",
      "counts",
    ]);
    expect(view).toMatchObject({
      status: "FINALIZED",
      round: 1,
      counts: { created: 0, queued: 0, leased: 0, succeeded: 2, failed: 1, retry_wait: 0, cancelled: 0 },
    });
    const result = await getRunResult(store, "shape-1");
    expect(Object.keys(result)).toEqual([
      "run_id",
      "status",
      "task_type",
      "created_at",
      "finished_at",
      "round",
      "error",
      "warnings",
      "final_decision",
      "final_answer",
      "null_resolution",
      "confidence",
      "conclusions",
      "aggregation",
      "counts",
    ]);
    expect(result).toMatchObject({
      final_decision: "APPROVE",
      final_answer: "Yes.",
      error: null,
      warnings: [],
    });
    const cancelled = await getRunResult(store, "shape-2");
    expect(Object.keys(cancelled).sort()).toEqual(Object.keys(result).sort());
    const pending = await getRunResult(store, "shape-3");
    expect(pending).toMatchObject({
      status: "CREATED",
      aggregation: null,
      confidence: null,
      finished_at: null,
    });
    const [step] = await store.getSteps("shape-1");
    expect(typeof step?.weight).toBe("number");
    expect(typeof step?.priority).toBe("number");
    const [event] = await store.listEvents("shape-1", { limit: 1 });
    expect(typeof event?.id).toBe("number");
    expect(event?.payload).toEqual({ run_id: "shape-1", task_type: "swarm", agents: 3 });
    // The stored spec reads back identical (key order included).
    expect(JSON.stringify((await store.getRun("shape-1"))?.spec)).toBe(
      JSON.stringify(
        makeSpec("shape-1", { agents: ["a", "b", "c"], retry: { max_attempts: 2, backoff_ms: 0 } }),
      ),
    );
    expect((await listRunViews(store, { limit: 2 })).map((v) => v.run_id)).toEqual(["shape-3", "shape-2"]);
  });

  it("listRuns filters by status and pages newest first; countSteps counts by status", async () => {
    const store = await ctx.fresh();
    await runScenario(store);
    const page = async (opts: { status?: "CREATED" | "CANCELLED"; limit: number; before?: string }) =>
      (await store.listRuns(opts)).map((r) => r.run_id);
    expect(await page({ limit: 10 })).toEqual(["shape-3", "shape-2", "shape-1"]);
    expect(await page({ limit: 2, before: "shape-3" })).toEqual(["shape-2", "shape-1"]);
    expect(await page({ limit: 10, before: "shape-1" })).toEqual([]);
    expect(await page({ limit: 10, status: "CANCELLED" })).toEqual(["shape-2"]);
    expect(await page({ limit: 10, status: "CREATED" })).toEqual(["shape-3"]);
    const counts = await store.countSteps(["shape-1", "shape-2", "shape-3", "missing"]);
    expect(Object.fromEntries(counts)).toEqual({
      "shape-1": { SUCCEEDED: 2, FAILED: 1 },
      "shape-2": { CANCELLED: 2 },
      "shape-3": { CREATED: 1 },
    });
    expect((await store.countSteps([])).size).toBe(0);
  });
}
