// SPEC §5.5 decision and answer: final_answer under vote_on decision (incl. tie-breaks) and vote_on answer.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/aggregation/index.js";
import { answer, expectFinalize, failed, makeInput, makeSpec, step, vote } from "../support/aggregation.js";

const five = makeSpec({ agents: ["a", "b", "c", "d", "e"] });

describe("final_answer with vote_on: decision", () => {
  it("is the raw answer of the most confident voter in the most common answer group", () => {
    const r = expectFinalize(
      decide(
        makeInput(five, [
          vote("a", "A", { answer: "x", confidence: 0.9 }),
          vote("b", "A", { answer: "Y", confidence: 0.6 }),
          vote("c", "A", { answer: " y ", confidence: 0.7 }),
          vote("d", "B", { answer: "z", confidence: 1 }),
          vote("e", "B", { answer: "z", confidence: 1 }),
        ]),
      ),
    );
    expect(r.final_decision).toBe("A");
    expect(r.final_answer).toBe(" y ");
  });

  it("only voters for the final decision are considered", () => {
    const r = expectFinalize(
      decide(
        makeInput(five, [
          vote("a", "A", { answer: "mine", confidence: 0.1 }),
          vote("b", "A", { answer: "mine", confidence: 0.2 }),
          vote("c", "B", { answer: "theirs", confidence: 1 }),
          failed("d"),
          failed("e"),
        ]),
      ),
    );
    expect(r.final_answer).toBe("mine");
  });

  it("equal group sizes: the higher total confidence wins", () => {
    const r = expectFinalize(
      decide(
        makeInput(five, [
          vote("a", "A", { answer: "x", confidence: 0.9 }),
          vote("b", "A", { answer: "X", confidence: 0 }),
          vote("c", "A", { answer: "y", decision_confidence: 0.8 }),
          vote("d", "A", { answer: "Y!", confidence: 0.1 }),
          vote("e", "A", { answer: "Y ", confidence: 0.7 }),
        ]),
      ),
    );
    // groups: X (a 0.9, b 0) total 0.9; Y (c 0.8, e 0.7) total 1.5; "Y!" alone → c's raw "y"
    expect(r.final_answer).toBe("y");
  });

  it("equal sizes and totals: the STOCHASTIC rule on bucket answer (analysis-run-001:answer:X|Y → index 1)", () => {
    const spec = makeSpec({ agents: ["a", "b"] });
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          vote("a", "A", { answer: "x", confidence: 0.5 }),
          vote("b", "A", { answer: " y", confidence: 0.5 }),
        ]),
      ),
    );
    expect(r.final_answer).toBe(" y");
  });

  it("voters without an answer are ignored", () => {
    const r = expectFinalize(
      decide(
        makeInput(five, [
          vote("a", "A", { confidence: 1 }),
          vote("b", "A", { answer: "only", confidence: 0.2 }),
          failed("c"),
          failed("d"),
          failed("e"),
        ]),
      ),
    );
    expect(r.final_answer).toBe("only");
  });

  it("keeps a non-string raw answer as is", () => {
    const spec = makeSpec({ agents: ["a"] });
    const r = expectFinalize(
      decide(makeInput(spec, [vote("a", "A", { answer: { text: "Strong EU growth", n: 2 } })])),
    );
    expect(r.final_answer).toEqual({ text: "Strong EU growth", n: 2 });
  });

  it("follows a tie resolved by STOCHASTIC", () => {
    const spec = makeSpec({ agents: ["a", "b"] });
    const r = expectFinalize(
      decide(makeInput(spec, [vote("a", "X", { answer: "ax" }), vote("b", "Y", { answer: "by" })])),
    );
    expect(r.final_decision).toBe("Y");
    expect(r.final_answer).toBe("by");
  });

  it("is null when final_decision is null", () => {
    const spec = makeSpec({ agents: ["a", "b"], aggregation: { tie_policy: { chain: [] } } });
    const r = expectFinalize(
      decide(makeInput(spec, [vote("a", "X", { answer: "ax" }), vote("b", "Y", { answer: "by" })])),
    );
    expect(r.final_decision).toBeNull();
    expect(r.final_answer).toBeNull();
  });

  it("is null when no voter of the decision gave an answer", () => {
    const spec = makeSpec({ agents: ["a", "b"] });
    const r = expectFinalize(decide(makeInput(spec, [vote("a", "X"), vote("b", "X", { answer: "" })])));
    expect(r.final_decision).toBe("X");
    expect(r.final_answer).toBeNull();
  });
});

describe("vote_on: answer", () => {
  const spec = makeSpec({ aggregation: { vote_on: "answer" } });

  it("final_decision is the normalized answer; final_answer the raw text of the most confident voter", () => {
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          answer("a", "Good ", { confidence: 0.4, decision: "APPROVE" }),
          answer("b", "good", { confidence: 0.8, decision: "reject" }),
          answer("c", "bad", { confidence: 1, decision: "REJECT" }),
        ]),
      ),
    );
    expect(r.final_decision).toBe("GOOD");
    expect(r.final_answer).toBe("good");
    expect(r.aggregation.vote_on).toBe("answer");
    expect(r.aggregation.answer_votes).toEqual({ GOOD: 2, BAD: 1 });
    expect(r.aggregation.decision_votes).toEqual({ APPROVE: 1, REJECT: 2 });
    expect(r.aggregation.resolution_paths).toEqual({ answer: "WINNER_PATH" });
    expect(r.aggregation.tally.map((t) => [t.value, t.agents])).toEqual([
      ["GOOD", 2],
      ["BAD", 1],
    ]);
    expect(r.warnings).toEqual([]);
  });

  it("uses answer_confidence_field to pick the voter", () => {
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          answer("a", "Fine.", { answer_confidence: 0.9, confidence: 0.1 }),
          answer("b", "fine.", { answer_confidence: 0.2, confidence: 1 }),
          failed("c"),
        ]),
      ),
    );
    expect(r.final_answer).toBe("Fine.");
  });

  it("works with runtimes that return only answer (no warning)", () => {
    const r = expectFinalize(
      decide(
        makeInput(spec, [
          step("a", "SUCCEEDED", { answer: "42", confidence: 0.9 }),
          step("b", "SUCCEEDED", { answer: 42 }),
          failed("c"),
        ]),
      ),
    );
    expect(r.final_decision).toBe("42");
    expect(r.final_answer).toBe("42");
    expect(r.warnings).toEqual([]);
  });

  it("quorum applies to the answer ballot only", () => {
    const q = makeSpec({
      aggregation: { vote_on: "answer", quorum: 2, null_policy: { chain: ["FINALIZE_NULL"] } },
    });
    const d = decide(
      makeInput(q, [
        answer("a", "one", { decision: "A" }),
        answer("b", "two", { decision: "A" }),
        answer("c", "three", { decision: "A" }),
      ]),
    );
    expect(d.outcome).toBe("QUORUM_NULL");
    const r = expectFinalize(d);
    expect(r.final_decision).toBeNull();
    expect(r.aggregation.decision_votes).toEqual({ A: 3 });
  });
});
