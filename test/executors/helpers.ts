// Builders for one attempt's request and context, shared by the executor tests.
import { buildExecuteRequest } from "../../src/executors/request.js";
import type { AttemptContext, ExecuteRequest } from "../../src/executors/types.js";
import type { JsonObject, JsonValue } from "../../src/spec/types.js";

export interface AttemptFixture {
  request: ExecuteRequest;
  ctx: AttemptContext;
}

export function makeAttempt(
  overrides: Partial<{
    run_id: string;
    agent_id: string;
    round: number;
    attempt_seq: number;
    attempt_id: string;
    task_type: string;
    profile: string;
    inputs: JsonObject;
    timeout_ms: number;
  }> = {},
): AttemptFixture {
  const p = {
    run_id: "run-1",
    agent_id: "agent-a",
    round: 0,
    attempt_seq: 1,
    attempt_id: `att-${Math.random().toString(36).slice(2, 10)}`,
    task_type: "swarm",
    profile: "default",
    inputs: { topic: "t", prompt: "p", agent_id: "agent-a" },
    timeout_ms: 5000,
    ...overrides,
  };
  const request = buildExecuteRequest(p);
  const ctx: AttemptContext = {
    run_id: p.run_id,
    step_id: `${p.run_id}/${p.agent_id}`,
    agent_id: p.agent_id,
    round: p.round,
    attempt: p.attempt_seq,
    attempt_seq: p.attempt_seq,
    timeout_ms: p.timeout_ms,
    deadline_ms: Date.now() + p.timeout_ms,
  };
  return { request, ctx };
}

/** A signal that never aborts, for direct execute() calls. */
export function never(): AbortSignal {
  return new AbortController().signal;
}

/** A candidate output `{decision: "A", deep}` nested `levels` levels (the object itself is level 1). */
export function nested(levels: number): JsonObject {
  let deep: JsonValue = "A";
  for (let i = 1; i < levels; i++) deep = [deep];
  return { decision: "A", deep };
}
