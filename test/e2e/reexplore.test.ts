// Re-explore rounds seen from outside: a 2-agent tie with tie chain [REEXPLORE, STOCHASTIC] starts round 2,
// the runtime receives `_aggregation_signal` in round 2, and events and attempts show both rounds. Both stores.
import { expect, it } from "vitest";
import {
  type AnyJson,
  allEvents,
  countOf,
  describeStores,
  eventTypes,
  expectExit,
  json,
  testRuntime,
  writeSpec,
  ws,
} from "./helpers.js";

interface ExecBody {
  task_id: string;
  inputs: { agent_id: string; _aggregation_signal?: Record<string, unknown> };
}

describeStores("re-explore rounds", (suite) => {
  async function setup() {
    // Round 1: a splits A/B (a tie). Round 2 (signal present): both say A.
    const runtime = await testRuntime({
      execute: (body) => {
        const { inputs } = body as ExecBody;
        const decision = inputs._aggregation_signal ? "A" : inputs.agent_id === "agent-a" ? "A" : "B";
        return { body: { candidate_output: { decision, answer: decision, confidence: 0.6 } } };
      },
    });
    const store = suite.fresh();
    expectExit(await ws(store, ["executors", "add", "rt", "--url", runtime.url]), 0);
    return { runtime, store };
  }

  it("re-explores a tie once, then finalizes on the second round", async () => {
    const { runtime, store } = await setup();
    const spec = {
      run_id: "tie-1",
      shared_inputs: { topic: "x" },
      agents: [
        { agent_id: "agent-a", prompt: "a", executor: "rt" },
        { agent_id: "agent-b", prompt: "b", executor: "rt" },
      ],
      aggregation: { tie_policy: { chain: ["REEXPLORE", "STOCHASTIC"] } },
    };
    const { file } = writeSpec(spec);
    expectExit(await ws(store, ["run", "submit", file, "--kickoff"]), 0);
    expectExit(
      await ws(store, ["run", "worker", "--exit-when-idle", "--poll-ms", "50"], { timeoutMs: 20_000 }),
      0,
    );

    const watch = await ws(store, ["run", "watch", "tie-1", "--once"]);
    expectExit(watch, 0);
    expect(json(watch)).toMatchObject({ status: "FINALIZED", round: 2, counts: { succeeded: 2 } });

    // The wire: two calls per agent; only round 2 carries the signal.
    const calls = runtime.requestsTo("/execute").map((r) => r.body as ExecBody);
    expect(calls).toHaveLength(4);
    const round1 = calls.filter((c) => c.task_id.endsWith("-1-1"));
    const round2 = calls.filter((c) => c.task_id.endsWith("-2-2"));
    expect(round1).toHaveLength(2);
    expect(round2).toHaveLength(2);
    for (const c of round1) expect(c.inputs._aggregation_signal).toBeUndefined();
    for (const c of round2) {
      expect(c.inputs._aggregation_signal).toMatchObject({
        type: "NEED_MORE_EVIDENCE",
        path: "TIE_PATH",
        iteration: 1,
      });
    }

    // Events: round 1 completions, the re-explore, round 2 completions, one RUN_FINALIZED.
    const events = await allEvents(store, "tie-1");
    const types = eventTypes(events);
    expect(countOf(events, "RUN_TIE_REEXPLORE_TRIGGERED")).toBe(1);
    expect(countOf(events, "RUN_FINALIZED")).toBe(1);
    const reexploreAt = types.indexOf("RUN_TIE_REEXPLORE_TRIGGERED");
    expect(types.slice(0, reexploreAt).filter((t) => t === "STEP_COMPLETED")).toHaveLength(2);
    expect(types.slice(reexploreAt).filter((t) => t === "STEP_COMPLETED")).toHaveLength(2);
    expect(events[reexploreAt]?.payload).toMatchObject({
      run_id: "tie-1",
      chain: "TIE",
      iteration: 1,
      signal: { type: "NEED_MORE_EVIDENCE" },
    });
    const laterCompletions = events.slice(reexploreAt).filter((e) => e.event_type === "STEP_COMPLETED");
    for (const e of laterCompletions)
      expect(e.payload).toMatchObject({ round: 2, attempt: 1, attempt_seq: 2 });
    expect(types.at(-1)).toBe("RUN_FINALIZED");

    // Result: round 2 decided A; the trace shows the re-explore.
    const result = json<AnyJson>(await ws(store, ["run", "result", "tie-1"]));
    expect(result).toMatchObject({
      status: "FINALIZED",
      round: 2,
      final_decision: "A",
      aggregation: { resolution_paths: { decision: "WINNER_PATH" } },
    });
    expect(result.aggregation.tie_policy.reexplore).toMatchObject({ iteration: 1 });
    for (const c of result.conclusions) expect(c).toMatchObject({ round: 2, decision: "A" });

    // Attempts: every round kept, attempt_seq counts across rounds.
    const attempts = await store.open().getAttempts("tie-1");
    const rows = attempts.map((a) => [a.round, a.attempt, a.attempt_seq, a.status]).sort();
    expect(rows).toEqual([
      [1, 1, 1, "SUCCEEDED"],
      [1, 1, 1, "SUCCEEDED"],
      [2, 1, 2, "SUCCEEDED"],
      [2, 1, 2, "SUCCEEDED"],
    ]);
  });

  it("falls through to STOCHASTIC when max_tie_iterations is 0", async () => {
    const { store } = await setup();
    const spec = {
      run_id: "tie-2",
      shared_inputs: {},
      agents: [
        { agent_id: "agent-a", prompt: "a", executor: "rt" },
        { agent_id: "agent-b", prompt: "b", executor: "rt" },
      ],
      aggregation: {
        tie_policy: { chain: ["REEXPLORE", "STOCHASTIC"], reexplore: { max_tie_iterations: 0 } },
      },
    };
    const { file } = writeSpec(spec);
    const res = await ws(store, ["run", "exec", file]);
    expectExit(res, 0);
    const result = json<AnyJson>(res);
    expect(result).toMatchObject({ round: 1, aggregation: { resolution_paths: { decision: "TIE_PATH" } } });
    expect(["A", "B"]).toContain(result.final_decision);
    const trace = result.aggregation.tie_policy.trace.map((t: { resolver: string; outcome: string }) => [
      t.resolver,
      t.outcome,
    ]);
    expect(trace).toEqual([
      ["REEXPLORE", "EXHAUSTED"],
      ["STOCHASTIC", "RESOLVED"],
    ]);
    expect(countOf(await allEvents(store, "tie-2"), "RUN_TIE_REEXPLORE_TRIGGERED")).toBe(0);
  });
});
