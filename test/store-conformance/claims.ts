// Claims (SPEC §3, §4): claim order, limit, the run filter, what a claim writes, and the lazy QUEUED → RUNNING.
import { expect, it } from "vitest";
import { finishAttempt, getRunView, kickoffRun, leaseOf, submitRun } from "../../src/kernel/index.js";
import {
  attemptsOf,
  claim,
  clockOf,
  eventTypes,
  failure,
  ISO_MS,
  makeSpec,
  nextMillisecond,
  plusMs,
  runOf,
  type SuiteContext,
} from "./harness.js";

export function claimTests(ctx: SuiteContext): void {
  it("claims in order: priority DESC, next_run_at, run_created_at, step_id; the limit is respected", async () => {
    const store = await ctx.fresh();
    // Run A is created first but kicked off last, so its steps are due later than run B's.
    await submitRun(
      store,
      makeSpec("ord-a", { agents: ["a0", { agent_id: "a1", priority: 5 }, "a2"] }),
      false,
    );
    await nextMillisecond();
    await submitRun(store, makeSpec("ord-b", { agents: ["b0", "b1"] }), true);
    await nextMillisecond();
    await kickoffRun(store, "ord-a");
    const at = plusMs(await clockOf(store), 10);

    const first = await claim(store, { limit: 2, now: at });
    expect(first.map((c) => c.step.agent_id)).toEqual(["a1", "b0"]);
    const rest = await claim(store, { limit: 10, now: at });
    expect(rest.map((c) => c.step.agent_id)).toEqual(["b1", "a0", "a2"]);
    expect(await claim(store, { now: at })).toEqual([]);
  });

  it("with equal priority and due time, the earlier-created run goes first", async () => {
    const store = await ctx.fresh();
    const retry = { max_attempts: 3, backoff_ms: 1000 };
    await submitRun(store, makeSpec("ord-c", { agents: ["c0"], retry }), true);
    await nextMillisecond();
    await submitRun(store, makeSpec("ord-d", { agents: ["d0"], retry }), true);
    const t = plusMs(await clockOf(store), 10);
    const claimed = await claim(store, { now: t });
    expect(claimed.map((c) => c.step.agent_id)).toEqual(["c0", "d0"]);
    // Both fail at the same instant, so both are due at the same instant again.
    for (const c of [...claimed].reverse()) await finishAttempt(store, leaseOf(c), failure(true), { now: t });
    const due = plusMs(t, 1000);
    const again = await claim(store, { now: due, limit: 1 });
    expect(again.map((c) => c.step.agent_id)).toEqual(["c0"]);
    expect(again[0]?.attempt.due_at).toBe(due.toISOString());
  });

  it("the runId filter claims only that run's steps", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("flt-a"), true);
    await submitRun(store, makeSpec("flt-b", { agents: [{ agent_id: "hi", priority: 9 }] }), true);
    const at = plusMs(await clockOf(store), 10);
    const claimed = await claim(store, { runId: "flt-a", now: at });
    expect(claimed.map((c) => [c.step.run_id, c.step.agent_id])).toEqual([
      ["flt-a", "a"],
      ["flt-a", "b"],
    ]);
    expect(await claim(store, { runId: "flt-a", now: at })).toEqual([]);
    expect(await claim(store, { runId: "missing", now: at })).toEqual([]);
    expect((await claim(store, { now: at })).map((c) => c.step.agent_id)).toEqual(["hi"]);
  });

  it("a claim leases the step (attempt 1, attempt_seq 1, token) and opens a RUNNING attempt row", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("clm-1", { agents: ["a", "b"] }), true);
    expect((await runOf(store, "clm-1")).status).toBe("QUEUED");
    const at = plusMs(await clockOf(store), 10);
    const [c] = await claim(store, { limit: 1, leaseMs: 15_000, now: at, workerId: "worker-7" });
    if (!c) throw new Error("nothing claimed");
    expect(c.task_type).toBe("swarm");
    expect(c.step).toMatchObject({
      run_id: "clm-1",
      agent_id: "a",
      status: "LEASED",
      round: 1,
      attempt: 1,
      attempt_seq: 1,
      lease_owner: "worker-7",
      lease_until: plusMs(at, 15_000).toISOString(),
      started_at: at.toISOString(),
    });
    expect(c.step.lease_token).toEqual(expect.any(String));
    expect(c.step.lease_token?.length).toBeGreaterThan(8);
    expect(c.attempt).toMatchObject({
      step_id: c.step.step_id,
      attempt_seq: 1,
      run_id: "clm-1",
      round: 1,
      attempt: 1,
      worker_id: "worker-7",
      lease_token: c.step.lease_token,
      status: "RUNNING",
      closed_as: null,
      result: null,
      started_at: at.toISOString(),
      finished_at: null,
    });
    expect(c.attempt.due_at).toMatch(ISO_MS);
    expect(Date.parse(c.attempt.due_at)).toBeLessThanOrEqual(at.getTime());

    // What the claim returned is what is stored.
    const [stored] = (await store.getSteps("clm-1")).filter((s) => s.agent_id === "a");
    expect(stored).toMatchObject({ ...c.step, updated_at: expect.any(String) });
    expect(await attemptsOf(store, "clm-1")).toEqual([c.attempt]);
    expect(
      await store.validLeases([{ step_id: c.step.step_id, lease_token: c.step.lease_token ?? "" }]),
    ).toEqual([c.step.step_id]);

    // The run started with the claim (here or, at the latest, in the next transaction that locks it).
    const run = await runOf(store, "clm-1");
    expect(run.status).toBe("RUNNING");
    expect(run.started_at).toBe(at.toISOString());
    expect((await getRunView(store, "clm-1")).counts).toMatchObject({ queued: 1, leased: 1 });
    // A claim writes no event: STEP_LEASED is written by the transaction that ends the attempt.
    expect(await eventTypes(store, "clm-1")).toEqual(["RUN_CREATED", "RUN_KICKOFF"]);
  });

  it("steps not yet due, CREATED or leased are not claimed; limit 0 claims nothing", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("due-1"), false);
    const now = await clockOf(store);
    expect(await claim(store, { now: plusMs(now, 60_000) })).toEqual([]);
    await kickoffRun(store, "due-1");
    const kicked = Date.parse((await store.getSteps("due-1"))[0]?.next_run_at ?? "");
    expect(await claim(store, { now: new Date(kicked - 1) })).toEqual([]);
    expect(await claim(store, { now: new Date(kicked), limit: 0 })).toEqual([]);
    expect(await claim(store, { now: new Date(kicked) })).toHaveLength(2);
    expect(await claim(store, { now: plusMs(new Date(kicked), 60_000) })).toEqual([]);
    expect(await store.hasPendingWork()).toBe(true);
    expect(await store.hasPendingWork("due-1")).toBe(true);
    expect(await store.hasPendingWork("other")).toBe(false);
  });

  it("at the store's own clock, a claim returns exactly the step and attempt it stored", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("own-1", { agents: ["a", "b", "c"] }), true);
    for (let i = 0; i < 3; i++) {
      const [c] = await claim(store, { limit: 1, leaseMs: 1234 });
      if (!c) throw new Error("nothing claimed");
      const stored = (await store.getSteps("own-1")).find((s) => s.step_id === c.step.step_id);
      expect(stored).toEqual(c.step);
      const attempt = (await store.getAttempts("own-1")).find((a) => a.step_id === c.step.step_id);
      expect(attempt).toEqual(c.attempt);
      expect(c.attempt.started_at).toBe(c.step.started_at);
      expect(Date.parse(c.step.lease_until ?? "")).toBe(Date.parse(c.attempt.started_at) + 1234);
      expect((await runOf(store, "own-1")).started_at).toEqual(
        i === 0 ? c.attempt.started_at : expect.any(String),
      );
    }
  });
}
