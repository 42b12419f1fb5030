// A worker dies (SIGKILL) holding a lease: after the lease expires another worker finishes the run
// (STEP_LEASE_EXPIRED; attempts LEASE_EXPIRED then SUCCEEDED), and a late completion with the dead worker's
// token is recorded as STALE, never applied. Both stores.
import { expect, it } from "vitest";
import { finishAttempt } from "../../src/kernel/index.js";
import {
  allEvents,
  countOf,
  describeStores,
  eventTypes,
  exitWithin,
  expectExit,
  json,
  startWorker,
  testRuntime,
  viewOf,
  writeSpec,
  ws,
} from "./helpers.js";

describeStores("worker crash and lease expiry", (suite) => {
  async function setup() {
    // The first call hangs (the worker is killed meanwhile); later ones answer at once.
    let calls = 0;
    const runtime = await testRuntime({
      execute: () => {
        calls += 1;
        return calls === 1
          ? { delayMs: 60_000, body: { candidate_output: { decision: "LATE" } } }
          : { body: { candidate_output: { decision: "APPROVE", confidence: 0.9 } } };
      },
    });
    const store = suite.fresh();
    expectExit(await ws(store, ["executors", "add", "rt", "--url", runtime.url]), 0);
    return { runtime, store };
  }

  it("another worker takes over after the lease expires; the stale result is not applied", async () => {
    const { runtime, store } = await setup();
    const spec = {
      run_id: "crash-1",
      shared_inputs: { topic: "t" },
      agents: [{ agent_id: "solo", prompt: "p", executor: "rt" }],
      retry: { max_attempts: 2, backoff_ms: 0 },
    };
    expectExit(await ws(store, ["run", "submit", writeSpec(spec).file, "--kickoff"]), 0);
    const lease = ["--lease-ms", "1500", "--heartbeat-ms", "500"];

    const first = startWorker(store, [...lease, "--worker-id", "doomed"]);
    await runtime.waitFor((rs) => rs.some((r) => r.path === "/execute"), 15_000);
    // Let it heartbeat at least once, then kill it without any chance to clean up.
    await new Promise((resolve) => setTimeout(resolve, 700));
    first.child.kill("SIGKILL");
    expect((await exitWithin(first, 5_000)).signal).toBe("SIGKILL");
    const killedAt = Date.now();
    const held = await viewOf(store, "crash-1");
    expect(held).toMatchObject({ status: "RUNNING", counts: { leased: 1 } });

    const second = startWorker(store, [...lease, "--worker-id", "rescuer"]);
    const done = await ws(store, ["run", "watch", "crash-1", "--timeout", "15000"]);
    expectExit(done, 0);
    expect(json(done)).toMatchObject({ status: "FINALIZED", counts: { succeeded: 1, leased: 0 } });
    // Not before the lease (1.5 s after the last heartbeat) ran out.
    expect(Date.now() - killedAt).toBeGreaterThan(500);
    expect(runtime.requestsTo("/execute")).toHaveLength(2);

    const events = await allEvents(store, "crash-1");
    expect(eventTypes(events)).toEqual([
      "RUN_CREATED",
      "RUN_KICKOFF",
      "STEP_LEASED",
      "STEP_LEASE_EXPIRED",
      "STEP_LEASED",
      "STEP_COMPLETED",
      "RUN_FINALIZED",
    ]);
    expect(events[2]?.payload).toMatchObject({ worker_id: "doomed", attempt_seq: 1 });
    expect(events[3]?.payload).toMatchObject({ attempt_seq: 1, error_code: "LEASE_EXPIRED" });
    expect(events[4]?.payload).toMatchObject({ worker_id: "rescuer", attempt_seq: 2 });

    const lib = store.open();
    const attempts = (await lib.getAttempts("crash-1")).sort((a, b) => a.attempt_seq - b.attempt_seq);
    expect(attempts.map((a) => [a.attempt_seq, a.worker_id, a.status])).toEqual([
      [1, "doomed", "LEASE_EXPIRED"],
      [2, "rescuer", "SUCCEEDED"],
    ]);
    expect(attempts[0]?.error_code).toBe("LEASE_EXPIRED");

    // The dead worker's call "returns" late with its old token: kept in its attempt row, never applied.
    const old = attempts[0]!;
    const late = await finishAttempt(
      lib,
      { run_id: "crash-1", step_id: old.step_id, attempt_seq: old.attempt_seq, lease_token: old.lease_token },
      { ok: true, response: { candidate_output: { decision: "LATE" } } },
    );
    expect(late).toEqual({ applied: false, reason: "STALE", closed_as: "LEASE_EXPIRED" });
    const after = (await lib.getAttempts("crash-1")).sort((a, b) => a.attempt_seq - b.attempt_seq);
    expect(after[0]).toMatchObject({ status: "STALE", closed_as: "LEASE_EXPIRED" });
    expect(after[0]?.result).toEqual({ candidate_output: { decision: "LATE" } });
    expect(after[1]?.status).toBe("SUCCEEDED");
    const result = json(await ws(store, ["run", "result", "crash-1"]));
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "APPROVE" });
    expect(countOf(await allEvents(store, "crash-1"), "RUN_FINALIZED")).toBe(1);

    second.child.kill("SIGTERM");
    expect(await exitWithin(second, 5_000)).toEqual({ code: 0, signal: null });
  });

  it("a lease that expires with no attempt left fails the step", async () => {
    const { runtime, store } = await setup();
    const spec = {
      run_id: "crash-2",
      shared_inputs: {},
      agents: [{ agent_id: "solo", prompt: "p", executor: "rt" }],
      retry: { max_attempts: 1, backoff_ms: 0 },
      aggregation: { null_policy: { chain: ["FINALIZE_NULL"] } },
    };
    expectExit(await ws(store, ["run", "submit", writeSpec(spec).file, "--kickoff"]), 0);
    const lease = ["--lease-ms", "1000", "--heartbeat-ms", "300"];
    const first = startWorker(store, lease);
    await runtime.waitFor((rs) => rs.some((r) => r.path === "/execute"), 15_000);
    first.child.kill("SIGKILL");
    await exitWithin(first, 5_000);
    startWorker(store, lease);
    const done = await ws(store, ["run", "watch", "crash-2", "--timeout", "15000"]);
    expectExit(done, 5);
    expect(json(done)).toMatchObject({ status: "FAILED", counts: { failed: 1 } });
    const events = await allEvents(store, "crash-2");
    expect(eventTypes(events).slice(-3)).toEqual(["STEP_LEASED", "STEP_LEASE_EXPIRED", "RUN_FINALIZED"]);
    expect(runtime.requestsTo("/execute")).toHaveLength(1);
  });
});
