// Re-explore rounds (SPEC §5.3, §5.4): a tie resolved by REEXPLORE and an EMPTY round recovered by the null
// chain start round 2 with the signal in the inputs; round 1's attempts stay; round 2 finalizes.
import { expect, it } from "vitest";
import { finishAttempt, getRunResult, submitRun } from "../../src/kernel/index.js";
import type { JsonObject } from "../../src/spec/types.js";
import {
  attemptsOf,
  claimRun,
  countOf,
  eventsOf,
  eventTypes,
  failure,
  leaseFor,
  makeSpec,
  runOf,
  type SuiteContext,
  vote,
} from "./harness.js";

const SIGNAL = "_aggregation_signal";

export function reexploreTests(ctx: SuiteContext): void {
  it("a tie with chain [REEXPLORE, STOCHASTIC] starts round 2 with the signal; round 2 finalizes", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("rex-1", {
      shared_inputs: { topic: "tie" },
      aggregation: { tie_policy: { enabled_on: ["TIE"], chain: ["REEXPLORE", "STOCHASTIC"] } },
    });
    await submitRun(store, spec, true);
    const r1 = await claimRun(store, "rex-1");
    await finishAttempt(store, leaseFor(r1, "a"), vote("X", { evidence_digests: ["d1"] }));
    const out = await finishAttempt(store, leaseFor(r1, "b"), vote("Y", { evidence_digests: ["d2"] }));
    expect(out).toEqual({ applied: true, step_status: "SUCCEEDED", run: "REEXPLORED" });

    const run = await runOf(store, "rex-1");
    expect(run).toMatchObject({ status: "QUEUED", round: 2, result: null, finished_at: null });
    const signal = (run.shared_inputs as JsonObject)[SIGNAL] as JsonObject;
    expect(signal).toMatchObject({ type: "NEED_MORE_EVIDENCE", path: "TIE_PATH", iteration: 1 });
    expect((run.shared_inputs as JsonObject).topic).toBe("tie");
    const steps = await store.getSteps("rex-1");
    for (const s of steps) {
      expect(s).toMatchObject({
        status: "QUEUED",
        round: 2,
        attempt: 0,
        attempt_seq: 1,
        result: null,
        finished_at: null,
        lease_token: null,
      });
      expect(s.inputs).toMatchObject({ topic: "tie", agent_id: s.agent_id, [SIGNAL]: signal });
    }
    const types = await eventTypes(store, "rex-1");
    expect(countOf(types, "RUN_FINALIZED")).toBe(0);
    expect(types.at(-1)).toBe("RUN_TIE_REEXPLORE_TRIGGERED");
    const trigger = (await eventsOf(store, "rex-1")).at(-1);
    expect(trigger?.payload).toMatchObject({
      run_id: "rex-1",
      chain: "TIE",
      iteration: 1,
      signal,
      new_evidence_agents: ["a", "b"],
      no_new_rounds: 0,
    });
    expect(trigger?.payload.aggregation).toEqual(expect.any(Object));
    expect(await getRunResult(store, "rex-1")).toMatchObject({
      status: "QUEUED",
      round: 2,
      final_decision: null,
    });

    // Round 2: the same tie; REEXPLORE is exhausted, STOCHASTIC resolves.
    const r2 = await claimRun(store, "rex-1");
    expect([...r2.values()].map((l) => l.attempt_seq)).toEqual([2, 2]);
    const claimedStep = (await store.getSteps("rex-1"))[0];
    expect(claimedStep).toMatchObject({ round: 2, attempt: 1, attempt_seq: 2, status: "LEASED" });
    await finishAttempt(store, leaseFor(r2, "a"), vote("X", { evidence_digests: ["d1", "d3"] }));
    const last = await finishAttempt(store, leaseFor(r2, "b"), vote("Y", { evidence_digests: ["d4"] }));
    expect(last).toEqual({ applied: true, step_status: "SUCCEEDED", run: "FINALIZED" });

    const done = await runOf(store, "rex-1");
    expect(done).toMatchObject({ status: "FINALIZED", round: 2 });
    expect(done.result).toMatchObject({ round: 2, status: "FINALIZED" });
    const aggregation = done.result?.aggregation as JsonObject | undefined;
    const trace = (aggregation?.tie_policy as JsonObject | undefined)?.trace as JsonObject[];
    expect(trace.map((e) => [e.resolver, e.outcome])).toEqual([
      ["REEXPLORE", "EXHAUSTED"],
      ["STOCHASTIC", "RESOLVED"],
    ]);
    expect(["X", "Y"]).toContain(done.result?.final_decision);
    const attempts = await attemptsOf(store, "rex-1");
    expect(attempts.map((a) => [a.round, a.attempt, a.attempt_seq, a.status])).toEqual([
      [1, 1, 1, "SUCCEEDED"],
      [2, 1, 2, "SUCCEEDED"],
      [1, 1, 1, "SUCCEEDED"],
      [2, 1, 2, "SUCCEEDED"],
    ]);
    expect(attempts[0]?.result).toMatchObject({
      candidate_output: { decision: "X", evidence_digests: ["d1"] },
    });
    const all = await eventTypes(store, "rex-1");
    expect(countOf(all, "RUN_TIE_REEXPLORE_TRIGGERED")).toBe(1);
    expect(countOf(all, "RUN_FINALIZED")).toBe(1);
    expect(all.at(-1)).toBe("RUN_FINALIZED");
  });

  it("an EMPTY round re-explores via the null chain with NEED_STEP_RECOVERY; failed steps run again", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("rex-2", {
      shared_inputs: "plain text",
      aggregation: { null_policy: { enabled_on: ["EMPTY"], chain: ["REEXPLORE", "FINALIZE_NULL"] } },
    });
    await submitRun(store, spec, true);
    const r1 = await claimRun(store, "rex-2");
    await finishAttempt(store, leaseFor(r1, "a"), failure(false));
    const out = await finishAttempt(store, leaseFor(r1, "b"), failure(true));
    expect(out).toEqual({ applied: true, step_status: "FAILED", run: "REEXPLORED" });

    const run = await runOf(store, "rex-2");
    expect(run).toMatchObject({ status: "QUEUED", round: 2, error_text: null });
    const shared = run.shared_inputs as JsonObject;
    expect(shared.shared_inputs).toBe("plain text");
    expect(shared[SIGNAL]).toMatchObject({
      type: "NEED_STEP_RECOVERY",
      path: "NULL_PATH",
      iteration: 1,
      null_primary_kind: "EMPTY",
      null_reason: "EXECUTION_INCOMPLETE_OR_FAILED",
    });
    for (const s of await store.getSteps("rex-2")) {
      expect(s).toMatchObject({ status: "QUEUED", round: 2, attempt: 0, error_text: null });
      expect(s.inputs[SIGNAL]).toEqual(shared[SIGNAL]);
      expect(s.inputs.shared_inputs).toBe("plain text");
    }
    expect((await eventTypes(store, "rex-2")).at(-1)).toBe("RUN_NULL_REEXPLORE_TRIGGERED");

    const r2 = await claimRun(store, "rex-2");
    await finishAttempt(store, leaseFor(r2, "a"), vote("GO"));
    await finishAttempt(store, leaseFor(r2, "b"), vote("GO"));
    const done = await runOf(store, "rex-2");
    expect(done).toMatchObject({ status: "FINALIZED", round: 2 });
    expect(done.result).toMatchObject({ final_decision: "GO", round: 2 });
    expect((await attemptsOf(store, "rex-2")).map((a) => [a.round, a.status])).toEqual([
      [1, "FAILED"],
      [2, "SUCCEEDED"],
      [1, "FAILED"],
      [2, "SUCCEEDED"],
    ]);
    const types = await eventTypes(store, "rex-2");
    expect(countOf(types, "RUN_NULL_REEXPLORE_TRIGGERED")).toBe(1);
    expect(countOf(types, "RUN_FINALIZED")).toBe(1);
  });

  it("an EMPTY round that cannot re-explore again finalizes null (FAILED): a run never hangs", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("rex-3", { agents: ["a"] }), true);
    for (const round of [1, 2]) {
      const leases = await claimRun(store, "rex-3");
      const out = await finishAttempt(store, leaseFor(leases, "a"), failure(false));
      expect(out).toMatchObject({ run: round === 1 ? "REEXPLORED" : "FAILED" });
    }
    const run = await runOf(store, "rex-3");
    expect(run).toMatchObject({ status: "FAILED", round: 2 });
    expect(run.result).toMatchObject({ final_decision: null, null_resolution: { primary_kind: "EMPTY" } });
    expect(countOf(await eventTypes(store, "rex-3"), "RUN_FINALIZED")).toBe(1);
  });
}
