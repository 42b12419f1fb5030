// Cancel while steps are in flight (the runtime sees the client abort, the worker keeps serving), and retry of
// a FAILED run against a runtime that fails at first, with one long-running worker. Both stores.
import { expect, it } from "vitest";
import type { Reply } from "../support/http-runtime.js";
import {
  type AnyJson,
  allEvents,
  countOf,
  describeStores,
  eventTypes,
  exitWithin,
  expectExit,
  json,
  seedSpec,
  startWorker,
  testRuntime,
  until,
  viewOf,
  writeSpec,
  ws,
} from "./helpers.js";

interface ExecBody {
  inputs: { agent_id: string; run?: string };
}

describeStores("cancel and retry with a live worker", (suite) => {
  /** Per run (shared_inputs.run) and call number: how the runtime answers. */
  type Behaviour = (runTag: string, calls: number) => Reply;

  async function setup(behaviour: Behaviour) {
    const calls = new Map<string, number>();
    const runtime = await testRuntime({
      execute: (body) => {
        const tag = (body as ExecBody).inputs.run ?? "";
        const n = (calls.get(tag) ?? 0) + 1;
        calls.set(tag, n);
        return behaviour(tag, n);
      },
    });
    const store = suite.fresh();
    expectExit(await ws(store, ["executors", "add", "rt", "--url", runtime.url]), 0);
    const submit = async (runId: string, extra: Record<string, unknown> = {}): Promise<void> => {
      const base = seedSpec(runId);
      const spec = {
        ...base,
        shared_inputs: { ...(base.shared_inputs as object), run: runId },
        ...extra,
      };
      const { file } = writeSpec(spec);
      expectExit(await ws(store, ["run", "submit", file, "--kickoff"]), 0);
    };
    return { runtime, store, submit };
  }

  it("cancels a run whose steps are in flight; the calls are aborted and the worker keeps running", async () => {
    const { runtime, store, submit } = await setup((tag) =>
      tag === "slow-1"
        ? { delayMs: 60_000, body: { candidate_output: { decision: "LATE" } } }
        : { body: { candidate_output: { decision: "APPROVE", confidence: 0.9 } } },
    );
    await submit("slow-1");
    const worker = startWorker(store);
    await runtime.waitFor((rs) => rs.filter((r) => r.path === "/execute").length === 3, 15_000);
    const leased = await viewOf(store, "slow-1");
    expect(leased).toMatchObject({ status: "RUNNING", counts: { leased: 3 } });

    const cancel = await ws(store, ["run", "cancel", "slow-1"]);
    expectExit(cancel, 0);
    expect(json(cancel)).toEqual({ ok: true, run_id: "slow-1", status: "CANCELLED" });

    // The worker notices the revoked leases (NOTIFY or poll) and aborts its HTTP calls.
    await runtime.waitFor(
      (rs) => rs.filter((r) => r.path === "/execute" && r.clientClosed).length === 3,
      5_000,
    );
    const watch = await ws(store, ["run", "watch", "slow-1"]);
    expectExit(watch, 5);
    expect(json(watch)).toMatchObject({
      status: "CANCELLED",
      counts: { leased: 0, cancelled: 3, succeeded: 0 },
    });
    const events = await allEvents(store, "slow-1");
    expect(eventTypes(events).slice(0, 3)).toEqual(["RUN_CREATED", "RUN_KICKOFF", "RUN_CANCEL_REQUESTED"]);
    const cancelledSteps = events.filter((e) => e.event_type === "STEP_CANCELLED");
    expect(cancelledSteps).toHaveLength(3);
    for (const e of cancelledSteps)
      expect(e.payload).toMatchObject({ reason: "RUN_CANCELLED", run_id: "slow-1" });
    expect(countOf(events, "STEP_LEASED")).toBe(3);
    expect(countOf(events, "STEP_COMPLETED")).toBe(0);
    expect(events.at(-1)).toMatchObject({ event_type: "RUN_FINALIZED", payload: { status: "CANCELLED" } });

    // Attempts closed as CANCELLED, and no late result was applied.
    const lib = store.open();
    const attempts = await lib.getAttempts("slow-1");
    expect(attempts.map((a) => a.status).sort()).toEqual(["CANCELLED", "CANCELLED", "CANCELLED"]);

    // Cancelling again is a no-op success; cancelling a finished run is refused (exit 4).
    expectExit(await ws(store, ["run", "cancel", "slow-1"]), 0);

    // The same worker still serves new runs.
    expect(worker.child.exitCode).toBeNull();
    await submit("after-cancel");
    const next = await ws(store, ["run", "watch", "after-cancel", "--timeout", "15000"]);
    expectExit(next, 0);
    expect(json(next)).toMatchObject({ status: "FINALIZED", counts: { succeeded: 3 } });
    const finished = await ws(store, ["run", "cancel", "after-cancel"]);
    expectExit(finished, 4);
    expect(finished.stderr).toMatch(/^error: run "after-cancel" is already FINALIZED/m);

    worker.child.kill("SIGTERM");
    expect(await exitWithin(worker, 5_000)).toEqual({ code: 0, signal: null });
  });

  it("retries a FAILED run (500 at first, then 200) to FINALIZED with the same worker", async () => {
    // The first three calls fail (500 is retryable, but max_attempts 1 leaves no attempt), then all succeed.
    const { store, submit } = await setup((_tag, n) =>
      n <= 3
        ? { status: 500, body: "busy" }
        : { body: { candidate_output: { decision: "APPROVE", confidence: 0.7 } } },
    );
    await submit("flaky-1", {
      retry: { max_attempts: 1, backoff_ms: 0 },
      aggregation: { quorum: 2, null_policy: { chain: ["FINALIZE_NULL"] } },
    });
    const worker = startWorker(store);
    const failed = await ws(store, ["run", "watch", "flaky-1", "--timeout", "15000"]);
    expectExit(failed, 5);
    expect(json(failed)).toMatchObject({ status: "FAILED", counts: { failed: 3 } });
    const failedResult = json<Record<string, unknown>>(await ws(store, ["run", "result", "flaky-1"]));
    expect(failedResult).toMatchObject({ status: "FAILED", final_decision: null });
    expect(failedResult.error).toMatch(/^all 3 steps failed; analyst-a: .*\/execute.*500/);

    const retry = await ws(store, ["run", "retry", "flaky-1"]);
    expectExit(retry, 0);
    expect(json(retry)).toEqual({ ok: true, run_id: "flaky-1", status: "QUEUED", steps_requeued: 3 });
    const done = await ws(store, ["run", "watch", "flaky-1", "--timeout", "15000"]);
    expectExit(done, 0);
    expect(json(done)).toMatchObject({ status: "FINALIZED", counts: { succeeded: 3, failed: 0 } });
    const result = json<AnyJson>(await ws(store, ["run", "result", "flaky-1"]));
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "APPROVE", error: null, round: 1 });
    for (const c of result.conclusions) expect(c).toMatchObject({ status: "SUCCEEDED", attempt: 1 });

    const events = await allEvents(store, "flaky-1");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(countOf(events, "RUN_FINALIZED")).toBe(2);
    expect(countOf(events, "RUN_RETRY_REQUESTED")).toBe(1);
    const retryIdx = eventTypes(events).indexOf("RUN_RETRY_REQUESTED");
    expect(events[retryIdx - 1]).toMatchObject({
      event_type: "RUN_FINALIZED",
      payload: { status: "FAILED" },
    });
    expect(events[retryIdx]?.payload).toMatchObject({ previous_status: "FAILED", steps_requeued: 3 });

    // Every attempt is kept: three FAILED (HTTP_5XX) then three SUCCEEDED, attempt_seq 1 then 2.
    const attempts = await store.open().getAttempts("flaky-1");
    const bySeq = (seq: number) => attempts.filter((a) => a.attempt_seq === seq);
    expect(bySeq(1).map((a) => [a.status, a.error_code])).toEqual(Array(3).fill(["FAILED", "HTTP_5XX"]));
    expect(bySeq(2).map((a) => a.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);

    // A run with nothing to retry: exit 4, nothing changes.
    expectExit(await ws(store, ["run", "retry", "flaky-1"]), 4);
    expect(await until(() => worker.child.exitCode === null, 1000)).toBe(true);
    worker.child.kill("SIGINT");
    expect(await exitWithin(worker, 5_000)).toEqual({ code: 0, signal: null });
  });
});
