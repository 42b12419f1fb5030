// decide(): a pure function from the run's stored state to a decision (SPEC §5). No I/O, clock or randomness:
// the same input always yields the same output, which makes results reproducible and re-aggregation possible.
import type { AggregationPolicy, RunSpec, VoteOn } from "../spec/types.js";
import { isActiveStepStatus } from "../vocab.js";
import {
  type BallotEntry,
  type Bucket,
  epsilon,
  heaviest,
  maxVoteWeight,
  readBallots,
  reputationUnitsOf,
  tally,
  voteWeightOf,
} from "./ballot.js";
import { type ChainContext, type ChainOutcome, runNullChain, runTieChain } from "./chains.js";
import { type Counters, currentStarter, deriveCounters, reexploreAllowed } from "./counters.js";
import { hasField } from "./normalize.js";
import { conclusionsOf, confidenceBlock, failureSummary, finalAnswer, tallyOf, votesMap } from "./report.js";
import type {
  AggregationInput,
  AggregationResult,
  AggregationSignal,
  ChainName,
  Decision,
  EarlyStopCheck,
  NullKind,
  NullReason,
  OutcomeKind,
  ReexploreDirective,
  ReexploreReport,
  ResolutionPath,
  TraceEntry,
} from "./types.js";

/** True when the policy weighs by reputation anywhere (the result then records the units used). */
export function usesReputation(policy: AggregationPolicy): boolean {
  return policy.vote_weight === "reputation" || policy.tie_policy.chain.includes("REPUTATION_WEIGHTED");
}

/** True when the kernel must pass a reputation snapshot from the knowledge store. */
export function needsReputation(policy: AggregationPolicy): boolean {
  return usesReputation(policy) && policy.tie_policy.reputation_weighted.agent_reputation_units === undefined;
}

interface Prepared {
  spec: RunSpec;
  voteOn: VoteOn;
  entries: BallotEntry[];
  buckets: Bucket[];
  counters: Counters;
  newEvidenceAgents: string[];
  withoutNewEvidence: string[];
  votesCast: number;
}

function prepare(input: AggregationInput): Prepared {
  const { spec, round, reexplores } = input;
  if (round !== reexplores.length + 1) {
    throw new Error(`aggregation: round ${round} does not follow ${reexplores.length} re-explore(s)`);
  }
  const voteOn = spec.aggregation.vote_on;
  const entries = readBallots(spec, input.steps, voteOn, input.prior_evidence, round);
  const voters = entries.filter((e) => e.isVoter);
  const newEvidenceAgents = voters.filter((e) => e.hasNewEvidence).map((e) => e.step.agent_id);
  const withoutNewEvidence = voters.filter((e) => !e.hasNewEvidence).map((e) => e.step.agent_id);
  const starter = currentStarter(reexplores);
  const requireNew = starter ? policyOf(spec, starter).reexplore.require_new_evidence : false;
  const filter = round >= 2 && requireNew && newEvidenceAgents.length > 0;
  for (const e of entries) {
    e.counted = e.isVoter && (!filter || e.hasNewEvidence);
    if (e.counted) e.voteWeight = voteWeightOf(e, spec, input.reputation_units);
  }
  return {
    spec,
    voteOn,
    entries,
    buckets: tally(entries, (e) => e.ballot),
    counters: deriveCounters(reexplores, newEvidenceAgents),
    newEvidenceAgents,
    withoutNewEvidence,
    votesCast: entries.filter((e) => e.counted).length,
  };
}

function policyOf(spec: RunSpec, chain: ChainName) {
  return chain === "TIE" ? spec.aggregation.tie_policy : spec.aggregation.null_policy;
}

interface Judgement {
  outcome: OutcomeKind;
  path: ResolutionPath;
  winner: Bucket | null;
  nullResolution: { primary_kind: NullKind; reason: NullReason } | null;
  reexplore: { chain: ChainName; nullKind: "EMPTY" | "QUORUM_NULL" | null; reason: NullReason | null } | null;
  tieTrace: TraceEntry[];
  nullTrace: TraceEntry[];
}

function judge(p: Prepared, input: AggregationInput): Judgement {
  const policy = p.spec.aggregation;
  const ctx: ChainContext = {
    spec: p.spec,
    bucket: p.voteOn,
    counters: p.counters,
    reputationSnapshot: input.reputation_units,
  };
  const j: Judgement = {
    outcome: "WINNER",
    path: "WINNER_PATH",
    winner: null,
    nullResolution: null,
    reexplore: null,
    tieTrace: [],
    nullTrace: [],
  };
  const nullPath = (kind: "EMPTY" | "QUORUM_NULL", reason: NullReason): Judgement => {
    j.path = "NULL_PATH";
    j.nullResolution = { primary_kind: kind, reason };
    if (!policy.null_policy.enabled_on.includes(kind)) {
      j.nullTrace.push({ bucket: p.voteOn, resolver: null, outcome: "DISABLED" });
      return j;
    }
    if (runNullChain(ctx, j.nullTrace).kind === "REEXPLORE")
      j.reexplore = { chain: "NULL", nullKind: kind, reason };
    return j;
  };
  const tieOutcome = (o: ChainOutcome): boolean => {
    if (o.kind === "RESOLVED") j.winner = o.winner;
    return o.kind === "RESOLVED" || o.kind === "REEXPLORE";
  };

  if (p.votesCast === 0) {
    j.outcome = "EMPTY";
    const incomplete = p.entries.some((e) => e.step.status !== "SUCCEEDED");
    return nullPath("EMPTY", incomplete ? "EXECUTION_INCOMPLETE_OR_FAILED" : "NO_VALID_DECISION");
  }
  const quorum = policy.quorum;
  const eligible = quorum === null ? p.buckets : p.buckets.filter((b) => b.agents >= quorum);
  if (eligible.length === 0) {
    j.outcome = "QUORUM_NULL";
    if (!policy.tie_policy.enabled_on.includes("QUORUM_NULL"))
      return nullPath("QUORUM_NULL", "VALID_VOTES_BELOW_QUORUM");
    j.path = "TIE_PATH";
    const candidates = heaviest(p.buckets);
    if (candidates.length === 1) {
      j.winner = candidates[0] as Bucket;
      j.tieTrace.push({ bucket: p.voteOn, resolver: null, outcome: "QUORUM_WAIVED", winner: j.winner.value });
      return j;
    }
    const o = runTieChain(ctx, candidates, j.tieTrace);
    if (o.kind === "REEXPLORE")
      j.reexplore = { chain: "TIE", nullKind: "QUORUM_NULL", reason: "VALID_VOTES_BELOW_QUORUM" };
    if (tieOutcome(o)) return j;
    if (policy.null_policy.enabled_on.includes("QUORUM_NULL"))
      return nullPath("QUORUM_NULL", "VALID_VOTES_BELOW_QUORUM");
    j.nullTrace.push({ bucket: p.voteOn, resolver: null, outcome: "DISABLED" });
    j.nullResolution = { primary_kind: "QUORUM_NULL", reason: "VALID_VOTES_BELOW_QUORUM" };
    return j;
  }
  const top = heaviest(eligible);
  if (top.length === 1) {
    j.winner = top[0] as Bucket;
    return j;
  }
  j.outcome = "TIE";
  j.path = "TIE_PATH";
  if (!policy.tie_policy.enabled_on.includes("TIE")) {
    j.tieTrace.push({ bucket: p.voteOn, resolver: null, outcome: "DISABLED" });
  } else {
    const o = runTieChain(ctx, top, j.tieTrace);
    if (o.kind === "REEXPLORE") j.reexplore = { chain: "TIE", nullKind: null, reason: null };
    if (tieOutcome(o)) return j;
  }
  j.nullResolution = { primary_kind: "TIE_UNRESOLVED", reason: "TIE_CHAIN_EXHAUSTED" };
  return j;
}

function reexploreReport(p: Prepared, chain: ChainName): ReexploreReport {
  const policy = policyOf(p.spec, chain).reexplore;
  const c = p.counters[chain];
  return {
    iteration: c.iteration,
    max_tie_iterations: policy.max_tie_iterations,
    no_new_rounds: c.no_new_rounds,
    no_new_evidence_rounds: policy.no_new_evidence_rounds,
    allow_reexplore: reexploreAllowed(c, policy),
    agents_without_new_evidence: p.withoutNewEvidence,
  };
}

function reputationReport(p: Prepared, input: AggregationInput): Record<string, number> | null {
  if (!usesReputation(p.spec.aggregation)) return null;
  const units: Record<string, number> = Object.create(null);
  for (const agent of p.spec.agents) {
    const u = reputationUnitsOf(agent.agent_id, p.spec, input.reputation_units);
    if (u !== null) units[agent.agent_id] = u;
  }
  return units;
}

function buildResult(p: Prepared, j: Judgement, input: AggregationInput): AggregationResult {
  const policy = p.spec.aggregation;
  const succeeded = p.entries.some((e) => e.step.status === "SUCCEEDED");
  const warnings: string[] = [];
  if (succeeded && !p.entries.some((e) => e.step.status === "SUCCEEDED" && hasField(e.output, p.voteOn))) {
    warnings.push(
      p.voteOn === "decision"
        ? "no executor returned 'decision'; consider vote_on: answer"
        : "no executor returned 'answer'",
    );
  }
  const winner = j.reexplore ? null : j.winner;
  return {
    status: succeeded ? "FINALIZED" : "FAILED",
    error: succeeded ? null : failureSummary(p.entries),
    warnings,
    final_decision: winner?.value ?? null,
    final_answer: finalAnswer(p.spec, p.voteOn, winner),
    confidence: confidenceBlock(p.buckets, winner, policy.quorum, p.votesCast),
    conclusions: conclusionsOf(p.entries),
    aggregation: {
      mode: policy.mode,
      vote_on: p.voteOn,
      vote_weight: policy.vote_weight,
      decision_votes: votesMap(tally(p.entries, (e) => e.decision)),
      answer_votes: votesMap(tally(p.entries, (e) => e.answer)),
      tally: tallyOf(p.buckets, policy.quorum),
      resolution_paths: { [p.voteOn]: j.path },
      tie_policy: {
        enabled_on: [...policy.tie_policy.enabled_on],
        chain: [...policy.tie_policy.chain],
        trace: j.tieTrace,
        reexplore: reexploreReport(p, "TIE"),
      },
      null_policy: {
        enabled_on: [...policy.null_policy.enabled_on],
        chain: [...policy.null_policy.chain],
        trace: j.nullTrace,
        reexplore: reexploreReport(p, "NULL"),
      },
      null_resolution: winner || j.reexplore ? null : j.nullResolution,
      early_stop: input.early_stop ?? null,
      reputation_units: reputationReport(p, input),
    },
  };
}

function signalType(chain: ChainName, reason: NullReason | null): AggregationSignal["type"] {
  if (chain === "TIE" || reason === "VALID_VOTES_BELOW_QUORUM") return "NEED_MORE_EVIDENCE";
  return reason === "EXECUTION_INCOMPLETE_OR_FAILED" ? "NEED_STEP_RECOVERY" : "NEED_DECISION";
}

export function decide(input: AggregationInput): Decision {
  const p = prepare(input);
  const j = judge(p, input);
  const result = buildResult(p, j, input);
  if (!j.reexplore) return { action: "FINALIZE", outcome: j.outcome, result };
  const { chain, nullKind, reason } = j.reexplore;
  const counters = p.counters[chain];
  const directive: ReexploreDirective = {
    chain,
    iteration: counters.iteration + 1,
    signal: {
      type: signalType(chain, reason),
      path: chain === "TIE" ? "TIE_PATH" : "NULL_PATH",
      iteration: counters.iteration + 1,
      unresolved_buckets: [p.voteOn],
      require_new_evidence: policyOf(p.spec, chain).reexplore.require_new_evidence,
      null_primary_kind: nullKind,
      null_reason: reason,
    },
    new_evidence_agents: p.newEvidenceAgents,
    no_new_rounds: counters.no_new_rounds,
  };
  return { action: "REEXPLORE", outcome: j.outcome, reexplore: directive, result };
}

/**
 * `early_stop` (SPEC §5.6): can the leader still be overtaken or tied by what the active steps could cast?
 * Confidence counts as 1 for steps that have not answered, so the check never stops too early.
 */
export function checkEarlyStop(input: AggregationInput): EarlyStopCheck {
  const p = prepare(input);
  const policy = p.spec.aggregation;
  let remaining = 0;
  let active = 0;
  for (const e of p.entries) {
    if (!isActiveStepStatus(e.step.status)) continue;
    active += 1;
    remaining += maxVoteWeight(e.step.agent_id, e.agent, p.spec, input.reputation_units);
  }
  const sorted = [...p.buckets].sort((a, b) => b.weight - a.weight);
  const leader = sorted[0];
  const runnerUp = sorted[1]?.weight ?? 0;
  const base = {
    leader: leader?.value ?? null,
    leader_weight: leader?.weight ?? 0,
    runner_up_weight: runnerUp,
    remaining_weight: remaining,
  };
  const starter = currentStarter(input.reexplores);
  const blocked =
    input.round >= 2 && starter !== undefined && policyOf(p.spec, starter).reexplore.require_new_evidence;
  if (policy.mode !== "early_stop" || active === 0 || !leader || blocked) return { stop: false, ...base };
  if (policy.quorum !== null && leader.agents < policy.quorum) return { stop: false, ...base };
  const eps = epsilon(leader.weight, runnerUp + remaining);
  return { stop: leader.weight - runnerUp > remaining + eps, ...base };
}
