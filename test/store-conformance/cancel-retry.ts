// Cancel and retry (SPEC §4): immediate cancel of every active step, fenced late results, retry of FAILED
// runs and of RETRY_WAIT steps, and #RUN_FINALIZED = 1 + #retries while FAILED.
import { expect, it } from "vitest";
import {
  cancelRun,
  finishAttempt,
  getRunResult,
  leaseOf,
  releaseAttempts,
  retryRun,
  submitRun,
} from "../../src/kernel/index.js";
import {
  attemptsOf,
  claim,
  claimRun,
  clockOf,
  countOf,
  eventsOf,
  eventTypes,
  expectCode,
  FINALIZE_NULL,
  failure,
  leaseFor,
  makeSpec,
  plusMs,
  runOf,
  type SuiteContext,
  stepOf,
  vote,
} from "./harness.js";

export function cancelRetryTests(ctx: SuiteContext): void {
  it("cancel ends every active step at once, leased ones included, and finalizes the run CANCELLED", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("cnl-1", { agents: ["a", "b", "c", "d"], retry: { max_attempts: 2 } });
    await submitRun(store, spec, true);
    const t = plusMs(await clockOf(store), 10);
    const leases = await claimRun(store, "cnl-1", { now: t });
    await finishAttempt(store, leaseFor(leases, "a"), vote("YES")); // a: SUCCEEDED (not active)
    await finishAttempt(store, leaseFor(leases, "c"), failure(true), { now: t }); // c: RETRY_WAIT
    await releaseAttempts(store, [leaseFor(leases, "d")]);
    // b: LEASED, c: RETRY_WAIT, d: QUEUED
    const before = (await eventsOf(store, "cnl-1")).length;

    expect(await cancelRun(store, "cnl-1")).toEqual({ ok: true, run_id: "cnl-1", status: "CANCELLED" });
    const steps = await store.getSteps("cnl-1");
    expect(steps.map((s) => [s.agent_id, s.status])).toEqual([
      ["a", "SUCCEEDED"],
      ["b", "CANCELLED"],
      ["c", "CANCELLED"],
      ["d", "CANCELLED"],
    ]);
    for (const s of steps.slice(1)) {
      expect(s.lease_token).toBeNull();
      expect(s.finished_at).not.toBeNull();
    }
    const b = await attemptsOf(store, "cnl-1", "b");
    expect(b.map((x) => x.status)).toEqual(["CANCELLED"]);
    const events = (await eventsOf(store, "cnl-1")).slice(before);
    expect(events.map((e) => [e.event_type, e.payload.agent_id ?? null])).toEqual([
      ["RUN_CANCEL_REQUESTED", null],
      ["STEP_LEASED", "b"],
      ["STEP_CANCELLED", "b"],
      ["STEP_CANCELLED", "c"],
      ["STEP_CANCELLED", "d"],
      ["RUN_FINALIZED", null],
    ]);
    for (const e of events.filter((x) => x.event_type === "STEP_CANCELLED")) {
      expect(e.payload.reason).toBe("RUN_CANCELLED");
    }
    expect(events.at(-1)?.payload).toMatchObject({
      status: "CANCELLED",
      final_decision: null,
      null_resolution: { primary_kind: "CANCELLED", reason: "RUN_CANCELLED" },
    });
    const run = await runOf(store, "cnl-1");
    expect(run.status).toBe("CANCELLED");
    expect(run.finished_at).not.toBeNull();
    expect(await getRunResult(store, "cnl-1")).toMatchObject({
      status: "CANCELLED",
      final_decision: null,
      aggregation: null,
      confidence: null,
      null_resolution: { primary_kind: "CANCELLED", reason: "RUN_CANCELLED" },
      counts: { succeeded: 1, cancelled: 3 },
    });
    expect(await store.hasPendingWork("cnl-1")).toBe(false);
    expect(await claim(store, { now: plusMs(t, 600_000) })).toEqual([]);

    // Cancel again: a no-op success. The cancelled lease's late result is not applied.
    const count = (await eventsOf(store, "cnl-1")).length;
    expect(await cancelRun(store, "cnl-1")).toEqual({ ok: true, run_id: "cnl-1", status: "CANCELLED" });
    expect(await finishAttempt(store, leaseFor(leases, "b"), vote("NO"))).toEqual({
      applied: false,
      reason: "STALE",
      closed_as: "CANCELLED",
    });
    expect(await attemptsOf(store, "cnl-1", "b")).toMatchObject([
      { status: "STALE", closed_as: "CANCELLED", result: { candidate_output: { decision: "NO" } } },
    ]);
    expect((await eventsOf(store, "cnl-1")).length).toBe(count);
    expect((await stepOf(store, "cnl-1", "b")).status).toBe("CANCELLED");
    await expectCode(retryRun(store, "cnl-1"), "INVALID_STATE");
  });

  it("cancel of a CREATED run works; of a FINALIZED or FAILED run it is INVALID_STATE; unknown → RUN_NOT_FOUND", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("cnl-2"), false);
    await cancelRun(store, "cnl-2");
    expect(await eventTypes(store, "cnl-2")).toEqual([
      "RUN_CREATED",
      "RUN_CANCEL_REQUESTED",
      "STEP_CANCELLED",
      "STEP_CANCELLED",
      "RUN_FINALIZED",
    ]);
    await expectCode(cancelRun(store, "missing"), "RUN_NOT_FOUND");

    await submitRun(store, makeSpec("cnl-3", { agents: ["a"] }), true);
    await finishAttempt(store, leaseFor(await claimRun(store, "cnl-3"), "a"), vote("YES"));
    await expectCode(cancelRun(store, "cnl-3"), "INVALID_STATE");

    await submitRun(store, makeSpec("cnl-4", { agents: ["a"], aggregation: FINALIZE_NULL }), true);
    await finishAttempt(store, leaseFor(await claimRun(store, "cnl-4"), "a"), failure(false));
    expect((await runOf(store, "cnl-4")).status).toBe("FAILED");
    await expectCode(cancelRun(store, "cnl-4"), "INVALID_STATE");
    expect(countOf(await eventTypes(store, "cnl-4"), "RUN_FINALIZED")).toBe(1);
  });

  it("retry of a FAILED run requeues its failed steps, clears the result, and it finalizes again", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("rtr-1", { agents: ["a", "b"], aggregation: FINALIZE_NULL }), true);
    for (let round = 0; round < 2; round++) {
      const leases = await claimRun(store, "rtr-1");
      await finishAttempt(store, leaseFor(leases, "a"), failure(false));
      await finishAttempt(store, leaseFor(leases, "b"), failure(false));
      expect((await runOf(store, "rtr-1")).status).toBe("FAILED");
      expect(await retryRun(store, "rtr-1")).toEqual({
        ok: true,
        run_id: "rtr-1",
        status: "QUEUED",
        steps_requeued: 2,
      });
      const run = await runOf(store, "rtr-1");
      expect(run).toMatchObject({
        status: "QUEUED",
        result: null,
        error_text: null,
        finished_at: null,
        round: 1,
      });
      expect((await store.getSteps("rtr-1")).map((s) => [s.status, s.attempt, s.attempt_seq])).toEqual([
        ["QUEUED", 0, round + 1],
        ["QUEUED", 0, round + 1],
      ]);
      const last = (await eventsOf(store, "rtr-1")).at(-1);
      expect(last).toMatchObject({ event_type: "RUN_RETRY_REQUESTED" });
      expect(last?.payload).toMatchObject({
        previous_status: "FAILED",
        steps_requeued: 2,
        agents: ["a", "b"],
      });
      const result = await getRunResult(store, "rtr-1");
      expect(result).toMatchObject({
        status: "QUEUED",
        final_decision: null,
        aggregation: null,
        error: null,
      });
    }
    const leases = await claimRun(store, "rtr-1");
    expect([...leases.values()].map((l) => l.attempt_seq)).toEqual([3, 3]);
    await finishAttempt(store, leaseFor(leases, "a"), vote("YES"));
    await finishAttempt(store, leaseFor(leases, "b"), vote("YES"));
    const run = await runOf(store, "rtr-1");
    expect(run.status).toBe("FINALIZED");
    const types = await eventTypes(store, "rtr-1");
    expect(countOf(types, "RUN_RETRY_REQUESTED")).toBe(2);
    expect(countOf(types, "RUN_FINALIZED")).toBe(1 + 2);
    expect((await attemptsOf(store, "rtr-1")).map((a) => a.status)).toEqual([
      "FAILED",
      "FAILED",
      "SUCCEEDED",
      "FAILED",
      "FAILED",
      "SUCCEEDED",
    ]);
    await expectCode(retryRun(store, "rtr-1"), "INVALID_STATE");
    expect(countOf(await eventTypes(store, "rtr-1"), "RUN_FINALIZED")).toBe(3);
  });

  it("retry of a RUNNING run moves its RETRY_WAIT steps to QUEUED now and keeps the run RUNNING", async () => {
    const store = await ctx.fresh();
    await submitRun(
      store,
      makeSpec("rtr-2", { agents: ["a", "b"], retry: { max_attempts: 3, backoff_ms: 60_000 } }),
      true,
    );
    const leases = await claimRun(store, "rtr-2");
    await finishAttempt(store, leaseFor(leases, "a"), failure(true));
    const waiting = await stepOf(store, "rtr-2", "a");
    expect(waiting.status).toBe("RETRY_WAIT");
    expect(await claim(store)).toEqual([]);

    expect(await retryRun(store, "rtr-2")).toEqual({
      ok: true,
      run_id: "rtr-2",
      status: "RUNNING",
      steps_requeued: 1,
    });
    const a = await stepOf(store, "rtr-2", "a");
    expect(a).toMatchObject({ status: "QUEUED", attempt: 0, attempt_seq: 1, error_text: null });
    expect(Date.parse(a.next_run_at)).toBeLessThan(Date.parse(waiting.next_run_at));
    expect((await runOf(store, "rtr-2")).status).toBe("RUNNING");
    const [again] = await claim(store, { runId: "rtr-2" });
    if (!again) throw new Error("a not reclaimed");
    expect(again.step).toMatchObject({ agent_id: "a", attempt: 1, attempt_seq: 2 });
    // Nothing left to move: INVALID_STATE, and no event is written.
    const count = (await eventsOf(store, "rtr-2")).length;
    await expectCode(retryRun(store, "rtr-2"), "INVALID_STATE");
    expect((await eventsOf(store, "rtr-2")).length).toBe(count);
    expect(countOf(await eventTypes(store, "rtr-2"), "RUN_FINALIZED")).toBe(0);
    await finishAttempt(store, leaseOf(again), vote("YES"));
    await finishAttempt(store, leaseFor(leases, "b"), vote("YES"));
    expect((await runOf(store, "rtr-2")).status).toBe("FINALIZED");
  });
}
