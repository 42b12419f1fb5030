// A run that cannot be settled (its aggregation or its writes throw) is FAILED on its own, with the reason in
// RUN_FINALIZED, and never stops lease expiry, claims, completions or other runs. The bad data is written
// through finishAttempt, past the executor boundary that refuses it today: a stand-in for rows stored before.
import { expect, it } from "vitest";
import { finishAttempts } from "../../src/kernel/attempts.js";
import { expireLeases, finishAttempt, leaseOf, submitRun } from "../../src/kernel/index.js";
import type { JsonValue } from "../../src/spec/types.js";
import {
  attemptsOf,
  claim,
  claimRun,
  clockOf,
  eventsOf,
  leaseFor,
  makeSpec,
  plusMs,
  runOf,
  type SuiteContext,
  stepOf,
  vote,
} from "./harness.js";

/** A ballot nested 3,000 arrays deep: storable, but far over SPEC §8.4's 64 levels. */
function deepBallot(): JsonValue {
  let value: JsonValue = "A";
  for (let i = 0; i < 3000; i++) value = [value];
  return value;
}

export function unsettledRunTests(ctx: SuiteContext): void {
  it("lease expiry fails a run that cannot be settled on its own; claims and other runs go on", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("bad-exp", { agents: ["a", "b"] }), true);
    const t = plusMs(await clockOf(store), 10);
    const bad = await claimRun(store, "bad-exp", { leaseMs: 1000, now: t });
    await finishAttempt(store, leaseFor(bad, "a"), vote(deepBallot()), { now: t });
    await submitRun(store, makeSpec("good-exp", { agents: ["a", "b"] }), true);

    // bad-exp/b's lease ends: expiring it settles the run, whose aggregation meets the deep ballot.
    const later = plusMs(t, 5000);
    expect(await expireLeases(store, { now: later })).toBe(1);
    const run = await runOf(store, "bad-exp");
    expect(run).toMatchObject({ status: "FAILED", finished_at: later.toISOString() });
    expect(run.error_text).toMatch(/^SETTLE_FAILED: .*nested more than 64 levels/);
    expect(run.result).toMatchObject({ status: "FAILED", error: run.error_text, final_decision: null });
    const events = await eventsOf(store, "bad-exp");
    expect(events.slice(-3).map((e) => [e.event_type, e.payload.agent_id ?? null])).toEqual([
      ["STEP_LEASED", "b"],
      ["STEP_LEASE_EXPIRED", "b"],
      ["RUN_FINALIZED", null],
    ]);
    expect(events.at(-1)?.payload).toMatchObject({
      status: "FAILED",
      final_decision: null,
      error_code: "SETTLE_FAILED",
      error: run.error_text,
    });
    expect(await stepOf(store, "bad-exp", "b")).toMatchObject({ status: "FAILED" });
    // Nothing is left for the next sweep.
    expect(await store.findExpiredLeaseRuns(plusMs(later, 60_000))).toEqual([]);
    expect(await expireLeases(store, { now: plusMs(later, 60_000) })).toBe(0);

    // Claims go on, and the healthy run finalizes.
    const good = await claimRun(store, "good-exp", { now: later });
    await finishAttempt(store, leaseFor(good, "a"), vote("YES"), { now: later });
    await finishAttempt(store, leaseFor(good, "b"), vote("YES"), { now: later });
    expect(await runOf(store, "good-exp")).toMatchObject({
      status: "FINALIZED",
      result: { final_decision: "YES" },
    });
  });

  it("a completion whose run cannot be settled is recorded and its run FAILED; the batch's other runs finalize", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("bad-fin", { agents: ["a", "b", "c"] }), true);
    await submitRun(store, makeSpec("good-fin", { agents: ["a"] }), true);
    const claimed = await claim(store);
    const lease = (runId: string, agent: string) => {
      const c = claimed.find((x) => x.step.run_id === runId && x.step.agent_id === agent);
      if (!c) throw new Error(`no claim for ${runId}/${agent}`);
      return leaseOf(c);
    };
    await finishAttempt(store, lease("bad-fin", "a"), vote(deepBallot()));
    const results = await finishAttempts(store, [
      { lease: lease("bad-fin", "b"), outcome: vote("YES") },
      { lease: lease("good-fin", "a"), outcome: vote("YES") },
    ]);
    expect(results).toEqual([
      { applied: true, step_status: "SUCCEEDED", run: "ACTIVE" },
      { applied: true, step_status: "SUCCEEDED", run: "FINALIZED" },
    ]);
    // bad-fin's last step completes: its aggregation throws, the completion stands and the run fails.
    expect(await finishAttempt(store, lease("bad-fin", "c"), vote("YES"))).toEqual({
      applied: true,
      step_status: "SUCCEEDED",
      run: "FAILED",
    });
    expect((await attemptsOf(store, "bad-fin", "c")).map((a) => a.status)).toEqual(["SUCCEEDED"]);
    const run = await runOf(store, "bad-fin");
    expect(run.status).toBe("FAILED");
    expect(run.error_text).toMatch(/^SETTLE_FAILED: /);
    expect((await eventsOf(store, "bad-fin")).at(-1)).toMatchObject({
      event_type: "RUN_FINALIZED",
      payload: { status: "FAILED", error_code: "SETTLE_FAILED" },
    });
    expect((await runOf(store, "good-fin")).status).toBe("FINALIZED");
  });

  it("an unsettleable run with steps still active has them cancelled (RUN_FAILED) when it fails", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("bad-es", { agents: ["a", "b", "c"], aggregation: { mode: "early_stop" } });
    await submitRun(store, spec, true);
    const leases = await claimRun(store, "bad-es");
    // early_stop checks after each completion: the deep ballot fails the run at once.
    expect(await finishAttempt(store, leaseFor(leases, "a"), vote(deepBallot()))).toMatchObject({
      applied: true,
      run: "FAILED",
    });
    expect((await store.getSteps("bad-es")).map((s) => s.status)).toEqual([
      "SUCCEEDED",
      "CANCELLED",
      "CANCELLED",
    ]);
    const events = await eventsOf(store, "bad-es");
    expect(
      events.slice(-7).map((e) => [e.event_type, e.payload.agent_id ?? null, e.payload.reason ?? null]),
    ).toEqual([
      ["STEP_LEASED", "a", null],
      ["STEP_COMPLETED", "a", null],
      ["STEP_LEASED", "b", null],
      ["STEP_CANCELLED", "b", "RUN_FAILED"],
      ["STEP_LEASED", "c", null],
      ["STEP_CANCELLED", "c", "RUN_FAILED"],
      ["RUN_FINALIZED", null, null],
    ]);
    // A late result of a cancelled step is fenced as usual.
    expect(await finishAttempt(store, leaseFor(leases, "b"), vote("YES"))).toMatchObject({
      applied: false,
      reason: "STALE",
    });
  });
}
