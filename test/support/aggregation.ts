// Builders and the result schema for the aggregation engine's tests (SPEC §2, §5, §6).
// Deliberately independent of src/spec (validation/defaulting) and of the engine's code: only types and the
// constant lists of the contracts are imported.
import { createHash } from "node:crypto";
import { z } from "zod";
import type {
  AggregationInput,
  AggregationResult,
  Decision,
  EarlyStopReport,
  ReexploreDirective,
  ReexploreRecord,
  StepState,
} from "../../src/aggregation/types.js";
import {
  type AggregationPolicy,
  type ConfidenceWeightedConfig,
  type JsonObject,
  type JsonValue,
  type MissingReputation,
  NULL_RESOLVERS,
  NULL_TRIGGERS,
  type NullResolver,
  type NullTrigger,
  type ReExplorePolicy,
  type RunSpec,
  type StochasticConfig,
  TIE_RESOLVERS,
  TIE_TRIGGERS,
  type TieResolver,
  type TieTrigger,
  VOTE_ON,
  VOTE_WEIGHTS,
} from "../../src/spec/types.js";
import { STEP_STATUSES, type StepStatus } from "../../src/vocab.js";

export const RUN_ID = "analysis-run-001";

// ---------------------------------------------------------------------------------------------- spec

export type AgentInit = string | { agent_id: string; weight?: number; executor?: string; profile?: string };

export interface ReputationOverrides {
  agent_reputation_units?: Record<string, number>;
  missing_reputation?: MissingReputation;
}

export interface TieOverrides {
  enabled_on?: TieTrigger[];
  chain?: TieResolver[];
  reexplore?: Partial<ReExplorePolicy>;
  confidence_weighted?: Partial<ConfidenceWeightedConfig>;
  reputation_weighted?: ReputationOverrides;
  stochastic?: StochasticConfig;
}

export interface NullOverrides {
  enabled_on?: NullTrigger[];
  chain?: NullResolver[];
  reexplore?: Partial<ReExplorePolicy>;
}

export interface PolicyOverrides {
  mode?: AggregationPolicy["mode"];
  vote_on?: AggregationPolicy["vote_on"];
  vote_weight?: AggregationPolicy["vote_weight"];
  quorum?: number | null;
  tie_policy?: TieOverrides;
  null_policy?: NullOverrides;
}

export interface SpecOverrides {
  run_id?: string;
  task_type?: string;
  agents?: AgentInit[];
  aggregation?: PolicyOverrides;
}

const reexploreDefaults = (o: Partial<ReExplorePolicy> = {}): ReExplorePolicy => ({
  max_tie_iterations: o.max_tie_iterations ?? 1,
  no_new_evidence_rounds: o.no_new_evidence_rounds ?? 1,
  require_new_evidence: o.require_new_evidence ?? true,
});

/** A fully defaulted RunSpec (SPEC §2 defaults), built by hand. Default agents: a, b, c. */
export function makeSpec(o: SpecOverrides = {}): RunSpec {
  const agg = o.aggregation ?? {};
  const tie = agg.tie_policy ?? {};
  const nul = agg.null_policy ?? {};
  const rw = tie.reputation_weighted ?? {};
  const cw = tie.confidence_weighted ?? {};
  const reputation_weighted: RunSpec["aggregation"]["tie_policy"]["reputation_weighted"] = {
    missing_reputation: rw.missing_reputation ?? "SKIP",
  };
  if (rw.agent_reputation_units !== undefined)
    reputation_weighted.agent_reputation_units = rw.agent_reputation_units;
  return {
    run_id: o.run_id ?? RUN_ID,
    task_type: o.task_type ?? "swarm",
    shared_inputs: { topic: "quarterly-revenue-review" },
    agents: (o.agents ?? ["a", "b", "c"]).map((a) => {
      const init = typeof a === "string" ? { agent_id: a } : a;
      return {
        agent_id: init.agent_id,
        prompt: "",
        executor: init.executor ?? "sim",
        profile: init.profile ?? "default",
        weight: init.weight ?? 1,
        priority: 0,
        timeout_ms: 120000,
        inputs: {},
      };
    }),
    retry: { max_attempts: 2, backoff_ms: 1500 },
    aggregation: {
      mode: agg.mode ?? "all_done",
      vote_on: agg.vote_on ?? "decision",
      vote_weight: agg.vote_weight ?? "spec",
      quorum: agg.quorum ?? null,
      tie_policy: {
        enabled_on: tie.enabled_on ?? ["TIE"],
        chain: tie.chain ?? ["STOCHASTIC"],
        reexplore: reexploreDefaults(tie.reexplore),
        confidence_weighted: {
          decision_confidence_field: cw.decision_confidence_field ?? "decision_confidence",
          answer_confidence_field: cw.answer_confidence_field ?? "answer_confidence",
          confidence_field: cw.confidence_field ?? "confidence",
          default_confidence: cw.default_confidence ?? 0.5,
        },
        reputation_weighted,
        stochastic: tie.stochastic ?? {},
      },
      null_policy: {
        enabled_on: nul.enabled_on ?? ["EMPTY", "QUORUM_NULL"],
        chain: nul.chain ?? ["REEXPLORE", "FINALIZE_NULL"],
        reexplore: reexploreDefaults(nul.reexplore),
      },
    },
  };
}

// --------------------------------------------------------------------------------------------- steps

/** A step before `makeInput` fills `ordinal` (from the spec) and `round` (the input's round). */
export type StepDraft = Omit<StepState, "ordinal" | "round"> & { ordinal?: number; round?: number };

export interface StepOpts {
  executor?: string;
  profile?: string;
  attempt?: number;
  round?: number;
  ordinal?: number;
  error?: string | null;
}

const ACTIVE: readonly StepStatus[] = ["CREATED", "QUEUED", "LEASED", "RETRY_WAIT"];

/** Any step; `response` is what the executor returned (a bare output object or an ExecuteResponse). */
export function step(
  agent: string,
  status: StepStatus,
  response: JsonValue | null = null,
  opts: StepOpts = {},
): StepDraft {
  const draft: StepDraft = {
    agent_id: agent,
    executor: opts.executor ?? "sim",
    profile: opts.profile ?? "default",
    status,
    attempt: opts.attempt ?? (ACTIVE.includes(status) ? 0 : 1),
    response,
    error: opts.error ?? (status === "FAILED" ? "boom" : null),
  };
  if (opts.round !== undefined) draft.round = opts.round;
  if (opts.ordinal !== undefined) draft.ordinal = opts.ordinal;
  return draft;
}

/** A SUCCEEDED step whose bare output is `{decision, ...extra}`. */
export function vote(agent: string, decision: JsonValue, extra: JsonObject = {}): StepDraft {
  return step(agent, "SUCCEEDED", { decision, ...extra });
}

/** A SUCCEEDED step whose bare output is `{answer, ...extra}`. */
export function answer(agent: string, text: JsonValue, extra: JsonObject = {}): StepDraft {
  return step(agent, "SUCCEEDED", { answer: text, ...extra });
}

export function failed(agent: string, error = "boom"): StepDraft {
  return step(agent, "FAILED", null, { error });
}

export function active(agent: string, status: StepStatus = "QUEUED"): StepDraft {
  return step(agent, status, null);
}

export interface InputOpts {
  round?: number;
  prior_evidence?: Record<string, string[]>;
  reexplores?: ReexploreRecord[];
  reputation_units?: Record<string, number> | null;
  early_stop?: EarlyStopReport | null;
}

export function makeInput(spec: RunSpec, steps: StepDraft[], o: InputOpts = {}): AggregationInput {
  const reexplores = o.reexplores ?? [];
  const round = o.round ?? reexplores.length + 1;
  const input: AggregationInput = {
    spec,
    round,
    steps: steps.map((s) => {
      const ordinal = s.ordinal ?? spec.agents.findIndex((a) => a.agent_id === s.agent_id);
      if (ordinal < 0) throw new Error(`unknown agent ${s.agent_id}`);
      return { ...s, ordinal, round: s.round ?? round };
    }),
    prior_evidence: o.prior_evidence ?? {},
    reexplores,
  };
  if (o.reputation_units !== undefined) input.reputation_units = o.reputation_units;
  if (o.early_stop !== undefined) input.early_stop = o.early_stop;
  return input;
}

// ------------------------------------------------------------------------------------------ decisions

export function expectFinalize(d: Decision): AggregationResult {
  if (d.action !== "FINALIZE") {
    throw new Error(`expected FINALIZE, got REEXPLORE ${JSON.stringify(d.reexplore)}`);
  }
  return d.result;
}

export function expectReexplore(d: Decision): ReexploreDirective & { result: AggregationResult } {
  if (d.action !== "REEXPLORE") {
    throw new Error(`expected REEXPLORE, got FINALIZE with ${JSON.stringify(d.result.final_decision)}`);
  }
  return { ...d.reexplore, result: d.result };
}

/** JSON round trip (what the stored result will be: no undefined, -0 → 0). */
export function json<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The §5.3 pick, recomputed independently. */
export function sha16(seed: string): string {
  return createHash("sha256").update(seed, "utf8").digest("hex").slice(0, 16);
}
export function pickIndex(seed: string, n: number): number {
  return Number(BigInt(`0x${sha16(seed)}`) % BigInt(n));
}
export function utf8Sorted(values: string[]): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
}

// -------------------------------------------------------------------------------------- result schema

const rounded3 = z
  .number()
  .refine((x) => Math.abs(x * 1000 - Math.round(x * 1000)) < 1e-6, "not rounded to 3");
const nonNegInt = z.int().min(0);

export const traceEntrySchema = z
  .strictObject({
    bucket: z.enum(VOTE_ON),
    resolver: z.enum([...TIE_RESOLVERS, ...NULL_RESOLVERS]).nullable(),
    outcome: z.enum([
      "RESOLVED",
      "UNRESOLVED",
      "REEXPLORE_STARTED",
      "EXHAUSTED",
      "FINALIZED_NULL",
      "DISABLED",
      "QUORUM_WAIVED",
    ]),
    candidates: z.array(z.string()).optional(),
    winner: z.string().optional(),
    scores: z.record(z.string(), z.number()).optional(),
    seed: z.string().optional(),
    index: nonNegInt.optional(),
  })
  .superRefine((t, ctx) => {
    const nullResolver = t.outcome === "QUORUM_WAIVED" || t.outcome === "DISABLED";
    if (nullResolver !== (t.resolver === null))
      ctx.addIssue({ code: "custom", message: "resolver null iff waived/disabled" });
    if (t.resolver === "STOCHASTIC" && t.outcome === "RESOLVED") {
      const ok =
        t.candidates !== undefined &&
        t.index !== undefined &&
        t.seed !== undefined &&
        t.winner !== undefined &&
        t.candidates[t.index] === t.winner;
      if (!ok)
        ctx.addIssue({ code: "custom", message: "STOCHASTIC entry: candidates[index] must be the winner" });
    }
    if (t.outcome === "RESOLVED" && t.winner === undefined) {
      ctx.addIssue({ code: "custom", message: "RESOLVED entry without winner" });
    }
  });

const reexploreReportSchema = z.strictObject({
  iteration: nonNegInt,
  max_tie_iterations: z.int().min(0).max(10),
  no_new_rounds: nonNegInt,
  no_new_evidence_rounds: z.int().min(0).max(10),
  allow_reexplore: z.boolean(),
  agents_without_new_evidence: z.array(z.string()),
});

const chainBlock = <T extends readonly [string, ...string[]], R extends readonly [string, ...string[]]>(
  triggers: T,
  resolvers: R,
) =>
  z.strictObject({
    enabled_on: z.array(z.enum(triggers)),
    chain: z.array(z.enum(resolvers)),
    trace: z.array(traceEntrySchema),
    reexplore: reexploreReportSchema,
  });

const tallyEntrySchema = z.strictObject({
  value: z.string().min(1),
  agents: z.int().min(1),
  weight: z.number().min(0),
  eligible: z.boolean(),
});

const conclusionSchema = z
  .strictObject({
    agent_id: z.string().min(1),
    executor: z.string(),
    profile: z.string(),
    status: z.enum(STEP_STATUSES),
    round: z.int().min(1),
    attempt: nonNegInt,
    voted: z.boolean(),
    decision: z.string().min(1).nullable(),
    answer: z.string().min(1).nullable(),
    confidence: z.number().min(0).max(1).nullable(),
    weight: z.number().min(0),
    evidence_digests: z.array(z.string().min(1)),
    error: z.string().nullable(),
    output: z.record(z.string(), z.json()).nullable(),
  })
  .refine((c) => c.voted || c.weight === 0, "non-voter with weight")
  .refine((c) => !c.voted || c.status === "SUCCEEDED", "voter not SUCCEEDED")
  .refine((c) => new Set(c.evidence_digests).size === c.evidence_digests.length, "duplicate digests");

const countMap = z.record(z.string().min(1), z.int().min(1));

export const resultSchema = z
  .strictObject({
    status: z.enum(["FINALIZED", "FAILED"]),
    error: z.string().nullable(),
    warnings: z.array(z.string()),
    final_decision: z.string().min(1).nullable(),
    final_answer: z.json().nullable(),
    confidence: z.strictObject({
      votes_for: nonNegInt,
      votes_cast: nonNegInt,
      agreement: rounded3.min(0).max(1).nullable(),
      margin: rounded3.min(-1).max(1).nullable(),
      quorum: z.int().min(1).nullable(),
      quorum_met: z.boolean(),
      entropy_bits: rounded3.min(0).nullable(),
    }),
    conclusions: z.array(conclusionSchema),
    aggregation: z.strictObject({
      mode: z.enum(["all_done", "early_stop"]),
      vote_on: z.enum(VOTE_ON),
      vote_weight: z.enum(VOTE_WEIGHTS),
      decision_votes: countMap,
      answer_votes: countMap,
      tally: z.array(tallyEntrySchema),
      resolution_paths: z.partialRecord(z.enum(VOTE_ON), z.enum(["WINNER_PATH", "TIE_PATH", "NULL_PATH"])),
      tie_policy: chainBlock(TIE_TRIGGERS, TIE_RESOLVERS),
      null_policy: chainBlock(NULL_TRIGGERS, NULL_RESOLVERS),
      null_resolution: z
        .strictObject({
          primary_kind: z.enum(["EMPTY", "QUORUM_NULL", "TIE_UNRESOLVED", "CANCELLED"]),
          reason: z.enum([
            "EXECUTION_INCOMPLETE_OR_FAILED",
            "NO_VALID_DECISION",
            "VALID_VOTES_BELOW_QUORUM",
            "TIE_CHAIN_EXHAUSTED",
            "RUN_CANCELLED",
          ]),
        })
        .nullable(),
      early_stop: z
        .strictObject({ stopped: z.boolean(), steps_saved: nonNegInt, calls_aborted: nonNegInt })
        .nullable(),
      reputation_units: z.record(z.string(), z.number().min(0)).nullable(),
    }),
  })
  .superRefine((r, ctx) => {
    const bad = (message: string) => ctx.addIssue({ code: "custom", message });
    if ((r.status === "FINALIZED") !== (r.error === null)) bad("error must be set iff FAILED");
    if (r.status === "FAILED" && !/^all \d+ steps failed; [^:]+: /.test(r.error ?? ""))
      bad("FAILED error format");
    if (r.final_decision === null && r.final_answer !== null) bad("final_answer without final_decision");
    const c = r.confidence;
    if (c.votes_for > c.votes_cast) bad("votes_for > votes_cast");
    if ((c.agreement === null) !== (c.margin === null)) bad("agreement/margin nullness differ");
    if (c.votes_cast !== r.conclusions.filter((x) => x.voted).length) bad("votes_cast != counted voters");
    const tally = r.aggregation.tally;
    for (let i = 1; i < tally.length; i++) {
      if (tally[i]!.weight > tally[i - 1]!.weight + 1e-9) bad("tally not heaviest first");
    }
    if (new Set(tally.map((t) => t.value)).size !== tally.length) bad("tally values not unique");
    if (tally.reduce((s, t) => s + t.agents, 0) !== c.votes_cast) bad("tally agents != votes_cast");
    if (r.final_decision !== null && !tally.some((t) => t.value === r.final_decision))
      bad("winner not in tally");
    const paths = Object.keys(r.aggregation.resolution_paths);
    if (paths.length !== 1 || paths[0] !== r.aggregation.vote_on)
      bad("resolution_paths must hold vote_on only");
    if (r.aggregation.tie_policy.trace.some((t) => t.bucket !== r.aggregation.vote_on))
      bad("tie trace bucket");
  });

/** A FINALIZE result: final_decision is null iff null_resolution is set. */
export const finalizedResultSchema = resultSchema.superRefine((r, ctx) => {
  if ((r.final_decision === null) !== (r.aggregation.null_resolution !== null)) {
    ctx.addIssue({ code: "custom", message: "null_resolution must be set iff final_decision is null" });
  }
});

export function assertValidDecision(d: Decision): void {
  const schema = d.action === "FINALIZE" ? finalizedResultSchema : resultSchema;
  const parsed = schema.safeParse(json(d.result));
  if (!parsed.success) {
    throw new Error(`invalid result: ${z.prettifyError(parsed.error)}\n${JSON.stringify(d.result, null, 1)}`);
  }
  if (d.action === "REEXPLORE" && d.result.final_decision !== null)
    throw new Error("REEXPLORE with a decision");
}
