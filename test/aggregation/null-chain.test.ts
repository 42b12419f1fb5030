// SPEC §5.4 null chain: EMPTY / QUORUM_NULL, REEXPLORE signals, DISABLED, FINALIZE_NULL, exhaustion.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/aggregation/index.js";
import {
  answer,
  expectFinalize,
  expectReexplore,
  failed,
  makeInput,
  makeSpec,
  type NullOverrides,
  type PolicyOverrides,
  vote,
} from "../support/aggregation.js";

const withNull = (n: NullOverrides, extra: PolicyOverrides = {}) =>
  makeSpec({ aggregation: { ...extra, null_policy: n } });

describe("REEXPLORE signals (one per type)", () => {
  it("EMPTY with all steps SUCCEEDED → NEED_DECISION", () => {
    const d = decide(makeInput(makeSpec(), [vote("a", ""), vote("b", null), vote("c", "  ")]));
    expect(d.outcome).toBe("EMPTY");
    const x = expectReexplore(d);
    expect(x.chain).toBe("NULL");
    expect(x.iteration).toBe(1);
    expect(x.signal).toEqual({
      type: "NEED_DECISION",
      path: "NULL_PATH",
      iteration: 1,
      unresolved_buckets: ["decision"],
      require_new_evidence: true,
      null_primary_kind: "EMPTY",
      null_reason: "NO_VALID_DECISION",
    });
    expect(x.new_evidence_agents).toEqual([]);
    expect(x.no_new_rounds).toBe(0);
    expect(x.result.final_decision).toBeNull();
    expect(x.result.aggregation.null_policy.trace).toEqual([
      { bucket: "decision", resolver: "REEXPLORE", outcome: "REEXPLORE_STARTED" },
    ]);
    expect(x.result.aggregation.resolution_paths).toEqual({ decision: "NULL_PATH" });
  });

  it("EMPTY with failed steps → NEED_STEP_RECOVERY", () => {
    const x = expectReexplore(decide(makeInput(makeSpec(), [failed("a"), failed("b"), vote("c", "")])));
    expect(x.signal).toEqual({
      type: "NEED_STEP_RECOVERY",
      path: "NULL_PATH",
      iteration: 1,
      unresolved_buckets: ["decision"],
      require_new_evidence: true,
      null_primary_kind: "EMPTY",
      null_reason: "EXECUTION_INCOMPLETE_OR_FAILED",
    });
  });

  it("all steps failed → NEED_STEP_RECOVERY, and the judged result is FAILED", () => {
    const x = expectReexplore(decide(makeInput(makeSpec(), [failed("a", "e1"), failed("b"), failed("c")])));
    expect(x.signal.type).toBe("NEED_STEP_RECOVERY");
    expect(x.result.status).toBe("FAILED");
    expect(x.result.error).toBe("all 3 steps failed; a: e1");
  });

  it("QUORUM_NULL → NEED_MORE_EVIDENCE on NULL_PATH with the round's voters as new-evidence agents", () => {
    const spec = makeSpec({ aggregation: { quorum: 2 } });
    const d = decide(makeInput(spec, [vote("a", "X"), failed("b"), vote("c", "Y")]));
    expect(d.outcome).toBe("QUORUM_NULL");
    const x = expectReexplore(d);
    expect(x).toMatchObject({
      chain: "NULL",
      iteration: 1,
      new_evidence_agents: ["a", "c"],
      no_new_rounds: 0,
    });
    expect(x.signal).toEqual({
      type: "NEED_MORE_EVIDENCE",
      path: "NULL_PATH",
      iteration: 1,
      unresolved_buckets: ["decision"],
      require_new_evidence: true,
      null_primary_kind: "QUORUM_NULL",
      null_reason: "VALID_VOTES_BELOW_QUORUM",
    });
  });

  it("a tie re-explore → NEED_MORE_EVIDENCE on TIE_PATH without null kind", () => {
    const spec = makeSpec({ aggregation: { tie_policy: { chain: ["REEXPLORE", "STOCHASTIC"] } } });
    const d = decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")]));
    expect(d.outcome).toBe("TIE");
    const x = expectReexplore(d);
    expect(x).toMatchObject({
      chain: "TIE",
      iteration: 1,
      new_evidence_agents: ["a", "b"],
      no_new_rounds: 0,
    });
    expect(x.signal).toEqual({
      type: "NEED_MORE_EVIDENCE",
      path: "TIE_PATH",
      iteration: 1,
      unresolved_buckets: ["decision"],
      require_new_evidence: true,
      null_primary_kind: null,
      null_reason: null,
    });
    expect(x.result.aggregation.tie_policy.trace).toEqual([
      { bucket: "decision", resolver: "REEXPLORE", outcome: "REEXPLORE_STARTED" },
    ]);
    expect(x.result.final_decision).toBeNull();
    expect(x.result.final_answer).toBeNull();
  });

  it("the signal carries the starting chain's require_new_evidence and the vote_on bucket", () => {
    const spec = withNull({ reexplore: { require_new_evidence: false } }, { vote_on: "answer" });
    const x = expectReexplore(decide(makeInput(spec, [answer("a", ""), vote("b", "A"), failed("c")])));
    expect(x.signal).toMatchObject({
      type: "NEED_STEP_RECOVERY",
      unresolved_buckets: ["answer"],
      require_new_evidence: false,
    });
    expect(x.result.aggregation.resolution_paths).toEqual({ answer: "NULL_PATH" });
  });

  it("a QUORUM_NULL the tie chain leaves unresolved is re-explored by the null chain", () => {
    const spec = makeSpec({
      aggregation: {
        quorum: 2,
        tie_policy: { enabled_on: ["TIE", "QUORUM_NULL"], chain: ["CONFIDENCE_WEIGHTED"] },
      },
    });
    const x = expectReexplore(decide(makeInput(spec, [vote("a", "X"), vote("b", "Y"), failed("c")])));
    expect(x.chain).toBe("NULL");
    expect(x.signal).toMatchObject({
      type: "NEED_MORE_EVIDENCE",
      path: "NULL_PATH",
      null_primary_kind: "QUORUM_NULL",
      null_reason: "VALID_VOTES_BELOW_QUORUM",
    });
    expect(x.result.aggregation.tie_policy.trace).toEqual([
      expect.objectContaining({ outcome: "UNRESOLVED" }),
    ]);
  });
});

describe("null enabled_on", () => {
  it("EMPTY not enabled → finalize null with a DISABLED entry", () => {
    const spec = withNull({ enabled_on: ["QUORUM_NULL"] });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", ""), vote("b", ""), vote("c", "")])));
    expect(r.final_decision).toBeNull();
    expect(r.aggregation.null_policy.trace).toEqual([
      { bucket: "decision", resolver: null, outcome: "DISABLED" },
    ]);
    expect(r.aggregation.null_resolution).toEqual({ primary_kind: "EMPTY", reason: "NO_VALID_DECISION" });
    expect(r.aggregation.resolution_paths).toEqual({ decision: "NULL_PATH" });
  });

  it("QUORUM_NULL not enabled → finalize null with a DISABLED entry", () => {
    const spec = withNull({ enabled_on: ["EMPTY"] }, { quorum: 3 });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "X"), vote("b", "X"), vote("c", "Y")])));
    expect(r.final_decision).toBeNull();
    expect(r.aggregation.null_policy.trace).toEqual([
      { bucket: "decision", resolver: null, outcome: "DISABLED" },
    ]);
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "QUORUM_NULL",
      reason: "VALID_VOTES_BELOW_QUORUM",
    });
  });

  it("nothing enabled: an EMPTY run with failures still finalizes", () => {
    const spec = withNull({ enabled_on: [] });
    const r = expectFinalize(decide(makeInput(spec, [failed("a"), failed("b"), failed("c")])));
    expect(r.status).toBe("FAILED");
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "EMPTY",
      reason: "EXECUTION_INCOMPLETE_OR_FAILED",
    });
  });
});

describe("FINALIZE_NULL and exhaustion", () => {
  it("[FINALIZE_NULL] finalizes null at once", () => {
    const r = expectFinalize(
      decide(makeInput(withNull({ chain: ["FINALIZE_NULL"] }), [vote("a", ""), failed("b"), failed("c")])),
    );
    expect(r.aggregation.null_policy.trace).toEqual([
      { bucket: "decision", resolver: "FINALIZE_NULL", outcome: "FINALIZED_NULL" },
    ]);
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "EMPTY",
      reason: "EXECUTION_INCOMPLETE_OR_FAILED",
    });
    expect(r.final_answer).toBeNull();
  });

  it("max_tie_iterations 0: REEXPLORE is exhausted, FINALIZE_NULL applies", () => {
    const spec = withNull({ reexplore: { max_tie_iterations: 0 } });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", ""), vote("b", ""), vote("c", "")])));
    expect(r.aggregation.null_policy.trace).toEqual([
      { bucket: "decision", resolver: "REEXPLORE", outcome: "EXHAUSTED" },
      { bucket: "decision", resolver: "FINALIZE_NULL", outcome: "FINALIZED_NULL" },
    ]);
    expect(r.aggregation.null_policy.reexplore).toMatchObject({
      iteration: 0,
      max_tie_iterations: 0,
      allow_reexplore: false,
    });
  });

  it("round 2 after a NULL re-explore: the default chain is exhausted and finalizes null", () => {
    const input = makeInput(makeSpec(), [vote("a", ""), vote("b", ""), vote("c", "")], {
      reexplores: [{ chain: "NULL", new_evidence_agents: [] }],
    });
    expect(input.round).toBe(2);
    const r = expectFinalize(decide(input));
    expect(r.aggregation.null_policy.trace.map((t) => [t.resolver, t.outcome])).toEqual([
      ["REEXPLORE", "EXHAUSTED"],
      ["FINALIZE_NULL", "FINALIZED_NULL"],
    ]);
    expect(r.aggregation.null_policy.reexplore).toMatchObject({
      iteration: 1,
      max_tie_iterations: 1,
      allow_reexplore: false,
    });
    expect(r.aggregation.null_resolution).toEqual({ primary_kind: "EMPTY", reason: "NO_VALID_DECISION" });
  });

  it("a chain with nothing left ([REEXPLORE] exhausted) still finalizes null", () => {
    const spec = withNull({ chain: ["REEXPLORE"] });
    const input = makeInput(spec, [failed("a"), failed("b"), failed("c")], {
      reexplores: [{ chain: "NULL", new_evidence_agents: [] }],
    });
    const r = expectFinalize(decide(input));
    expect(r.aggregation.null_policy.trace).toEqual([
      { bucket: "decision", resolver: "REEXPLORE", outcome: "EXHAUSTED" },
    ]);
    expect(r.final_decision).toBeNull();
    expect(r.aggregation.null_resolution).toEqual({
      primary_kind: "EMPTY",
      reason: "EXECUTION_INCOMPLETE_OR_FAILED",
    });
  });

  it("an empty null chain finalizes null", () => {
    const r = expectFinalize(
      decide(makeInput(withNull({ chain: [] }), [vote("a", ""), vote("b", ""), vote("c", "")])),
    );
    expect(r.final_decision).toBeNull();
    expect(r.aggregation.null_resolution).toEqual({ primary_kind: "EMPTY", reason: "NO_VALID_DECISION" });
  });

  it("the reexplore report of an untouched round-1 chain matches §6", () => {
    const r = expectFinalize(decide(makeInput(makeSpec(), [vote("a", "A"), vote("b", "A"), vote("c", "B")])));
    const fresh = {
      iteration: 0,
      max_tie_iterations: 1,
      no_new_rounds: 0,
      no_new_evidence_rounds: 1,
      allow_reexplore: true,
      agents_without_new_evidence: [],
    };
    expect(r.aggregation.tie_policy.reexplore).toEqual(fresh);
    expect(r.aggregation.null_policy.reexplore).toEqual(fresh);
    expect(r.aggregation.tie_policy).toMatchObject({ enabled_on: ["TIE"], chain: ["STOCHASTIC"], trace: [] });
    expect(r.aggregation.null_policy).toMatchObject({
      enabled_on: ["EMPTY", "QUORUM_NULL"],
      chain: ["REEXPLORE", "FINALIZE_NULL"],
    });
  });
});
