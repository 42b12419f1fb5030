import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseRunSpecText, type RunSpec, validateRunSpec } from "../../src/spec/index.js";

const root = new URL("../../", import.meta.url);
const read = (rel: string) => readFileSync(new URL(rel, root), "utf8");

function valid(input: unknown, knownExecutors?: ReadonlySet<string>) {
  const r = validateRunSpec(input, knownExecutors ? { knownExecutors } : {});
  if (!r.ok)
    throw new Error(`expected valid, got:\n${r.issues.map((i) => `${i.path}: ${i.message}`).join("\n")}`);
  return r;
}

const DEFAULT_REEXPLORE = { max_tie_iterations: 1, no_new_evidence_rounds: 1, require_new_evidence: true };
const DEFAULT_AGGREGATION: RunSpec["aggregation"] = {
  mode: "all_done",
  vote_on: "decision",
  vote_weight: "spec",
  quorum: null,
  tie_policy: {
    enabled_on: ["TIE"],
    chain: ["STOCHASTIC"],
    reexplore: DEFAULT_REEXPLORE,
    confidence_weighted: {
      decision_confidence_field: "decision_confidence",
      answer_confidence_field: "answer_confidence",
      confidence_field: "confidence",
      default_confidence: 0.5,
    },
    reputation_weighted: { missing_reputation: "SKIP" },
    stochastic: {},
  },
  null_policy: {
    enabled_on: ["EMPTY", "QUORUM_NULL"],
    chain: ["REEXPLORE", "FINALIZE_NULL"],
    reexplore: DEFAULT_REEXPLORE,
  },
};

const agentDefaults = { profile: "default", weight: 1, priority: 0, timeout_ms: 120000, inputs: {} };

describe("the seed example (runs-doc.txt)", () => {
  it("validates and is defaulted exactly as SPEC §2 says", () => {
    const r = parseRunSpecText(read("examples/seed/run-spec.json"), "examples/seed/run-spec.json");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    expect(r.spec).toStrictEqual({
      run_id: "analysis-run-001",
      task_type: "swarm",
      shared_inputs: {
        topic: "quarterly-revenue-review",
        data_url: "https://data.example.com/q3.json",
        instructions: "Identify the top three revenue drivers and any anomalies.",
      },
      agents: [
        {
          agent_id: "analyst-a",
          prompt: "Focus on geographic trends in the revenue data.",
          executor: "rt",
          ...agentDefaults,
        },
        {
          agent_id: "analyst-b",
          prompt: "Focus on product-line contributions and margin changes.",
          executor: "rt",
          ...agentDefaults,
        },
        {
          agent_id: "analyst-c",
          prompt: "Focus on customer-segment shifts and churn signals.",
          executor: "rt",
          ...agentDefaults,
        },
      ],
      retry: { max_attempts: 2, backoff_ms: 1500 },
      aggregation: { ...DEFAULT_AGGREGATION, quorum: 2 },
    });
  });

  it("the SPEC §2 example and the quickstart example validate too", () => {
    const spec2 = {
      run_id: "analysis-run-001",
      task_type: "swarm",
      shared_inputs: { topic: "quarterly-revenue-review" },
      agents: [
        { agent_id: "analyst-a", prompt: "Focus on geography.", executor: "rt" },
        {
          agent_id: "analyst-b",
          prompt: "Focus on products.",
          executor: "rt",
          profile: "default",
          weight: 1.0,
          priority: 0,
          timeout_ms: 120000,
          inputs: { region: "EU" },
        },
      ],
      retry: { max_attempts: 2, backoff_ms: 1500 },
      aggregation: {
        mode: "all_done",
        vote_on: "decision",
        quorum: 2,
        tie_policy: { enabled_on: ["TIE"], chain: ["STOCHASTIC"] },
        null_policy: { enabled_on: ["EMPTY", "QUORUM_NULL"], chain: ["REEXPLORE", "FINALIZE_NULL"] },
      },
    };
    expect(valid(spec2).spec.agents[1]?.inputs).toEqual({ region: "EU" });
    const quick = parseRunSpecText(read("examples/quickstart/run-spec.json"), "quickstart");
    expect(quick.ok).toBe(true);
    if (!quick.ok) return;
    expect(quick.spec.agents).toHaveLength(4);
    expect(quick.spec.agents.every((a) => a.executor === "sim")).toBe(true);
    expect(quick.spec.aggregation.quorum).toBe(2);
    expect(quick.spec.aggregation.tie_policy.chain).toEqual(["CONFIDENCE_WEIGHTED", "STOCHASTIC"]);
    expect(quick.spec.aggregation.null_policy.chain).toEqual(["REEXPLORE", "FINALIZE_NULL"]);
    expect(quick.spec.agents[1]?.inputs._sim).toEqual({
      truth: "APPROVE",
      options: ["APPROVE", "REJECT"],
      accuracy: 1,
      confidence: 0.9,
    });
  });
});

describe("defaults", () => {
  const minimal = { run_id: "r", shared_inputs: {}, agents: [{ agent_id: "a", prompt: "", executor: "x" }] };

  it("a minimal spec gets every default of SPEC §2", () => {
    expect(valid(minimal).spec).toStrictEqual({
      run_id: "r",
      task_type: "swarm",
      shared_inputs: {},
      agents: [{ agent_id: "a", prompt: "", executor: "x", ...agentDefaults }],
      retry: { max_attempts: 2, backoff_ms: 1500 },
      aggregation: DEFAULT_AGGREGATION,
    });
  });

  // Each row leaves one field (or section) out while giving its neighbours, and checks its default.
  it.each<[string, object, (s: RunSpec) => unknown, unknown]>([
    ["task_type", {}, (s) => s.task_type, "swarm"],
    ["retry.max_attempts", { retry: { backoff_ms: 1 } }, (s) => s.retry, { max_attempts: 2, backoff_ms: 1 }],
    [
      "retry.backoff_ms",
      { retry: { max_attempts: 3 } },
      (s) => s.retry,
      { max_attempts: 3, backoff_ms: 1500 },
    ],
    ["aggregation.mode", { aggregation: { quorum: 1 } }, (s) => s.aggregation.mode, "all_done"],
    ["aggregation.vote_on", { aggregation: {} }, (s) => s.aggregation.vote_on, "decision"],
    ["aggregation.vote_weight", { aggregation: {} }, (s) => s.aggregation.vote_weight, "spec"],
    ["aggregation.quorum", { aggregation: { mode: "early_stop" } }, (s) => s.aggregation.quorum, null],
    [
      "tie_policy.enabled_on",
      { aggregation: { tie_policy: { chain: [] } } },
      (s) => s.aggregation.tie_policy.enabled_on,
      ["TIE"],
    ],
    [
      "tie_policy.chain",
      { aggregation: { tie_policy: { enabled_on: [] } } },
      (s) => s.aggregation.tie_policy.chain,
      ["STOCHASTIC"],
    ],
    [
      "tie_policy.reexplore",
      { aggregation: { tie_policy: { chain: [] } } },
      (s) => s.aggregation.tie_policy.reexplore,
      DEFAULT_REEXPLORE,
    ],
    [
      "reexplore fields one by one",
      { aggregation: { null_policy: { reexplore: { max_tie_iterations: 3 } } } },
      (s) => s.aggregation.null_policy.reexplore,
      { ...DEFAULT_REEXPLORE, max_tie_iterations: 3 },
    ],
    [
      "null_policy.enabled_on and chain",
      { aggregation: { null_policy: { reexplore: {} } } },
      (s) => [s.aggregation.null_policy.enabled_on, s.aggregation.null_policy.chain],
      [
        ["EMPTY", "QUORUM_NULL"],
        ["REEXPLORE", "FINALIZE_NULL"],
      ],
    ],
    [
      "confidence_weighted fields one by one",
      { aggregation: { tie_policy: { confidence_weighted: { confidence_field: "c" } } } },
      (s) => s.aggregation.tie_policy.confidence_weighted,
      { ...DEFAULT_AGGREGATION.tie_policy.confidence_weighted, confidence_field: "c" },
    ],
    [
      "reputation_weighted: no map, SKIP",
      { aggregation: { tie_policy: { reputation_weighted: {} } } },
      (s) => s.aggregation.tie_policy.reputation_weighted,
      { missing_reputation: "SKIP" },
    ],
    [
      "reputation_weighted.missing_reputation with a map",
      { aggregation: { tie_policy: { reputation_weighted: { agent_reputation_units: { a: 700 } } } } },
      (s) => s.aggregation.tie_policy.reputation_weighted,
      { agent_reputation_units: { a: 700 }, missing_reputation: "SKIP" },
    ],
    [
      "stochastic",
      { aggregation: { tie_policy: { stochastic: {} } } },
      (s) => s.aggregation.tie_policy.stochastic,
      {},
    ],
    [
      "agent fields",
      { agents: [{ agent_id: "a", prompt: "p", executor: "x", weight: 2 }] },
      (s) => s.agents[0],
      { agent_id: "a", prompt: "p", executor: "x", ...agentDefaults, weight: 2 },
    ],
  ])("%s", (_name, patch, pick, expected) => {
    const spec = valid({ ...minimal, ...patch }).spec;
    expect(pick(spec)).toStrictEqual(expected);
  });

  it("keeps every value that was given", () => {
    const full = {
      run_id: "full:run.1-x_y",
      task_type: "review",
      shared_inputs: [1, "two", { three: 3 }],
      agents: [
        {
          agent_id: "a",
          prompt: "p",
          executor: "x",
          profile: "fast",
          weight: 2.5,
          priority: -3,
          timeout_ms: 1000,
          inputs: { k: { nested: [true, null] } },
        },
        { agent_id: "b", prompt: "q", executor: "y", timeout_ms: 3_600_000 },
      ],
      retry: { max_attempts: 100, backoff_ms: 0 },
      aggregation: {
        mode: "early_stop",
        vote_on: "answer",
        vote_weight: "reputation",
        quorum: 2,
        tie_policy: {
          enabled_on: ["QUORUM_NULL", "TIE"],
          chain: ["REEXPLORE", "REPUTATION_WEIGHTED", "CONFIDENCE_WEIGHTED", "STOCHASTIC"],
          reexplore: { max_tie_iterations: 10, no_new_evidence_rounds: 0, require_new_evidence: false },
          confidence_weighted: {
            decision_confidence_field: "dc",
            answer_confidence_field: "ac",
            confidence_field: "c",
            default_confidence: 0,
          },
          reputation_weighted: { agent_reputation_units: { a: 0, b: 1500.5 }, missing_reputation: "UNIFORM" },
          stochastic: { seed: "salt" },
        },
        null_policy: {
          enabled_on: [],
          chain: [],
          reexplore: { max_tie_iterations: 0, no_new_evidence_rounds: 10, require_new_evidence: true },
        },
      },
    };
    const r = valid(full);
    expect(r.spec).toStrictEqual({
      ...full,
      agents: [full.agents[0], { ...agentDefaults, ...full.agents[1] }],
    });
    expect(r.warnings).toEqual([]);
  });

  it("accepts quorum null and reads quorum 0 as null with a warning", () => {
    expect(valid({ ...minimal, aggregation: { quorum: null } }).spec.aggregation.quorum).toBeNull();
    const r = valid({ ...minimal, aggregation: { quorum: 0 } });
    expect(r.spec.aggregation.quorum).toBeNull();
    expect(r.warnings).toEqual([
      "aggregation.quorum: 0 is read as no quorum (null); omit the field or set it to null",
    ]);
  });

  it("warns about reputation units for agents that are not in the run", () => {
    const r = valid({
      ...minimal,
      aggregation: { tie_policy: { reputation_weighted: { agent_reputation_units: { a: 1, ghost: 2 } } } },
    });
    expect(r.warnings).toEqual([
      'aggregation.tie_policy.reputation_weighted.agent_reputation_units.ghost: "ghost" is not an agent of this run; its units are never used',
    ]);
  });

  it("accepts registered executors and treats `[]` chains as no resolver", () => {
    const r = valid(
      { ...minimal, aggregation: { tie_policy: { chain: [] }, null_policy: { chain: [] } } },
      new Set(["x", "rt"]),
    );
    expect(r.spec.aggregation.tie_policy.chain).toEqual([]);
    expect(r.spec.aggregation.null_policy.chain).toEqual([]);
  });

  it("returns a JSON-safe deep copy that shares nothing with the input", () => {
    const input = structuredClone({ ...minimal, shared_inputs: { deep: { list: [1, 2] } } });
    const spec = valid(input).spec;
    expect(JSON.parse(JSON.stringify(spec))).toStrictEqual(spec);
    (input.shared_inputs.deep.list as number[]).push(3);
    input.agents[0]!.agent_id = "changed";
    expect(spec.shared_inputs).toEqual({ deep: { list: [1, 2] } });
    expect(spec.agents[0]?.agent_id).toBe("a");
    expect(Object.getPrototypeOf(spec.shared_inputs)).toBe(Object.prototype);
  });

  it("keeps `__proto__` and `constructor` keys of free-form inputs as plain data", () => {
    const text =
      '{"run_id":"r","shared_inputs":{"__proto__":{"polluted":true},"constructor":1},' +
      '"agents":[{"agent_id":"a","prompt":"","executor":"x","inputs":{"__proto__":{"p":2}}}]}';
    const r = parseRunSpecText(text, "t");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const shared = r.spec.shared_inputs as Record<string, unknown>;
    expect(Object.getPrototypeOf(shared)).toBe(Object.prototype);
    expect(Object.keys(shared)).toEqual(["__proto__", "constructor"]);
    expect(JSON.stringify(r.spec.shared_inputs)).toBe('{"__proto__":{"polluted":true},"constructor":1}');
    expect(JSON.stringify(r.spec.agents[0]?.inputs)).toBe('{"__proto__":{"p":2}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("accepts strings at exactly 64 KiB and nesting at exactly 32 levels", () => {
    let nested: unknown = {};
    // root = level 1, shared_inputs = 2, shared_inputs.n = 3, and 29 more objects below it reach 32.
    for (let i = 0; i < 29; i++) nested = { x: nested };
    const r = validateRunSpec({ ...minimal, shared_inputs: { s: "a".repeat(65536), n: nested } });
    expect(r.ok).toBe(true);
  });

  it("accepts a UTF-8 byte-order mark and surrounding whitespace in text", () => {
    const r = parseRunSpecText(`\uFEFF\n ${JSON.stringify(minimal)} \n`, "bom.json");
    expect(r.ok).toBe(true);
  });
});
