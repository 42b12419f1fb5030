// Every rule of SPEC §2, broken one (or several) at a time. Each case states the complete list of issues it
// must produce, path and message, so a vague or missing message fails as surely as a missing check.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ValidationIssue } from "../../src/errors.js";
import { formatIssue, parseRunSpecText, validateRunSpec } from "../../src/spec/index.js";

// biome-ignore lint/suspicious/noExplicitAny: cases mutate specs freely to break them
type Spec = Record<string, any>;

const agent = (id: string, extra: Spec = {}) => ({ agent_id: id, prompt: "p", executor: "rt", ...extra });
const base = (): Spec => ({
  run_id: "run-1",
  shared_inputs: {},
  agents: [agent("a"), agent("b"), agent("c")],
});
const patch = (fn: (s: Spec) => void): Spec => {
  const s = base();
  fn(s);
  return s;
};
const nest = (levels: number): unknown => {
  let v: unknown = {};
  for (let i = 1; i < levels; i++) v = { x: v };
  return v;
};
const line = (i: ValidationIssue) => formatIssue(i);

function issuesOf(input: unknown, knownExecutors?: ReadonlySet<string>): string[] {
  const r = validateRunSpec(input, knownExecutors ? { knownExecutors } : {});
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.issues.map(line).sort();
}

const TIE = "aggregation.tie_policy";
const NULL = "aggregation.null_policy";

const cases: [string, unknown, string[]][] = [
  [
    "duplicate agent_id",
    patch((s) => {
      s.agents[2].agent_id = "a";
    }),
    ['agents[2].agent_id: duplicate "a"'],
  ],
  [
    "run_id with a bad character",
    { ...base(), run_id: "run 1" },
    ['run_id: invalid character " " at position 4 (allowed: [A-Za-z0-9._:-])'],
  ],
  [
    "agent_id with a bad character",
    patch((s) => {
      s.agents[1].agent_id = "a/b";
    }),
    ['agents[1].agent_id: invalid character "/" at position 2 (allowed: [A-Za-z0-9._:-])'],
  ],
  ["run_id too long", { ...base(), run_id: "r".repeat(129) }, ["run_id: too long: 129 characters (max 128)"]],
  ["run_id empty", { ...base(), run_id: "" }, ["run_id: must not be empty"]],
  [
    "task_type too long",
    { ...base(), task_type: "t".repeat(65) },
    ["task_type: too long: 65 characters (max 64)"],
  ],
  ["task_type empty", { ...base(), task_type: "" }, ["task_type: must not be empty"]],
  ["no agents", { ...base(), agents: [] }, ["agents: at least 1 agent is required"]],
  [
    "1001 agents",
    { ...base(), agents: Array.from({ length: 1001 }, (_, i) => agent(`a${i}`)) },
    ["agents: too many agents: 1001 (max 1000)"],
  ],
  [
    "weight 0 and negative",
    patch((s) => {
      s.agents[0].weight = 0;
      s.agents[1].weight = -1.5;
    }),
    ["agents[0].weight: must be > 0, got 0", "agents[1].weight: must be > 0, got -1.5"],
  ],
  [
    "timeout 999 and 3600001",
    patch((s) => {
      s.agents[0].timeout_ms = 999;
      s.agents[1].timeout_ms = 3_600_001;
    }),
    [
      "agents[0].timeout_ms: must be between 1000 and 3600000, got 999",
      "agents[1].timeout_ms: must be between 1000 and 3600000, got 3600001",
    ],
  ],
  [
    "priority not an integer, empty profile and executor",
    patch((s) => {
      s.agents[0].priority = 1.5;
      s.agents[1].profile = "";
      s.agents[2].executor = "";
    }),
    [
      "agents[0].priority: expected integer, got 1.5",
      "agents[1].profile: must not be empty",
      "agents[2].executor: must not be empty",
    ],
  ],
  [
    "quorum above the number of agents",
    { ...base(), aggregation: { quorum: 4 } },
    ["aggregation.quorum: must be at most the number of agents (3), got 4"],
  ],
  [
    "quorum negative",
    { ...base(), aggregation: { quorum: -1 } },
    ["aggregation.quorum: must be >= 1 (null means no quorum), got -1"],
  ],
  [
    "quorum not an integer",
    { ...base(), aggregation: { quorum: 1.5 } },
    ["aggregation.quorum: expected integer, got 1.5"],
  ],
  [
    "quorum a string",
    { ...base(), aggregation: { quorum: "2" } },
    ["aggregation.quorum: expected integer or null, got string"],
  ],
  [
    "unknown key with a suggestion",
    patch((s) => {
      s.agents[0] = { agentid: "a", prompt: "p", executor: "rt" };
    }),
    ["agents[0].agent_id: required", "agents[0].agentid: unknown key (did you mean agent_id?)"],
  ],
  ["unknown key without a suggestion", { ...base(), colour: "blue" }, ["colour: unknown key"]],
  [
    "unknown key that belongs in a section",
    { ...base(), quorum: 2, max_attempts: 3 },
    [
      "max_attempts: unknown key (did you mean retry.max_attempts?)",
      "quorum: unknown key (did you mean aggregation.quorum?)",
    ],
  ],
  [
    "unknown nested keys",
    { ...base(), retry: { maxAttempts: 3 }, aggregation: { tie_policy: { chains: [] } } },
    [
      `${TIE}.chains: unknown key (did you mean chain?)`,
      "retry.maxAttempts: unknown key (did you mean max_attempts?)",
    ],
  ],
  [
    "unknown enum value with a suggestion",
    { ...base(), aggregation: { mode: "all-done" } },
    ['aggregation.mode: unknown value "all-done" (did you mean all_done?)'],
  ],
  [
    "unknown enum value without a suggestion",
    { ...base(), aggregation: { vote_weight: "votes" } },
    ['aggregation.vote_weight: unknown value "votes" (expected one of: spec, confidence, reputation)'],
  ],
  [
    "unknown resolver with a suggestion",
    { ...base(), aggregation: { tie_policy: { chain: ["STOCASTIC"] } } },
    [`${TIE}.chain[0]: unknown resolver "STOCASTIC" (did you mean STOCHASTIC?)`],
  ],
  [
    "a null resolver in the tie chain",
    { ...base(), aggregation: { tie_policy: { chain: ["FINALIZE_NULL"] } } },
    [
      `${TIE}.chain[0]: unknown resolver "FINALIZE_NULL" (expected one of: STOCHASTIC, CONFIDENCE_WEIGHTED, REPUTATION_WEIGHTED, REEXPLORE)`,
    ],
  ],
  [
    "duplicate resolver",
    { ...base(), aggregation: { tie_policy: { chain: ["REEXPLORE", "REEXPLORE", "STOCHASTIC"] } } },
    [`${TIE}.chain[1]: duplicate "REEXPLORE"`],
  ],
  [
    "STOCHASTIC not last",
    { ...base(), aggregation: { tie_policy: { chain: ["STOCHASTIC", "CONFIDENCE_WEIGHTED", "REEXPLORE"] } } },
    [
      `${TIE}.chain[1]: "CONFIDENCE_WEIGHTED" is unreachable: nothing runs after STOCHASTIC, which always resolves`,
      `${TIE}.chain[2]: "REEXPLORE" is unreachable: nothing runs after STOCHASTIC, which always resolves`,
    ],
  ],
  [
    "FINALIZE_NULL not last",
    { ...base(), aggregation: { null_policy: { chain: ["FINALIZE_NULL", "REEXPLORE"] } } },
    [
      `${NULL}.chain[1]: "REEXPLORE" is unreachable: nothing runs after FINALIZE_NULL, which always finalizes`,
    ],
  ],
  [
    "enabled_on: unknown value and duplicate",
    {
      ...base(),
      aggregation: {
        tie_policy: { enabled_on: ["TIES", "TIE", "TIE"] },
        null_policy: { enabled_on: ["TIE"] },
      },
    },
    [
      `${NULL}.enabled_on[0]: unknown value "TIE" (expected one of: EMPTY, QUORUM_NULL)`,
      `${TIE}.enabled_on[0]: unknown value "TIES" (did you mean TIE?)`,
      `${TIE}.enabled_on[2]: duplicate "TIE"`,
    ],
  ],
  [
    "stigmergy keys",
    { ...base(), market_task_id: "m", feed_key: "f", scope_hint: "s", round_policy: {} },
    [
      "feed_key: stigmergy runs are not supported",
      "market_task_id: stigmergy runs are not supported",
      "round_policy: stigmergy runs are not supported",
      "scope_hint: stigmergy runs are not supported",
    ],
  ],
  [
    "a string over 64 KiB inside shared_inputs",
    { ...base(), shared_inputs: { doc: "é".repeat(32769) } },
    ["shared_inputs.doc: string too long: 65538 bytes (64 KiB) > limit 64 KiB"],
  ],
  [
    "a string over 64 KiB in a checked field reports the limit only",
    patch((s) => {
      s.agents[0].prompt = "x".repeat(65537);
    }),
    ["agents[0].prompt: string too long: 65537 bytes (64 KiB) > limit 64 KiB"],
  ],
  [
    "an object key over 64 KiB",
    patch((s) => {
      s.agents[0].inputs = { ["k".repeat(70000)]: 1 };
    }),
    [`agents[0].inputs["${"k".repeat(64)}…"]: key too long: 70000 bytes (68.4 KiB) > limit 64 KiB`],
  ],
  [
    "nesting over 32 levels",
    { ...base(), shared_inputs: nest(32) },
    [`shared_inputs${".x".repeat(31)}: nesting too deep: more than 32 levels (limit 32)`],
  ],
  ["an array root", [], ["the run spec must be a JSON object, got array"]],
  ["a string root", "run-spec.json", ["the run spec must be a JSON object, got string"]],
  ["a number root", 42, ["the run spec must be a JSON object, got number"]],
  ["a null root", null, ["the run spec must be a JSON object, got null"]],
  ["an undefined root", undefined, ["the run spec must be a JSON object, got undefined"]],
  [
    "missing required fields",
    { agents: [{}] },
    [
      "agents[0].agent_id: required",
      "agents[0].executor: required",
      "agents[0].prompt: required",
      "run_id: required",
      "shared_inputs: required",
    ],
  ],
  [
    "wrong types everywhere",
    {
      run_id: 7,
      task_type: null,
      shared_inputs: {},
      agents: [{ agent_id: "a", prompt: 1, executor: ["rt"], weight: "1", inputs: [] }],
      retry: "twice",
      aggregation: {
        tie_policy: {
          chain: "STOCHASTIC",
          reexplore: { require_new_evidence: "yes" },
          stochastic: { seed: 1 },
          reputation_weighted: { agent_reputation_units: [] },
        },
        null_policy: [],
      },
    },
    [
      `${NULL}: expected object, got array`,
      `${TIE}.chain: expected array, got string`,
      `${TIE}.reexplore.require_new_evidence: expected boolean, got string`,
      `${TIE}.reputation_weighted.agent_reputation_units: expected object, got array`,
      `${TIE}.stochastic.seed: expected string, got number`,
      "agents[0].executor: expected string, got array",
      "agents[0].inputs: expected object, got array",
      "agents[0].prompt: expected string, got number",
      "agents[0].weight: expected number, got string",
      "retry: expected object, got string",
      "run_id: expected string, got number",
      "task_type: expected string, got null",
    ],
  ],
  [
    "out-of-range numbers in policies",
    {
      ...base(),
      retry: { max_attempts: 101, backoff_ms: -1 },
      aggregation: {
        tie_policy: {
          reexplore: { max_tie_iterations: 11, no_new_evidence_rounds: -1 },
          confidence_weighted: { default_confidence: 1.5, confidence_field: "" },
          reputation_weighted: { agent_reputation_units: { a: -1, b: "x" }, missing_reputation: "skip" },
        },
        null_policy: { reexplore: { max_tie_iterations: 2.5 } },
      },
    },
    [
      `${NULL}.reexplore.max_tie_iterations: expected integer, got 2.5`,
      `${TIE}.confidence_weighted.confidence_field: must not be empty`,
      `${TIE}.confidence_weighted.default_confidence: must be between 0 and 1, got 1.5`,
      `${TIE}.reexplore.max_tie_iterations: must be between 0 and 10, got 11`,
      `${TIE}.reexplore.no_new_evidence_rounds: must be between 0 and 10, got -1`,
      `${TIE}.reputation_weighted.agent_reputation_units.a: must be >= 0, got -1`,
      `${TIE}.reputation_weighted.agent_reputation_units.b: expected number, got string`,
      `${TIE}.reputation_weighted.missing_reputation: unknown value "skip" (did you mean SKIP?)`,
      "retry.backoff_ms: must be >= 0, got -1",
      "retry.max_attempts: must be between 1 and 100, got 101",
    ],
  ],
  [
    "an enum given a number",
    { ...base(), aggregation: { vote_on: 1 } },
    ["aggregation.vote_on: expected one of decision, answer, got number"],
  ],
  [
    "`__proto__` and `constructor` as unknown keys",
    JSON.parse(
      '{"run_id":"r","shared_inputs":{},"__proto__":{"x":1},"agents":[{"agent_id":"a","prompt":"","executor":"e","constructor":1}],' +
        '"aggregation":{"tie_policy":{"reputation_weighted":{"agent_reputation_units":{"__proto__":-2}}}}}',
    ),
    [
      "__proto__: unknown key",
      "agents[0].constructor: unknown key",
      `${TIE}.reputation_weighted.agent_reputation_units.__proto__: must be >= 0, got -2`,
    ],
  ],
  [
    "values that are not JSON",
    { ...base(), shared_inputs: { n: Number.NaN, f: () => 1, d: new Date(0), list: [undefined] } },
    [
      "shared_inputs.d: not a JSON value: Date",
      "shared_inputs.f: not a JSON value: function",
      "shared_inputs.list[0]: not a JSON value: undefined",
      "shared_inputs.n: not a JSON value: NaN",
    ],
  ],
];

describe("malformed specs", () => {
  it.each(cases)("%s", (_name, input, expected) => {
    expect(issuesOf(input)).toEqual([...expected].sort());
  });

  it("an unregistered executor, only when the registry is given", () => {
    const spec = patch((s) => {
      s.agents[1].executor = "x";
    });
    expect(issuesOf(spec, new Set(["rt"]))).toEqual([
      'agents[1].executor: "x" is not registered; run: wattswarm executors add x --url <url>',
    ]);
    expect(validateRunSpec(spec).ok).toBe(true);
  });

  it("reports several problems at once, from every layer, in document order", () => {
    const text = readFileSync(
      new URL("../fixtures/specs/invalid/several-errors.json", import.meta.url),
      "utf8",
    );
    const r = parseRunSpecText(text, "several-errors.json", { knownExecutors: new Set(["rt"]) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map(line)).toEqual([
      'run_id: invalid character " " at position 4 (allowed: [A-Za-z0-9._:-])',
      "feed_key: stigmergy runs are not supported",
      "agents[0].agent_id: required",
      "agents[0].agentid: unknown key (did you mean agent_id?)",
      "agents[0].timeout_ms: must be between 1000 and 3600000, got 999",
      "agents[1].weight: must be > 0, got 0",
      'aggregation.mode: unknown value "all-done" (did you mean all_done?)',
      "aggregation.quorum: must be at most the number of agents (2), got 3",
      `${TIE}.chain[0]: unknown resolver "STOCASTIC" (did you mean STOCHASTIC?)`,
      `${NULL}.chain[1]: "REEXPLORE" is unreachable: nothing runs after FINALIZE_NULL, which always finalizes`,
    ]);
  });

  it("orders issues under quoted keys and array entries by their place in the document", () => {
    const r = validateRunSpec({
      run_id: "r",
      shared_inputs: { "b key": "x".repeat(70000), "a key": [1, "y".repeat(70000)] },
      agents: [agent("a", { weight: 0 }), agent("a")],
    });
    expect(r.ok === false && r.issues.map((i) => i.path)).toEqual([
      'shared_inputs["b key"]',
      'shared_inputs["a key"][1]',
      "agents[0].weight",
      "agents[1].agent_id",
    ]);
  });

  it("caps the list of issues", () => {
    const agents = Array.from({ length: 300 }, () => ({ agent_id: "same", prompt: "", executor: "e" }));
    const r = validateRunSpec({ run_id: "r", shared_inputs: {}, agents });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(101);
    expect(r.issues[100]).toEqual({ path: "", message: "… and 199 more problems" });
  });

  it("survives cycles and huge inputs with an issue instead of an exception", () => {
    const cyclic: Spec = { a: 1 };
    cyclic.self = cyclic;
    expect(issuesOf({ ...base(), shared_inputs: cyclic })).toEqual([
      "shared_inputs.self: not a JSON value: circular reference",
    ]);
    const huge = { ...base(), agents: new Array(2_000_000).fill(1) };
    expect(issuesOf(huge)).toEqual(["too many values: more than 2000000 (the spec file limit is 1 MiB)"]);
    const wide = { ...base(), agents: new Array(1_000_000).fill(1) };
    const r = validateRunSpec(wide);
    expect(r.ok === false && r.issues.some((i) => i.message === "too many agents: 1000000 (max 1000)")).toBe(
      true,
    );
  });

  it("turns a throwing getter into an issue", () => {
    const evil = Object.defineProperty(base(), "run_id", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    expect(issuesOf(evil)).toEqual(["the run spec could not be validated: boom"]);
  });
});

describe("spec text", () => {
  const text = (s: string) => {
    const r = parseRunSpecText(s, "spec.json");
    expect(r.ok).toBe(false);
    return r.ok ? [] : r.issues.map(line);
  };

  it("reports a JSON syntax error with line and column", () => {
    const fixture = readFileSync(
      new URL("../fixtures/specs/invalid/syntax-error.txt", import.meta.url),
      "utf8",
    );
    expect(text(fixture)).toEqual([
      'spec.json: invalid JSON: unexpected "]" (trailing comma?) at line 6, column 3',
    ]);
    expect(text('{\n  "run_id": "r",\n  "agents": [1 2]\n}')).toEqual([
      'spec.json: invalid JSON: expected "," or "]", got "2" at line 3, column 16',
    ]);
    expect(text('{"run_id": "r"')).toEqual([
      "spec.json: invalid JSON: unexpected end of input at line 1, column 15",
    ]);
    expect(text("{'run_id': 1}")).toEqual([
      'spec.json: invalid JSON: expected a double-quoted key, got "\'" at line 1, column 2',
    ]);
    expect(text("{} {}")).toEqual([
      'spec.json: invalid JSON: unexpected "{" after the end of the document at line 1, column 4',
    ]);
    expect(text("")).toEqual(["spec.json: invalid JSON: empty input"]);
    expect(text("[".repeat(200_000))).toEqual([
      "spec.json: invalid JSON: unexpected end of input at line 1, column 200001",
    ]);
  });

  it("refuses a text over 1 MiB before parsing it", () => {
    const big = JSON.stringify({ ...base(), shared_inputs: { pad: "x".repeat(1024 * 1024) } });
    expect(text(big)).toEqual([`spec.json: spec too large: ${big.length} bytes (1 MiB) > limit 1 MiB`]);
  });

  it("validates a text that parses", () => {
    expect(text("[]")).toEqual(["the run spec must be a JSON object, got array"]);
    expect(text("null")).toEqual(["the run spec must be a JSON object, got null"]);
  });
});
