// SPEC §5.3 REEXPLORE position, §5.4 guards (iterations, no_new_evidence_rounds, per-chain counters) and the
// require_new_evidence filter.
import { describe, expect, it } from "vitest";
import { decide, type ReexploreRecord } from "../../src/aggregation/index.js";
import type { JsonValue, RunSpec } from "../../src/spec/types.js";
import {
  expectFinalize,
  expectReexplore,
  failed,
  makeInput,
  makeSpec,
  type NullOverrides,
  type StepDraft,
  step,
  type TieOverrides,
  vote,
} from "../support/aggregation.js";

/** A vote carrying evidence digests in its output. */
const ev = (agent: string, decision: JsonValue, digests: string[], extra = {}) =>
  vote(agent, decision, { evidence_digests: digests, ...extra });

const tieSpec = (tie: TieOverrides, nul: NullOverrides = {}) =>
  makeSpec({ agents: ["a", "b"], aggregation: { tie_policy: tie, null_policy: nul } });

const prior = { a: ["d1"], b: ["d2"] };
const oldTie = [ev("a", "X", ["d1"]), ev("b", "Y", ["d2"])];
const newTie = [ev("a", "X", ["d1", "d3"]), ev("b", "Y", ["d4"])];
const tieRec = (agents: string[]): ReexploreRecord => ({ chain: "TIE", new_evidence_agents: agents });
const nullRec = (agents: string[]): ReexploreRecord => ({ chain: "NULL", new_evidence_agents: agents });
const decide2 = (spec: RunSpec, steps: StepDraft[]) => decide(makeInput(spec, steps));
const trace = (t: { resolver: string | null; outcome: string }[]) => t.map((e) => [e.resolver, e.outcome]);

describe("REEXPLORE position in the tie chain", () => {
  it("first: [REEXPLORE, STOCHASTIC] re-explores in round 1", () => {
    const x = expectReexplore(decide2(tieSpec({ chain: ["REEXPLORE", "STOCHASTIC"] }), oldTie));
    expect(x).toMatchObject({
      chain: "TIE",
      iteration: 1,
      new_evidence_agents: ["a", "b"],
      no_new_rounds: 0,
    });
  });

  it("first, exhausted in round 2: STOCHASTIC resolves after the EXHAUSTED entry", () => {
    const spec = tieSpec({ chain: ["REEXPLORE", "STOCHASTIC"] });
    const r = expectFinalize(
      decide(makeInput(spec, newTie, { reexplores: [tieRec(["a", "b"])], prior_evidence: prior })),
    );
    expect(trace(r.aggregation.tie_policy.trace)).toEqual([
      ["REEXPLORE", "EXHAUSTED"],
      ["STOCHASTIC", "RESOLVED"],
    ]);
    expect(r.final_decision).toBe("Y");
    expect(r.aggregation.tie_policy.reexplore).toMatchObject({ iteration: 1, allow_reexplore: false });
  });

  it("middle: a resolver before it wins → no re-explore", () => {
    const spec = tieSpec({ chain: ["CONFIDENCE_WEIGHTED", "REEXPLORE", "STOCHASTIC"] });
    const r = expectFinalize(
      decide2(spec, [vote("a", "X", { confidence: 0.9 }), vote("b", "Y", { confidence: 0.5 })]),
    );
    expect(r.final_decision).toBe("X");
    expect(trace(r.aggregation.tie_policy.trace)).toEqual([["CONFIDENCE_WEIGHTED", "RESOLVED"]]);
  });

  it("middle: reached after an unresolved resolver → re-explore", () => {
    const spec = tieSpec({ chain: ["CONFIDENCE_WEIGHTED", "REEXPLORE", "STOCHASTIC"] });
    const x = expectReexplore(decide2(spec, oldTie));
    expect(trace(x.result.aggregation.tie_policy.trace)).toEqual([
      ["CONFIDENCE_WEIGHTED", "UNRESOLVED"],
      ["REEXPLORE", "REEXPLORE_STARTED"],
    ]);
  });

  it("last, exhausted: the tie stays unresolved", () => {
    const spec = tieSpec({ chain: ["CONFIDENCE_WEIGHTED", "REEXPLORE"] });
    const r = expectFinalize(
      decide(makeInput(spec, newTie, { reexplores: [tieRec(["a", "b"])], prior_evidence: prior })),
    );
    expect(trace(r.aggregation.tie_policy.trace)).toEqual([
      ["CONFIDENCE_WEIGHTED", "UNRESOLVED"],
      ["REEXPLORE", "EXHAUSTED"],
    ]);
    expect(r.final_decision).toBeNull();
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "TIE_UNRESOLVED",
      reason: "TIE_CHAIN_EXHAUSTED",
    });
  });

  it("[STOCHASTIC] never re-explores", () => {
    const d = decide2(tieSpec({ chain: ["STOCHASTIC"] }), oldTie);
    expect(d.action).toBe("FINALIZE");
  });
});

describe("guard: max_tie_iterations", () => {
  const spec = tieSpec({ chain: ["REEXPLORE", "STOCHASTIC"], reexplore: { max_tie_iterations: 2 } });

  it("round 2 (1 of 2 used, new evidence) re-explores as iteration 2", () => {
    const x = expectReexplore(
      decide(makeInput(spec, newTie, { reexplores: [tieRec(["a", "b"])], prior_evidence: prior })),
    );
    expect(x).toMatchObject({
      chain: "TIE",
      iteration: 2,
      new_evidence_agents: ["a", "b"],
      no_new_rounds: 0,
    });
    expect(x.signal.iteration).toBe(2);
  });

  it("round 3 (2 of 2 used) is exhausted", () => {
    const input = makeInput(spec, [ev("a", "X", ["d5"]), ev("b", "Y", ["d6"])], {
      reexplores: [tieRec(["a", "b"]), tieRec(["a", "b"])],
      prior_evidence: { a: ["d1", "d3"], b: ["d2", "d4"] },
    });
    const r = expectFinalize(decide(input));
    expect(trace(r.aggregation.tie_policy.trace)).toEqual([
      ["REEXPLORE", "EXHAUSTED"],
      ["STOCHASTIC", "RESOLVED"],
    ]);
    expect(r.aggregation.tie_policy.reexplore).toMatchObject({
      iteration: 2,
      max_tie_iterations: 2,
      allow_reexplore: false,
    });
  });
});

describe("guard: no_new_evidence_rounds", () => {
  const mk = (rounds: number) =>
    tieSpec({
      chain: ["REEXPLORE", "STOCHASTIC"],
      reexplore: { max_tie_iterations: 5, no_new_evidence_rounds: rounds },
    });

  it("0: a round without new evidence exhausts the chain", () => {
    const r = expectFinalize(
      decide(makeInput(mk(0), oldTie, { reexplores: [tieRec(["a", "b"])], prior_evidence: prior })),
    );
    expect(trace(r.aggregation.tie_policy.trace)[0]).toEqual(["REEXPLORE", "EXHAUSTED"]);
    expect(r.aggregation.tie_policy.reexplore).toMatchObject({
      iteration: 1,
      no_new_rounds: 1,
      allow_reexplore: false,
    });
  });

  it("0: a round with new evidence keeps it going", () => {
    const x = expectReexplore(
      decide(makeInput(mk(0), newTie, { reexplores: [tieRec(["a", "b"])], prior_evidence: prior })),
    );
    expect(x).toMatchObject({ iteration: 2, no_new_rounds: 0, new_evidence_agents: ["a", "b"] });
  });

  it("1: one round without new evidence is tolerated", () => {
    const x = expectReexplore(
      decide(makeInput(mk(1), oldTie, { reexplores: [tieRec(["a", "b"])], prior_evidence: prior })),
    );
    expect(x).toMatchObject({ chain: "TIE", iteration: 2, no_new_rounds: 1, new_evidence_agents: [] });
  });

  it("1: a second one in a row (from the history) exhausts it", () => {
    const input = makeInput(mk(1), oldTie, {
      reexplores: [tieRec(["a", "b"]), tieRec([])],
      prior_evidence: prior,
    });
    const r = expectFinalize(decide(input));
    expect(trace(r.aggregation.tie_policy.trace)[0]).toEqual(["REEXPLORE", "EXHAUSTED"]);
    expect(r.aggregation.tie_policy.reexplore).toMatchObject({
      iteration: 2,
      no_new_rounds: 2,
      allow_reexplore: false,
    });
  });

  it("1: new evidence after a dry round resets the counter", () => {
    const input = makeInput(mk(1), newTie, {
      reexplores: [tieRec(["a", "b"]), tieRec([])],
      prior_evidence: prior,
    });
    const x = expectReexplore(decide(input));
    expect(x).toMatchObject({
      chain: "TIE",
      iteration: 3,
      no_new_rounds: 0,
      new_evidence_agents: ["a", "b"],
    });
  });
});

describe("each chain keeps its own counters", () => {
  it("NULL re-explores do not use up the tie chain (iterations nor dry rounds)", () => {
    const spec = tieSpec(
      { chain: ["REEXPLORE", "STOCHASTIC"], reexplore: { max_tie_iterations: 1, no_new_evidence_rounds: 0 } },
      { reexplore: { max_tie_iterations: 2 } },
    );
    const input = makeInput(spec, oldTie, { reexplores: [nullRec([]), nullRec([])], prior_evidence: prior });
    const x = expectReexplore(decide(input));
    expect(x).toMatchObject({ chain: "TIE", iteration: 1, no_new_rounds: 0 });
    expect(x.signal).toMatchObject({ path: "TIE_PATH", iteration: 1 });
  });

  it("TIE re-explores do not use up the null chain", () => {
    const spec = tieSpec(
      { chain: ["REEXPLORE", "STOCHASTIC"], reexplore: { max_tie_iterations: 2 } },
      { reexplore: { max_tie_iterations: 1, no_new_evidence_rounds: 0 } },
    );
    const input = makeInput(spec, [failed("a"), failed("b")], {
      reexplores: [tieRec(["a", "b"]), tieRec([])],
      prior_evidence: prior,
    });
    const x = expectReexplore(decide(input));
    expect(x).toMatchObject({ chain: "NULL", iteration: 1, no_new_rounds: 0, new_evidence_agents: [] });
    expect(x.signal).toMatchObject({ type: "NEED_STEP_RECOVERY", path: "NULL_PATH", iteration: 1 });
    expect(x.result.aggregation.tie_policy.reexplore).toMatchObject({ iteration: 2 });
    expect(x.result.aggregation.null_policy.reexplore).toMatchObject({ iteration: 0 });
  });

  it("the tie chain is exhausted by its own record even after a NULL round", () => {
    const spec = tieSpec({ chain: ["REEXPLORE", "STOCHASTIC"] }, { reexplore: { max_tie_iterations: 3 } });
    const input = makeInput(spec, newTie, {
      reexplores: [tieRec(["a", "b"]), nullRec([])],
      prior_evidence: prior,
    });
    const r = expectFinalize(decide(input));
    expect(trace(r.aggregation.tie_policy.trace)).toEqual([
      ["REEXPLORE", "EXHAUSTED"],
      ["STOCHASTIC", "RESOLVED"],
    ]);
  });
});

describe("require_new_evidence filter (§5.4)", () => {
  const three = (req: boolean, nullReq = true) =>
    makeSpec({
      aggregation: {
        tie_policy: { reexplore: { require_new_evidence: req } },
        null_policy: { reexplore: { require_new_evidence: nullReq } },
      },
    });
  const prior3 = { a: ["d1"], b: ["d2"], c: ["d3"] };
  const round2 = [
    step("a", "SUCCEEDED", { evidence_refs: [{ digest: "d9" }], candidate_output: { decision: "X" } }),
    ev("b", "Y", ["d2"]),
    ev("c", "Y", ["d3"]),
  ];
  const afterTie = { reexplores: [tieRec(["a", "b", "c"])], prior_evidence: prior3 };

  it("from round 2 only voters with new evidence count", () => {
    const r = expectFinalize(decide(makeInput(three(true), round2, afterTie)));
    expect(r.final_decision).toBe("X");
    expect(r.conclusions.map((c) => [c.agent_id, c.voted, c.weight])).toEqual([
      ["a", true, 1],
      ["b", false, 0],
      ["c", false, 0],
    ]);
    expect(r.aggregation.decision_votes).toEqual({ X: 1 });
    expect(r.aggregation.tally).toEqual([{ value: "X", agents: 1, weight: 1, eligible: true }]);
    expect(r.confidence).toMatchObject({ votes_for: 1, votes_cast: 1 });
    expect(r.conclusions[0]?.evidence_digests).toEqual(["d9"]);
  });

  it("off for the chain that started the round → everyone counts", () => {
    const r = expectFinalize(decide(makeInput(three(false), round2, afterTie)));
    expect(r.final_decision).toBe("Y");
    expect(r.aggregation.decision_votes).toEqual({ X: 1, Y: 2 });
  });

  it("it is the starting chain's flag that matters (NULL started the round, its flag is off)", () => {
    const input = makeInput(three(true, false), round2, {
      reexplores: [nullRec([])],
      prior_evidence: prior3,
    });
    expect(expectFinalize(decide(input)).final_decision).toBe("Y");
  });

  it("when no voter has new evidence, all voters count", () => {
    const input = makeInput(
      three(true),
      [ev("a", "X", ["d1"]), ev("b", "Y", ["d2"]), ev("c", "Y", ["d3"])],
      afterTie,
    );
    const r = expectFinalize(decide(input));
    expect(r.final_decision).toBe("Y");
    expect(r.conclusions.map((c) => c.voted)).toEqual([true, true, true]);
  });

  it("another agent's earlier digest is new evidence for this agent", () => {
    const input = makeInput(
      three(true),
      [ev("a", "X", ["d1"]), ev("b", "Y", ["d1"]), ev("c", "Y", ["d3"])],
      afterTie,
    );
    const r = expectFinalize(decide(input));
    expect(r.conclusions.map((c) => c.voted)).toEqual([false, true, false]);
    expect(r.final_decision).toBe("Y");
  });

  it("round 1 never filters", () => {
    const r = expectFinalize(decide(makeInput(three(true), round2, { prior_evidence: prior3 })));
    expect(r.final_decision).toBe("Y");
    expect(r.confidence.votes_cast).toBe(3);
  });

  it("the directive reports the round's voters with new evidence", () => {
    const spec = makeSpec({
      aggregation: {
        tie_policy: { chain: ["REEXPLORE", "STOCHASTIC"], reexplore: { max_tie_iterations: 2 } },
      },
    });
    const steps = [ev("a", "X", ["d1", "d7"]), ev("b", "Y", ["d8"]), ev("c", "Z", ["d3"])];
    const x = expectReexplore(decide(makeInput(spec, steps, afterTie)));
    expect(x.new_evidence_agents).toEqual(["a", "b"]);
    expect(x.result.conclusions.map((c) => c.voted)).toEqual([true, true, false]);
    expect(x.result.aggregation.decision_votes).toEqual({ X: 1, Y: 1 });
  });
});
