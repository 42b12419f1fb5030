// The built-in simulated agent (SPEC §8.1). Every draw comes from a hash of the attempt's identity, so a demo,
// a test or a benchmark replays exactly, and a retry (new attempt_seq) draws afresh.
import { createHash } from "node:crypto";
import type { JsonObject, JsonValue } from "../spec/types.js";
import { isPlainObject } from "../util/json.js";
import { abortableSleep } from "../util/signals.js";
import type { ExecutionOutcome } from "../vocab.js";
import { failure } from "./failures.js";
import type { AttemptContext, ExecuteRequest, Executor, ExecutorCheck } from "./types.js";

export interface SimOptions {
  accuracy: number;
  truth: string;
  options: string[];
  latency_ms: number;
  fail_rate: number;
  confidence: number;
  evidence: boolean;
  seed: string;
}

export const SIM_OPTION_KEYS = [
  "accuracy",
  "truth",
  "options",
  "latency_ms",
  "fail_rate",
  "confidence",
  "evidence",
  "seed",
] as const;

/** One hour, the longest agent timeout: a longer simulated latency could never finish. */
export const MAX_SIM_LATENCY_MS = 60 * 60 * 1000;

export const SIM_CAPABILITIES: JsonObject = {
  task_types: ["*"],
  profiles: ["*"],
  provider_family: "sim",
  model_id: "sim",
};

function show(value: JsonValue | undefined): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

function isUnit(value: JsonValue | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 1;
}

/** Problems with a partial option set (registered config or `_sim`), one line each. */
export function validateSimOptions(raw: JsonObject): string[] {
  const problems: string[] = [];
  const known: readonly string[] = SIM_OPTION_KEYS;
  for (const [key, value] of Object.entries(raw)) {
    if (!known.includes(key)) {
      problems.push(`unknown option ${key} (expected one of ${SIM_OPTION_KEYS.join(", ")})`);
      continue;
    }
    const bad = (rule: string): void => {
      problems.push(`invalid option ${key}=${show(value)}: ${rule}`);
    };
    switch (key) {
      case "accuracy":
      case "fail_rate":
      case "confidence":
        if (!isUnit(value)) bad("must be a number from 0 to 1");
        break;
      case "latency_ms":
        if (
          typeof value !== "number" ||
          !Number.isInteger(value) ||
          value < 0 ||
          value > MAX_SIM_LATENCY_MS
        ) {
          bad(`must be an integer from 0 to ${MAX_SIM_LATENCY_MS}`);
        }
        break;
      case "truth":
      case "seed":
        if (typeof value !== "string") bad("must be a string");
        break;
      case "options":
        if (!Array.isArray(value) || value.length === 0 || !value.every((o) => typeof o === "string")) {
          bad("must be a non-empty array of strings");
        }
        break;
      case "evidence":
        if (typeof value !== "boolean") bad("must be true or false");
        break;
    }
  }
  return problems;
}

/** Registered config, then `_sim` (its keys win), then defaults; confidence defaults to the final accuracy. */
export function resolveSimOptions(config: JsonObject, override: JsonObject | undefined): SimOptions {
  const merged: JsonObject = { ...config, ...override };
  const accuracy = isUnit(merged.accuracy) ? merged.accuracy : 0.8;
  return {
    accuracy,
    truth: typeof merged.truth === "string" ? merged.truth : "A",
    options: Array.isArray(merged.options) ? merged.options.filter((o) => typeof o === "string") : ["A", "B"],
    latency_ms: typeof merged.latency_ms === "number" ? merged.latency_ms : 0,
    fail_rate: isUnit(merged.fail_rate) ? merged.fail_rate : 0,
    confidence: isUnit(merged.confidence) ? merged.confidence : accuracy,
    evidence: merged.evidence === true,
    seed: typeof merged.seed === "string" ? merged.seed : "",
  };
}

export interface SimIdentity {
  run_id: string;
  agent_id: string;
  round: number;
  attempt_seq: number;
}

export type SimDraw = { failed: true } | { failed: false; value: string; digest: string };

/** Six bytes (48 bits) of the digest as a number in [0, 1): exact in a double and plenty for sampling. */
function unit(digest: Buffer, offset: number): number {
  return digest.readUIntBE(offset, 6) / 2 ** 48;
}

/** The pure part of the simulation: what one attempt answers. */
export function simDraw(identity: SimIdentity, options: SimOptions): SimDraw {
  const key = JSON.stringify([
    identity.run_id,
    identity.agent_id,
    identity.round,
    identity.attempt_seq,
    options.seed,
  ]);
  const digest = createHash("sha256").update(key, "utf8").digest();
  if (unit(digest, 0) < options.fail_rate) return { failed: true };
  let value = options.truth;
  if (unit(digest, 6) >= options.accuracy) {
    const others = options.options.filter((o) => o !== options.truth);
    if (others.length > 0) value = others[Math.floor(unit(digest, 12) * others.length)] ?? options.truth;
  }
  return { failed: false, value, digest: `sim:${digest.toString("hex").slice(0, 16)}` };
}

export class SimExecutor implements Executor {
  readonly kind = "sim" as const;

  constructor(
    readonly name: string,
    private readonly config: JsonObject = {},
  ) {}

  async execute(
    request: ExecuteRequest,
    ctx: AttemptContext,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const override = request.inputs._sim;
    if (override !== undefined && !isPlainObject(override)) {
      return failure("BAD_OUTPUT", false, `sim: invalid option _sim=${show(override)}: must be an object`);
    }
    const problems = [...validateSimOptions(this.config), ...(override ? validateSimOptions(override) : [])];
    if (problems.length > 0) return failure("BAD_OUTPUT", false, `sim: ${problems.join("; ")}`);
    const options = resolveSimOptions(this.config, override);

    const slept = await abortableSleep(options.latency_ms, signal);
    if (!slept || signal.aborted) return failure("TIMEOUT", true, "aborted");

    const draw = simDraw(ctx, options);
    if (draw.failed) return failure("HTTP_5XX", true, "sim: simulated failure");
    const response: JsonObject = { decision: draw.value, answer: draw.value, confidence: options.confidence };
    if (options.evidence) response.evidence_digests = [draw.digest];
    return { ok: true, response };
  }

  async check(): Promise<ExecutorCheck> {
    const problems = validateSimOptions(this.config);
    if (problems.length > 0) {
      return {
        ok: false,
        health: "invalid config",
        capabilities: structuredClone(SIM_CAPABILITIES),
        error: problems.join("; "),
      };
    }
    return { ok: true, health: "ok", capabilities: structuredClone(SIM_CAPABILITIES) };
  }
}
