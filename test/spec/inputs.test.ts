import { describe, expect, it } from "vitest";
import {
  buildStepInputs,
  type JsonValue,
  parseRunSpecText,
  type RunSpec,
  validateRunSpec,
} from "../../src/spec/index.js";

function spec(input: Record<string, unknown>): RunSpec {
  const r = validateRunSpec({
    run_id: "r",
    agents: [{ agent_id: "a", prompt: "P", executor: "x" }],
    ...input,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.spec;
}

describe("buildStepInputs (SPEC §2.1)", () => {
  it("reproduces the runs-doc example: shared inputs, then prompt and agent_id", () => {
    const s = spec({
      shared_inputs: { topic: "quarterly-revenue-review", data_url: "https://data.example.com/q3.json" },
      agents: [{ agent_id: "analyst-a", prompt: "Focus on geographic trends.", executor: "rt" }],
    });
    expect(JSON.stringify(buildStepInputs(s, 0))).toBe(
      JSON.stringify({
        topic: "quarterly-revenue-review",
        data_url: "https://data.example.com/q3.json",
        prompt: "Focus on geographic trends.",
        agent_id: "analyst-a",
      }),
    );
  });

  it("merges in order: shared_inputs < agents[].inputs < prompt/agent_id < signal", () => {
    const s = spec({
      shared_inputs: {
        a: "shared",
        b: "shared",
        prompt: "shared",
        agent_id: "shared",
        _aggregation_signal: "old",
      },
      agents: [
        {
          agent_id: "x1",
          prompt: "P1",
          executor: "x",
          inputs: { b: "agent", c: { deep: 1 }, prompt: "agent" },
        },
        { agent_id: "x2", prompt: "P2", executor: "x" },
      ],
    });
    const signal = { type: "NEED_MORE_EVIDENCE", iteration: 1 };
    expect({ ...buildStepInputs(s, 0, signal) }).toEqual({
      a: "shared",
      b: "agent",
      c: { deep: 1 },
      prompt: "P1",
      agent_id: "x1",
      _aggregation_signal: signal,
    });
    expect(Object.keys(buildStepInputs(s, 0))).toEqual([
      "a",
      "b",
      "_aggregation_signal",
      "c",
      "prompt",
      "agent_id",
    ]);
    expect({ ...buildStepInputs(s, 1, null) }).toEqual({
      a: "shared",
      b: "shared",
      _aggregation_signal: "old",
      prompt: "P2",
      agent_id: "x2",
    });
  });

  it.each<[string, JsonValue]>([
    ["an array", [1, 2]],
    ["a string", "text"],
    ["a number", 3],
    ["null", null],
    ["a boolean", false],
  ])("wraps shared_inputs that is %s as {shared_inputs: v}", (_name, value) => {
    const s = spec({ shared_inputs: value });
    expect({ ...buildStepInputs(s, 0) }).toEqual({ shared_inputs: value, prompt: "P", agent_id: "a" });
  });

  it("keeps `__proto__` and `constructor` as plain keys and pollutes no prototype", () => {
    const r = parseRunSpecText(
      '{"run_id":"r","shared_inputs":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}},' +
        '"agents":[{"agent_id":"a","prompt":"P","executor":"x","inputs":{"__proto__":{"isAdmin":true},"toString":"t"}}]}',
      "t",
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const inputs = buildStepInputs(r.spec, 0, { __proto__: 1 } as never);
    expect(Object.getPrototypeOf(inputs)).toBeNull();
    expect(Object.keys(inputs)).toEqual([
      "__proto__",
      "constructor",
      "toString",
      "prompt",
      "agent_id",
      "_aggregation_signal",
    ]);
    const proto: unknown = Object.getOwnPropertyDescriptor(inputs, "__proto__")?.value;
    expect(proto).toEqual({ isAdmin: true });
    expect(Object.getPrototypeOf(proto)).toBeNull();
    expect(JSON.parse(JSON.stringify(inputs))).toEqual(
      JSON.parse(
        '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":"yes"}},"toString":"t","prompt":"P","agent_id":"a","_aggregation_signal":{}}',
      ),
    );
    const probe = {} as Record<string, unknown>;
    expect(probe.polluted).toBeUndefined();
    expect(probe.isAdmin).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, "polluted")).toBe(false);
  });

  it("returns copies: changing the inputs never changes the spec", () => {
    const s = spec({
      shared_inputs: { list: [1], obj: { k: "v" } },
      agents: [{ agent_id: "a", prompt: "", executor: "x", inputs: { o: { n: 1 } } }],
    });
    const before = JSON.stringify(s);
    // biome-ignore lint/suspicious/noExplicitAny: the test pokes into the result freely
    const inputs = buildStepInputs(s, 0) as Record<string, any>;
    inputs.list.push(2);
    inputs.obj.k = "changed";
    inputs.o.n = 2;
    expect(JSON.stringify(s)).toBe(before);
  });

  it("refuses an agent index that does not exist", () => {
    const s = spec({ shared_inputs: {} });
    expect(() => buildStepInputs(s, 1)).toThrow(/out of range/);
    expect(() => buildStepInputs(s, -1)).toThrow(/out of range/);
  });
});
