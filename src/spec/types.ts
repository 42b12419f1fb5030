// The run spec after validation and defaulting (SPEC §2). Every field is present: the stored spec is the
// fully defaulted one, so code downstream never re-applies defaults.

import type { JsonObject, JsonValue } from "../vocab.js";

export type { JsonObject, JsonValue };

export const TIE_RESOLVERS = [
  "STOCHASTIC",
  "CONFIDENCE_WEIGHTED",
  "REPUTATION_WEIGHTED",
  "REEXPLORE",
] as const;
export type TieResolver = (typeof TIE_RESOLVERS)[number];

export const NULL_RESOLVERS = ["REEXPLORE", "FINALIZE_NULL"] as const;
export type NullResolver = (typeof NULL_RESOLVERS)[number];

export const TIE_TRIGGERS = ["TIE", "QUORUM_NULL"] as const;
export type TieTrigger = (typeof TIE_TRIGGERS)[number];

export const NULL_TRIGGERS = ["EMPTY", "QUORUM_NULL"] as const;
export type NullTrigger = (typeof NULL_TRIGGERS)[number];

export const AGGREGATION_MODES = ["all_done", "early_stop"] as const;
export type AggregationMode = (typeof AGGREGATION_MODES)[number];

export const VOTE_ON = ["decision", "answer"] as const;
export type VoteOn = (typeof VOTE_ON)[number];

export const VOTE_WEIGHTS = ["spec", "confidence", "reputation"] as const;
export type VoteWeight = (typeof VOTE_WEIGHTS)[number];

export const MISSING_REPUTATION = ["SKIP", "UNIFORM"] as const;
export type MissingReputation = (typeof MISSING_REPUTATION)[number];

export interface ReExplorePolicy {
  max_tie_iterations: number;
  no_new_evidence_rounds: number;
  require_new_evidence: boolean;
}

export interface ConfidenceWeightedConfig {
  decision_confidence_field: string;
  answer_confidence_field: string;
  confidence_field: string;
  default_confidence: number;
}

export interface ReputationWeightedConfig {
  /** Absent → units come from the knowledge store (SPEC §9). */
  agent_reputation_units?: Record<string, number>;
  missing_reputation: MissingReputation;
}

export interface StochasticConfig {
  seed?: string;
}

export interface TiePolicy {
  enabled_on: TieTrigger[];
  chain: TieResolver[];
  reexplore: ReExplorePolicy;
  confidence_weighted: ConfidenceWeightedConfig;
  reputation_weighted: ReputationWeightedConfig;
  stochastic: StochasticConfig;
}

export interface NullPolicy {
  enabled_on: NullTrigger[];
  chain: NullResolver[];
  reexplore: ReExplorePolicy;
}

export interface AggregationPolicy {
  mode: AggregationMode;
  vote_on: VoteOn;
  vote_weight: VoteWeight;
  /** null = no quorum. */
  quorum: number | null;
  tie_policy: TiePolicy;
  null_policy: NullPolicy;
}

export interface AgentSpec {
  agent_id: string;
  prompt: string;
  executor: string;
  profile: string;
  weight: number;
  priority: number;
  timeout_ms: number;
  inputs: JsonObject;
}

export interface RetryPolicy {
  max_attempts: number;
  backoff_ms: number;
}

export interface RunSpec {
  run_id: string;
  task_type: string;
  shared_inputs: JsonValue;
  agents: AgentSpec[];
  retry: RetryPolicy;
  aggregation: AggregationPolicy;
}
