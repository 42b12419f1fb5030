// Plain data in, plain data out: the aggregation engine's contract (SPEC §5, §6).
import type { JsonObject, JsonValue, RunSpec, VoteOn } from "../spec/types.js";
import type { StepStatus } from "../vocab.js";

/** One step of the run as aggregation sees it: its latest attempt in the current round. */
export interface StepState {
  /** The agent's index in the spec's `agents` ("step order"). */
  ordinal: number;
  agent_id: string;
  executor: string;
  profile: string;
  status: StepStatus;
  round: number;
  /** Attempt number within the round (0 when never claimed in this round). */
  attempt: number;
  /** What the executor returned for a SUCCEEDED step: an ExecuteResponse or a bare output object. */
  response: JsonValue | null;
  error: string | null;
}

export type ChainName = "TIE" | "NULL";

/** One earlier re-explore of this run, in order (the k-th started round k+1). */
export interface ReexploreRecord {
  chain: ChainName;
  /** Voters of the judged round that had new evidence (SPEC §5.4). */
  new_evidence_agents: string[];
}

export interface EarlyStopReport {
  stopped: boolean;
  steps_saved: number;
  calls_aborted: number;
}

export interface AggregationInput {
  /** The defaulted spec; `spec.aggregation` is the policy applied (swap it to re-aggregate under another). */
  spec: RunSpec;
  /** Current round, 1-based. Must equal `reexplores.length + 1`. */
  round: number;
  /** Every step of the run (any order; ordinal decides). */
  steps: StepState[];
  /** agent_id → evidence digests of its SUCCEEDED attempts in earlier rounds. */
  prior_evidence: Record<string, string[]>;
  /** The run's re-explores so far, oldest first. */
  reexplores: ReexploreRecord[];
  /**
   * Reputation units from the knowledge store (agent_id → units). Used only when the policy needs
   * reputation and the spec has no `agent_reputation_units`; agents absent here have 500 (SPEC §9).
   */
  reputation_units?: Record<string, number> | null;
  /** The kernel's early-stop accounting; null in `all_done` mode. */
  early_stop?: EarlyStopReport | null;
}

export type OutcomeKind = "WINNER" | "TIE" | "QUORUM_NULL" | "EMPTY";
export type ResolutionPath = "WINNER_PATH" | "TIE_PATH" | "NULL_PATH";
export type TraceOutcome =
  | "RESOLVED"
  | "UNRESOLVED"
  | "REEXPLORE_STARTED"
  | "EXHAUSTED"
  | "FINALIZED_NULL"
  | "DISABLED"
  | "QUORUM_WAIVED";

export interface TraceEntry {
  bucket: VoteOn;
  /** null for entries that are not a resolver (QUORUM_WAIVED, DISABLED). */
  resolver: string | null;
  outcome: TraceOutcome;
  candidates?: string[];
  winner?: string;
  scores?: Record<string, number>;
  seed?: string;
  index?: number;
}

export interface ReexploreReport {
  iteration: number;
  max_tie_iterations: number;
  no_new_rounds: number;
  no_new_evidence_rounds: number;
  allow_reexplore: boolean;
  agents_without_new_evidence: string[];
}

export type NullKind = "EMPTY" | "QUORUM_NULL" | "TIE_UNRESOLVED" | "CANCELLED";
export type NullReason =
  | "EXECUTION_INCOMPLETE_OR_FAILED"
  | "NO_VALID_DECISION"
  | "VALID_VOTES_BELOW_QUORUM"
  | "TIE_CHAIN_EXHAUSTED"
  | "RUN_CANCELLED";

export interface NullResolution {
  primary_kind: NullKind;
  reason: NullReason;
}

export interface TallyEntry {
  value: string;
  agents: number;
  weight: number;
  eligible: boolean;
}

export interface AggregationBlock {
  mode: "all_done" | "early_stop";
  vote_on: VoteOn;
  vote_weight: "spec" | "confidence" | "reputation";
  decision_votes: Record<string, number>;
  answer_votes: Record<string, number>;
  /** The `vote_on` ballot's values, heaviest first (feeds vote bars). */
  tally: TallyEntry[];
  resolution_paths: Partial<Record<VoteOn, ResolutionPath>>;
  tie_policy: { enabled_on: string[]; chain: string[]; trace: TraceEntry[]; reexplore: ReexploreReport };
  null_policy: { enabled_on: string[]; chain: string[]; trace: TraceEntry[]; reexplore: ReexploreReport };
  null_resolution: NullResolution | null;
  early_stop: EarlyStopReport | null;
  reputation_units: Record<string, number> | null;
}

export interface ConfidenceBlock {
  votes_for: number;
  votes_cast: number;
  agreement: number | null;
  margin: number | null;
  quorum: number | null;
  quorum_met: boolean;
  entropy_bits: number | null;
}

export interface Conclusion {
  agent_id: string;
  executor: string;
  profile: string;
  status: StepStatus;
  round: number;
  attempt: number;
  /** Counted in the ballot (SUCCEEDED, a non-empty ballot, and not filtered by require_new_evidence). */
  voted: boolean;
  /** Normalized ballot values (SPEC §5.1); raw values stay in `output`. */
  decision: string | null;
  answer: string | null;
  confidence: number | null;
  /** The vote weight (SPEC §5.2); 0 when the step did not vote. */
  weight: number;
  evidence_digests: string[];
  error: string | null;
  output: JsonObject | null;
}

/** The part of the result (SPEC §6) the engine owns; the kernel adds run_id, times, round and counts. */
export interface AggregationResult {
  status: "FINALIZED" | "FAILED";
  error: string | null;
  warnings: string[];
  final_decision: string | null;
  final_answer: JsonValue | null;
  confidence: ConfidenceBlock;
  conclusions: Conclusion[];
  aggregation: AggregationBlock;
}

export interface AggregationSignal {
  type: "NEED_MORE_EVIDENCE" | "NEED_STEP_RECOVERY" | "NEED_DECISION";
  path: "TIE_PATH" | "NULL_PATH";
  iteration: number;
  unresolved_buckets: VoteOn[];
  require_new_evidence: boolean;
  null_primary_kind: "EMPTY" | "QUORUM_NULL" | null;
  null_reason: NullReason | null;
}

export interface ReexploreDirective {
  chain: ChainName;
  /** The number of the re-explore being started for that chain (1 for the first). */
  iteration: number;
  signal: AggregationSignal;
  /** Voters of the judged round with new evidence (store it: the next aggregations need it). */
  new_evidence_agents: string[];
  /** The chain's no-new-evidence counter after judging this round. */
  no_new_rounds: number;
}

export type Decision =
  | { action: "FINALIZE"; outcome: OutcomeKind; result: AggregationResult }
  | {
      action: "REEXPLORE";
      outcome: OutcomeKind;
      reexplore: ReexploreDirective;
      /** The aggregation as judged this round (final_decision null), for the re-explore event. */
      result: AggregationResult;
    };

export interface EarlyStopCheck {
  stop: boolean;
  leader: string | null;
  leader_weight: number;
  runner_up_weight: number;
  /** The most weight the active steps could still cast. */
  remaining_weight: number;
}
