// `run worker` as a process: graceful SIGTERM/SIGINT (stop claiming, finish in-flight steps, release the rest
// with STEP_RELEASED), --once, --exit-when-idle, and surviving a lost database connection. Both stores.
import { expect, it } from "vitest";
import type { Reply } from "../support/http-runtime.js";
import {
  allEvents,
  countOf,
  describeStores,
  exitWithin,
  expectExit,
  json,
  logMessages,
  seedSpec,
  startWorker,
  testRuntime,
  until,
  viewOf,
  writeSpec,
  ws,
} from "./helpers.js";

describeStores("run worker process", (suite) => {
  const OK: Reply = { body: { candidate_output: { decision: "APPROVE", confidence: 0.9 } } };

  async function setup(initial: Reply = OK) {
    const state = { reply: initial };
    const runtime = await testRuntime({ execute: () => state.reply });
    const store = suite.fresh();
    expectExit(await ws(store, ["executors", "add", "rt", "--url", runtime.url]), 0);
    const submit = async (runId: string, agents = 3): Promise<void> => {
      const spec = seedSpec(runId);
      const base = (spec.agents as Record<string, unknown>[])[0]!;
      spec.agents = Array.from({ length: agents }, (_, i) => ({ ...base, agent_id: `agent-${i}` }));
      spec.aggregation = { null_policy: { chain: ["FINALIZE_NULL"] } };
      expectExit(await ws(store, ["run", "submit", writeSpec(spec).file, "--kickoff"]), 0);
    };
    const executes = () => runtime.requestsTo("/execute");
    return { state, runtime, store, submit, executes };
  }

  it("SIGTERM: stops claiming and lets in-flight steps finish", async () => {
    const { runtime, store, submit, executes } = await setup({ ...OK, delayMs: 1_500 });
    await submit("term-1", 3);
    const worker = startWorker(store, ["--concurrency", "2"]);
    await runtime.waitFor((rs) => rs.filter((r) => r.path === "/execute").length === 2, 15_000);
    worker.child.kill("SIGTERM");
    const exit = await exitWithin(worker, 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.stderr()).toContain("SIGTERM: finishing in-flight steps");
    // Both calls finished normally; the third step was never claimed.
    expect(executes()).toHaveLength(2);
    for (const r of executes()) expect(r).toMatchObject({ replied: true, clientClosed: false });
    const view = await viewOf(store, "term-1");
    expect(view).toMatchObject({ status: "RUNNING", counts: { succeeded: 2, queued: 1, leased: 0 } });
    const events = await allEvents(store, "term-1");
    expect(countOf(events, "STEP_COMPLETED")).toBe(2);
    expect(countOf(events, "STEP_RELEASED")).toBe(0);
  });

  it("SIGINT past the grace period: aborts and releases unfinished steps (STEP_RELEASED)", async () => {
    const { state, runtime, store, submit } = await setup({ ...OK, delayMs: 60_000 });
    await submit("int-1", 2);
    const worker = startWorker(store, ["--shutdown-grace-ms", "300"]);
    await runtime.waitFor((rs) => rs.filter((r) => r.path === "/execute").length === 2, 15_000);
    worker.child.kill("SIGINT");
    expect(await exitWithin(worker, 5_000)).toEqual({ code: 0, signal: null });
    await runtime.waitFor((rs) => rs.filter((r) => r.clientClosed).length === 2, 2_000);

    const view = await viewOf(store, "int-1");
    expect(view).toMatchObject({ counts: { queued: 2, leased: 0 } });
    const events = await allEvents(store, "int-1");
    const released = events.filter((e) => e.event_type === "STEP_RELEASED");
    expect(released).toHaveLength(2);
    for (const e of released) expect(e.payload).toMatchObject({ run_id: "int-1", attempt_seq: 1 });
    const attempts = await store.open().getAttempts("int-1");
    expect(attempts.map((a) => a.status)).toEqual(["RELEASED", "RELEASED"]);

    // A released step is not counted: the next worker runs it as attempt 1 again (attempt_seq 2).
    state.reply = OK;
    expectExit(await ws(store, ["run", "worker", "--exit-when-idle", "--poll-ms", "50"]), 0);
    const result = json(await ws(store, ["run", "result", "int-1"]));
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "APPROVE" });
    expect((result.conclusions as { attempt: number }[]).map((c) => c.attempt)).toEqual([1, 1]);
  });

  it("--once claims one batch, finishes it and exits; --exit-when-idle drains the store", async () => {
    const { store, submit, executes } = await setup();
    await submit("once-1", 5);
    const once = await ws(store, ["run", "worker", "--once", "--concurrency", "2", "--poll-ms", "50"]);
    expectExit(once, 0);
    expect(once.stdout).toBe("");
    expect(executes()).toHaveLength(2);
    expect(json(await ws(store, ["run", "watch", "once-1", "--once"]))).toMatchObject({
      counts: { succeeded: 2, queued: 3 },
    });

    const idle = await ws(store, ["run", "worker", "--exit-when-idle", "--poll-ms", "50"]);
    expectExit(idle, 0);
    expect(executes()).toHaveLength(5);
    const watch = await ws(store, ["run", "watch", "once-1"]);
    expectExit(watch, 0);
    expect(json(watch)).toMatchObject({ status: "FINALIZED", counts: { succeeded: 5 } });

    // Nothing to do: exits at once.
    const empty = await ws(store, ["run", "worker", "--exit-when-idle"]);
    expectExit(empty, 0);
    expect(logMessages(empty.stderr)).toContain("worker stopped");
  });

  it.skipIf(suite.kind !== "pg")("survives losing its database connections while idle", async () => {
    const { store, submit } = await setup();
    const worker = startWorker(store);
    const pg = suite.pg!;
    const app = new URL(store.pgUrl!).searchParams.get("application_name")!;
    const backends = () =>
      pg.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [
        app,
      ]);
    await until(async () => ((await backends())[0]?.n ?? 0) >= 1, 10_000, "the worker's connections");
    await until(() => logMessages(worker.stderr()).includes("worker started"), 10_000, "worker start");
    const killed = await pg.query<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1",
      [app],
    );
    expect(killed.length).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(worker.child.exitCode).toBeNull();

    await submit("after-loss", 2);
    const watch = await ws(store, ["run", "watch", "after-loss", "--timeout", "15000"]);
    expectExit(watch, 0);
    expect(json(watch)).toMatchObject({ status: "FINALIZED", counts: { succeeded: 2 } });
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill("SIGTERM");
    expect(await exitWithin(worker, 5_000)).toEqual({ code: 0, signal: null });
  });
});
