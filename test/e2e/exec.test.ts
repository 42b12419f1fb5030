// `run exec <file>`: submit + kickoff + an in-process worker for that run, result on stdout, exit 0 when
// FINALIZED and 5 when FAILED. Simulated agents only (`sim`, a default executor). Both stores.
import { expect, it } from "vitest";
import {
  type AnyJson,
  allEvents,
  countOf,
  describeStores,
  expectExit,
  json,
  writeSpec,
  ws,
} from "./helpers.js";

function simSpec(runId: string, sim: Record<string, unknown> = {}, agents = 3): Record<string, unknown> {
  return {
    run_id: runId,
    shared_inputs: { question: "A or B?", _sim: { accuracy: 1, truth: "A", ...sim } },
    agents: Array.from({ length: agents }, (_, i) => ({
      agent_id: `agent-${i + 1}`,
      prompt: `agent ${i + 1}`,
      executor: "sim",
    })),
    retry: { max_attempts: 1, backoff_ms: 0 },
  };
}

describeStores("run exec", (suite) => {
  it("runs a swarm of sim agents in one command and prints the result", async () => {
    const store = suite.fresh();
    const { file } = writeSpec(simSpec("exec-ok"));
    const res = await ws(store, ["run", "exec", file, "--concurrency", "4"]);
    expectExit(res, 0);
    const result = json<AnyJson>(res);
    expect(result).toMatchObject({
      run_id: "exec-ok",
      status: "FINALIZED",
      final_decision: "A",
      error: null,
      confidence: { votes_for: 3, votes_cast: 3 },
      counts: { succeeded: 3, failed: 0, queued: 0, leased: 0 },
    });
    expect(result.conclusions).toHaveLength(3);
    // stdout is exactly one JSON document; logs stay on stderr
    expect(res.stdout.trim().split("\n")).toHaveLength(1);

    const events = await allEvents(store, "exec-ok");
    expect(events[0]?.event_type).toBe("RUN_CREATED");
    expect(events[1]?.event_type).toBe("RUN_KICKOFF");
    expect(events.at(-1)?.event_type).toBe("RUN_FINALIZED");
    expect(countOf(events, "STEP_COMPLETED")).toBe(3);
    const stored = json(await ws(store, ["run", "result", "exec-ok"]));
    expect(stored).toEqual(result);

    // An identical exec follows the finished run instead of failing.
    const again = await ws(store, ["run", "exec", file]);
    expectExit(again, 0);
    expect(json(again)).toEqual(result);
    expect(again.stderr).toMatch(/already exists with this spec/);
  });

  it("reads the spec from stdin with -", async () => {
    const store = suite.fresh();
    const spec = simSpec("exec-stdin", { truth: "B", options: ["A", "B"] }, 2);
    const res = await ws(store, ["run", "exec", "-"], { stdin: JSON.stringify(spec) });
    expectExit(res, 0);
    expect(json(res)).toMatchObject({ run_id: "exec-stdin", status: "FINALIZED", final_decision: "B" });
  });

  it("exits 5 with status FAILED and an error summary when every agent fails", async () => {
    const store = suite.fresh();
    const { file } = writeSpec(simSpec("exec-fail", { fail_rate: 1 }));
    const res = await ws(store, ["run", "exec", file]);
    expectExit(res, 5);
    const result = json<AnyJson>(res);
    expect(result).toMatchObject({
      run_id: "exec-fail",
      status: "FAILED",
      final_decision: null,
      counts: { succeeded: 0, failed: 3 },
    });
    expect(result.error).toMatch(/^all 3 steps failed; agent-1: /);
    expect(result.error).not.toContain("\n");
    for (const c of result.conclusions) expect(c).toMatchObject({ status: "FAILED", voted: false });

    const watch = await ws(store, ["run", "watch", "exec-fail"]);
    expectExit(watch, 5);
    expect(json(watch)).toMatchObject({ status: "FAILED" });
    const events = await allEvents(store, "exec-fail");
    expect(countOf(events, "RUN_FINALIZED")).toBe(1);
    expect(events.at(-1)?.payload).toMatchObject({ status: "FAILED", final_decision: null });
    // The default null chain [REEXPLORE, FINALIZE_NULL] gives the failed steps a second round first.
    expect(countOf(events, "RUN_NULL_REEXPLORE_TRIGGERED")).toBe(1);
    expect(result.round).toBe(2);
    const completed = events.filter((e) => e.event_type === "STEP_COMPLETED");
    expect(completed).toHaveLength(6);
    for (const e of completed) expect(e.payload).toMatchObject({ status: "FAILED", error_code: "HTTP_5XX" });
  });

  it("refuses an invalid spec without touching the store (exit 2)", async () => {
    const store = suite.fresh();
    const { file } = writeSpec({ ...simSpec("exec-bad"), agents: [] });
    const res = await ws(store, ["run", "exec", file]);
    expectExit(res, 2);
    expect(res.stderr).toMatch(/^error: .*not a valid run spec/m);
    expect(res.stderr).toMatch(/agents/);
    expectExit(await ws(store, ["run", "result", "exec-bad"]), 3);
  });
});
