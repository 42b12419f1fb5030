// early_stop (SPEC §5.6) accounting: steps_saved counts every step the stop cancelled, calls_aborted the
// LEASED ones among them; the stop is off in rounds ≥ 2 under require_new_evidence.
import { expect, it } from "vitest";
import { finishAttempt, leaseOf, submitRun } from "../../src/kernel/index.js";
import {
  attemptsOf,
  claim,
  claimRun,
  eventsOf,
  leaseFor,
  makeSpec,
  runOf,
  type SuiteContext,
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
