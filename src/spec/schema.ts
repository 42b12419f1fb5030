// The run spec as a user writes it (SPEC §2), in zod. This describes the structure, the per-field rules and
// the defaults; cross-field rules (unique agent ids, quorum ≤ agents, chain order) live in validate.ts because
// zod skips refinements on objects that already have issues, and we report every problem at once.

import { z } from "zod";
import {
  AGGREGATION_MODES,
  MISSING_REPUTATION,
  NULL_RESOLVERS,
  NULL_TRIGGERS,
  TIE_RESOLVERS,
  TIE_TRIGGERS,
  VOTE_ON,
  VOTE_WEIGHTS,
} from "./types.js";

export const LIMITS = {
  /** Spec file or request body, in UTF-8 bytes. */
  maxSpecBytes: 1024 * 1024,
  /** Any string anywhere in the spec (object keys included), in UTF-8 bytes. */
  maxStringBytes: 64 * 1024,
  /** Nested objects/arrays; the root object is level 1. */
  maxDepth: 32,
  maxAgents: 1000,
  maxIdLength: 128,
  maxTaskTypeLength: 64,
  minTimeoutMs: 1000,
  maxTimeoutMs: 3_600_000,
  maxAttempts: 100,
  maxReexplore: 10,
} as const;

/** The one id charset: run_id, agent_id and executor names, in specs, the CLI and the API's URLs. */
export const ID_CHARSET = "[A-Za-z0-9._:-]";
// `*`, not `+`: emptiness is reported by min(1) alone, not twice.
export const ID_PATTERN = new RegExp(`^${ID_CHARSET}*$`);
/** A whole valid id: 1–128 characters of the id charset. */
export const VALID_ID_PATTERN = new RegExp(`^${ID_CHARSET}{1,${LIMITS.maxIdLength}}$`);

/** Whether `s` is a valid run_id / agent_id / executor name (1–128 characters of the id charset). */
export function isValidId(s: string): boolean {
  return VALID_ID_PATTERN.test(s);
}

/** Top-level keys of the original's "stigmergy" runs, rejected with their own message. */
export const STIGMERGY_KEYS = ["market_task_id", "feed_key", "scope_hint", "round_policy"] as const;

export const DEFAULT_TIMEOUT_MS = 120_000;

const id = (what: string) =>
  z
    .string()
    .min(1)
    .max(LIMITS.maxIdLength)
    .regex(ID_PATTERN)
    .meta({
      description: `${what}: 1–${LIMITS.maxIdLength} characters of ${ID_CHARSET}`,
    });

// Counts are integers in the safe range; zod's int() enforces that too.
const int = () => z.number().int();

export const ReExplorePolicySchema = z.strictObject({
  max_tie_iterations: int()
    .min(0)
    .max(LIMITS.maxReexplore)
    .default(1)
    .meta({ description: "Re-explore rounds this chain may start in a run." }),
  no_new_evidence_rounds: int()
    .min(0)
    .max(LIMITS.maxReexplore)
    .default(1)
    .meta({ description: "Rounds without new evidence tolerated before re-explore stops." }),
  require_new_evidence: z
    .boolean()
    .default(true)
    .meta({ description: "From round 2 on, only agents with new evidence vote (when at least one has)." }),
});

export const ConfidenceWeightedSchema = z.strictObject({
  decision_confidence_field: z.string().min(1).default("decision_confidence"),
  answer_confidence_field: z.string().min(1).default("answer_confidence"),
  confidence_field: z.string().min(1).default("confidence"),
  default_confidence: z.number().min(0).max(1).default(0.5),
});

export const ReputationWeightedSchema = z.strictObject({
  agent_reputation_units: z
    .record(z.string(), z.number().min(0))
    .optional()
    .meta({ description: "agent_id → units (≥ 0). Absent: units come from the knowledge store." }),
  missing_reputation: z
    .enum(MISSING_REPUTATION)
    .default("SKIP")
    .meta({ description: "An agent absent from the map counts 0 (SKIP) or 1 (UNIFORM)." }),
});

export const StochasticSchema = z.strictObject({
  seed: z.string().optional().meta({ description: "Optional salt for the tie-break hash." }),
});

export const TiePolicySchema = z.strictObject({
  enabled_on: z.array(z.enum(TIE_TRIGGERS)).default(["TIE"]),
  chain: z
    .array(z.enum(TIE_RESOLVERS))
    .default(["STOCHASTIC"])
    .meta({ description: "Tried in order; no duplicates; nothing after STOCHASTIC; [] = no resolver." }),
  reexplore: ReExplorePolicySchema.prefault({}),
  confidence_weighted: ConfidenceWeightedSchema.prefault({}),
  reputation_weighted: ReputationWeightedSchema.prefault({}),
  stochastic: StochasticSchema.prefault({}),
});

export const NullPolicySchema = z.strictObject({
  enabled_on: z.array(z.enum(NULL_TRIGGERS)).default(["EMPTY", "QUORUM_NULL"]),
  chain: z
    .array(z.enum(NULL_RESOLVERS))
    .default(["REEXPLORE", "FINALIZE_NULL"])
    .meta({ description: "Tried in order; no duplicates; nothing after FINALIZE_NULL; [] = no resolver." }),
  reexplore: ReExplorePolicySchema.prefault({}),
});

export const AggregationSchema = z.strictObject({
  mode: z.enum(AGGREGATION_MODES).default("all_done"),
  vote_on: z.enum(VOTE_ON).default("decision").meta({ description: "Which output field is the ballot." }),
  vote_weight: z
    .enum(VOTE_WEIGHTS)
    .default("spec")
    .meta({ description: "A vote's weight: agents[].weight × 1, × confidence, or × reputation units/1000." }),
  // 0 is accepted for compatibility with the original and read as "no quorum" (with a warning).
  quorum: int()
    .min(0)
    .nullable()
    .default(null)
    .meta({ description: "1 ≤ quorum ≤ number of agents; null = none (0 is read as none, with a warning)." }),
  tie_policy: TiePolicySchema.prefault({}),
  null_policy: NullPolicySchema.prefault({}),
});

export const AgentSchema = z.strictObject({
  agent_id: id("Unique within the run"),
  prompt: z.string().meta({ description: "Set as inputs.prompt; may be empty." }),
  executor: z.string().min(1).meta({ description: "A registered executor name." }),
  profile: z.string().min(1).default("default"),
  weight: z.number().positive().default(1).meta({ description: "> 0; scales the agent's vote." }),
  priority: int().default(0).meta({ description: "Higher is claimed first." }),
  timeout_ms: int()
    .min(LIMITS.minTimeoutMs)
    .max(LIMITS.maxTimeoutMs)
    .default(DEFAULT_TIMEOUT_MS)
    .meta({ description: "One attempt's deadline (1 s – 1 h)." }),
  inputs: z
    .record(z.string(), z.unknown())
    .default({})
    .meta({ description: "Merged after shared_inputs into the step's inputs." }),
});

export const RetrySchema = z.strictObject({
  max_attempts: int().min(1).max(LIMITS.maxAttempts).default(2).meta({ description: "Per step per round." }),
  backoff_ms: int()
    .min(0)
    .default(1500)
    .meta({ description: "Delay before attempt n+1 = max(200, backoff_ms·2^(n−1)) ms, capped at 10 min." }),
});

export const RunSpecSchema = z
  .strictObject({
    run_id: id("Run id"),
    task_type: z.string().min(1).max(LIMITS.maxTaskTypeLength).default("swarm"),
    shared_inputs: z.unknown().meta({
      description:
        'Any JSON. An object is merged into every step\'s inputs; any other value becomes {"shared_inputs": v}.',
    }),
    agents: z.array(AgentSchema).min(1).max(LIMITS.maxAgents),
    retry: RetrySchema.prefault({}),
    aggregation: AggregationSchema.prefault({}),
  })
  .meta({ title: "WattSwarm run spec" });

export type RunSpecParsed = z.output<typeof RunSpecSchema>;

/**
 * The keys allowed in each object of the spec, by path pattern (array indices written `[]`), for unknown-key
 * suggestions. Free-form objects (shared_inputs, agents[].inputs, agent_reputation_units) are not listed.
 */
export const OBJECT_KEYS: Readonly<Record<string, readonly string[]>> = {
  "": Object.keys(RunSpecSchema.shape),
  "agents[]": Object.keys(AgentSchema.shape),
  retry: Object.keys(RetrySchema.shape),
  aggregation: Object.keys(AggregationSchema.shape),
  "aggregation.tie_policy": Object.keys(TiePolicySchema.shape),
  "aggregation.tie_policy.reexplore": Object.keys(ReExplorePolicySchema.shape),
  "aggregation.tie_policy.confidence_weighted": Object.keys(ConfidenceWeightedSchema.shape),
  "aggregation.tie_policy.reputation_weighted": Object.keys(ReputationWeightedSchema.shape),
  "aggregation.tie_policy.stochastic": Object.keys(StochasticSchema.shape),
  "aggregation.null_policy": Object.keys(NullPolicySchema.shape),
  "aggregation.null_policy.reexplore": Object.keys(ReExplorePolicySchema.shape),
};
