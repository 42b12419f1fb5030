import { describe, expect, it } from "vitest";
import { didYouMean, editDistance, suggest } from "../../src/spec/suggest.js";

describe("suggestions", () => {
  it("measures edits, counting a swap of neighbours as one", () => {
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("agnet", "agent")).toBe(1);
    expect(editDistance("same", "same")).toBe(0);
  });

  it.each([
    ["agentid", ["agent_id", "prompt"], "agent_id"],
    ["STOCASTIC", ["STOCHASTIC", "REEXPLORE"], "STOCHASTIC"],
    ["all-done", ["all_done", "early_stop"], "all_done"],
    ["Early_Stop", ["all_done", "early_stop"], "early_stop"],
    ["skip", ["SKIP", "UNIFORM"], "SKIP"],
    ["TIES", ["TIE", "QUORUM_NULL"], "TIE"],
    ["timeout", ["timeout_ms", "priority"], "timeout_ms"],
    ["colour", ["run_id", "agents", "retry"], undefined],
    ["x", ["a", "b"], undefined],
    ["", ["a"], undefined],
  ])("%s → %s", (input, candidates, expected) => {
    expect(suggest(input, candidates)).toBe(expected);
  });

  it("formats the hint, or nothing", () => {
    expect(didYouMean("agentid", ["agent_id"])).toBe(" (did you mean agent_id?)");
    expect(didYouMean("zzz", ["agent_id"])).toBe("");
    expect(didYouMean("a".repeat(10_000), ["a"])).toBe("");
  });
});
