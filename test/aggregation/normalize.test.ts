// SPEC §5.1 (ballot normalization), §5.3 (STOCHASTIC pick), needsReputation (§5, §9).
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  needsReputation,
  normalizeBallot,
  stochasticPick,
} from "../../src/aggregation/index.js";
import type { JsonValue } from "../../src/spec/types.js";
import { makeSpec } from "../support/aggregation.js";

describe("normalizeBallot: strings", () => {
  it.each<[JsonValue, string]>([
    ["approve", "APPROVE"],
    ["  Approve \n", "APPROVE"],
    ["needs   more\t\ninfo", "NEEDS MORE INFO"],
    [" a  b   c ", "A B C"],
    ["Reject", "REJECT"],
    ["ÉTUDE", "ÉTUDE"],
  ])("%j → %j", (input, expected) => {
    expect(normalizeBallot(input)).toBe(expected);
  });

  it("applies Unicode NFC: a decomposed é equals the precomposed one", () => {
    const decomposed = "e\u0301tude";
    const precomposed = "\u00e9tude";
    expect(normalizeBallot(decomposed)).toBe("\u00c9TUDE");
    expect(normalizeBallot(precomposed)).toBe("\u00c9TUDE");
    expect(normalizeBallot(decomposed)).toHaveLength(5);
  });

  it("keeps non-ASCII characters that have no case", () => {
    expect(normalizeBallot("  批准  ")).toBe("批准");
  });
});

describe("normalizeBallot: numbers and booleans use their JSON text", () => {
  it.each<[JsonValue, string]>([
    [1, "1"],
    [0, "0"],
    [-2, "-2"],
    [1.5, "1.5"],
    [1e21, "1E+21"],
    [true, "TRUE"],
    [false, "FALSE"],
  ])("%j → %j", (input, expected) => {
    expect(normalizeBallot(input)).toBe(expected);
  });

  it("a number and its string spelling are the same vote", () => {
    expect(normalizeBallot(42)).toBe(normalizeBallot(" 42 "));
    expect(normalizeBallot(true)).toBe(normalizeBallot("true"));
  });
});

describe("normalizeBallot: objects and arrays use canonical JSON, not case-folded", () => {
  it.each<[JsonValue, string]>([
    [{ b: 1, a: "x Y" }, '{"a":"x Y","b":1}'],
    [["b", "A"], '["b","A"]'],
    [{ z: { b: [1, { d: 1, c: 2 }], a: null } }, '{"z":{"a":null,"b":[1,{"c":2,"d":1}]}}'],
    [[{}], "[{}]"],
    [{ k: "  spaced  " }, '{"k":"  spaced  "}'],
  ])("%j → %s", (input, expected) => {
    expect(normalizeBallot(input)).toBe(expected);
  });
});

describe("normalizeBallot: no vote", () => {
  it.each<[string, JsonValue | undefined]>([
    ["empty string", ""],
    ["whitespace only (trims to empty)", "  \t\n "],
    ["empty object", {}],
    ["empty array", []],
    ["null", null],
    ["missing", undefined],
  ])("%s → null", (_name, input) => {
    expect(normalizeBallot(input)).toBeNull();
  });
});

describe("canonicalJson", () => {
  it("sorts keys by code point (not UTF-16 units), recursively, without spaces", () => {
    const v: JsonValue = { "😀": 1, "\uFF21": 2, a: 3, B: 4, é: 5 };
    expect(canonicalJson(v)).toBe('{"B":4,"a":3,"é":5,"\uFF21":2,"😀":1}');
  });

  it("keeps array order and JSON escapes", () => {
    expect(canonicalJson([3, 1, { y: 'q"t', x: [true, null] }])).toBe('[3,1,{"x":[true,null],"y":"q\\"t"}]');
  });

  it("prints scalars as JSON", () => {
    expect(canonicalJson("a b")).toBe('"a b"');
    expect(canonicalJson(1.0)).toBe("1");
    expect(canonicalJson(null)).toBe("null");
    expect(canonicalJson({})).toBe("{}");
  });

  it("never overflows the stack: 100,000 levels of arrays and objects", () => {
    const levels = 100_000;
    let arrays: JsonValue = "x";
    let objects: JsonValue = "x";
    for (let i = 0; i < levels; i++) {
      arrays = [arrays];
      objects = { k: objects, a: i };
    }
    expect(canonicalJson(arrays)).toBe(`${"[".repeat(levels)}"x"${"]".repeat(levels)}`);
    const text = canonicalJson(objects);
    expect(text.startsWith(`{"a":${levels - 1},"k":{"a":${levels - 2},"k":`)).toBe(true);
    expect(text.endsWith(`"k":"x"${"}".repeat(levels)}`)).toBe(true);
  });

  it("is insensitive to the key insertion order", () => {
    expect(canonicalJson({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalJson({ b: { d: 3, c: 2 }, a: 1 }));
  });
});

describe("stochasticPick (§5.3 test vectors)", () => {
  it("analysis-run-001:decision:A|B|C → 36070d2b507d8c64 → index 1 (B)", () => {
    expect(stochasticPick("analysis-run-001", "decision", ["A", "B", "C"])).toEqual({
      winner: "B",
      index: 1,
      seed: "analysis-run-001:decision:A|B|C",
      candidates: ["A", "B", "C"],
    });
  });

  it("analysis-run-001:decision:APPROVE|REJECT → d2fe378e8175a8cc → index 0", () => {
    expect(stochasticPick("analysis-run-001", "decision", ["REJECT", "APPROVE"])).toEqual({
      winner: "APPROVE",
      index: 0,
      seed: "analysis-run-001:decision:APPROVE|REJECT",
      candidates: ["APPROVE", "REJECT"],
    });
  });

  it("sorts the candidates before hashing", () => {
    const pick = stochasticPick("analysis-run-001", "decision", ["C", "A", "B"]);
    expect(pick.candidates).toEqual(["A", "B", "C"]);
    expect(pick.seed).toBe("analysis-run-001:decision:A|B|C");
    expect(pick.winner).toBe("B");
  });

  it("sorts by UTF-8 bytes: U+FF21 before U+1F600 (UTF-16 order is the reverse)", () => {
    const pick = stochasticPick("run-1", "decision", ["😀", "\uFF21"]);
    expect(pick.candidates).toEqual(["\uFF21", "😀"]);
    expect(pick.seed).toBe("run-1:decision:\uFF21|😀");
    // sha256 → 9c283954e9c4080c, even → index 0
    expect(pick.index).toBe(0);
    expect(pick.winner).toBe("\uFF21");
  });

  it("prefixes the salt: s1:analysis-run-001:decision:A|B|C → eb79658a68f4b3a8 → index 0 (A)", () => {
    expect(stochasticPick("analysis-run-001", "decision", ["A", "B", "C"], "s1")).toEqual({
      winner: "A",
      index: 0,
      seed: "s1:analysis-run-001:decision:A|B|C",
      candidates: ["A", "B", "C"],
    });
  });

  it("uses the bucket: analysis-run-001:answer:A|B|C → 7d500bbeb2550786 → index 0", () => {
    const pick = stochasticPick("analysis-run-001", "answer", ["A", "B", "C"]);
    expect(pick.seed).toBe("analysis-run-001:answer:A|B|C");
    expect(pick.index).toBe(0);
    expect(pick.winner).toBe("A");
  });

  it("a single candidate is index 0", () => {
    expect(stochasticPick("r", "decision", ["ONLY"])).toMatchObject({
      index: 0,
      winner: "ONLY",
      seed: "r:decision:ONLY",
    });
  });

  it("does not mutate its argument", () => {
    const candidates = ["C", "A", "B"];
    stochasticPick("analysis-run-001", "decision", candidates);
    expect(candidates).toEqual(["C", "A", "B"]);
  });
});

describe("needsReputation", () => {
  it("is false for the default policy", () => {
    expect(needsReputation(makeSpec().aggregation)).toBe(false);
  });

  it("is true for vote_weight reputation without a spec map", () => {
    expect(needsReputation(makeSpec({ aggregation: { vote_weight: "reputation" } }).aggregation)).toBe(true);
  });

  it("is true for REPUTATION_WEIGHTED in the tie chain without a spec map", () => {
    const spec = makeSpec({ aggregation: { tie_policy: { chain: ["REPUTATION_WEIGHTED", "STOCHASTIC"] } } });
    expect(needsReputation(spec.aggregation)).toBe(true);
  });

  it("is false when the spec gives agent_reputation_units", () => {
    const spec = makeSpec({
      aggregation: {
        vote_weight: "reputation",
        tie_policy: {
          chain: ["REPUTATION_WEIGHTED"],
          reputation_weighted: { agent_reputation_units: { a: 700 } },
        },
      },
    });
    expect(needsReputation(spec.aggregation)).toBe(false);
  });

  it("is false for vote_weight confidence and CONFIDENCE_WEIGHTED", () => {
    const spec = makeSpec({
      aggregation: { vote_weight: "confidence", tie_policy: { chain: ["CONFIDENCE_WEIGHTED", "REEXPLORE"] } },
    });
    expect(needsReputation(spec.aggregation)).toBe(false);
  });
});
