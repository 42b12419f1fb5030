// The tie chain (SPEC §5.3) and the null chain (SPEC §5.4): ordered resolvers, the first that acts wins.
import type { RunSpec, VoteOn } from "../spec/types.js";
import { type Bucket, epsilon, reputationUnitsOf } from "./ballot.js";
import { type Counters, reexploreAllowed } from "./counters.js";
import { stochasticPick } from "./stochastic.js";
import type { TraceEntry } from "./types.js";

export type ChainOutcome =
  | { kind: "RESOLVED"; winner: Bucket }
  | { kind: "REEXPLORE" }
  | { kind: "UNRESOLVED" }
  | { kind: "FINALIZE_NULL" };

export interface ChainContext {
  spec: RunSpec;
  bucket: VoteOn;
  counters: Counters;
  reputationSnapshot: Record<string, number> | null | undefined;
}

/** A unique maximum (by more than ε) among the scores, or null. */
function uniqueMax(scores: Map<Bucket, number>): Bucket | null {
  let best: Bucket | null = null;
  let bestScore = Number.NEGATIVE_INFINITY;
  let second = Number.NEGATIVE_INFINITY;
  for (const [bucket, score] of scores) {
    if (score > bestScore) {
      second = bestScore;
      bestScore = score;
      best = bucket;
    } else if (score > second) {
      second = score;
    }
  }
  if (best === null) return null;
  if (second === Number.NEGATIVE_INFINITY) return best;
  return bestScore - second > epsilon(bestScore, second) ? best : null;
}

function scoresRecord(scores: Map<Bucket, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [bucket, score] of scores) out[bucket.value] = score;
  return out;
}

function scored(
  ctx: ChainContext,
  resolver: string,
  scores: Map<Bucket, number>,
  usable: boolean,
): TraceEntry {
  const winner = usable ? uniqueMax(scores) : null;
  const entry: TraceEntry = {
    bucket: ctx.bucket,
    resolver,
    outcome: winner ? "RESOLVED" : "UNRESOLVED",
    scores: scoresRecord(scores),
  };
  if (winner) entry.winner = winner.value;
  return entry;
}

/** Runs the tie chain over the candidates; appends its trace entries. */
export function runTieChain(
  ctx: ChainContext,
  candidates: readonly Bucket[],
  trace: TraceEntry[],
): ChainOutcome {
  const policy = ctx.spec.aggregation.tie_policy;
  const byValue = new Map(candidates.map((b) => [b.value, b]));
  for (const resolver of policy.chain) {
    switch (resolver) {
      case "STOCHASTIC": {
        const pick = stochasticPick(
          ctx.spec.run_id,
          ctx.bucket,
          candidates.map((b) => b.value),
          policy.stochastic.seed,
        );
        trace.push({
          bucket: ctx.bucket,
          resolver,
          outcome: "RESOLVED",
          candidates: pick.candidates,
          winner: pick.winner,
          seed: pick.seed,
          index: pick.index,
        });
        return { kind: "RESOLVED", winner: byValue.get(pick.winner) as Bucket };
      }
      case "CONFIDENCE_WEIGHTED": {
        const scores = new Map<Bucket, number>();
        for (const b of candidates) {
          let sum = 0;
          for (const v of b.voters) sum += (v.agent?.weight ?? 1) * (v.confidence ?? 0);
          scores.set(b, sum);
        }
        const entry = scored(ctx, resolver, scores, true);
        trace.push(entry);
        if (entry.winner !== undefined)
          return { kind: "RESOLVED", winner: byValue.get(entry.winner) as Bucket };
        break;
      }
      case "REPUTATION_WEIGHTED": {
        const scores = new Map<Bucket, number>();
        let anyUnits = false;
        for (const b of candidates) {
          let sum = 0;
          for (const v of b.voters) {
            const units = reputationUnitsOf(v.step.agent_id, ctx.spec, ctx.reputationSnapshot);
            if (units !== null) {
              anyUnits = true;
              sum += units;
            }
          }
          scores.set(b, sum);
        }
        const entry = scored(ctx, resolver, scores, anyUnits);
        trace.push(entry);
        if (entry.winner !== undefined)
          return { kind: "RESOLVED", winner: byValue.get(entry.winner) as Bucket };
        break;
      }
      case "REEXPLORE": {
        if (reexploreAllowed(ctx.counters.TIE, policy.reexplore)) {
          trace.push({ bucket: ctx.bucket, resolver, outcome: "REEXPLORE_STARTED" });
          return { kind: "REEXPLORE" };
        }
        trace.push({ bucket: ctx.bucket, resolver, outcome: "EXHAUSTED" });
        break;
      }
    }
  }
  return { kind: "UNRESOLVED" };
}

/** Runs the null chain; appends its trace entries. A chain that applies nothing finalizes null too. */
export function runNullChain(ctx: ChainContext, trace: TraceEntry[]): ChainOutcome {
  const policy = ctx.spec.aggregation.null_policy;
  for (const resolver of policy.chain) {
    if (resolver === "REEXPLORE") {
      if (reexploreAllowed(ctx.counters.NULL, policy.reexplore)) {
        trace.push({ bucket: ctx.bucket, resolver, outcome: "REEXPLORE_STARTED" });
        return { kind: "REEXPLORE" };
      }
      trace.push({ bucket: ctx.bucket, resolver, outcome: "EXHAUSTED" });
    } else {
      trace.push({ bucket: ctx.bucket, resolver, outcome: "FINALIZED_NULL" });
      return { kind: "FINALIZE_NULL" };
    }
  }
  return { kind: "FINALIZE_NULL" };
}
