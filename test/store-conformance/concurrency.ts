// Concurrency (SPEC §4, DESIGN §3): claims never hand a step out twice, and a run is finalized exactly once
// however many completions race, from one store or several on the same target.
import { expect, it } from "vitest";
import { type AttemptLease, finishAttempt, leaseOf, submitRun } from "../../src/kernel/index.js";
import type { Store } from "../../src/store/port.js";
import {
  attemptsOf,
  claim,
  clockOf,
  countOf,
  eventsOf,
  eventTypes,
  makeSpec,
  plusMs,
  runOf,
  type SuiteContext,
  vote,
} from "./harness.js";

const agents = (n: number) => Array.from({ length: n }, (_, i) => `agent-${String(i).padStart(3, "0")}`);

export function concurrencyTests(ctx: SuiteContext): void {
  it("8 concurrent claimers over 200 queued steps: every step handed out exactly once", async () => {
    const store = await ctx.fresh();
    const peers = [store, await ctx.peer(store), await ctx.peer(store)];
    for (let r = 0; r < 4; r++) await submitRun(store, makeSpec(`cc-${r}`, { agents: agents(50) }), true);
    const at = plusMs(await clockOf(store), 10);

    const claimer = async (i: number): Promise<string[]> => {
      const s = peers[i % peers.length] as Store;
      const mine: string[] = [];
      for (;;) {
        const got = await claim(s, { limit: 7, now: at, workerId: `w${i}` });
        if (got.length === 0) return mine;
        mine.push(...got.map((c) => c.step.step_id));
      }
    };
    const perWorker = await Promise.all(Array.from({ length: 8 }, (_, i) => claimer(i)));
    const all = perWorker.flat();
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);

    for (let r = 0; r < 4; r++) {
      const steps = await store.getSteps(`cc-${r}`);
      expect(steps.every((s) => s.status === "LEASED" && s.attempt === 1 && s.attempt_seq === 1)).toBe(true);
      const attempts = await attemptsOf(store, `cc-${r}`);
      expect(attempts).toHaveLength(50);
      expect(attempts.every((a) => a.status === "RUNNING" && a.attempt_seq === 1)).toBe(true);
      // Each attempt row names the worker the step row names.
      const owner = new Map(steps.map((s) => [s.step_id, s.lease_owner]));
      for (const a of attempts) expect(owner.get(a.step_id)).toBe(a.worker_id);
      expect((await runOf(store, `cc-${r}`)).status).toMatch(/^(QUEUED|RUNNING)$/);
    }
    expect(await claim(store, { now: at })).toEqual([]);
  });

  it("racing completions of a run's last steps finalize it exactly once", async () => {
    const store = await ctx.fresh();
    const peers = [store, await ctx.peer(store), await ctx.peer(store)];
    await submitRun(store, makeSpec("race-1", { agents: agents(12) }), true);
    const leases: AttemptLease[] = (await claim(store, { runId: "race-1" })).map(leaseOf);
    expect(leases).toHaveLength(12);

    // Every completion is sent twice (a retried commit), from different stores, all at once.
    const sends = [...leases, ...leases].map((lease, i) =>
      finishAttempt(peers[i % peers.length] as Store, lease, vote(i % 3 === 0 ? "NO" : "YES")),
    );
    const outcomes = await Promise.all(sends);
    expect(outcomes.filter((o) => o.applied)).toHaveLength(12);
    const finals = outcomes.filter((o) => o.applied && o.run !== "ACTIVE");
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({ run: "FINALIZED" });
    for (const o of outcomes.filter((x) => !x.applied)) expect(o).toMatchObject({ applied: false });

    const types = await eventTypes(store, "race-1");
    expect(countOf(types, "RUN_FINALIZED")).toBe(1);
    expect(countOf(types, "STEP_COMPLETED")).toBe(12);
    expect(countOf(types, "STEP_LEASED")).toBe(12);
    expect(types.at(-1)).toBe("RUN_FINALIZED");
    const events = await eventsOf(store, "race-1");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect((await runOf(store, "race-1")).status).toBe("FINALIZED");
    // Each attempt row holds the outcome that was applied (SUCCEEDED) or was marked STALE by a loser with a
    // different outcome; here the duplicates carry the same outcome, so no row is STALE.
    const attempts = await attemptsOf(store, "race-1");
    expect(attempts.map((a) => a.status)).toEqual(Array(12).fill("SUCCEEDED"));
  });

  it("many runs finishing at once each finalize exactly once", async () => {
    const store = await ctx.fresh();
    const peers = [store, await ctx.peer(store)];
    const runIds = Array.from({ length: 6 }, (_, i) => `multi-${i}`);
    for (const id of runIds) await submitRun(store, makeSpec(id, { agents: agents(3) }), true);
    const leases = (await claim(store)).map(leaseOf);
    expect(leases).toHaveLength(18);
    await Promise.all(leases.map((l, i) => finishAttempt(peers[i % 2] as Store, l, vote("OK"))));
    for (const id of runIds) {
      expect((await runOf(store, id)).status).toBe("FINALIZED");
      expect(countOf(await eventTypes(store, id), "RUN_FINALIZED")).toBe(1);
    }
  });
}
