// Lease expiry, cancel and re-explore are set-based (issue 15, defect 7): what they cost a transaction does not
// grow with the number of steps they touch. Counted as calls on the RunTx (each one statement on PostgreSQL),
// for K = 3 and K = 30 steps of one run; the two call sequences must be the same. And two stores sweeping one
// target at once expire every stale lease exactly once.
import { expect, it } from "vitest";
import { finishAttempts } from "../../src/kernel/attempts.js";
import { cancelRun, expireLeases, leaseOf, submitRun } from "../../src/kernel/index.js";
import type { Store } from "../../src/store/port.js";
import type { RunTx } from "../../src/store/run-port.js";
import {
  claim,
  clockOf,
  countOf,
  eventTypes,
  FINALIZE_NULL,
  failure,
  makeSpec,
  plusMs,
  runOf,
  type SuiteContext,
} from "./harness.js";

/** The store, with the name of every RunTx method its transactions call recorded in `calls`. */
function counting(store: Store): { store: Store; calls: string[] } {
  const calls: string[] = [];
  const countTx = (tx: RunTx): RunTx =>
    new Proxy(tx, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          // notify queues a nudge for the commit: no statement of its own.
          if (prop !== "notify") calls.push(String(prop));
          return value.apply(target, args);
        };
      },
    });
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === "transaction") {
        return <T>(fn: (tx: RunTx) => Promise<T>, opts?: { now?: Date }) =>
          target.transaction((tx) => fn(countTx(tx)), opts);
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: proxy, calls };
}

const agents = (k: number) => Array.from({ length: k }, (_, i) => `agent-${String(i).padStart(2, "0")}`);

/** A run of k agents, every step LEASED at `t` (lease 1 s). */
async function leasedRun(store: Store, runId: string, k: number, draft = {}) {
  await submitRun(store, makeSpec(runId, { agents: agents(k), ...draft }), true);
  const t = plusMs(await clockOf(store), 10);
  const claimed = await claim(store, { runId, leaseMs: 1000, now: t, limit: k });
  expect(claimed).toHaveLength(k);
  return { t, claimed };
}

const SMALL = 3;
const LARGE = 30;

export function sweepTests(ctx: SuiteContext): void {
  it("expiring K stale leases of one run costs the same RunTx calls for K = 3 and K = 30", async () => {
    const store = await ctx.fresh();
    const sequences: string[][] = [];
    for (const k of [SMALL, LARGE]) {
      const runId = `sw-exp-${k}`;
      const { t } = await leasedRun(store, runId, k, { retry: { max_attempts: 2 } });
      const c = counting(store);
      expect(await expireLeases(c.store, { now: plusMs(t, 5_000) })).toBe(k);
      sequences.push(c.calls);
      const steps = await store.getSteps(runId);
      expect(steps.every((s) => s.status === "RETRY_WAIT" && s.lease_token === null)).toBe(true);
      const types = await eventTypes(store, runId);
      expect(countOf(types, "STEP_LEASED")).toBe(k);
      expect(countOf(types, "STEP_LEASE_EXPIRED")).toBe(k);
      expect((await store.getAttempts(runId)).map((a) => a.status)).toEqual(Array(k).fill("LEASE_EXPIRED"));
    }
    expect(sequences[1]).toEqual(sequences[0]);
  });

  it("cancelling a run with K leased steps costs the same RunTx calls for K = 3 and K = 30", async () => {
    const store = await ctx.fresh();
    const sequences: string[][] = [];
    for (const k of [SMALL, LARGE]) {
      const runId = `sw-cnl-${k}`;
      await leasedRun(store, runId, k);
      const c = counting(store);
      await cancelRun(c.store, runId);
      sequences.push(c.calls);
      expect((await runOf(store, runId)).status).toBe("CANCELLED");
      expect((await store.getSteps(runId)).every((s) => s.status === "CANCELLED")).toBe(true);
      expect((await store.getAttempts(runId)).every((a) => a.status === "CANCELLED")).toBe(true);
      const types = await eventTypes(store, runId);
      expect(countOf(types, "STEP_LEASED")).toBe(k);
      expect(countOf(types, "STEP_CANCELLED")).toBe(k);
    }
    expect(sequences[1]).toEqual(sequences[0]);
  });

  it("a re-explore of K steps costs the same RunTx calls for K = 3 and K = 30", async () => {
    const store = await ctx.fresh();
    const sequences: string[][] = [];
    for (const k of [SMALL, LARGE]) {
      const runId = `sw-rex-${k}`;
      const aggregation = { null_policy: { enabled_on: ["EMPTY"], chain: ["REEXPLORE", "FINALIZE_NULL"] } };
      const { claimed } = await leasedRun(store, runId, k, { aggregation });
      const c = counting(store);
      // One group commit: every step fails, the round is EMPTY and the null chain re-explores.
      const results = await finishAttempts(
        c.store,
        claimed.map((x) => ({ lease: leaseOf(x), outcome: failure(false) })),
      );
      sequences.push(c.calls);
      expect(results.at(-1)).toMatchObject({ applied: true, run: "REEXPLORED" });
      const steps = await store.getSteps(runId);
      expect(steps.map((s) => [s.status, s.round, s.attempt])).toEqual(Array(k).fill(["QUEUED", 2, 0]));
      // Each step keeps its own inputs, with the signal added.
      expect(steps.map((s) => s.inputs.agent_id)).toEqual(agents(k));
      for (const s of steps) expect(s.inputs._aggregation_signal).toMatchObject({ iteration: 1 });
    }
    expect(sequences[1]).toEqual(sequences[0]);
  });

  it("two stores sweeping the same target at once expire every stale lease exactly once", async () => {
    const store = await ctx.fresh();
    const other = await ctx.peer(store);
    let last = new Date(0);
    for (const runId of ["sw-two-1", "sw-two-2", "sw-two-3"])
      last = (await leasedRun(store, runId, 4, { aggregation: FINALIZE_NULL })).t;
    const later = plusMs(last, 5_000);
    const [a, b] = await Promise.all([
      expireLeases(store, { now: later }),
      expireLeases(other, { now: later }),
    ]);
    // Sweeps may skip while the other holds the sweep; what one skips is expired by the next.
    const rest = await expireLeases(store, { now: later });
    expect(a + b + rest).toBe(12);
    for (const runId of ["sw-two-1", "sw-two-2", "sw-two-3"]) {
      expect(countOf(await eventTypes(store, runId), "STEP_LEASE_EXPIRED")).toBe(4);
      expect((await runOf(store, runId)).status).toBe("FAILED");
    }
  });
}
