// What a completion costs its run (issue 15, defect 3): O(1) step rows, not the whole run. Every step row a
// transaction reads through the RunTx port is counted; a run of N agents is completed one step at a time, and
// only the completion that leaves the run idle (and aggregates it) may read all N, once. The run row's count
// of active steps, which makes that possible, is checked against the steps after every transition.
import { expect, it } from "vitest";
import { cancelRun, finishAttempt, retryRun, submitRun } from "../../src/kernel/index.js";
import type { RunTx } from "../../src/store/run-port.js";
import { ACTIVE_STEP_STATUSES } from "../../src/vocab.js";
import {
  type ConformanceStore,
  claimRun,
  FINALIZE_NULL,
  failure,
  leaseFor,
  makeSpec,
  type SuiteContext,
  vote,
} from "./harness.js";

/** Step rows (objects with a step_id) in what a RunTx method returned. */
function stepRows(value: unknown): number {
  const isStep = (v: unknown) => v !== null && typeof v === "object" && "step_id" in v && "ordinal" in v;
  if (Array.isArray(value)) return value.filter(isStep).length;
  return isStep(value) ? 1 : 0;
}

/** The store, with every transaction's RunTx counting the step rows its methods return. */
function counting(store: ConformanceStore): { store: ConformanceStore; rowsRead: () => number } {
  let rows = 0;
  const wrapTx = (tx: RunTx): RunTx =>
    new Proxy(tx, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const out = value.apply(target, args);
          if (out instanceof Promise)
            return out.then((v) => {
              rows += stepRows(v);
              return v;
            });
          return out;
        };
      },
    });
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "transaction") {
        return <T>(fn: (tx: RunTx) => Promise<T>, opts?: { now?: Date }) =>
          target.transaction((tx) => fn(wrapTx(tx)), opts);
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: wrapped, rowsRead: () => rows };
}

/** Every run's active-step count equals the number of its steps in an active status (the suite's invariant). */
export async function expectActiveCounts(store: ConformanceStore): Promise<void> {
  for (const run of await store.listRuns({ limit: 1000 })) await expectActiveCount(store, run.run_id);
}

/** The run row's active-step count equals the number of its steps in an active status. */
async function expectActiveCount(store: ConformanceStore, runId: string): Promise<void> {
  const run = (await store.getRun(runId)) as { active_steps?: number } | null;
  const steps = await store.getSteps(runId);
  const active = steps.filter((s) => (ACTIVE_STEP_STATUSES as readonly string[]).includes(s.status)).length;
  expect({ runId, active_steps: run?.active_steps }).toEqual({ runId, active_steps: active });
}

export function completionCostTests(ctx: SuiteContext): void {
  it("a completion reads O(1) step rows of its run; only the last one reads the run's steps, once", async () => {
    const base = await ctx.fresh();
    const n = 40;
    const agents = Array.from({ length: n }, (_, i) => `agent-${String(i).padStart(2, "0")}`);
    await submitRun(base, makeSpec("cost-1", { agents }), true);
    const leases = await claimRun(base, "cost-1");
    const { store, rowsRead } = counting(base);
    const perCompletion: number[] = [];
    for (const agent of agents) {
      const before = rowsRead();
      await finishAttempt(store, leaseFor(leases, agent), vote(agent === "agent-00" ? "NO" : "YES"));
      perCompletion.push(rowsRead() - before);
    }
    const last = perCompletion.pop() as number;
    // Each of the first n-1 completions reads its own step only.
    expect(Math.max(...perCompletion)).toBeLessThanOrEqual(1);
    // The last one reads its step, then the whole run once to aggregate it.
    expect(last).toBeLessThanOrEqual(n + 1);
    expect((await base.getRun("cost-1"))?.status).toBe("FINALIZED");
    await expectActiveCount(base, "cost-1");
  });

  it("the run's active-step count follows every transition: completion, retry wait, failure, cancel, retry", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("count-1", {
      agents: ["a", "b", "c", "d"],
      retry: { max_attempts: 2, backoff_ms: 0 },
      aggregation: FINALIZE_NULL,
    });
    await submitRun(store, spec, false);
    await expectActiveCount(store, "count-1");
    await submitRun(store, spec, true);
    await expectActiveCount(store, "count-1");
    const leases = await claimRun(store, "count-1");
    await finishAttempt(store, leaseFor(leases, "a"), vote("YES"));
    await expectActiveCount(store, "count-1");
    await finishAttempt(store, leaseFor(leases, "b"), failure(true));
    await expectActiveCount(store, "count-1");
    await finishAttempt(store, leaseFor(leases, "c"), failure(false));
    await expectActiveCount(store, "count-1");
    await cancelRun(store, "count-1");
    await expectActiveCount(store, "count-1");

    await submitRun(store, makeSpec("count-2", { agents: ["a", "b"], aggregation: FINALIZE_NULL }), true);
    const two = await claimRun(store, "count-2");
    await finishAttempt(store, leaseFor(two, "a"), failure(false));
    await finishAttempt(store, leaseFor(two, "b"), failure(false));
    expect((await store.getRun("count-2"))?.status).toBe("FAILED");
    await expectActiveCount(store, "count-2");
    await retryRun(store, "count-2");
    await expectActiveCount(store, "count-2");
    const again = await claimRun(store, "count-2");
    await finishAttempt(store, leaseFor(again, "a"), vote("YES"));
    await finishAttempt(store, leaseFor(again, "b"), vote("YES"));
    expect((await store.getRun("count-2"))?.status).toBe("FINALIZED");
    await expectActiveCount(store, "count-2");
  });
}
