// The SDK side of the HTTP runtime protocol (SPEC §8.2): what a handler receives and may return. Only the
// executors' wire types are shared with the kernel, so an agent written against this never sees its internals.
import type { IncomingHttpHeaders } from "node:http";
import type { ExecuteRequest } from "../executors/types.js";
import type { JsonObject, JsonValue } from "../spec/types.js";

export type { ExecuteRequest } from "../executors/types.js";

/** The body of `POST /verify`. */
export interface VerifyRequest {
  task_id: string;
  execution_id: string;
  attempt_id: string;
  task_contract: JsonObject | null;
  candidate_output: JsonValue;
  evidence_refs: JsonValue[];
}

export interface VerifyResult {
  passed: boolean;
  reason_codes?: string[];
}

/** `GET /capabilities`; anything the handler does not say defaults to "accepts everything". */
export interface Capabilities {
  task_types: string[];
  profiles: string[];
  provider_family: string;
  model_id: string;
  [key: string]: JsonValue;
}

export interface RuntimeContext {
  /** Aborted when the worker closes the connection (deadline, cancel) or the deadline header passes. */
  signal: AbortSignal;
  /** `X-Wattswarm-Deadline-Ms`, epoch ms, when the caller sent one. */
  deadline_ms: number | null;
  headers: IncomingHttpHeaders;
}

/**
 * What `execute` may return: an ExecuteResponse (`{candidate_output, evidence_refs?, evidence_inline?}`) or a
 * bare output object such as `{decision, answer, confidence}`, which the runtime wraps in `candidate_output`.
 */
export type ExecuteResult = JsonObject;

export type ExecuteHandler = (
  request: ExecuteRequest,
  ctx: RuntimeContext,
) => ExecuteResult | Promise<ExecuteResult>;
export type VerifyHandler = (
  request: VerifyRequest,
  ctx: RuntimeContext,
) => VerifyResult | boolean | Promise<VerifyResult | boolean>;

/** An agent: one function, or a module-like object (`import * as agent from "./agent.mjs"` works as is). */
export interface RuntimeHandler {
  execute: ExecuteHandler;
  verify?: VerifyHandler;
  capabilities?: Partial<Capabilities>;
}

/** Thrown by a handler to answer with a given status (e.g. 429 with Retry-After, 422 for a bad task). */
export class RuntimeError extends Error {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { status?: number; retryAfterMs?: number } = {}) {
    super(message);
    this.name = "RuntimeError";
    this.status = options.status ?? 500;
    this.retryAfterMs = options.retryAfterMs;
  }
}
