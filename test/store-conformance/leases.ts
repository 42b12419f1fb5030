// Leases (SPEC §4): expiry counted as an attempt, fenced completions (STALE rows, idempotent retries of a
// commit), heartbeats that need the current token, and release on graceful shutdown. Times are injected.
import { expect, it } from "vitest";
import { expireLeases, finishAttempt, leaseOf, releaseAttempts, submitRun } from "../../src/kernel/index.js";
import {
  attemptsOf,
  claim,
  clockOf,
  eventsOf,
  eventTypes,
  FINALIZE_NULL,
  failure,
  makeSpec,
  plusMs,
  runOf,
  type SuiteContext,
  stepOf,
  vote,
} from "./harness.js";

export function leaseTests(ctx: SuiteContext): void {
  it("an expired lease becomes RETRY_WAIT due now, with STEP_LEASED + STEP_LEASE_EXPIRED, and counts", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("exp-1", { agents: ["a", "b"], retry: { max_attempts: 2 } }), true);
    const t = plusMs(await clockOf(store), 10);
    const [c] = await claim(store, { limit: 1, leaseMs: 1000, now: t, workerId: "dead-worker" });
    if (!c) throw new Error("nothing claimed");
    const leaseUntil = plusMs(t, 1000);

    expect(await store.findExpiredLeaseRuns(leaseUntil)).toEqual([]);
    expect(await expireLeases(store, { now: leaseUntil })).toBe(0);
    const later = plusMs(t, 1001);
    expect(await store.findExpiredLeaseRuns(later)).toEqual(["exp-1"]);
    expect(await expireLeases(store, { now: later })).toBe(1);
    expect(await expireLeases(store, { now: later })).toBe(0);

    const step = await stepOf(store, "exp-1", "a");
    expect(step).toMatchObject({
      status: "RETRY_WAIT",
      next_run_at: later.toISOString(),
      attempt: 1,
      attempt_seq: 1,
      lease_token: null,
      lease_owner: null,
      lease_until: null,
      finished_at: null,
    });
    expect(step.error_text).toContain("LEASE_EXPIRED");
    const [attempt] = await attemptsOf(store, "exp-1", "a");
    expect(attempt).toMatchObject({
      status: "LEASE_EXPIRED",
      error_code: "LEASE_EXPIRED",
      finished_at: later.toISOString(),
    });
    const events = (await eventsOf(store, "exp-1")).slice(2);
    expect(events.map((e) => e.event_type)).toEqual(["STEP_LEASED", "STEP_LEASE_EXPIRED"]);
    expect(events[0]?.created_at).toBe(t.toISOString());
    expect(events[0]?.payload).toMatchObject({ agent_id: "a", attempt: 1, worker_id: "dead-worker" });
    expect(events[1]?.payload).toMatchObject({
      agent_id: "a",
      status: "RETRY_WAIT",
      error_code: "LEASE_EXPIRED",
      attempt: 1,
      attempt_seq: 1,
    });
    expect(events[1]?.created_at).toBe(later.toISOString());

    // Claimable again at once, as attempt 2 of 2 (after b, which has been due for longer).
    const again = await claim(store, { runId: "exp-1", now: later });
    expect(again.map((c) => [c.step.agent_id, c.step.attempt, c.step.attempt_seq])).toEqual([
      ["b", 1, 1],
      ["a", 2, 2],
    ]);
  });

  it("an expired lease with no attempt left fails the step and the run settles", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("exp-2", { agents: ["a"], aggregation: FINALIZE_NULL }), true);
    const t = plusMs(await clockOf(store), 10);
    await claim(store, { leaseMs: 1000, now: t });
    const later = plusMs(t, 5000);
    expect(await expireLeases(store, { now: later })).toBe(1);
    expect(await stepOf(store, "exp-2", "a")).toMatchObject({
      status: "FAILED",
      finished_at: later.toISOString(),
    });
    const run = await runOf(store, "exp-2");
    expect(run.status).toBe("FAILED");
    expect(run.error_text).toContain("LEASE_EXPIRED");
    expect(await eventTypes(store, "exp-2")).toEqual([
      "RUN_CREATED",
      "RUN_KICKOFF",
      "STEP_LEASED",
      "STEP_LEASE_EXPIRED",
      "RUN_FINALIZED",
    ]);
  });

  it("fencing: a completion with a stale token is recorded as STALE in its attempt row, never applied", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("fnc-1", { agents: ["a"], retry: { max_attempts: 3 } }), true);
    const t = plusMs(await clockOf(store), 10);
    const [old] = await claim(store, { leaseMs: 1000, now: t, workerId: "slow" });
    if (!old) throw new Error("nothing claimed");
    const later = plusMs(t, 2000);
    await expireLeases(store, { now: later });
    const [fresh] = await claim(store, { leaseMs: 1000, now: later, workerId: "fast" });
    if (!fresh) throw new Error("not reclaimed");
    expect(fresh.attempt.lease_token).not.toBe(old.attempt.lease_token);
    const eventsBefore = await eventTypes(store, "fnc-1");

    const late = await finishAttempt(store, leaseOf(old), vote("LATE"));
    expect(late).toEqual({ applied: false, reason: "STALE", closed_as: "LEASE_EXPIRED" });
    const [first, second] = await attemptsOf(store, "fnc-1");
    expect(first).toMatchObject({
      attempt_seq: 1,
      status: "STALE",
      closed_as: "LEASE_EXPIRED",
      result: { candidate_output: { decision: "LATE", confidence: 0.8 } },
    });
    expect(second).toMatchObject({ attempt_seq: 2, status: "RUNNING", worker_id: "fast" });
    expect(await stepOf(store, "fnc-1", "a")).toMatchObject({
      status: "LEASED",
      lease_token: fresh.attempt.lease_token,
      result: null,
    });
    expect(await eventTypes(store, "fnc-1")).toEqual(eventsBefore);
    // The same stale result again changes nothing.
    expect(await finishAttempt(store, leaseOf(old), vote("LATE"))).toEqual({
      applied: false,
      reason: "STALE",
      closed_as: "LEASE_EXPIRED",
    });
    // A heartbeat or a release with the old token does nothing either.
    expect(
      await store.heartbeat([{ step_id: old.step.step_id, lease_token: old.attempt.lease_token }], 9999),
    ).toEqual([]);
    expect(await releaseAttempts(store, [leaseOf(old)])).toBe(0);

    // The current holder completes; a retried commit of that same result is an idempotent success.
    const done = await finishAttempt(store, leaseOf(fresh), vote("YES"));
    expect(done).toMatchObject({ applied: true, step_status: "SUCCEEDED", run: "FINALIZED" });
    const after = await eventTypes(store, "fnc-1");
    expect(await finishAttempt(store, leaseOf(fresh), vote("YES"))).toEqual({
      applied: false,
      reason: "IDEMPOTENT",
    });
    expect(await eventTypes(store, "fnc-1")).toEqual(after);
    expect((await attemptsOf(store, "fnc-1")).map((a) => a.status)).toEqual(["STALE", "SUCCEEDED"]);
    expect((await runOf(store, "fnc-1")).result).toMatchObject({ final_decision: "YES" });
  });

  it("fencing: a different outcome for an already closed attempt turns its row STALE", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("fnc-2", { agents: ["a", "b"] }), true);
    const claimed = await claim(store);
    const a = claimed.find((c) => c.step.agent_id === "a");
    if (!a) throw new Error("a not claimed");
    await finishAttempt(store, leaseOf(a), failure(false));
    const out = await finishAttempt(store, leaseOf(a), vote("YES"));
    expect(out).toEqual({ applied: false, reason: "STALE", closed_as: "FAILED" });
    const [row] = await attemptsOf(store, "fnc-2", "a");
    expect(row).toMatchObject({
      status: "STALE",
      closed_as: "FAILED",
      result: { candidate_output: { decision: "YES" } },
    });
    expect(await stepOf(store, "fnc-2", "a")).toMatchObject({ status: "FAILED" });
    // An unknown token is NOT_FOUND.
    expect(await finishAttempt(store, { ...leaseOf(a), lease_token: "no-such-token" }, vote("X"))).toEqual({
      applied: false,
      reason: "NOT_FOUND",
    });
  });

  it("a heartbeat extends lease_until only with the matching token", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("hb-1", { agents: ["a"] }), true);
    const t = plusMs(await clockOf(store), 10);
    const [c] = await claim(store, { leaseMs: 1000, now: t });
    if (!c) throw new Error("nothing claimed");
    const stepId = c.step.step_id;
    const hbAt = plusMs(t, 500);
    expect(await store.heartbeat([{ step_id: stepId, lease_token: "wrong" }], 5000, hbAt)).toEqual([]);
    expect((await stepOf(store, "hb-1", "a")).lease_until).toBe(plusMs(t, 1000).toISOString());
    expect(
      await store.heartbeat([{ step_id: stepId, lease_token: c.attempt.lease_token }], 5000, hbAt),
    ).toEqual([stepId]);
    const step = await stepOf(store, "hb-1", "a");
    expect(step).toMatchObject({
      status: "LEASED",
      lease_until: plusMs(hbAt, 5000).toISOString(),
      attempt: 1,
    });
    expect(await expireLeases(store, { now: plusMs(t, 2000) })).toBe(0);
    expect(await expireLeases(store, { now: plusMs(hbAt, 5001) })).toBe(1);
    expect(await store.heartbeat([], 5000)).toEqual([]);
    // Only the step row is touched: no event, the attempt row unchanged.
    expect((await attemptsOf(store, "hb-1"))[0]?.status).toBe("LEASE_EXPIRED");
  });

  it("release hands the step back: QUEUED, attempt − 1, attempt_seq kept, STEP_RELEASED, attempt RELEASED", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("rel-1", { agents: ["a", "b"] }), true);
    const claimed = await claim(store);
    const a = claimed.find((c) => c.step.agent_id === "a");
    if (!a) throw new Error("a not claimed");
    expect(await releaseAttempts(store, [{ ...leaseOf(a), lease_token: "wrong" }])).toBe(0);
    expect(await releaseAttempts(store, [leaseOf(a)])).toBe(1);
    expect(await stepOf(store, "rel-1", "a")).toMatchObject({
      status: "QUEUED",
      attempt: 0,
      attempt_seq: 1,
      lease_token: null,
      lease_owner: null,
      lease_until: null,
    });
    const [row] = await attemptsOf(store, "rel-1", "a");
    expect(row).toMatchObject({ status: "RELEASED", attempt_seq: 1 });
    expect(row?.finished_at).not.toBeNull();
    const events = (await eventsOf(store, "rel-1")).slice(2);
    expect(events.map((e) => e.event_type)).toEqual(["STEP_LEASED", "STEP_RELEASED"]);
    expect(events[1]?.payload).toMatchObject({
      agent_id: "a",
      attempt: 1,
      attempt_seq: 1,
      reason: "WORKER_SHUTDOWN",
    });
    expect((await runOf(store, "rel-1")).status).toBe("RUNNING");
    // A late result for the released attempt is not applied.
    expect(await finishAttempt(store, leaseOf(a), vote("X"))).toEqual({
      applied: false,
      reason: "STALE",
      closed_as: "RELEASED",
    });
    const [again] = await claim(store, { runId: "rel-1" });
    expect(again?.step).toMatchObject({ agent_id: "a", attempt: 1, attempt_seq: 2 });
  });

  it("expiry handles every affected run, each in its own transaction; unknown runs are NOT_FOUND", async () => {
    const store = await ctx.fresh();
    const retry = { max_attempts: 2 };
    for (const id of ["mx-b", "mx-a", "mx-c"])
      await submitRun(store, makeSpec(id, { agents: ["a", "b"], retry }), true);
    const t = plusMs(await clockOf(store), 10);
    const claimed = await claim(store, { leaseMs: 1000, now: t });
    expect(claimed).toHaveLength(6);
    // mx-c's leases are renewed, so only mx-a and mx-b expire.
    const renew = claimed
      .filter((c) => c.step.run_id === "mx-c")
      .map((c) => ({
        step_id: c.step.step_id,
        lease_token: c.attempt.lease_token,
      }));
    expect(await store.heartbeat(renew, 10_000, t)).toHaveLength(2);
    const later = plusMs(t, 5000);
    expect(await store.findExpiredLeaseRuns(later)).toEqual(["mx-a", "mx-b"]);
    expect(await expireLeases(store, { now: later })).toBe(4);
    for (const id of ["mx-a", "mx-b"]) {
      expect((await store.getSteps(id)).map((s) => s.status)).toEqual(["RETRY_WAIT", "RETRY_WAIT"]);
      expect((await eventTypes(store, id)).slice(2)).toEqual([
        "STEP_LEASED",
        "STEP_LEASE_EXPIRED",
        "STEP_LEASED",
        "STEP_LEASE_EXPIRED",
      ]);
    }
    expect((await store.getSteps("mx-c")).map((s) => s.status)).toEqual(["LEASED", "LEASED"]);
    const [first] = claimed;
    if (!first) throw new Error("nothing claimed");
    expect(await finishAttempt(store, { ...leaseOf(first), run_id: "no-such-run" }, vote("X"))).toEqual({
      applied: false,
      reason: "NOT_FOUND",
    });
  });
}
