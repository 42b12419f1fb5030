// The wire request of one attempt (SPEC §8.2), shared by every executor kind so http, command and the
// reference runtime all see the same document.
import type { JsonObject } from "../spec/types.js";
import type { ExecuteRequest } from "./types.js";

export const PROTOCOL_VERSION = "v0.1";

export interface ExecuteRequestParams {
  run_id: string;
  agent_id: string;
  round: number;
  attempt_seq: number;
  attempt_id: string;
  task_type: string;
  profile: string;
  inputs: JsonObject;
  timeout_ms: number;
}

/** A fresh copy each call: a caller mutating one request's schema must not change the next one. */
export function defaultOutputSchema(): JsonObject {
  return {
    type: "object",
    properties: {
      decision: { type: "string" },
      answer: { type: "string" },
      confidence: { type: "number", minimum: 0, maximum: 1 },
    },
  };
}

export function taskIdFor(run_id: string, agent_id: string, round: number, attempt_seq: number): string {
  return `run-${run_id}-${agent_id}-${round}-${attempt_seq}`;
}

export function buildExecuteRequest(params: ExecuteRequestParams): ExecuteRequest {
  const task_id = taskIdFor(params.run_id, params.agent_id, params.round, params.attempt_seq);
  return {
    task_id,
    execution_id: params.attempt_id,
    task_type: params.task_type,
    inputs: params.inputs,
    profile: params.profile,
    task_contract: {
      protocol_version: PROTOCOL_VERSION,
      task_id,
      task_type: params.task_type,
      inputs: params.inputs,
      output_schema: defaultOutputSchema(),
      budget: { time_ms: params.timeout_ms },
    },
    stage: "EXPLORE",
    attempt_id: params.attempt_id,
    seed_bundle: null,
  };
}
