// Completion (SPEC §4, §6): success, non-retryable and retryable failures, backoff, and finalization of the
// run when its last step ends.
import { expect, it } from "vitest";
import {
  finishAttempt,
  getRunResult,
  getRunView,
  leaseOf,
  releaseAttempts,
  retryDelayMs,
  submitRun,
} from "../../src/kernel/index.js";
import type { JsonObject } from "../../src/spec/types.js";
import {
  attemptsOf,
  claim,
  claimRun,
  clockOf,
  countOf,
  eventsOf,
  eventTypes,
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

export function completionTests(ctx: SuiteContext): void {
  it("a success completes the step; the last one finalizes the run exactly once with its result", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("done-1", { agents: ["a", "b", "c"] }), true);
    const at = plusMs(await clockOf(store), 10);
    const leases = await claimRun(store, "done-1", { now: at });

    const first = await finishAttempt(store, leaseFor(leases, "a"), vote("approve", { answer: "fine" }));
    expect(first).toEqual({ applied: true, step_status: "SUCCEEDED", run: "ACTIVE" });
    const a = await stepOf(store, "done-1", "a");
    expect(a).toMatchObject({ status: "SUCCEEDED", lease_token: null, lease_owner: null, lease_until: null });
    expect(a.result).toEqual({ candidate_output: { decision: "approve", confidence: 0.8, answer: "fine" } });
    expect(a.finished_at).not.toBeNull();
    const [attempt] = await attemptsOf(store, "done-1", "a");
    expect(attempt).toMatchObject({ status: "SUCCEEDED", error_code: null, result: a.result });
    expect(attempt?.finished_at).not.toBeNull();
    const events = await eventsOf(store, "done-1");
    expect(events.slice(2).map((e) => e.event_type)).toEqual(["STEP_LEASED", "STEP_COMPLETED"]);
    expect(events[2]?.created_at).toBe(at.toISOString());
    expect(events[2]?.payload).toMatchObject({
      run_id: "done-1",
      step_id: a.step_id,
      agent_id: "a",
      round: 1,
    });
    expect(events[3]?.payload).toMatchObject({
      agent_id: "a",
      attempt: 1,
      attempt_seq: 1,
      status: "SUCCEEDED",
    });
    expect((await runOf(store, "done-1")).status).toBe("RUNNING");

    await finishAttempt(store, leaseFor(leases, "b"), vote("APPROVE"));
    const last = await finishAttempt(store, leaseFor(leases, "c"), vote("reject"));
    expect(last).toEqual({ applied: true, step_status: "SUCCEEDED", run: "FINALIZED" });

    const run = await runOf(store, "done-1");
    expect(run.status).toBe("FINALIZED");
    expect(run.finished_at).not.toBeNull();
    expect(run.error_text).toBeNull();
    const types = await eventTypes(store, "done-1");
    expect(countOf(types, "RUN_FINALIZED")).toBe(1);
    expect(types.at(-1)).toBe("RUN_FINALIZED");
    const finalized = (await eventsOf(store, "done-1")).at(-1);
    expect(finalized?.payload).toMatchObject({
      run_id: "done-1",
      status: "FINALIZED",
      final_decision: "APPROVE",
      resolution_paths: { decision: "WINNER_PATH" },
      null_resolution: null,
      counts: { succeeded: 3, queued: 0, leased: 0 },
    });
    const result = await getRunResult(store, "done-1");
    // Stored: the document without the conclusions' outputs (they stay in the steps); read: with them.
    const conclusions = result.conclusions as JsonObject[];
    expect(run.result).toEqual({ ...result, conclusions: conclusions.map(({ output: _output, ...c }) => c) });
    expect(conclusions.map((c) => c.output)).toEqual([
      { decision: "approve", confidence: 0.8, answer: "fine" },
      { decision: "APPROVE", confidence: 0.8 },
      { decision: "reject", confidence: 0.8 },
    ]);
    expect(result).toMatchObject({
      run_id: "done-1",
      status: "FINALIZED",
      round: 1,
      error: null,
      final_decision: "APPROVE",
      finished_at: run.finished_at,
      created_at: run.created_at,
      confidence: { votes_for: 2, votes_cast: 3 },
      aggregation: { decision_votes: { APPROVE: 2, REJECT: 1 } },
    });
    expect((result.conclusions as { agent_id: string }[]).map((c) => c.agent_id)).toEqual(["a", "b", "c"]);
    expect((await getRunView(store, "done-1")).counts).toEqual({
      created: 0,
      queued: 0,
      leased: 0,
      succeeded: 3,
      failed: 0,
      retry_wait: 0,
      cancelled: 0,
    });
    expect(await store.hasPendingWork("done-1")).toBe(false);
  });

  it("when every step fails the run is FAILED with a one-line error summary", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("fail-1", { aggregation: FINALIZE_NULL }), true);
    const leases = await claimRun(store, "fail-1");
    expect(await finishAttempt(store, leaseFor(leases, "a"), failure(false))).toEqual({
      applied: true,
      step_status: "FAILED",
      run: "ACTIVE",
    });
    const a = await stepOf(store, "fail-1", "a");
    expect(a).toMatchObject({
      status: "FAILED",
      error_text: "runtime /execute status: 500",
      lease_token: null,
    });
    const [attempt] = await attemptsOf(store, "fail-1", "a");
    expect(attempt).toMatchObject({
      status: "FAILED",
      error_code: "HTTP_5XX",
      error_text: "runtime /execute status: 500",
      result: { status: 500 },
    });
    const last = await finishAttempt(store, leaseFor(leases, "b"), failure(true));
    expect(last).toMatchObject({ applied: true, step_status: "FAILED", run: "FAILED" });

    const run = await runOf(store, "fail-1");
    expect(run.status).toBe("FAILED");
    expect(run.error_text).toBe("all 2 steps failed; a: runtime /execute status: 500");
    expect(run.finished_at).not.toBeNull();
    const result = await getRunResult(store, "fail-1");
    expect(result).toMatchObject({
      status: "FAILED",
      error: "all 2 steps failed; a: runtime /execute status: 500",
      final_decision: null,
    });
    const events = await eventsOf(store, "fail-1");
    expect(events.map((e) => e.event_type).slice(2)).toEqual([
      "STEP_LEASED",
      "STEP_COMPLETED",
      "STEP_LEASED",
      "STEP_COMPLETED",
      "RUN_FINALIZED",
    ]);
    expect(events[3]?.payload).toMatchObject({ status: "FAILED", error_code: "HTTP_5XX" });
    expect(events.at(-1)?.payload).toMatchObject({ status: "FAILED", final_decision: null });
  });

  it("a retryable failure waits max(200, backoff·2^(n−1)) ms, is not claimable before then, and counts", async () => {
    const store = await ctx.fresh();
    await submitRun(
      store,
      makeSpec("rty-1", {
        agents: ["a"],
        retry: { max_attempts: 3, backoff_ms: 1500 },
        aggregation: FINALIZE_NULL,
      }),
      true,
    );
    let t = plusMs(await clockOf(store), 10);
    for (const [n, delay] of [
      [1, 1500],
      [2, 3000],
    ] as const) {
      const [c] = await claim(store, { now: t });
      if (!c) throw new Error(`attempt ${n} not claimable at ${t.toISOString()}`);
      expect(c.step).toMatchObject({ attempt: n, attempt_seq: n });
      const out = await finishAttempt(
        store,
        { run_id: "rty-1", step_id: c.step.step_id, attempt_seq: n, lease_token: c.attempt.lease_token },
        failure(true),
        { now: t },
      );
      expect(out).toEqual({ applied: true, step_status: "RETRY_WAIT", run: "ACTIVE" });
      expect(retryDelayMs(1500, n)).toBe(delay);
      const due = plusMs(t, delay);
      const step = await stepOf(store, "rty-1", "a");
      expect(step).toMatchObject({
        status: "RETRY_WAIT",
        next_run_at: due.toISOString(),
        lease_token: null,
        finished_at: null,
      });
      const event = (await eventsOf(store, "rty-1")).at(-1);
      expect(event).toMatchObject({ event_type: "STEP_RETRY_WAIT" });
      expect(event?.payload).toMatchObject({
        next_run_at: due.toISOString(),
        delay_ms: delay,
        error_code: "HTTP_5XX",
        attempt: n,
      });
      expect(await claim(store, { now: plusMs(due, -1) })).toEqual([]);
      t = due;
    }
    const attempts = await attemptsOf(store, "rty-1");
    expect(attempts.map((a) => a.status)).toEqual(["RETRYABLE_ERROR", "RETRYABLE_ERROR"]);
    // The third and last attempt fails retryably: no attempts are left, so the step fails.
    const [c3] = await claim(store, { now: t });
    expect(c3?.step).toMatchObject({ attempt: 3, attempt_seq: 3 });
    expect(c3?.attempt.due_at).toBe(t.toISOString());
    const out = await finishAttempt(
      store,
      {
        run_id: "rty-1",
        step_id: c3?.step.step_id ?? "",
        attempt_seq: 3,
        lease_token: c3?.attempt.lease_token ?? "",
      },
      failure(true),
      { now: t },
    );
    expect(out).toEqual({ applied: true, step_status: "FAILED", run: "FAILED" });
    expect((await attemptsOf(store, "rty-1")).map((a) => a.status)).toEqual([
      "RETRYABLE_ERROR",
      "RETRYABLE_ERROR",
      "FAILED",
    ]);
    expect((await stepOf(store, "rty-1", "a")).status).toBe("FAILED");
  });

  it("the backoff floor is 200 ms and Retry-After lengthens the wait", async () => {
    const store = await ctx.fresh();
    await submitRun(
      store,
      makeSpec("rty-2", { agents: ["a", "b"], retry: { max_attempts: 2, backoff_ms: 0 } }),
      true,
    );
    const t = plusMs(await clockOf(store), 10);
    const leases = await claimRun(store, "rty-2", { now: t });
    await finishAttempt(store, leaseFor(leases, "a"), failure(true), { now: t });
    await finishAttempt(store, leaseFor(leases, "b"), failure(true, { retry_after_ms: 5000 }), { now: t });
    expect((await stepOf(store, "rty-2", "a")).next_run_at).toBe(plusMs(t, 200).toISOString());
    expect((await stepOf(store, "rty-2", "b")).next_run_at).toBe(plusMs(t, 5000).toISOString());
  });

  it("early_stop: once the leader cannot be caught, the rest are CANCELLED (EARLY_STOP) before RUN_FINALIZED", async () => {
    const store = await ctx.fresh();
    await submitRun(
      store,
      makeSpec("early-1", { agents: ["a", "b", "c", "d"], aggregation: { mode: "early_stop" } }),
      true,
    );
    const leases = await claimRun(store, "early-1");
    await releaseAttempts(store, [leaseFor(leases, "d")]); // d waits QUEUED, c stays LEASED
    expect(await finishAttempt(store, leaseFor(leases, "a"), vote("YES"))).toMatchObject({ run: "ACTIVE" });
    // YES 2, at most 2 more votes: still catchable. YES 3 → cannot be caught.
    expect(await finishAttempt(store, leaseFor(leases, "b"), vote("YES"))).toMatchObject({ run: "ACTIVE" });
    const before = (await eventsOf(store, "early-1")).length;
    await finishAttempt(store, leaseFor(await claimRun(store, "early-1"), "d"), vote("YES"));
    const events = (await eventsOf(store, "early-1")).slice(before);
    expect(events.map((e) => [e.event_type, e.payload.agent_id ?? null, e.payload.reason ?? null])).toEqual([
      ["STEP_LEASED", "d", null],
      ["STEP_COMPLETED", "d", null],
      ["STEP_LEASED", "c", null],
      ["STEP_CANCELLED", "c", "EARLY_STOP"],
      ["RUN_FINALIZED", null, null],
    ]);
    const run = await runOf(store, "early-1");
    expect(run.status).toBe("FINALIZED");
    expect(run.result).toMatchObject({
      final_decision: "YES",
      aggregation: { early_stop: { stopped: true, steps_saved: 1, calls_aborted: 1 } },
    });
    expect((await attemptsOf(store, "early-1", "c")).map((a) => a.status)).toEqual(["CANCELLED"]);
    expect(
      await store.validLeases([
        { step_id: leaseFor(leases, "c").step_id, lease_token: leaseFor(leases, "c").lease_token },
      ]),
    ).toEqual([]);
    expect(await finishAttempt(store, leaseFor(leases, "c"), vote("NO"))).toEqual({
      applied: false,
      reason: "STALE",
      closed_as: "CANCELLED",
    });
    expect(countOf(await eventTypes(store, "early-1"), "RUN_FINALIZED")).toBe(1);
  });

  it("stored error text is cut to 8 KiB ending in …; results round-trip exactly", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("big-1", { agents: ["a", "b"] }), true);
    const leases = await claimRun(store, "big-1");
    const long = "é".repeat(10_000);
    await finishAttempt(store, leaseFor(leases, "a"), {
      ok: false,
      code: "BAD_OUTPUT",
      retryable: false,
      error: long,
    });
    const a = await stepOf(store, "big-1", "a");
    expect(Buffer.byteLength(a.error_text ?? "", "utf8")).toBeLessThanOrEqual(8 * 1024);
    expect(a.error_text?.endsWith("…")).toBe(true);
    expect((await attemptsOf(store, "big-1", "a"))[0]?.error_text).toBe(a.error_text);
    const response = JSON.parse(
      '{"candidate_output":{"decision":"Ünïcödé ✓","z":1,"a":[1.5,-0,1e300,null,true,{}],"__proto__":{"x":"y"}},"evidence_refs":[{"digest":"sha256:ab"}]}',
    );
    await finishAttempt(store, leaseFor(leases, "b"), { ok: true, response });
    const b = await stepOf(store, "big-1", "b");
    expect(JSON.stringify(b.result)).toBe(JSON.stringify(response));
    expect(JSON.stringify((await attemptsOf(store, "big-1", "b"))[0]?.result)).toBe(JSON.stringify(response));
    expect(Object.getPrototypeOf(b.result)).toBe(Object.prototype);
  });

  // SPEC §8.4: PostgreSQL refuses U+0000 in text and jsonb (escaped too), so it is stored as U+FFFD everywhere.
  it("U+0000 in outputs (values and keys) and error texts is stored as U+FFFD; the run finalizes", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("nul-1", { agents: ["a", "b", "c"], retry: { max_attempts: 2 } }), true);
    const leases = await claimRun(store, "nul-1");
    const output = (n: number) => ({
      decision: "ap\u0000prove",
      answer: `line ${n}\u0000end`,
      nested: { "k\u0000ey": ["v\u0000", { "\u0000": null }], escaped: "\\u0000 is text" },
      confidence: 0.9,
    });
    const clean = {
      decision: "ap\uFFFDprove",
      nested: { "k\uFFFDey": ["v\uFFFD", { "\uFFFD": null }], escaped: "\\u0000 is text" },
      confidence: 0.9,
    };
    const error = "runtime said: bad\u0000byte";
    // A retryable failure first: its event payload and the waiting step carry the error text too.
    const first = await finishAttempt(store, leaseFor(leases, "c"), {
      ok: false,
      code: "HTTP_5XX",
      retryable: true,
      error,
      details: { "body\u0000": "x\u0000" },
    });
    expect(first).toMatchObject({ applied: true, step_status: "RETRY_WAIT" });
    expect((await stepOf(store, "nul-1", "c")).error_text).toBe("runtime said: bad\uFFFDbyte");
    expect((await attemptsOf(store, "nul-1", "c"))[0]?.result).toEqual({ "body\uFFFD": "x\uFFFD" });

    await finishAttempt(store, leaseFor(leases, "a"), {
      ok: true,
      response: { candidate_output: output(1) },
    });
    await finishAttempt(store, leaseFor(leases, "b"), {
      ok: false,
      code: "BAD_OUTPUT",
      retryable: false,
      error,
    });
    const [retried] = await claim(store, { runId: "nul-1", now: plusMs(await clockOf(store), 60_000) });
    if (!retried) throw new Error("c was not claimable again");
    const last = await finishAttempt(store, leaseOf(retried), {
      ok: true,
      response: { candidate_output: output(2) },
    });
    expect(last).toEqual({ applied: true, step_status: "SUCCEEDED", run: "FINALIZED" });

    const a = await stepOf(store, "nul-1", "a");
    expect(a.result).toEqual({ candidate_output: { ...clean, answer: "line 1\uFFFDend" } });
    expect((await attemptsOf(store, "nul-1", "a"))[0]?.result).toEqual(a.result);
    const b = await stepOf(store, "nul-1", "b");
    expect(b).toMatchObject({ status: "FAILED", error_text: "runtime said: bad\uFFFDbyte" });
    expect((await attemptsOf(store, "nul-1", "b"))[0]?.error_text).toBe(b.error_text);
    const events = await eventsOf(store, "nul-1");
    const failed = events.filter((e) => e.event_type === "STEP_RETRY_WAIT" || e.payload.status === "FAILED");
    expect(failed.map((e) => e.payload.error)).toEqual([b.error_text, b.error_text]);
    const run = await runOf(store, "nul-1");
    expect(run.status).toBe("FINALIZED");
    const result = await getRunResult(store, "nul-1");
    // Nothing read back holds U+0000, in a value or a key.
    const found: string[] = [];
    JSON.stringify([run, result, await store.getSteps("nul-1"), events], (key, value) => {
      if (key.includes("\u0000") || (typeof value === "string" && value.includes("\u0000"))) found.push(key);
      return value;
    });
    expect(found).toEqual([]);
    expect(String(result.final_decision)).toContain("\uFFFD");
  });
}
