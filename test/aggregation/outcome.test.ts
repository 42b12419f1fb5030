// SPEC §5.2 outcome of the ballot: winners, weights, ε, quorum, EMPTY; §5.5 votes maps; §6 status/error/warnings.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/aggregation/index.js";
import {
  answer,
  expectFinalize,
  failed,
  makeInput,
  makeSpec,
  type PolicyOverrides,
  step,
  vote,
} from "../support/aggregation.js";

const finalizeOnly: PolicyOverrides["null_policy"] = { chain: ["FINALIZE_NULL"] };

describe("winner", () => {
  it("the majority wins on WINNER_PATH with no trace and no null resolution", () => {
    const d = decide(makeInput(makeSpec(), [vote("a", "A"), vote("b", "a "), vote("c", "B")]));
    expect(d.outcome).toBe("WINNER");
    const r = expectFinalize(d);
    expect(r.status).toBe("FINALIZED");
    expect(r.error).toBeNull();
    expect(r.warnings).toEqual([]);
    expect(r.final_decision).toBe("A");
    expect(r.aggregation.resolution_paths).toEqual({ decision: "WINNER_PATH" });
    expect(r.aggregation.null_resolution).toBeNull();
    expect(r.aggregation.tie_policy.trace).toEqual([]);
    expect(r.aggregation.null_policy.trace).toEqual([]);
    expect(r.aggregation.tally).toEqual([
      { value: "A", agents: 2, weight: 2, eligible: true },
      { value: "B", agents: 1, weight: 1, eligible: true },
    ]);
    expect(r.aggregation.decision_votes).toEqual({ A: 2, B: 1 });
    expect(r.aggregation).toMatchObject({ mode: "all_done", vote_on: "decision", vote_weight: "spec" });
    expect(r.aggregation.reputation_units).toBeNull();
    expect(r.aggregation.early_stop).toBeNull();
  });

  it("reports the kernel's early_stop accounting as given", () => {
    const spec = makeSpec({ aggregation: { mode: "early_stop" } });
    const report = { stopped: true, steps_saved: 1, calls_aborted: 1 };
    const input = makeInput(spec, [vote("a", "A"), vote("b", "A"), step("c", "CANCELLED")], {
      early_stop: report,
    });
    const r = expectFinalize(decide(input));
    expect(r.aggregation.early_stop).toEqual(report);
    expect(r.aggregation.mode).toBe("early_stop");
    expect(r.final_decision).toBe("A");
  });

  it("a single vote wins without a quorum", () => {
    const r = expectFinalize(decide(makeInput(makeSpec(), [vote("a", "solo"), failed("b"), failed("c")])));
    expect(r.final_decision).toBe("SOLO");
    expect(r.status).toBe("FINALIZED");
  });

  it("answer_votes are reported too when voting on decisions", () => {
    const r = expectFinalize(
      decide(
        makeInput(makeSpec(), [
          vote("a", "A", { answer: "Good" }),
          vote("b", "A", { answer: " good" }),
          vote("c", "B", { answer: "bad" }),
        ]),
      ),
    );
    expect(r.aggregation.answer_votes).toEqual({ GOOD: 2, BAD: 1 });
    expect(r.aggregation.decision_votes).toEqual({ A: 2, B: 1 });
  });
});

describe("weights (§5.2)", () => {
  it("an agent of weight 2 outweighs two agents of weight 0.5", () => {
    const spec = makeSpec({
      agents: [
        { agent_id: "a", weight: 2 },
        { agent_id: "b", weight: 0.5 },
        { agent_id: "c", weight: 0.5 },
      ],
    });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "A"), vote("b", "B"), vote("c", "B")])));
    expect(r.final_decision).toBe("A");
    expect(r.aggregation.tally).toEqual([
      { value: "A", agents: 1, weight: 2, eligible: true },
      { value: "B", agents: 2, weight: 1, eligible: true },
    ]);
    expect(r.conclusions.map((c) => c.weight)).toEqual([2, 0.5, 0.5]);
    expect(r.aggregation.resolution_paths).toEqual({ decision: "WINNER_PATH" });
  });

  it("weight 1 against two weights 0.5 is a tie", () => {
    const spec = makeSpec({
      agents: ["a", { agent_id: "b", weight: 0.5 }, { agent_id: "c", weight: 0.5 }],
      aggregation: { tie_policy: { chain: [] } },
    });
    const d = decide(makeInput(spec, [vote("a", "A"), vote("b", "B"), vote("c", "B")]));
    expect(d.outcome).toBe("TIE");
    expect(expectFinalize(d).aggregation.null_resolution).toEqual({
      primary_kind: "TIE_UNRESOLVED",
      reason: "TIE_CHAIN_EXHAUSTED",
    });
  });

  it("ε: 0.1 + 0.2 (summed in step order) ties with 0.3", () => {
    const spec = makeSpec({
      agents: [
        { agent_id: "a", weight: 0.1 },
        { agent_id: "b", weight: 0.2 },
        { agent_id: "c", weight: 0.3 },
      ],
    });
    const d = decide(makeInput(spec, [vote("c", "A"), vote("b", "B"), vote("a", "B")]));
    expect(d.outcome).toBe("TIE");
    const r = expectFinalize(d);
    expect(r.aggregation.tie_policy.trace).toEqual([
      {
        bucket: "decision",
        resolver: "STOCHASTIC",
        outcome: "RESOLVED",
        candidates: ["A", "B"],
        winner: "A",
        seed: "analysis-run-001:decision:A|B",
        index: 0,
      },
    ]);
    expect(r.aggregation.resolution_paths).toEqual({ decision: "TIE_PATH" });
  });

  it("ε does not swallow a real difference: 0.1 + 0.2 loses to 0.31", () => {
    const spec = makeSpec({
      agents: [
        { agent_id: "a", weight: 0.1 },
        { agent_id: "b", weight: 0.2 },
        { agent_id: "c", weight: 0.31 },
      ],
    });
    const d = decide(makeInput(spec, [vote("a", "B"), vote("b", "B"), vote("c", "A")]));
    expect(d.outcome).toBe("WINNER");
    expect(expectFinalize(d).final_decision).toBe("A");
  });

  it("vote_weight confidence lets one confident vote outweigh a majority", () => {
    const spec = makeSpec({ aggregation: { vote_weight: "confidence" } });
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          vote("a", "A", { confidence: 0.75 }),
          vote("b", "B", { confidence: 0.25 }),
          vote("c", "B", { confidence: 0.25 }),
        ]),
      ),
    );
    expect(r.final_decision).toBe("A");
    expect(r.conclusions.map((c) => c.weight)).toEqual([0.75, 0.25, 0.25]);
    expect(r.aggregation.tally).toEqual([
      { value: "A", agents: 1, weight: 0.75, eligible: true },
      { value: "B", agents: 2, weight: 0.5, eligible: true },
    ]);
    expect(r.aggregation.vote_weight).toBe("confidence");
  });

  it("vote_weight confidence multiplies the agent weight", () => {
    const spec = makeSpec({
      agents: [{ agent_id: "a", weight: 2 }, "b"],
      aggregation: { vote_weight: "confidence" },
    });
    const r = expectFinalize(
      decide(makeInput(spec, [vote("a", "A", { confidence: 0.25 }), vote("b", "B", { confidence: 0.75 })])),
    );
    expect(r.conclusions.map((c) => c.weight)).toEqual([0.5, 0.75]);
    expect(r.final_decision).toBe("B");
  });

  it("vote_weight reputation uses the spec map (units/1000 × weight) and reports it", () => {
    const spec = makeSpec({
      agents: ["a", { agent_id: "b", weight: 2 }, "c"],
      aggregation: {
        vote_weight: "reputation",
        tie_policy: { reputation_weighted: { agent_reputation_units: { a: 900, b: 200, c: 250 } } },
      },
    });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "A"), vote("b", "B"), vote("c", "B")])));
    expect(r.conclusions.map((c) => c.weight)).toEqual([0.9, 0.4, 0.25]);
    expect(r.final_decision).toBe("A");
    expect(r.aggregation.reputation_units).toEqual({ a: 900, b: 200, c: 250 });
  });

  it("vote_weight reputation: agents missing from the spec map weigh 0 under SKIP, 1 unit under UNIFORM", () => {
    const mk = (missing: "SKIP" | "UNIFORM") =>
      makeSpec({
        aggregation: {
          vote_weight: "reputation",
          tie_policy: {
            reputation_weighted: { agent_reputation_units: { a: 800 }, missing_reputation: missing },
          },
        },
      });
    const steps = [vote("a", "A"), vote("b", "B"), vote("c", "B")];
    const skip = expectFinalize(decide(makeInput(mk("SKIP"), steps)));
    expect(skip.conclusions.map((c) => c.weight)).toEqual([0.8, 0, 0]);
    // SKIP agents have no units: reported as 0 or left out (both readings of "the units map used").
    expect(skip.aggregation.reputation_units).toMatchObject({ a: 800 });
    expect([skip.aggregation.reputation_units?.b ?? 0, skip.aggregation.reputation_units?.c ?? 0]).toEqual([
      0, 0,
    ]);
    expect(skip.final_decision).toBe("A");
    const uniform = expectFinalize(decide(makeInput(mk("UNIFORM"), steps)));
    expect(uniform.conclusions.map((c) => c.weight)).toEqual([0.8, 0.001, 0.001]);
    expect(uniform.aggregation.reputation_units).toEqual({ a: 800, b: 1, c: 1 });
  });

  it("vote_weight reputation without a spec map uses the store snapshot (missing agents: 500)", () => {
    const spec = makeSpec({ aggregation: { vote_weight: "reputation" } });
    const input = makeInput(spec, [vote("a", "A"), vote("b", "B"), failed("c")], {
      reputation_units: { a: 100, zed: 1 },
    });
    const r = expectFinalize(decide(input));
    expect(r.conclusions.map((c) => c.weight)).toEqual([0.1, 0.5, 0]);
    expect(r.final_decision).toBe("B");
    expect(r.aggregation.reputation_units).toEqual({ a: 100, b: 500, c: 500 });
  });

  it("vote_weight reputation without any units source: everyone has 500", () => {
    const spec = makeSpec({ aggregation: { vote_weight: "reputation" } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "A"), vote("b", "A"), vote("c", "B")])));
    expect(r.conclusions.map((c) => c.weight)).toEqual([0.5, 0.5, 0.5]);
    expect(r.aggregation.reputation_units).toEqual({ a: 500, b: 500, c: 500 });
    expect(r.final_decision).toBe("A");
  });
});

describe("quorum (§5.2)", () => {
  it("quorum = number of agents is met by a unanimous panel", () => {
    const spec = makeSpec({ aggregation: { quorum: 3 } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "A"), vote("b", "A"), vote("c", "A")])));
    expect(r.final_decision).toBe("A");
    expect(r.confidence).toMatchObject({ quorum: 3, quorum_met: true, votes_for: 3 });
  });

  it("quorum = number of agents with a 2–1 split is QUORUM_NULL", () => {
    const spec = makeSpec({ aggregation: { quorum: 3, null_policy: finalizeOnly } });
    const d = decide(makeInput(spec, [vote("a", "A"), vote("b", "A"), vote("c", "B")]));
    expect(d.outcome).toBe("QUORUM_NULL");
    const r = expectFinalize(d);
    expect(r.final_decision).toBeNull();
    expect(r.final_answer).toBeNull();
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "QUORUM_NULL",
      reason: "VALID_VOTES_BELOW_QUORUM",
    });
    expect(r.aggregation.resolution_paths).toEqual({ decision: "NULL_PATH" });
    expect(r.aggregation.tally.map((t) => t.eligible)).toEqual([false, false]);
    expect(r.confidence.quorum_met).toBe(false);
  });

  it("an ineligible heavier value does not beat an eligible lighter one", () => {
    const spec = makeSpec({ agents: [{ agent_id: "a", weight: 5 }, "b", "c"], aggregation: { quorum: 2 } });
    const d = decide(makeInput(spec, [vote("a", "B"), vote("b", "A"), vote("c", "A")]));
    expect(d.outcome).toBe("WINNER");
    const r = expectFinalize(d);
    expect(r.final_decision).toBe("A");
    expect(r.aggregation.tally).toEqual([
      { value: "B", agents: 1, weight: 5, eligible: false },
      { value: "A", agents: 2, weight: 2, eligible: true },
    ]);
  });

  it("a tie is judged among eligible values only", () => {
    const spec = makeSpec({
      agents: ["a", "b", "c", "d", { agent_id: "e", weight: 3 }],
      aggregation: { quorum: 2, tie_policy: { chain: [] } },
    });
    const d = decide(
      makeInput(spec, [vote("a", "A"), vote("b", "A"), vote("c", "B"), vote("d", "B"), vote("e", "C")]),
    );
    expect(d.outcome).toBe("TIE");
  });

  it("quorum null: a lone vote among failures wins with quorum_met true", () => {
    const r = expectFinalize(decide(makeInput(makeSpec(), [failed("a"), vote("b", "Z"), failed("c")])));
    expect(r.confidence).toMatchObject({ quorum: null, quorum_met: true, votes_for: 1, votes_cast: 1 });
  });
});

describe("EMPTY (§5.2.1)", () => {
  it("all SUCCEEDED, no ballot → NO_VALID_DECISION", () => {
    const spec = makeSpec({ aggregation: { null_policy: finalizeOnly } });
    const d = decide(makeInput(spec, [vote("a", ""), vote("b", null), vote("c", {})]));
    expect(d.outcome).toBe("EMPTY");
    const r = expectFinalize(d);
    expect(r.status).toBe("FINALIZED");
    expect(r.aggregation.null_resolution).toEqual({ primary_kind: "EMPTY", reason: "NO_VALID_DECISION" });
    expect(r.aggregation.resolution_paths).toEqual({ decision: "NULL_PATH" });
    expect(r.aggregation.tally).toEqual([]);
    expect(r.aggregation.decision_votes).toEqual({});
  });

  it("a failed step and no ballot → EXECUTION_INCOMPLETE_OR_FAILED", () => {
    const spec = makeSpec({ aggregation: { null_policy: finalizeOnly } });
    const d = decide(makeInput(spec, [failed("a"), vote("b", "  "), vote("c", [])]));
    expect(d.outcome).toBe("EMPTY");
    expect(expectFinalize(d).aggregation.null_resolution).toEqual({
      primary_kind: "EMPTY",
      reason: "EXECUTION_INCOMPLETE_OR_FAILED",
    });
  });

  it("a CANCELLED step counts as not SUCCEEDED → EXECUTION_INCOMPLETE_OR_FAILED", () => {
    const spec = makeSpec({ aggregation: { null_policy: finalizeOnly } });
    const d = decide(makeInput(spec, [vote("a", ""), vote("b", ""), step("c", "CANCELLED")]));
    expect(expectFinalize(d).aggregation.null_resolution).toEqual({
      primary_kind: "EMPTY",
      reason: "EXECUTION_INCOMPLETE_OR_FAILED",
    });
  });
});

describe("status and error (§6)", () => {
  it("all steps failed → FAILED with the first failing agent in step order", () => {
    const spec = makeSpec({ aggregation: { null_policy: finalizeOnly } });
    const input = makeInput(spec, [
      failed("c", "exit 3"),
      failed("b", "timeout"),
      failed("a", "runtime /execute status: 500"),
    ]);
    const r = expectFinalize(decide(input));
    expect(r.status).toBe("FAILED");
    expect(r.error).toBe("all 3 steps failed; a: runtime /execute status: 500");
    expect(r.final_decision).toBeNull();
    expect(r.warnings).toEqual([]);
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "EMPTY",
      reason: "EXECUTION_INCOMPLETE_OR_FAILED",
    });
  });

  it("one SUCCEEDED step without a vote is enough for FINALIZED", () => {
    const spec = makeSpec({ aggregation: { null_policy: finalizeOnly } });
    const r = expectFinalize(decide(makeInput(spec, [failed("a"), failed("b"), vote("c", "")])));
    expect(r.status).toBe("FINALIZED");
    expect(r.error).toBeNull();
  });
});

describe("warnings (§5.5)", () => {
  it("no SUCCEEDED output has 'decision' → suggest vote_on answer", () => {
    const spec = makeSpec({ aggregation: { null_policy: finalizeOnly } });
    const r = expectFinalize(
      decide(
        makeInput(spec, [answer("a", "x"), answer("b", "y"), step("c", "SUCCEEDED", { decision: null })]),
      ),
    );
    expect(r.warnings).toEqual(["no executor returned 'decision'; consider vote_on: answer"]);
  });

  it("vote_on answer with no 'answer' anywhere", () => {
    const spec = makeSpec({ aggregation: { vote_on: "answer", null_policy: finalizeOnly } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "A"), vote("b", "B"), failed("c")])));
    expect(r.warnings).toEqual(["no executor returned 'answer'"]);
  });

  it("no warning when one output has the field", () => {
    const spec = makeSpec({ aggregation: { null_policy: finalizeOnly } });
    const r = expectFinalize(decide(makeInput(spec, [answer("a", "x"), vote("b", ""), failed("c")])));
    expect(r.warnings).toEqual([]);
  });
});
