// The seed page's six-step CLI workflow (reference/runs-doc.txt), verbatim, against a real HTTP runtime
// registered as `rt`; then kickoff, cancel and retry as separate commands. Both stores.
import { expect, it } from "vitest";
import type { TestRuntime } from "../support/http-runtime.js";
import {
  type AnyJson,
  allEvents,
  countOf,
  describeStores,
  type EventJson,
  eventTypes,
  exitWithin,
  expectExit,
  json,
  logMessages,
  type StoreTarget,
  seedSpec,
  startWorker,
  testRuntime,
  viewOf,
  writeSpec,
  ws,
} from "./helpers.js";

const ZERO_COUNTS = {
  created: 0,
  queued: 0,
  leased: 0,
  succeeded: 0,
  failed: 0,
  retry_wait: 0,
  cancelled: 0,
};

describeStores("seed workflow", (suite) => {
  async function setup(): Promise<{ runtime: TestRuntime; store: StoreTarget }> {
    const runtime = await testRuntime({
      execute: (body) => {
        const agent = (body as { inputs: { agent_id: string } }).inputs.agent_id;
        const decision = agent === "analyst-c" ? "REJECT" : "APPROVE";
        return {
          body: { candidate_output: { decision, answer: `${agent} says ${decision}`, confidence: 0.8 } },
        };
      },
    });
    return { runtime, store: suite.fresh() };
  }

  it("runs the six steps verbatim: init, submit --kickoff, worker, watch, result, events", async () => {
    const { runtime, store } = await setup();
    const env = { WATTSWARM_RUNTIME_URL: runtime.url };
    const { dir } = writeSpec(seedSpec());

    // 1. run init (registers rt → WATTSWARM_RUNTIME_URL when it creates the schema)
    const init = await ws(store, ["run", "init"], { env, cwd: dir });
    expectExit(init, 0);
    expect(json(init)).toMatchObject({ ok: true, schema_version: expect.any(Number) });
    expect(init.stderr).toMatch(/^store: /m);
    const execs = json<{ name: string; config: { url?: string } }[]>(await ws(store, ["executors", "list"]));
    expect(execs.find((e) => e.name === "rt")?.config.url).toBe(runtime.url);

    // 2. run submit ./run-spec.json --kickoff
    const submit = await ws(store, ["run", "submit", "./run-spec.json", "--kickoff"], { cwd: dir });
    expectExit(submit, 0);
    expect(json(submit)).toEqual({ ok: true, run_id: "analysis-run-001", kicked_off: true, created: true });

    // 3. run worker --concurrency 16 (in the background)
    const worker = startWorker(store, ["--concurrency", "16"]);

    // 4. run watch
    const watch = await ws(store, ["run", "watch", "analysis-run-001"], { timeoutMs: 20_000 });
    expectExit(watch, 0);
    const view = json(watch);
    expect(view).toMatchObject({
      run_id: "analysis-run-001",
      status: "FINALIZED",
      task_type: "swarm",
      round: 1,
      counts: { ...ZERO_COUNTS, succeeded: 3 },
    });
    expect(view.finished_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // 5. run result
    const resultRes = await ws(store, ["run", "result", "analysis-run-001"]);
    expectExit(resultRes, 0);
    const result = json<AnyJson>(resultRes);
    expect(result).toMatchObject({
      run_id: "analysis-run-001",
      status: "FINALIZED",
      error: null,
      final_decision: "APPROVE",
      null_resolution: null,
      confidence: { votes_for: 2, votes_cast: 3, quorum: 2, quorum_met: true },
      aggregation: { resolution_paths: { decision: "WINNER_PATH" }, null_resolution: null },
    });
    expect(result.conclusions.map((c: { agent_id: string }) => c.agent_id)).toEqual([
      "analyst-a",
      "analyst-b",
      "analyst-c",
    ]);

    // 6. run events (default page 50, ascending seq)
    const eventsRes = await ws(store, ["run", "events", "analysis-run-001"]);
    expectExit(eventsRes, 0);
    const events = json<EventJson[]>(eventsRes);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.event_type).toBe("RUN_CREATED");
    expect(events[1]?.event_type).toBe("RUN_KICKOFF");
    expect(events.at(-1)?.event_type).toBe("RUN_FINALIZED");
    expect(events.at(-1)?.payload).toMatchObject({ status: "FINALIZED", final_decision: "APPROVE" });
    expect(countOf(events, "STEP_LEASED")).toBe(3);
    expect(countOf(events, "STEP_COMPLETED")).toBe(3);
    expect(countOf(events, "RUN_FINALIZED")).toBe(1);
    const limited = json<unknown[]>(await ws(store, ["run", "events", "analysis-run-001", "--limit", "2"]));
    expect(limited).toHaveLength(2);

    // What went over the wire: one /execute per agent with the merged inputs.
    const executes = runtime.requestsTo("/execute");
    expect(executes).toHaveLength(3);
    const a = executes.find((r) => (r.body as AnyJson).inputs.agent_id === "analyst-a")?.body as AnyJson;
    expect(a.inputs).toEqual({
      topic: "quarterly-revenue-review",
      data_url: "https://data.example.com/q3.json",
      instructions: "Identify the top three revenue drivers and any anomalies.",
      prompt: "Focus on geographic trends in the revenue data.",
      agent_id: "analyst-a",
    });
    expect(a.task_id).toBe("run-analysis-run-001-analyst-a-1-1");

    // The worker stops gracefully on SIGTERM.
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill("SIGTERM");
    const exit = await exitWithin(worker, 5_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.stdout()).toBe("");
    expect(logMessages(worker.stderr())).toContain("worker stopped");
  });

  it("kicks off separately, registers rt with `executors add`, and shows the list", async () => {
    const { runtime, store } = await setup();
    expectExit(await ws(store, ["run", "init"]), 0);
    const add = await ws(store, ["executors", "add", "rt", "--url", runtime.url]);
    expectExit(add, 0);
    expect(json(add)).toMatchObject({ name: "rt", kind: "http", config: { url: runtime.url } });

    const { dir } = writeSpec(seedSpec("kick-1"));
    const submit = await ws(store, ["run", "submit", "./run-spec.json"], { cwd: dir });
    expectExit(submit, 0);
    expect(json(submit)).toEqual({ ok: true, run_id: "kick-1", kicked_off: false, created: true });
    const created = json(await ws(store, ["run", "watch", "kick-1", "--once"]));
    expect(created).toEqual(JSON.parse(JSON.stringify(await viewOf(store, "kick-1"))));
    expect(created).toMatchObject({ status: "CREATED", counts: { ...ZERO_COUNTS, created: 3 } });

    // A worker does not touch a CREATED run.
    const idle = await ws(store, ["run", "worker", "--exit-when-idle", "--poll-ms", "50"]);
    expectExit(idle, 0);
    expect(runtime.requestsTo("/execute")).toHaveLength(0);

    const kick = await ws(store, ["run", "kickoff", "kick-1"]);
    expectExit(kick, 0);
    expect(json(kick)).toEqual({ ok: true, run_id: "kick-1", status: "QUEUED", kicked_off: true });
    const again = await ws(store, ["run", "kickoff", "kick-1"]);
    expectExit(again, 0);
    expect(json(again)).toMatchObject({ kicked_off: false, status: "QUEUED" });

    const work = await ws(store, ["run", "worker", "--exit-when-idle", "--poll-ms", "50"]);
    expectExit(work, 0);
    const watch = await ws(store, ["run", "watch", "kick-1"]);
    expectExit(watch, 0);
    expect(json(watch)).toMatchObject({ status: "FINALIZED", counts: { succeeded: 3 } });
    const events = await allEvents(store, "kick-1");
    expect(eventTypes(events).slice(0, 2)).toEqual(["RUN_CREATED", "RUN_KICKOFF"]);
    expect(events[1]?.payload).toMatchObject({ steps_queued: 3 });

    const list = json<{ run_id: string; status: string }[]>(await ws(store, ["run", "list"]));
    expect(list.map((r) => [r.run_id, r.status])).toEqual([["kick-1", "FINALIZED"]]);
  });

  it("cancels a queued run, and retries a failed one until it finalizes", async () => {
    const { runtime: first, store } = await setup();
    let runtime = first;
    expectExit(await ws(store, ["executors", "add", "rt", "--url", runtime.url]), 0);

    // cancel before any worker runs
    const { dir } = writeSpec(seedSpec("cancel-q"));
    expectExit(await ws(store, ["run", "submit", "./run-spec.json", "--kickoff"], { cwd: dir }), 0);
    const cancel = await ws(store, ["run", "cancel", "cancel-q"]);
    expectExit(cancel, 0);
    expect(json(cancel)).toEqual({ ok: true, run_id: "cancel-q", status: "CANCELLED" });
    const again = await ws(store, ["run", "cancel", "cancel-q"]);
    expectExit(again, 0);
    expect(json(again)).toMatchObject({ status: "CANCELLED" });
    const watch = await ws(store, ["run", "watch", "cancel-q"]);
    expectExit(watch, 5);
    expect(json(watch)).toMatchObject({ status: "CANCELLED", counts: { ...ZERO_COUNTS, cancelled: 3 } });
    const cancelled = json<Record<string, unknown>>(await ws(store, ["run", "result", "cancel-q"]));
    expect(cancelled).toMatchObject({
      status: "CANCELLED",
      final_decision: null,
      null_resolution: { primary_kind: "CANCELLED", reason: "RUN_CANCELLED" },
    });
    const cancelEvents = eventTypes(await allEvents(store, "cancel-q"));
    expect(cancelEvents).toEqual([
      "RUN_CREATED",
      "RUN_KICKOFF",
      "RUN_CANCEL_REQUESTED",
      "STEP_CANCELLED",
      "STEP_CANCELLED",
      "STEP_CANCELLED",
      "RUN_FINALIZED",
    ]);
    const retryCancelled = await ws(store, ["run", "retry", "cancel-q"]);
    expectExit(retryCancelled, 4);

    // retry: the runtime fails every call for this run's first round, then answers
    let failing = true;
    await runtime.close();
    runtime = await testRuntime({
      execute: () =>
        failing
          ? { status: 500, body: "overloaded" }
          : { body: { candidate_output: { decision: "APPROVE", confidence: 0.9 } } },
    });
    expectExit(await ws(store, ["executors", "add", "rt", runtime.url]), 0);
    const spec = { ...seedSpec("retry-1"), retry: { max_attempts: 1, backoff_ms: 0 } };
    const { dir: dir2 } = writeSpec(spec);
    expectExit(await ws(store, ["run", "submit", "./run-spec.json", "--kickoff"], { cwd: dir2 }), 0);
    expectExit(await ws(store, ["run", "worker", "--exit-when-idle", "--poll-ms", "50"]), 0);
    const failedWatch = await ws(store, ["run", "watch", "retry-1"]);
    expectExit(failedWatch, 5);
    expect(json(failedWatch)).toMatchObject({ status: "FAILED", counts: { failed: 3 } });
    const failed = json<Record<string, unknown>>(await ws(store, ["run", "result", "retry-1"]));
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toMatch(/^all 3 steps failed; analyst-a: .*500/);

    failing = false;
    const retry = await ws(store, ["run", "retry", "retry-1"]);
    expectExit(retry, 0);
    expect(json(retry)).toEqual({ ok: true, run_id: "retry-1", status: "QUEUED", steps_requeued: 3 });
    expectExit(await ws(store, ["run", "worker", "--exit-when-idle", "--poll-ms", "50"]), 0);
    const ok = await ws(store, ["run", "watch", "retry-1"]);
    expectExit(ok, 0);
    expect(json(ok)).toMatchObject({ status: "FINALIZED", counts: { succeeded: 3 } });
    const result = json<Record<string, unknown>>(await ws(store, ["run", "result", "retry-1"]));
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "APPROVE", error: null });
    const events = await allEvents(store, "retry-1");
    expect(countOf(events, "RUN_RETRY_REQUESTED")).toBe(1);
    expect(countOf(events, "RUN_FINALIZED")).toBe(2);
    expect(events.at(-1)?.payload).toMatchObject({ status: "FINALIZED" });
    // Nothing left to retry on a FINALIZED run.
    expectExit(await ws(store, ["run", "retry", "retry-1"]), 4);
  });
});
