import { describe, expect, it } from "vitest";
import { buildExecuteRequest } from "../../src/executors/request.js";

describe("buildExecuteRequest", () => {
  it("builds the SPEC §8.2 request", () => {
    const inputs = { topic: "q", prompt: "Focus.", agent_id: "analyst-a" };
    const request = buildExecuteRequest({
      run_id: "r1",
      agent_id: "analyst-a",
      round: 2,
      attempt_seq: 3,
      attempt_id: "att-123",
      task_type: "swarm",
      profile: "default",
      inputs,
      timeout_ms: 120_000,
    });
    expect(request).toEqual({
      task_id: "run-r1-analyst-a-2-3",
      execution_id: "att-123",
      task_type: "swarm",
      inputs,
      profile: "default",
      task_contract: {
        protocol_version: "v0.1",
        task_id: "run-r1-analyst-a-2-3",
        task_type: "swarm",
        inputs,
        output_schema: {
          type: "object",
          properties: {
            decision: { type: "string" },
            answer: { type: "string" },
            confidence: { type: "number", minimum: 0, maximum: 1 },
          },
        },
        budget: { time_ms: 120_000 },
      },
      stage: "EXPLORE",
      attempt_id: "att-123",
      seed_bundle: null,
    });
    expect(Object.keys(request)).toEqual([
      "task_id",
      "execution_id",
      "task_type",
      "inputs",
      "profile",
      "task_contract",
      "stage",
      "attempt_id",
      "seed_bundle",
    ]);
  });
});
