// early_stop (SPEC §5.6) accounting: steps_saved counts every step the stop cancelled, calls_aborted the
// LEASED ones among them; a failure or an expired lease can settle it as well as a success; the stop is off
// in rounds ≥ 2 under require_new_evidence.
import { expect, it } from "vitest";
import { expireLeases, finishAttempt, leaseOf, submitRun } from "../../src/kernel/index.js";
import {
  attemptsOf,
  claim,
  claimRun,
  clockOf,
  eventsOf,
  failure,
  leaseFor,
  makeSpec,
  plusMs,
  runOf,
  type SuiteContext,
  stepOf,
  vote,
} from "./harness.js";

export function earlyStopTests(ctx: SuiteContext): void {
  it("cancels LEASED and QUEUED steps (EARLY_STOP, in step order) before RUN_FINALIZED and accounts for both", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("es-1", { agents: ["a", "b", "c", "d", "e"], aggregation: { mode: "early_stop" } });
    await submitRun(store, spec, true);
    const leases = new Map(
      (await claim(store, { runId: "es-1", limit: 4 })).map((c) => [c.step.agent_id, c] as const),
    );
    const lease = (agent: string) => {
      const c = leases.get(agent);
      if (!c) throw new Error(`no claim for ${agent}`);
      return leaseOf(c);
    };
    await finishAttempt(store, lease("a"), vote("YES"));
    await finishAttempt(store, lease("b"), vote("YES"));
    const before = (await eventsOf(store, "es-1")).length;
    // YES 3 against at most 2 more votes: it can no longer be caught.
    expect(await finishAttempt(store, lease("c"), vote("YES"))).toMatchObject({ run: "EARLY_STOPPED" });
    const events = (await eventsOf(store, "es-1")).slice(before);
    expect(events.map((e) => [e.event_type, e.payload.agent_id ?? null, e.payload.reason ?? null])).toEqual([
      ["STEP_LEASED", "c", null],
      ["STEP_COMPLETED", "c", null],
      ["STEP_LEASED", "d", null],
      ["STEP_CANCELLED", "d", "EARLY_STOP"],
      ["STEP_CANCELLED", "e", "EARLY_STOP"],
      ["RUN_FINALIZED", null, null],
    ]);
    const run = await runOf(store, "es-1");
    expect(run.result).toMatchObject({
      status: "FINALIZED",
      final_decision: "YES",
      aggregation: { mode: "early_stop", early_stop: { stopped: true, steps_saved: 2, calls_aborted: 1 } },
      counts: { succeeded: 3, cancelled: 2 },
    });
    expect((await attemptsOf(store, "es-1", "d")).map((a) => a.status)).toEqual(["CANCELLED"]);
    expect(await attemptsOf(store, "es-1", "e")).toEqual([]);
    // Reputation counts the three voters only.
    expect((await store.listReputation()).filter((r) => r.task_type === "*").map((r) => r.agent_id)).toEqual([
      "a",
      "b",
      "c",
    ]);
  });

  it("a run that never could stop early reports stopped: false; weights count (a heavy agent keeps it open)", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("es-2", {
      agents: ["a", "b", { agent_id: "c", weight: 3 }],
      aggregation: { mode: "early_stop" },
    });
    await submitRun(store, spec, true);
    const leases = await claimRun(store, "es-2");
    await finishAttempt(store, leaseFor(leases, "a"), vote("YES"));
    expect(await finishAttempt(store, leaseFor(leases, "b"), vote("YES"))).toMatchObject({ run: "ACTIVE" });
    await finishAttempt(store, leaseFor(leases, "c"), vote("NO"));
    expect((await runOf(store, "es-2")).result).toMatchObject({
      final_decision: "NO",
      aggregation: { early_stop: { stopped: false, steps_saved: 0, calls_aborted: 0 } },
    });
  });

  it("a failure can settle it too: the check runs after every completion, not only successes", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("es-f", { agents: ["a", "b", "c", "d"], aggregation: { mode: "early_stop" } });
    await submitRun(store, spec, true);
    const leases = await claimRun(store, "es-f");
    await finishAttempt(store, leaseFor(leases, "a"), vote("YES"));
    // YES 2 against at most 2 more votes (c, d): not yet.
    expect(await finishAttempt(store, leaseFor(leases, "b"), vote("YES"))).toMatchObject({ run: "ACTIVE" });
    // c fails for good: at most 1 more vote can come, and YES leads by 2.
    expect(await finishAttempt(store, leaseFor(leases, "c"), failure(false))).toMatchObject({
      applied: true,
      step_status: "FAILED",
      run: "EARLY_STOPPED",
    });
    expect(await stepOf(store, "es-f", "d")).toMatchObject({ status: "CANCELLED" });
    expect((await runOf(store, "es-f")).result).toMatchObject({
      status: "FINALIZED",
      final_decision: "YES",
      aggregation: { early_stop: { stopped: true, steps_saved: 1, calls_aborted: 1 } },
      counts: { succeeded: 2, failed: 1, cancelled: 1 },
    });
  });

  it("a lease that expires with no attempt left can settle it too", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("es-x", { agents: ["a", "b", "c", "d"], aggregation: { mode: "early_stop" } });
    await submitRun(store, spec, true);
    const t = plusMs(await clockOf(store), 10);
    const leases = await claimRun(store, "es-x", { leaseMs: 1000, now: t });
    await finishAttempt(store, leaseFor(leases, "a"), vote("YES"), { now: t });
    await finishAttempt(store, leaseFor(leases, "b"), vote("YES"), { now: t });
    // c and d never answer; a heartbeat keeps d's lease, c's expires: FAILED, no attempt left.
    const dLease = leaseFor(leases, "d");
    await store.heartbeat([{ step_id: dLease.step_id, lease_token: dLease.lease_token }], 60_000, t);
    expect(await expireLeases(store, { now: plusMs(t, 5000) })).toBe(1);
    expect(await stepOf(store, "es-x", "d")).toMatchObject({ status: "CANCELLED" });
    const events = await eventsOf(store, "es-x");
    expect(
      events.slice(-5).map((e) => [e.event_type, e.payload.agent_id ?? null, e.payload.reason ?? null]),
    ).toEqual([
      ["STEP_LEASED", "c", null],
      ["STEP_LEASE_EXPIRED", "c", null],
      ["STEP_LEASED", "d", null],
      ["STEP_CANCELLED", "d", "EARLY_STOP"],
      ["RUN_FINALIZED", null, null],
    ]);
    expect((await runOf(store, "es-x")).result).toMatchObject({
      final_decision: "YES",
      aggregation: { early_stop: { stopped: true, steps_saved: 1, calls_aborted: 1 } },
    });
  });

  for (const requireNew of [true, false]) {
    it(`round 2 after a re-explore: early stop is ${requireNew ? "off" : "on"} with require_new_evidence ${requireNew}`, async () => {
      const store = await ctx.fresh();
      const id = `es-r-${requireNew}`;
      const spec = makeSpec(id, {
        agents: ["a", "b", "c", "d"],
        aggregation: {
          mode: "early_stop",
          tie_policy: { chain: ["REEXPLORE", "STOCHASTIC"], reexplore: { require_new_evidence: requireNew } },
        },
      });
      await submitRun(store, spec, true);
      const r1 = await claimRun(store, id);
      for (const [agent, v] of [
        ["a", "X"],
        ["b", "X"],
        ["c", "Y"],
        ["d", "Y"],
      ] as const) {
        await finishAttempt(store, leaseFor(r1, agent), vote(v, { evidence_digests: [`${agent}-1`] }));
      }
      expect((await runOf(store, id)).round).toBe(2);
      const r2 = await claimRun(store, id);
      await finishAttempt(store, leaseFor(r2, "a"), vote("X", { evidence_digests: ["a-2"] }));
      await finishAttempt(store, leaseFor(r2, "b"), vote("X", { evidence_digests: ["b-2"] }));
      const third = await finishAttempt(store, leaseFor(r2, "c"), vote("X", { evidence_digests: ["c-2"] }));
      expect(third).toMatchObject({ run: requireNew ? "ACTIVE" : "EARLY_STOPPED" });
    });
  }
}
