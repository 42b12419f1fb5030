// The reporting half of a decision: final_answer, the confidence block and the conclusions (SPEC §5.5, §6).
import type { JsonValue, RunSpec, VoteOn } from "../spec/types.js";
import { type BallotEntry, type Bucket, epsilon } from "./ballot.js";
import { compareUtf8, stochasticPick } from "./stochastic.js";
import type { Conclusion, ConfidenceBlock, TallyEntry } from "./types.js";

const round3 = (x: number): number => Math.round(x * 1000) / 1000 + 0;

/** The highest-confidence voter (earliest in step order on equal confidence). */
function mostConfident(voters: readonly BallotEntry[]): BallotEntry | undefined {
  let best: BallotEntry | undefined;
  for (const v of voters) if (!best || (v.confidence ?? 0) > (best.confidence ?? 0)) best = v;
  return best;
}

function rawAnswer(entry: BallotEntry | undefined): JsonValue | null {
  return entry?.output?.answer ?? null;
}

/**
 * `vote_on: decision`: among the winner's voters, the most common normalized answer (ties: higher total
 * confidence, then STOCHASTIC on bucket `answer`), then that group's highest-confidence raw answer.
 * `vote_on: answer`: the highest-confidence raw answer of the winning group.
 */
export function finalAnswer(spec: RunSpec, voteOn: VoteOn, winner: Bucket | null): JsonValue | null {
  if (!winner) return null;
  if (voteOn === "answer") return rawAnswer(mostConfident(winner.voters));
  const groups = new Map<string, { voters: BallotEntry[]; confidence: number }>();
  for (const v of winner.voters) {
    if (v.answer === null) continue;
    const g = groups.get(v.answer) ?? { voters: [], confidence: 0 };
    g.voters.push(v);
    g.confidence += v.confidence ?? 0;
    groups.set(v.answer, g);
  }
  if (groups.size === 0) return null;
  const maxCount = Math.max(...[...groups.values()].map((g) => g.voters.length));
  let tied = [...groups.entries()].filter(([, g]) => g.voters.length === maxCount);
  const maxConf = Math.max(...tied.map(([, g]) => g.confidence));
  tied = tied.filter(([, g]) => maxConf - g.confidence <= epsilon(maxConf));
  let chosen = tied[0];
  if (tied.length > 1) {
    const pick = stochasticPick(
      spec.run_id,
      "answer",
      tied.map(([value]) => value),
      spec.aggregation.tie_policy.stochastic.seed,
    );
    chosen = tied.find(([value]) => value === pick.winner);
  }
  return rawAnswer(mostConfident(chosen?.[1].voters ?? []));
}

export function confidenceBlock(
  buckets: readonly Bucket[],
  winner: Bucket | null,
  quorum: number | null,
  votesCast: number,
): ConfidenceBlock {
  const total = buckets.reduce((sum, b) => sum + b.weight, 0);
  let entropy: number | null = null;
  if (total > 0) {
    entropy = 0;
    for (const b of buckets) {
      const p = b.weight / total;
      if (p > 0) entropy -= p * Math.log2(p);
    }
    entropy = round3(entropy);
  }
  if (!winner) {
    return {
      votes_for: 0,
      votes_cast: votesCast,
      agreement: null,
      margin: null,
      quorum,
      quorum_met: quorum === null || buckets.some((b) => b.agents >= quorum),
      entropy_bits: entropy,
    };
  }
  const runnerUp = Math.max(0, ...buckets.filter((b) => b !== winner).map((b) => b.weight));
  return {
    votes_for: winner.agents,
    votes_cast: votesCast,
    agreement: total > 0 ? round3(winner.weight / total) : null,
    margin: total > 0 ? round3((winner.weight - runnerUp) / total) : null,
    quorum,
    quorum_met: quorum === null || winner.agents >= quorum,
    entropy_bits: entropy,
  };
}

export function conclusionsOf(entries: readonly BallotEntry[]): Conclusion[] {
  return entries.map((e) => ({
    agent_id: e.step.agent_id,
    executor: e.step.executor,
    profile: e.step.profile,
    status: e.step.status,
    round: e.step.round,
    attempt: e.step.attempt,
    voted: e.counted,
    decision: e.decision,
    answer: e.answer,
    confidence: e.confidence,
    weight: e.counted ? e.voteWeight : 0,
    evidence_digests: e.evidence,
    error: e.step.error,
    output: e.output,
  }));
}

/** value → number of voters, most votes first (ties by UTF-8 order) so output is stable. */
export function votesMap(buckets: readonly Bucket[]): Record<string, number> {
  const sorted = [...buckets].sort((a, b) => b.agents - a.agents || compareUtf8(a.value, b.value));
  const out: Record<string, number> = {};
  for (const b of sorted) out[b.value] = b.agents;
  return out;
}

export function tallyOf(buckets: readonly Bucket[], quorum: number | null): TallyEntry[] {
  return [...buckets]
    .sort((a, b) => b.weight - a.weight || b.agents - a.agents || compareUtf8(a.value, b.value))
    .map((b) => ({
      value: b.value,
      agents: b.agents,
      weight: b.weight,
      eligible: quorum === null || b.agents >= quorum,
    }));
}

/** `all 3 steps failed; analyst-a: runtime /execute status: 500` */
export function failureSummary(entries: readonly BallotEntry[]): string {
  const first = entries.find((e) => e.step.status !== "SUCCEEDED");
  const detail = first ? `; ${first.step.agent_id}: ${first.step.error ?? first.step.status}` : "";
  const line = `all ${entries.length} steps failed${detail}`.replace(/\s+/g, " ");
  return line.length > 1000 ? `${line.slice(0, 999)}…` : line;
}
