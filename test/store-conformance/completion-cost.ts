// What a completion costs its run (issue 15, defect 3): O(1) step rows, not the whole run. Every step row a
// transaction reads through the RunTx port is counted; a run of N agents is completed one step at a time, and
// only the completion that leaves the run idle (and aggregates it) may read all N, once. The run row's count
// of active steps, which makes that possible, is checked against the steps after every transition.
import { expect, it } from "vitest";
import { cancelRun, finishAttempt, getRunResult, retryRun, submitRun } from "../../src/kernel/index.js";
import type { JsonObject, JsonValue } from "../../src/spec/types.js";
import type { Store } from "../../src/store/port.js";
import type { RunTx } from "../../src/store/run-port.js";
import { ACTIVE_STEP_STATUSES } from "../../src/vocab.js";
import { claimRun, FINALIZE_NULL, failure, leaseFor, makeSpec, type SuiteContext, vote } from "./harness.js";

/** Step rows (objects with a step_id) in what a RunTx method returned. */
function stepRows(value: unknown): number {
  const isStep = (v: unknown) => v !== null && typeof v === "object" && "step_id" in v && "ordinal" in v;
  if (Array.isArray(value)) return value.filter(isStep).length;
  return isStep(value) ? 1 : 0;
}

/** The bytes of the result JSON of the step or attempt rows in what a RunTx method returned. */
function resultBytes(value: unknown): number {
  const list = Array.isArray(value) ? value : [value];
  let bytes = 0;
  for (const v of list) {
    if (v !== null && typeof v === "object" && "step_id" in v && "result" in v)
      bytes += Buffer.byteLength(JSON.stringify(v.result ?? null));
  }
  return bytes;
}

/**
 * The store, with every transaction's RunTx counting the step rows its methods return and the bytes of the
 * results those rows (and attempt rows) carry.
 */
function counting(store: Store): {
  store: Store;
  rowsRead: () => number;
  resultBytesRead: () => number;
} {
  let rows = 0;
  let bytes = 0;
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
              bytes += resultBytes(v);
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
  return { store: wrapped, rowsRead: () => rows, resultBytesRead: () => bytes };
}

/** Every run's active-step count equals the number of its steps in an active status (the suite's invariant). */
export async function expectActiveCounts(store: Store): Promise<void> {
  for (const run of await store.listRuns({ limit: 1000 })) await expectActiveCount(store, run.run_id);
}

/** The run row's active-step count equals the number of its steps in an active status. */
async function expectActiveCount(store: Store, runId: string): Promise<void> {
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

  it("settling reads what aggregation looks at, not the agents' whole outputs; `run result` still shows them", async () => {
    const base = await ctx.fresh();
    const n = 12;
    const agents = Array.from({ length: n }, (_, i) => `agent-${String(i).padStart(2, "0")}`);
    await submitRun(base, makeSpec("bulk-1", { agents }), true);
    const leases = await claimRun(base, "bulk-1");
    const { store, resultBytesRead } = counting(base);
    const detail = "d".repeat(20_000);
    for (const agent of agents)
      await finishAttempt(
        store,
        leaseFor(leases, agent),
        vote(agent === "agent-00" ? "NO" : "YES", { detail }),
      );
    expect((await base.getRun("bulk-1"))?.status).toBe("FINALIZED");
    // Before: the last completion read every step's whole result (12 × 20 kB) to aggregate the run.
    expect(resultBytesRead()).toBeLessThan(detail.length);
    // The stored document keeps no copy of the outputs; the result a user reads has every one of them.
    const stored = (await base.getRun("bulk-1"))?.result as { conclusions: JsonObject[] };
    expect(stored.conclusions).toHaveLength(n);
    for (const c of stored.conclusions) expect(c).not.toHaveProperty("output");
    const result = (await getRunResult(base, "bulk-1")) as {
      conclusions: JsonObject[];
      final_decision: string;
    };
    expect(result.final_decision).toBe("YES");
    expect(result.conclusions.map((c) => c.agent_id)).toEqual(agents);
    for (const c of result.conclusions) {
      const decision = c.agent_id === "agent-00" ? "NO" : "YES";
      expect(c.output).toEqual({ decision, confidence: 0.8, detail });
    }
  });

  it("RunTx.lockSteps(runId, resultKeys) returns only those keys of each result and of its candidate_output", async () => {
    const store = await ctx.fresh();
    const agents = ["bare", "nested", "odd", "listed", "failed"];
    await submitRun(store, makeSpec("proj-1", { agents, aggregation: FINALIZE_NULL }), true);
    const leases = await claimRun(store, "proj-1");
    const responses: Record<string, JsonValue> = {
      bare: {
        decision: 'x"y',
        confidence: 0.30000000000000004,
        t: true,
        f: false,
        n: null,
        junk: "j".repeat(500),
      },
      nested: {
        candidate_output: { decision: { k: [1, { a: true }] }, answer: 1e300, junk: "j" },
        evidence_refs: [{ digest: "sha256:1" }],
        junk: { deep: [1, 2, 3] },
      },
      odd: { candidate_output: "not an object", 'we"ird.key': 5, é: "ü" },
      listed: [1, "two", { three: 3 }],
    };
    for (const agent of agents.slice(0, 4))
      await finishAttempt(store, leaseFor(leases, agent), {
        ok: true,
        response: responses[agent] as unknown as JsonObject,
      });
    await finishAttempt(store, leaseFor(leases, "failed"), failure(false));
    const keys = [
      "candidate_output",
      "decision",
      "answer",
      "confidence",
      "evidence_refs",
      "t",
      "f",
      "n",
      'we"ird.key',
      "é",
    ];
    const steps = await store.transaction(async (tx) => {
      await tx.lockRun("proj-1");
      return tx.lockSteps("proj-1", keys);
    });
    const byAgent = Object.fromEntries(steps.map((s) => [s.agent_id, s.result]));
    expect(byAgent).toEqual({
      bare: { decision: 'x"y', confidence: 0.30000000000000004, t: true, f: false, n: null },
      nested: {
        candidate_output: { decision: { k: [1, { a: true }] }, answer: 1e300 },
        evidence_refs: [{ digest: "sha256:1" }],
      },
      odd: { candidate_output: "not an object", 'we"ird.key': 5, é: "ü" },
      listed: [1, "two", { three: 3 }],
      failed: (await store.getSteps("proj-1")).find((s) => s.agent_id === "failed")?.result ?? null,
    });
    // Without keys, the whole result.
    const whole = await store.transaction(async (tx) => {
      await tx.lockRun("proj-1");
      return tx.lockSteps("proj-1");
    });
    expect(whole.find((s) => s.agent_id === "bare")?.result).toEqual(responses.bare);
    // No key asked for: an object result comes back empty.
    const none = await store.transaction(async (tx) => {
      await tx.lockRun("proj-1");
      return tx.lockSteps("proj-1", []);
    });
    expect(none.find((s) => s.agent_id === "nested")?.result).toEqual({});
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
