// SPEC §5.3 tie chain: STOCHASTIC, CONFIDENCE_WEIGHTED, REPUTATION_WEIGHTED, order, enabled_on, QUORUM_NULL.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/aggregation/index.js";
import {
  answer,
  expectFinalize,
  failed,
  makeInput,
  makeSpec,
  type PolicyOverrides,
  type ReputationOverrides,
  type TieOverrides,
  vote,
} from "../support/aggregation.js";

const tie = (t: TieOverrides, extra: PolicyOverrides = {}) =>
  makeSpec({ agents: ["a", "b"], aggregation: { ...extra, tie_policy: t } });

describe("STOCHASTIC", () => {
  it("picks index 1 (B) for analysis-run-001:decision:A|B|C", () => {
    const d = decide(makeInput(makeSpec(), [vote("a", "c"), vote("b", "A"), vote("c", "b")]));
    expect(d.outcome).toBe("TIE");
    const r = expectFinalize(d);
    expect(r.final_decision).toBe("B");
    expect(r.aggregation.tie_policy.trace).toEqual([
      {
        bucket: "decision",
        resolver: "STOCHASTIC",
        outcome: "RESOLVED",
        candidates: ["A", "B", "C"],
        winner: "B",
        seed: "analysis-run-001:decision:A|B|C",
        index: 1,
      },
    ]);
    expect(r.aggregation.resolution_paths).toEqual({ decision: "TIE_PATH" });
    expect(r.aggregation.null_resolution).toBeNull();
    expect(r.aggregation.null_policy.trace).toEqual([]);
  });

  it("picks index 0 (APPROVE) for analysis-run-001:decision:APPROVE|REJECT", () => {
    const r = expectFinalize(decide(makeInput(tie({}), [vote("a", "reject"), vote("b", "approve")])));
    expect(r.final_decision).toBe("APPROVE");
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({
      seed: "analysis-run-001:decision:APPROVE|REJECT",
      index: 0,
    });
  });

  it("picks index 1 (Y) for analysis-run-001:decision:X|Y whatever the step order", () => {
    const r = expectFinalize(decide(makeInput(tie({}), [vote("b", "X"), vote("a", "Y")])));
    expect(r.final_decision).toBe("Y");
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({
      candidates: ["X", "Y"],
      index: 1,
      winner: "Y",
    });
  });

  it("prefixes the salt: s1:analysis-run-001:decision:A|B|C → index 0 (A)", () => {
    const spec = makeSpec({ aggregation: { tie_policy: { stochastic: { seed: "s1" } } } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "C"), vote("b", "B"), vote("c", "A")])));
    expect(r.final_decision).toBe("A");
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({
      seed: "s1:analysis-run-001:decision:A|B|C",
      index: 0,
    });
  });

  it("uses the answer bucket when voting on answers: analysis-run-001:answer:A|B|C → index 0", () => {
    const spec = makeSpec({ aggregation: { vote_on: "answer" } });
    const r = expectFinalize(decide(makeInput(spec, [answer("a", "b"), answer("b", "c"), answer("c", "a")])));
    expect(r.final_decision).toBe("A");
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({
      bucket: "answer",
      seed: "analysis-run-001:answer:A|B|C",
      index: 0,
    });
    expect(r.aggregation.resolution_paths).toEqual({ answer: "TIE_PATH" });
  });

  it("the candidates are only the tied leaders", () => {
    const spec = makeSpec({ agents: ["a", "b", "c", "d", "e"] });
    const r = expectFinalize(
      decide(
        makeInput(spec, [vote("a", "X"), vote("b", "X"), vote("c", "Y"), vote("d", "Y"), vote("e", "A")]),
      ),
    );
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({ candidates: ["X", "Y"], winner: "Y" });
  });
});

describe("CONFIDENCE_WEIGHTED", () => {
  it("resolves to the unique maximum of weight × confidence", () => {
    const spec = tie({ chain: ["CONFIDENCE_WEIGHTED", "STOCHASTIC"] });
    const r = expectFinalize(
      decide(makeInput(spec, [vote("a", "X", { confidence: 0.75 }), vote("b", "Y", { confidence: 0.5 })])),
    );
    expect(r.final_decision).toBe("X");
    expect(r.aggregation.tie_policy.trace).toHaveLength(1);
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({
      bucket: "decision",
      resolver: "CONFIDENCE_WEIGHTED",
      outcome: "RESOLVED",
      scores: { X: 0.75, Y: 0.5 },
      winner: "X",
    });
    expect(r.aggregation.resolution_paths).toEqual({ decision: "TIE_PATH" });
  });

  it("sums agents[].weight × confidence over a candidate's voters", () => {
    const spec = makeSpec({
      agents: ["a", { agent_id: "b", weight: 0.5 }, { agent_id: "c", weight: 0.5 }],
      aggregation: { tie_policy: { chain: ["CONFIDENCE_WEIGHTED"] } },
    });
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          vote("a", "X", { confidence: 0.5 }),
          vote("b", "Y", { confidence: 1 }),
          vote("c", "Y", { confidence: 1 }),
        ]),
      ),
    );
    expect(r.final_decision).toBe("Y");
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({ scores: { X: 0.5, Y: 1 }, winner: "Y" });
  });

  it("equal scores are UNRESOLVED and the chain goes on", () => {
    const spec = tie({ chain: ["CONFIDENCE_WEIGHTED", "STOCHASTIC"] });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "X", { confidence: 0.5 }), vote("b", "Y")])));
    expect(r.aggregation.tie_policy.trace).toHaveLength(2);
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({
      resolver: "CONFIDENCE_WEIGHTED",
      outcome: "UNRESOLVED",
      scores: { X: 0.5, Y: 0.5 },
    });
    expect(r.aggregation.tie_policy.trace[0]?.winner).toBeUndefined();
    expect(r.aggregation.tie_policy.trace[1]).toMatchObject({
      resolver: "STOCHASTIC",
      outcome: "RESOLVED",
      winner: "Y",
    });
    expect(r.final_decision).toBe("Y");
  });

  it("scores within ε (0.1 + 0.2 vs 0.3) are unresolved; a lone resolver then leaves the tie unresolved", () => {
    const spec = makeSpec({
      agents: [{ agent_id: "a", weight: 2 }, "b", "c"],
      aggregation: { tie_policy: { chain: ["CONFIDENCE_WEIGHTED"] } },
    });
    const steps = [
      vote("a", "X", { confidence: 0.15 }),
      vote("b", "Y", { confidence: 0.1 }),
      vote("c", "Y", { confidence: 0.2 }),
    ];
    const r = expectFinalize(decide(makeInput(spec, steps)));
    expect(r.aggregation.tie_policy.trace).toEqual([
      expect.objectContaining({ resolver: "CONFIDENCE_WEIGHTED", outcome: "UNRESOLVED" }),
    ]);
    expect(r.final_decision).toBeNull();
    expect(r.final_answer).toBeNull();
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "TIE_UNRESOLVED",
      reason: "TIE_CHAIN_EXHAUSTED",
    });
    expect(r.aggregation.resolution_paths).toEqual({ decision: "TIE_PATH" });
  });
});

describe("REPUTATION_WEIGHTED", () => {
  const rep = (rw: ReputationOverrides) =>
    tie({ chain: ["REPUTATION_WEIGHTED", "STOCHASTIC"], reputation_weighted: rw });

  it("resolves with the spec map and reports the units used", () => {
    const r = expectFinalize(
      decide(
        makeInput(rep({ agent_reputation_units: { a: 700, b: 300 } }), [vote("a", "X"), vote("b", "Y")]),
      ),
    );
    expect(r.final_decision).toBe("X");
    expect(r.aggregation.tie_policy.trace).toEqual([
      expect.objectContaining({
        resolver: "REPUTATION_WEIGHTED",
        outcome: "RESOLVED",
        scores: { X: 700, Y: 300 },
        winner: "X",
      }),
    ]);
    expect(r.aggregation.reputation_units).toEqual({ a: 700, b: 300 });
  });

  it("uses the store snapshot without a spec map (missing agents: 500)", () => {
    const input = makeInput(rep({}), [vote("a", "X"), vote("b", "Y")], { reputation_units: { a: 400 } });
    const r = expectFinalize(decide(input));
    expect(r.final_decision).toBe("Y");
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({ scores: { X: 400, Y: 500 }, winner: "Y" });
    expect(r.aggregation.reputation_units).toEqual({ a: 400, b: 500 });
  });

  it("SKIP: a missing agent counts 0, so 0 vs 0 is unresolved", () => {
    const r = expectFinalize(
      decide(
        makeInput(rep({ agent_reputation_units: { a: 0 }, missing_reputation: "SKIP" }), [
          vote("a", "X"),
          vote("b", "Y"),
        ]),
      ),
    );
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({
      resolver: "REPUTATION_WEIGHTED",
      outcome: "UNRESOLVED",
    });
    expect(r.aggregation.tie_policy.trace[1]).toMatchObject({ resolver: "STOCHASTIC", winner: "Y" });
    expect(r.aggregation.reputation_units).toMatchObject({ a: 0 });
    expect(r.aggregation.reputation_units?.b ?? 0).toBe(0);
  });

  it("UNIFORM: a missing agent counts 1, which breaks the tie", () => {
    const r = expectFinalize(
      decide(
        makeInput(rep({ agent_reputation_units: { a: 0 }, missing_reputation: "UNIFORM" }), [
          vote("a", "X"),
          vote("b", "Y"),
        ]),
      ),
    );
    expect(r.final_decision).toBe("Y");
    expect(r.aggregation.tie_policy.trace).toEqual([
      expect.objectContaining({
        resolver: "REPUTATION_WEIGHTED",
        outcome: "RESOLVED",
        scores: { X: 0, Y: 1 },
        winner: "Y",
      }),
    ]);
    expect(r.aggregation.reputation_units).toEqual({ a: 0, b: 1 });
  });

  it("SKIP vs UNIFORM can pick different winners on the same panel", () => {
    const steps = [vote("a", "X"), vote("b", "Y"), vote("c", "Y"), vote("d", "X")];
    const mk = (missing: "SKIP" | "UNIFORM") =>
      makeSpec({
        agents: ["a", "b", "c", "d"],
        aggregation: {
          tie_policy: {
            chain: ["REPUTATION_WEIGHTED"],
            reputation_weighted: { agent_reputation_units: { a: 1 }, missing_reputation: missing },
          },
        },
      });
    expect(expectFinalize(decide(makeInput(mk("SKIP"), steps))).final_decision).toBe("X");
    const uniform = expectFinalize(decide(makeInput(mk("UNIFORM"), steps)));
    expect(uniform.final_decision).toBeNull();
    expect(uniform.aggregation.tie_policy.trace[0]).toMatchObject({
      outcome: "UNRESOLVED",
      scores: { X: 2, Y: 2 },
    });
  });

  it("no voter with units (all missing under SKIP) → unresolved", () => {
    const spec = makeSpec({
      aggregation: {
        tie_policy: {
          chain: ["REPUTATION_WEIGHTED"],
          reputation_weighted: { agent_reputation_units: { c: 900 } },
        },
      },
    });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")])));
    expect(r.aggregation.tie_policy.trace).toEqual([
      expect.objectContaining({ resolver: "REPUTATION_WEIGHTED", outcome: "UNRESOLVED" }),
    ]);
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "TIE_UNRESOLVED",
      reason: "TIE_CHAIN_EXHAUSTED",
    });
  });
});

describe("chain order", () => {
  const steps = [vote("a", "X", { confidence: 0.9 }), vote("b", "Y", { confidence: 0.1 })];
  const units = { agent_reputation_units: { a: 100, b: 900 } };

  it("[CONFIDENCE_WEIGHTED, REPUTATION_WEIGHTED] → the confident X", () => {
    const spec = tie({
      chain: ["CONFIDENCE_WEIGHTED", "REPUTATION_WEIGHTED", "STOCHASTIC"],
      reputation_weighted: units,
    });
    const r = expectFinalize(decide(makeInput(spec, steps)));
    expect(r.final_decision).toBe("X");
    expect(r.aggregation.tie_policy.trace.map((t) => [t.resolver, t.outcome])).toEqual([
      ["CONFIDENCE_WEIGHTED", "RESOLVED"],
    ]);
  });

  it("[REPUTATION_WEIGHTED, CONFIDENCE_WEIGHTED] → the reputable Y", () => {
    const spec = tie({
      chain: ["REPUTATION_WEIGHTED", "CONFIDENCE_WEIGHTED", "STOCHASTIC"],
      reputation_weighted: units,
    });
    const r = expectFinalize(decide(makeInput(spec, steps)));
    expect(r.final_decision).toBe("Y");
    expect(r.aggregation.tie_policy.trace.map((t) => [t.resolver, t.outcome])).toEqual([
      ["REPUTATION_WEIGHTED", "RESOLVED"],
    ]);
  });
});
