// SPEC §5.1 conclusions: output extraction, evidence, confidence, step order; §6 conclusions[].
import { describe, expect, it } from "vitest";
import { decide } from "../../src/aggregation/index.js";
import { expectFinalize, failed, makeInput, makeSpec, step, vote } from "../support/aggregation.js";

const finalizeOnly = { null_policy: { chain: ["FINALIZE_NULL" as const] } };

describe("conclusions", () => {
  it("follow step order whatever the input order, with normalized ballots and raw outputs", () => {
    const spec = makeSpec();
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          vote("c", "reject", { answer: "No." }),
          vote("a", " approve ", { answer: "Strong  EU growth.", confidence: 0.8 }),
          vote("b", "Approve", { answer: "ok" }),
        ]),
      ),
    );
    expect(r.conclusions.map((c) => c.agent_id)).toEqual(["a", "b", "c"]);
    expect(r.conclusions[0]).toEqual({
      agent_id: "a",
      executor: "sim",
      profile: "default",
      status: "SUCCEEDED",
      round: 1,
      attempt: 1,
      voted: true,
      decision: "APPROVE",
      answer: "STRONG EU GROWTH.",
      confidence: 0.8,
      weight: 1,
      evidence_digests: [],
      error: null,
      output: { decision: " approve ", answer: "Strong  EU growth.", confidence: 0.8 },
    });
    expect(r.final_decision).toBe("APPROVE");
  });

  it("read candidate_output when the response has it, and keep it as the output", () => {
    const spec = makeSpec({ agents: ["a"] });
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          step("a", "SUCCEEDED", {
            status: "ok",
            decision: "IGNORED",
            candidate_output: { decision: "yes" },
          }),
        ]),
      ),
    );
    expect(r.final_decision).toBe("YES");
    expect(r.conclusions[0]?.output).toEqual({ decision: "yes" });
    expect(r.conclusions[0]?.decision).toBe("YES");
  });

  it("a non-object output of a SUCCEEDED step is no vote", () => {
    const spec = makeSpec({ agents: ["a", "b"], aggregation: finalizeOnly });
    const d = decide(
      makeInput(spec, [
        step("a", "SUCCEEDED", "APPROVE"),
        step("b", "SUCCEEDED", { candidate_output: ["x"] }),
      ]),
    );
    expect(d.outcome).toBe("EMPTY");
    const r = expectFinalize(d);
    expect(r.conclusions.map((c) => [c.voted, c.weight, c.decision])).toEqual([
      [false, 0, null],
      [false, 0, null],
    ]);
    expect(r.aggregation.null_resolution).toEqual({ primary_kind: "EMPTY", reason: "NO_VALID_DECISION" });
  });

  it("failed steps keep their error and do not vote", () => {
    const spec = makeSpec({ agents: ["a", "b"] });
    const r = expectFinalize(
      decide(makeInput(spec, [vote("a", "X"), failed("b", "timeout after 120000 ms")])),
    );
    expect(r.conclusions[1]).toMatchObject({
      agent_id: "b",
      status: "FAILED",
      voted: false,
      weight: 0,
      decision: null,
      answer: null,
      error: "timeout after 120000 ms",
      evidence_digests: [],
      output: null,
    });
    expect(r.final_decision).toBe("X");
    expect(r.confidence.votes_cast).toBe(1);
  });

  it("collect evidence from response refs, output digests and output refs: trimmed, non-empty, deduplicated", () => {
    const spec = makeSpec({ agents: ["a"] });
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          step("a", "SUCCEEDED", {
            evidence_refs: [{ digest: "sha256:d1" }, { digest: 5 }, { url: "http://x" }],
            candidate_output: {
              decision: "A",
              evidence_digests: [" sha256:d2 ", "sha256:d1", "", "   "],
              evidence_refs: [{ digest: "sha256:d3" }, { digest: "sha256:d1" }, { digest: " " }],
            },
          }),
        ]),
      ),
    );
    expect(r.conclusions[0]?.evidence_digests).toEqual(["sha256:d1", "sha256:d2", "sha256:d3"]);
  });

  it("show each step's executor, profile, round and attempt", () => {
    const spec = makeSpec({ agents: ["a"] });
    const input = makeInput(spec, [
      step("a", "SUCCEEDED", { decision: "A" }, { executor: "rt", profile: "p2", attempt: 2 }),
    ]);
    const r = expectFinalize(decide(input));
    expect(r.conclusions[0]).toMatchObject({ executor: "rt", profile: "p2", attempt: 2, round: 1 });
  });
});

describe("confidence of a conclusion (§5.1)", () => {
  const spec = makeSpec({ agents: ["a", "b", "c", "d", "e", "f"] });
  const r = expectFinalize(
    decide(
      makeInput(spec, [
        vote("a", "X", { decision_confidence: 0.9, confidence: 0.1 }),
        vote("b", "X", { decision_confidence: "0.9", confidence: 0.4 }),
        vote("c", "X", {}),
        vote("d", "X", { confidence: 1.7 }),
        vote("e", "X", { confidence: -0.5 }),
        vote("f", "X", { answer_confidence: 0.2 }),
      ]),
    ),
  );

  it("is the first JSON number of decision_confidence, confidence, else the default; clamped to [0,1]", () => {
    expect(r.conclusions.map((c) => c.confidence)).toEqual([0.9, 0.4, 0.5, 1, 0, 0.5]);
  });

  it("reads answer_confidence when voting on answers", () => {
    const s = makeSpec({ agents: ["a", "b"], aggregation: { vote_on: "answer" } });
    const res = expectFinalize(
      decide(
        makeInput(s, [
          step("a", "SUCCEEDED", {
            answer: "x",
            answer_confidence: 0.7,
            decision_confidence: 0.2,
            confidence: 0.1,
          }),
          step("b", "SUCCEEDED", { answer: "x", decision_confidence: 0.2, confidence: 0.3 }),
        ]),
      ),
    );
    expect(res.conclusions.map((c) => c.confidence)).toEqual([0.7, 0.3]);
  });

  it("honours the configured field names and default", () => {
    const s = makeSpec({
      agents: ["a", "b", "c"],
      aggregation: {
        tie_policy: {
          confidence_weighted: {
            decision_confidence_field: "certainty",
            confidence_field: "p",
            default_confidence: 0.3,
          },
        },
      },
    });
    const res = expectFinalize(
      decide(
        makeInput(s, [
          vote("a", "X", { certainty: 0.6, p: 0.1, decision_confidence: 0.9 }),
          vote("b", "X", { p: 0.2, confidence: 0.9 }),
          vote("c", "X", { confidence: 0.9 }),
        ]),
      ),
    );
    expect(res.conclusions.map((c) => c.confidence)).toEqual([0.6, 0.2, 0.3]);
  });
});
