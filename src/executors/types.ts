// The executor contract: how the worker calls an agent (SPEC §8). Executors never retry internally; they
// report one attempt's outcome and the kernel decides what happens next.
import type { JsonObject, JsonValue } from "../spec/types.js";
import type { ExecutionOutcome, ExecutorInput, ExecutorKind } from "../vocab.js";

/** The body of `POST /execute` (SPEC §8.2), also what a `command` executor reads on stdin. */
export interface ExecuteRequest {
  task_id: string;
  execution_id: string;
  task_type: string;
  inputs: JsonObject;
  profile: string;
  task_contract: {
    protocol_version: "v0.1";
    task_id: string;
    task_type: string;
    inputs: JsonObject;
    output_schema: JsonObject;
    budget: { time_ms: number };
  };
  stage: "EXPLORE";
  attempt_id: string;
  seed_bundle: null;
}

/** Identity of the attempt being executed, for executors that need more than the wire request (sim). */
export interface AttemptContext {
  run_id: string;
  step_id: string;
  agent_id: string;
  round: number;
  attempt: number;
  attempt_seq: number;
  timeout_ms: number;
  /** Absolute deadline, epoch ms. */
  deadline_ms: number;
}

export interface ExecutorCheck {
  ok: boolean;
  health: string;
  capabilities: JsonValue | null;
  error?: string;
}

export interface Executor {
  readonly name: string;
  readonly kind: ExecutorKind;
  /**
   * Runs one attempt. Must honour `signal` (aborted on deadline, cancel or lost lease) and must not throw
   * for executor-side failures: those are outcomes. The caller maps an abort to TIMEOUT or drops it.
   */
  execute(request: ExecuteRequest, ctx: AttemptContext, signal: AbortSignal): Promise<ExecutionOutcome>;
  /** Health and capabilities probe (`executors check`). */
  check(signal?: AbortSignal): Promise<ExecutorCheck>;
}

/** A registry entry as stored in the `executors` table (the store's ExecutorInput). Config holds env-var NAMES, never secrets. */
export type ExecutorConfigRecord = ExecutorInput;
