// Reading each step into a ballot entry and counting the weighted ballot (SPEC §5.1, §5.2).
import type { AgentSpec, JsonObject, RunSpec, VoteOn } from "../spec/types.js";
import { MAX_OUTPUT_DEPTH, responseTooDeepAt } from "../util/json.js";
import { extractConfidence, extractEvidence, extractOutput, normalizeBallot } from "./normalize.js";
import type { StepState } from "./types.js";

/** One step, read: what it voted (if anything) and with what weight. */
export interface BallotEntry {
  step: StepState;
  agent: AgentSpec | undefined;
  output: JsonObject | null;
  decision: string | null;
  answer: string | null;
  /** The ballot value under `vote_on` (decision or answer). */
  ballot: string | null;
  confidence: number | null;
  evidence: string[];
  hasNewEvidence: boolean;
  /** SUCCEEDED with a non-empty ballot. */
  isVoter: boolean;
  /** A voter that survived the require_new_evidence filter. */
  counted: boolean;
  voteWeight: number;
}

export interface Bucket {
  value: string;
  agents: number;
  weight: number;
  voters: BallotEntry[];
}

export function epsilon(...values: number[]): number {
  let largest = 1;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  return 1e-9 * largest;
}

/** Units of one agent for reputation weighting; null = the agent has no units (SKIP). */
export function reputationUnitsOf(
  agentId: string,
  spec: RunSpec,
  snapshot: Record<string, number> | null | undefined,
): number | null {
  const config = spec.aggregation.tie_policy.reputation_weighted;
  const map = config.agent_reputation_units;
  if (map !== undefined) {
    if (Object.hasOwn(map, agentId)) return map[agentId] as number;
    return config.missing_reputation === "UNIFORM" ? 1 : null;
  }
  if (snapshot && Object.hasOwn(snapshot, agentId)) return snapshot[agentId] as number;
  return 500;
}

export function readBallots(
  spec: RunSpec,
  steps: readonly StepState[],
  voteOn: VoteOn,
  priorEvidence: Record<string, string[]>,
  round: number,
): BallotEntry[] {
  const agents = new Map(spec.agents.map((a) => [a.agent_id, a]));
  const confidenceConfig = spec.aggregation.tie_policy.confidence_weighted;
  const ordered = [...steps].sort((a, b) => a.ordinal - b.ordinal);
  return ordered.map((step) => {
    const succeeded = step.status === "SUCCEEDED";
    // Executors refuse such output (SPEC §8.4); one stored before must not reach the walks below unbounded.
    if (succeeded && responseTooDeepAt(step.response) !== undefined) {
      throw new Error(
        `agent ${step.agent_id}: output nested more than ${MAX_OUTPUT_DEPTH} levels (limit ${MAX_OUTPUT_DEPTH}); it cannot be aggregated`,
      );
    }
    const output = succeeded ? extractOutput(step.response) : null;
    const decision = output ? normalizeBallot(output.decision) : null;
    const answer = output ? normalizeBallot(output.answer) : null;
    const ballot = voteOn === "decision" ? decision : answer;
    const evidence = succeeded ? extractEvidence(step.response, output) : [];
    const prior = Object.hasOwn(priorEvidence, step.agent_id) ? (priorEvidence[step.agent_id] ?? []) : [];
    const hasNewEvidence = round <= 1 || evidence.some((d) => !prior.includes(d));
    const isVoter = succeeded && ballot !== null;
    return {
      step,
      agent: agents.get(step.agent_id),
      output,
      decision,
      answer,
      ballot,
      confidence: output ? extractConfidence(output, voteOn, confidenceConfig) : null,
      evidence,
      hasNewEvidence,
      isVoter,
      counted: isVoter,
      voteWeight: 0,
    };
  });
}

/** The largest weight a vote of this agent can have (confidence counted as 1). */
export function maxVoteWeight(
  agentId: string,
  agent: AgentSpec | undefined,
  spec: RunSpec,
  snapshot: Record<string, number> | null | undefined,
): number {
  const base = agent?.weight ?? 1;
  if (spec.aggregation.vote_weight !== "reputation") return base;
  return (base * (reputationUnitsOf(agentId, spec, snapshot) ?? 0)) / 1000;
}

export function voteWeightOf(
  entry: BallotEntry,
  spec: RunSpec,
  snapshot: Record<string, number> | null | undefined,
): number {
  const base = entry.agent?.weight ?? 1;
  switch (spec.aggregation.vote_weight) {
    case "spec":
      return base;
    case "confidence":
      return base * (entry.confidence ?? 0);
    case "reputation":
      return (base * (reputationUnitsOf(entry.step.agent_id, spec, snapshot) ?? 0)) / 1000;
  }
}

/** Buckets of counted voters, in order of first vote (step order); weights summed in step order. */
export function tally(entries: readonly BallotEntry[], pick: (e: BallotEntry) => string | null): Bucket[] {
  const buckets = new Map<string, Bucket>();
  for (const entry of entries) {
    if (!entry.counted) continue;
    const value = pick(entry);
    if (value === null) continue;
    let bucket = buckets.get(value);
    if (!bucket) {
      bucket = { value, agents: 0, weight: 0, voters: [] };
      buckets.set(value, bucket);
    }
    bucket.agents += 1;
    bucket.weight += entry.voteWeight;
    bucket.voters.push(entry);
  }
  return [...buckets.values()];
}

/** Values whose weight is within ε of the heaviest. */
export function heaviest(buckets: readonly Bucket[]): Bucket[] {
  if (buckets.length === 0) return [];
  const top = Math.max(...buckets.map((b) => b.weight));
  const eps = epsilon(top);
  return buckets.filter((b) => top - b.weight <= eps);
}
