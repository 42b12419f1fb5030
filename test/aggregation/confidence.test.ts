// SPEC §6 confidence block: votes_for/votes_cast, agreement, margin, entropy_bits, quorum_met.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/aggregation/index.js";
import type { ConfidenceBlock } from "../../src/aggregation/types.js";
import {
  expectFinalize,
  expectReexplore,
  failed,
  json,
  makeInput,
  makeSpec,
  vote,
} from "../support/aggregation.js";

const conf = (c: ConfidenceBlock) => json(c);

describe("with a winner", () => {
  it("2 of 3 (the §6 example): agreement 0.667, margin 0.333, entropy 0.918", () => {
    const spec = makeSpec({ aggregation: { quorum: 2 } });
    const r = expectFinalize(
      decide(makeInput(spec, [vote("a", "approve"), vote("b", "APPROVE"), vote("c", "reject")])),
    );
    expect(conf(r.confidence)).toEqual({
      votes_for: 2,
      votes_cast: 3,
      agreement: 0.667,
      margin: 0.333,
      quorum: 2,
      quorum_met: true,
      entropy_bits: 0.918,
    });
  });

  it("unanimous: agreement 1, margin 1, entropy 0", () => {
    const r = expectFinalize(decide(makeInput(makeSpec(), [vote("a", "A"), vote("b", "A"), vote("c", "A")])));
    expect(conf(r.confidence)).toEqual({
      votes_for: 3,
      votes_cast: 3,
      agreement: 1,
      margin: 1,
      quorum: null,
      quorum_met: true,
      entropy_bits: 0,
    });
  });

  it("a 4-way tie resolved by STOCHASTIC: agreement 0.25, margin 0, entropy 2", () => {
    const spec = makeSpec({ agents: ["a", "b", "c", "d"] });
    const r = expectFinalize(
      decide(makeInput(spec, [vote("a", "A"), vote("b", "B"), vote("c", "C"), vote("d", "D")])),
    );
    expect(r.final_decision).not.toBeNull();
    expect(conf(r.confidence)).toEqual({
      votes_for: 1,
      votes_cast: 4,
      agreement: 0.25,
      margin: 0,
      quorum: null,
      quorum_met: true,
      entropy_bits: 2,
    });
  });

  it("uses vote weights: 0.9 vs 0.3 + 0.3 → agreement 0.6, margin 0.2, entropy 0.971", () => {
    const spec = makeSpec({ aggregation: { vote_weight: "confidence" } });
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          vote("a", "A", { confidence: 0.9 }),
          vote("b", "B", { confidence: 0.3 }),
          vote("c", "B", { confidence: 0.3 }),
        ]),
      ),
    );
    expect(r.final_decision).toBe("A");
    expect(conf(r.confidence)).toEqual({
      votes_for: 1,
      votes_cast: 3,
      agreement: 0.6,
      margin: 0.2,
      quorum: null,
      quorum_met: true,
      entropy_bits: 0.971,
    });
  });

  it("uses agent weights: weight 3 vs 1 → agreement 0.75, margin 0.5, entropy 0.811", () => {
    const spec = makeSpec({ agents: [{ agent_id: "a", weight: 3 }, "b"] });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "A"), vote("b", "B")])));
    expect(conf(r.confidence)).toMatchObject({
      votes_for: 1,
      votes_cast: 2,
      agreement: 0.75,
      margin: 0.5,
      entropy_bits: 0.811,
    });
  });

  it("a quorum-waived winner: quorum_met false, numbers still computed", () => {
    const spec = makeSpec({
      agents: [{ agent_id: "a", weight: 2 }, "b", "c"],
      aggregation: { quorum: 2, tie_policy: { enabled_on: ["TIE", "QUORUM_NULL"] } },
    });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")])));
    expect(conf(r.confidence)).toEqual({
      votes_for: 1,
      votes_cast: 2,
      agreement: 0.667,
      margin: 0.333,
      quorum: 2,
      quorum_met: false,
      entropy_bits: 0.918,
    });
  });

  it("a total weight of 0: agreement, margin and entropy are null", () => {
    const spec = makeSpec({ aggregation: { vote_weight: "confidence" } });
    const r = expectFinalize(
      decide(makeInput(spec, [vote("a", "A", { confidence: 0 }), failed("b"), failed("c")])),
    );
    expect(r.final_decision).toBe("A");
    expect(conf(r.confidence)).toEqual({
      votes_for: 1,
      votes_cast: 1,
      agreement: null,
      margin: null,
      quorum: null,
      quorum_met: true,
      entropy_bits: null,
    });
  });
});

describe("without a winner", () => {
  it("EMPTY: everything null or 0, quorum_met true without a quorum", () => {
    const spec = makeSpec({ aggregation: { null_policy: { chain: ["FINALIZE_NULL"] } } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", ""), failed("b"), failed("c")])));
    expect(conf(r.confidence)).toEqual({
      votes_for: 0,
      votes_cast: 0,
      agreement: null,
      margin: null,
      quorum: null,
      quorum_met: true,
      entropy_bits: null,
    });
  });

  it("EMPTY with a quorum: quorum_met false", () => {
    const spec = makeSpec({ aggregation: { quorum: 1, null_policy: { chain: ["FINALIZE_NULL"] } } });
    const r = expectFinalize(decide(makeInput(spec, [failed("a"), failed("b"), failed("c")])));
    expect(r.confidence).toMatchObject({ votes_for: 0, votes_cast: 0, quorum: 1, quorum_met: false });
  });

  it("an unresolved tie: entropy over the shares, quorum_met true when a value reached the quorum", () => {
    const spec = makeSpec({ aggregation: { quorum: 1, tie_policy: { chain: [] } } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")])));
    expect(conf(r.confidence)).toEqual({
      votes_for: 0,
      votes_cast: 2,
      agreement: null,
      margin: null,
      quorum: 1,
      quorum_met: true,
      entropy_bits: 1,
    });
  });

  it("QUORUM_NULL finalized null: quorum_met false, entropy 0.918", () => {
    const spec = makeSpec({ aggregation: { quorum: 3, null_policy: { chain: ["FINALIZE_NULL"] } } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "A"), vote("b", "A"), vote("c", "B")])));
    expect(conf(r.confidence)).toEqual({
      votes_for: 0,
      votes_cast: 3,
      agreement: null,
      margin: null,
      quorum: 3,
      quorum_met: false,
      entropy_bits: 0.918,
    });
  });

  it("the judged result of a re-explore has no winner", () => {
    const spec = makeSpec({ aggregation: { tie_policy: { chain: ["REEXPLORE", "STOCHASTIC"] } } });
    const x = expectReexplore(decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")])));
    expect(conf(x.result.confidence)).toEqual({
      votes_for: 0,
      votes_cast: 2,
      agreement: null,
      margin: null,
      quorum: null,
      quorum_met: true,
      entropy_bits: 1,
    });
  });
});
