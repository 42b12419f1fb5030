// Reputation arithmetic (SPEC §9): the units formula and the count changes of a finalization or feedback.
import { describe, expect, it } from "vitest";
import type { AggregationResult } from "../../src/aggregation/types.js";
import {
  DEFAULT_UNITS,
  feedbackDeltas,
  finalizationDeltas,
  reputationUnits,
  unitsFromRows,
} from "../../src/kernel/reputation.js";

const row = (runs: number, agreed: number, correct = 0, wrong = 0) => ({ runs, agreed, correct, wrong });

function result(
  votes: Record<string, string | null>,
  final: string | null,
  path = "WINNER_PATH",
): AggregationResult {
  return {
    status: "FINALIZED",
    final_decision: final,
    conclusions: Object.entries(votes).map(([agent_id, decision]) => ({
      agent_id,
      voted: decision !== null,
      decision,
      answer: null,
    })),
    aggregation: { vote_on: "decision", resolution_paths: { decision: path }, tie_policy: { trace: [] } },
  } as unknown as AggregationResult;
}

describe("reputation units", () => {
  it("round(1000·(agreed+1)/(runs+2)) without feedback, round(1000·(correct+1)/(correct+wrong+2)) with it", () => {
    expect(reputationUnits(row(0, 0))).toBe(DEFAULT_UNITS);
    expect(reputationUnits(row(1, 1))).toBe(667);
    expect(reputationUnits(row(1, 0))).toBe(333);
    expect(reputationUnits(row(10, 10))).toBe(917);
    // Feedback wins over agreement as soon as there is any.
    expect(reputationUnits(row(10, 10, 0, 1))).toBe(333);
    expect(reputationUnits(row(100, 0, 8, 2))).toBe(750);
    expect(reputationUnits(row(0, 0, 14, 0))).toBe(938); // 937.5 rounds up, as SQL round() does
  });

  it("a finalization adds runs/agreed for each counted voter in the task_type and '*' rows", () => {
    const deltas = finalizationDeltas("t", result({ a: "YES", b: "NO", c: null }, "YES"));
    expect(deltas).toEqual([
      { agent_id: "a", task_type: "t", runs: 1, agreed: 1, correct: 0, wrong: 0 },
      { agent_id: "a", task_type: "*", runs: 1, agreed: 1, correct: 0, wrong: 0 },
      { agent_id: "b", task_type: "t", runs: 1, agreed: 0, correct: 0, wrong: 0 },
      { agent_id: "b", task_type: "*", runs: 1, agreed: 0, correct: 0, wrong: 0 },
    ]);
    expect(finalizationDeltas("*", result({ a: "YES" }, "YES"))).toHaveLength(1);
    expect(finalizationDeltas("t", result({ a: "YES" }, null, "NULL_PATH"))).toEqual([]);
    expect(finalizationDeltas("t", result({ a: "YES", b: "NO" }, "YES", "TIE_PATH"))).toEqual([]);
  });

  it("replacing feedback takes the old counts back", () => {
    const r = result({ a: "YES", b: "NO" }, "YES");
    expect(feedbackDeltas("*", r, null, "YES").map((d) => [d.agent_id, d.correct, d.wrong])).toEqual([
      ["a", 1, 0],
      ["b", 0, 1],
    ]);
    expect(feedbackDeltas("*", r, "YES", "NO").map((d) => [d.agent_id, d.correct, d.wrong])).toEqual([
      ["a", -1, 1],
      ["b", 1, -1],
    ]);
    // Wrong either way: nothing to change.
    expect(feedbackDeltas("*", r, "MAYBE", "PERHAPS")).toEqual([]);
  });

  it("units for a run: the task_type row first, then '*'", () => {
    const base = { runs: 0, agreed: 0, correct: 0, wrong: 0, updated_at: "" };
    const units = unitsFromRows(
      [
        { ...base, agent_id: "a", task_type: "*", units: 100 },
        { ...base, agent_id: "a", task_type: "t", units: 900 },
        { ...base, agent_id: "b", task_type: "*", units: 200 },
        { ...base, agent_id: "b", task_type: "u", units: 800 },
      ],
      "t",
    );
    expect({ ...units }).toEqual({ a: 900, b: 200 });
  });
});
