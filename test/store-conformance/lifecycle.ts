// Submit and kickoff (SPEC §4): CREATED runs and steps, idempotent resubmits, conflicting specs, kickoff.
import { expect, it } from "vitest";
import { cancelRun, finishAttempt, kickoffRun, submitRun } from "../../src/kernel/index.js";
import {
  claimRun,
  eventsOf,
  eventTypes,
  expectCode,
  FINALIZE_NULL,
  ISO_MS,
  leaseFor,
  makeSpec,
  runOf,
  type SuiteContext,
  vote,
} from "./harness.js";

export function lifecycleTests(ctx: SuiteContext): void {
  it("submit stores a CREATED run with CREATED steps and one RUN_CREATED event", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("life-1", { agents: ["a", "b", "c"] });
    expect(await submitRun(store, spec, false)).toEqual({
      ok: true,
      run_id: "life-1",
      kicked_off: false,
      created: true,
    });
    const run = await runOf(store, "life-1");
    expect(run).toMatchObject({
      status: "CREATED",
      task_type: "swarm",
      round: 1,
      event_seq: 1,
      result: null,
      error_text: null,
      started_at: null,
      finished_at: null,
    });
    expect(run.spec).toEqual(spec);
    expect(run.created_at).toMatch(ISO_MS);
    const steps = await store.getSteps("life-1");
    expect(steps.map((s) => [s.ordinal, s.agent_id, s.status, s.attempt, s.attempt_seq])).toEqual([
      [0, "a", "CREATED", 0, 0],
      [1, "b", "CREATED", 0, 0],
      [2, "c", "CREATED", 0, 0],
    ]);
    expect(new Set(steps.map((s) => s.step_id)).size).toBe(3);
    for (const s of steps) {
      expect(s.step_id).not.toBe(`life-1:${s.agent_id}`);
      expect(s.run_created_at).toBe(run.created_at);
      expect(s.inputs).toEqual({
        topic: "conformance",
        prompt: `prompt of ${s.agent_id}`,
        agent_id: s.agent_id,
      });
      expect(s.lease_token).toBeNull();
    }
    const events = await eventsOf(store, "life-1");
    expect(events.map((e) => [e.seq, e.event_type])).toEqual([[1, "RUN_CREATED"]]);
    expect(events[0]?.payload).toMatchObject({ run_id: "life-1", task_type: "swarm", agents: 3 });
    // Nothing is claimable before kickoff.
    expect(await store.hasPendingWork("life-1")).toBe(false);
    expect(await claimRun(store, "life-1")).toEqual(new Map());
  });

  it("an identical resubmit is a no-op; a different spec under the same run_id is refused", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("life-2");
    await submitRun(store, spec, false);
    expect(await submitRun(store, makeSpec("life-2"), false)).toEqual({
      ok: true,
      run_id: "life-2",
      kicked_off: false,
      created: false,
    });
    await expectCode(submitRun(store, makeSpec("life-2", { agents: ["a", "x"] }), false), "RUN_EXISTS");
    await expectCode(
      submitRun(store, makeSpec("life-2", { retry: { max_attempts: 3 } }), true),
      "RUN_EXISTS",
    );
    expect(await eventTypes(store, "life-2")).toEqual(["RUN_CREATED"]);
    expect((await store.getSteps("life-2")).map((s) => s.agent_id)).toEqual(["a", "b"]);
    expect((await runOf(store, "life-2")).status).toBe("CREATED");
  });

  it("submit --kickoff queues at once; a resubmit with kickoff kicks off a CREATED run", async () => {
    const store = await ctx.fresh();
    expect(await submitRun(store, makeSpec("life-3"), true)).toMatchObject({
      created: true,
      kicked_off: true,
    });
    expect((await runOf(store, "life-3")).status).toBe("QUEUED");
    expect((await store.getSteps("life-3")).map((s) => s.status)).toEqual(["QUEUED", "QUEUED"]);
    expect(await eventTypes(store, "life-3")).toEqual(["RUN_CREATED", "RUN_KICKOFF"]);
    // Resubmitting a queued run with kickoff: no-op.
    expect(await submitRun(store, makeSpec("life-3"), true)).toMatchObject({
      created: false,
      kicked_off: false,
    });

    await submitRun(store, makeSpec("life-4"), false);
    expect(await submitRun(store, makeSpec("life-4"), true)).toMatchObject({
      created: false,
      kicked_off: true,
    });
    expect((await runOf(store, "life-4")).status).toBe("QUEUED");
    expect(await eventTypes(store, "life-4")).toEqual(["RUN_CREATED", "RUN_KICKOFF"]);
  });

  it("kickoff queues a CREATED run and its steps; a second kickoff is a no-op", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("life-5"), false);
    const before = await store.now();
    expect(await kickoffRun(store, "life-5")).toEqual({
      ok: true,
      run_id: "life-5",
      status: "QUEUED",
      kicked_off: true,
    });
    const steps = await store.getSteps("life-5");
    expect(steps.map((s) => s.status)).toEqual(["QUEUED", "QUEUED"]);
    for (const s of steps) expect(Date.parse(s.next_run_at)).toBeGreaterThanOrEqual(before.getTime() - 1);
    const events = await eventsOf(store, "life-5");
    expect(events.map((e) => [e.seq, e.event_type])).toEqual([
      [1, "RUN_CREATED"],
      [2, "RUN_KICKOFF"],
    ]);
    expect(events[1]?.payload).toMatchObject({ run_id: "life-5", steps_queued: 2 });
    expect(await store.hasPendingWork("life-5")).toBe(true);

    expect(await kickoffRun(store, "life-5")).toEqual({
      ok: true,
      run_id: "life-5",
      status: "QUEUED",
      kicked_off: false,
    });
    await claimRun(store, "life-5");
    expect(await kickoffRun(store, "life-5")).toMatchObject({ status: "RUNNING", kicked_off: false });
    expect(await eventTypes(store, "life-5")).toEqual(["RUN_CREATED", "RUN_KICKOFF"]);
  });

  it("kickoff of a missing run is RUN_NOT_FOUND; of a terminal run INVALID_STATE", async () => {
    const store = await ctx.fresh();
    await expectCode(kickoffRun(store, "nope"), "RUN_NOT_FOUND");
    await submitRun(store, makeSpec("life-6"), false);
    await cancelRun(store, "life-6");
    await expectCode(kickoffRun(store, "life-6"), "INVALID_STATE");

    await submitRun(store, makeSpec("life-7", { agents: ["a"], aggregation: FINALIZE_NULL }), true);
    const leases = await claimRun(store, "life-7");
    await finishAttempt(store, leaseFor(leases, "a"), vote("YES"));
    expect((await runOf(store, "life-7")).status).toBe("FINALIZED");
    await expectCode(kickoffRun(store, "life-7"), "INVALID_STATE");
  });

  it("concurrent identical submits create the run exactly once", async () => {
    const store = await ctx.fresh();
    const other = await ctx.peer(store);
    const spec = makeSpec("life-8", { agents: ["a", "b", "c"] });
    const outcomes = await Promise.all(
      [store, other, store, other, store, other].map((s) => submitRun(s, spec, false)),
    );
    expect(outcomes.filter((o) => o.created)).toHaveLength(1);
    expect(await eventTypes(store, "life-8")).toEqual(["RUN_CREATED"]);
    expect(await store.getSteps("life-8")).toHaveLength(3);
  });
}
