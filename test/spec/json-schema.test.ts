import { describe, expect, it } from "vitest";
import { runSpecJsonSchema, validateRunSpec } from "../../src/spec/index.js";

describe("runSpecJsonSchema", () => {
  const schema = runSpecJsonSchema();
  /** The node at a dotted path (`properties.agents.items`), or undefined. */
  const at = (path: string): unknown =>
    path.split(".").reduce<unknown>((n, key) => (n as Record<string, unknown> | undefined)?.[key], schema);

  it("is a draft 2020-12 object schema with the required fields", () => {
    expect(at("$schema")).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(at("type")).toBe("object");
    expect(at("required")).toEqual(["run_id", "shared_inputs", "agents"]);
    expect(at("additionalProperties")).toBe(false);
    expect(at("properties.agents.items.required")).toEqual(["agent_id", "prompt", "executor"]);
    expect(at("properties.agents.items.additionalProperties")).toBe(false);
    expect(at("properties.agents")).toMatchObject({ minItems: 1, maxItems: 1000 });
  });

  it("states the rules and shows the defaults the validator applies", () => {
    const r = validateRunSpec({
      run_id: "r",
      shared_inputs: {},
      agents: [{ agent_id: "a", prompt: "", executor: "x" }],
    });
    if (!r.ok) throw new Error("minimal spec must be valid");
    expect(at("properties.run_id")).toMatchObject({
      minLength: 1,
      maxLength: 128,
      pattern: "^[A-Za-z0-9._:-]*$",
    });
    expect(at("properties.task_type.default")).toBe("swarm");
    expect(at("properties.retry.default")).toEqual(r.spec.retry);
    expect(at("properties.aggregation.default")).toEqual(r.spec.aggregation);
    const agent = "properties.agents.items.properties";
    expect(at(`${agent}.timeout_ms`)).toMatchObject({
      type: "integer",
      minimum: 1000,
      maximum: 3600000,
      default: 120000,
    });
    expect(at(`${agent}.weight`)).toMatchObject({ exclusiveMinimum: 0, default: 1 });
    const tie = "properties.aggregation.properties.tie_policy.properties";
    expect(at(`${tie}.chain.items.enum`)).toEqual([
      "STOCHASTIC",
      "CONFIDENCE_WEIGHTED",
      "REPUTATION_WEIGHTED",
      "REEXPLORE",
    ]);
    expect(at(`${tie}.chain.uniqueItems`)).toBe(true);
    expect(at(`${tie}.reexplore.properties.max_tie_iterations`)).toMatchObject({
      minimum: 0,
      maximum: 10,
      default: 1,
    });
  });

  it("is plain JSON and the same every time", () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
    expect(runSpecJsonSchema()).toEqual(schema);
  });
});
