// SPEC §5.3 tie chain triggers: tie_policy.enabled_on (TIE, QUORUM_NULL), QUORUM_WAIVED, hand-over to the null chain.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/aggregation/index.js";
import {
  expectFinalize,
  failed,
  makeInput,
  makeSpec,
  type PolicyOverrides,
  type TieOverrides,
  vote,
} from "../support/aggregation.js";

const tie = (t: TieOverrides, extra: PolicyOverrides = {}) =>
  makeSpec({ agents: ["a", "b"], aggregation: { ...extra, tie_policy: t } });

describe("tie enabled_on", () => {
  it("TIE not enabled → null, one DISABLED entry, TIE_UNRESOLVED", () => {
    for (const enabled_on of [[], ["QUORUM_NULL" as const]]) {
      const d = decide(makeInput(tie({ enabled_on }), [vote("a", "X"), vote("b", "Y")]));
      expect(d.outcome).toBe("TIE");
      const r = expectFinalize(d);
      expect(r.final_decision).toBeNull();
      expect(r.aggregation.tie_policy.trace).toEqual([
        { bucket: "decision", resolver: null, outcome: "DISABLED" },
      ]);
      expect(r.aggregation.null_resolution).toEqual({
        primary_kind: "TIE_UNRESOLVED",
        reason: "TIE_CHAIN_EXHAUSTED",
      });
      expect(r.aggregation.resolution_paths).toEqual({ decision: "TIE_PATH" });
      expect(r.aggregation.null_policy.trace).toEqual([]);
    }
  });

  it("an empty chain leaves the tie unresolved", () => {
    const r = expectFinalize(decide(makeInput(tie({ chain: [] }), [vote("a", "X"), vote("b", "Y")])));
    expect(r.final_decision).toBeNull();
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "TIE_UNRESOLVED",
      reason: "TIE_CHAIN_EXHAUSTED",
    });
  });
});

describe("QUORUM_NULL in tie enabled_on", () => {
  const both = ["TIE", "QUORUM_NULL"] as const;

  it("a single heaviest candidate wins at once: QUORUM_WAIVED, quorum_met false", () => {
    const spec = makeSpec({
      agents: [{ agent_id: "a", weight: 2 }, "b", "c"],
      aggregation: { quorum: 2, tie_policy: { enabled_on: [...both] } },
    });
    const d = decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")]));
    expect(d.outcome).toBe("QUORUM_NULL");
    const r = expectFinalize(d);
    expect(r.final_decision).toBe("X");
    expect(r.aggregation.tie_policy.trace).toHaveLength(1);
    expect(r.aggregation.tie_policy.trace[0]).toMatchObject({
      bucket: "decision",
      resolver: null,
      outcome: "QUORUM_WAIVED",
    });
    expect(r.aggregation.resolution_paths).toEqual({ decision: "TIE_PATH" });
    expect(r.aggregation.null_resolution).toBeNull();
    expect(r.aggregation.null_policy.trace).toEqual([]);
    expect(r.confidence).toMatchObject({ quorum: 2, quorum_met: false, votes_for: 1, votes_cast: 2 });
  });

  it("several candidates go through the chain", () => {
    const spec = makeSpec({ aggregation: { quorum: 2, tie_policy: { enabled_on: [...both] } } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "Y"), vote("b", "X"), failed("c")])));
    expect(r.final_decision).toBe("Y");
    expect(r.aggregation.tie_policy.trace).toEqual([
      expect.objectContaining({
        resolver: "STOCHASTIC",
        outcome: "RESOLVED",
        candidates: ["X", "Y"],
        index: 1,
      }),
    ]);
    expect(r.confidence.quorum_met).toBe(false);
    expect(r.aggregation.resolution_paths).toEqual({ decision: "TIE_PATH" });
  });

  it("unresolved → the null chain runs next (FINALIZE_NULL)", () => {
    const spec = makeSpec({
      aggregation: {
        quorum: 2,
        tie_policy: { enabled_on: [...both], chain: ["CONFIDENCE_WEIGHTED"] },
        null_policy: { chain: ["FINALIZE_NULL"] },
      },
    });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")])));
    expect(r.final_decision).toBeNull();
    expect(r.aggregation.tie_policy.trace).toEqual([expect.objectContaining({ outcome: "UNRESOLVED" })]);
    expect(r.aggregation.null_policy.trace).toEqual([
      { bucket: "decision", resolver: "FINALIZE_NULL", outcome: "FINALIZED_NULL" },
    ]);
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "QUORUM_NULL",
      reason: "VALID_VOTES_BELOW_QUORUM",
    });
  });

  it("unresolved and the null chain does not take QUORUM_NULL → QUORUM_NULL null resolution on TIE_PATH", () => {
    const spec = makeSpec({
      aggregation: {
        quorum: 2,
        tie_policy: { enabled_on: [...both], chain: [] },
        null_policy: { enabled_on: ["EMPTY"] },
      },
    });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")])));
    expect(r.final_decision).toBeNull();
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "QUORUM_NULL",
      reason: "VALID_VOTES_BELOW_QUORUM",
    });
    expect(r.aggregation.resolution_paths).toEqual({ decision: "TIE_PATH" });
  });

  it("without QUORUM_NULL in tie enabled_on, a QUORUM_NULL skips the tie chain", () => {
    const spec = makeSpec({ aggregation: { quorum: 2, null_policy: { chain: ["FINALIZE_NULL"] } } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")])));
    expect(r.aggregation.tie_policy.trace).toEqual([]);
    expect(r.aggregation.resolution_paths).toEqual({ decision: "NULL_PATH" });
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "QUORUM_NULL",
      reason: "VALID_VOTES_BELOW_QUORUM",
    });
  });
});
