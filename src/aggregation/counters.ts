// Re-explore guards (SPEC §5.4), derived by replaying the run's re-explore history.
// Each chain keeps its own counters: `iteration` = re-explore rounds it started; `no_new_rounds` = how many
// consecutive rounds it started ended without a voter bringing new evidence.
import type { ReExplorePolicy } from "../spec/types.js";
import type { ChainName, ReexploreRecord } from "./types.js";

export interface ChainCounters {
  iteration: number;
  no_new_rounds: number;
}

export type Counters = Record<ChainName, ChainCounters>;

function observe(
  counters: Counters,
  starter: ChainName | undefined,
  newEvidenceAgents: readonly string[],
): void {
  if (!starter) return;
  const c = counters[starter];
  c.no_new_rounds = newEvidenceAgents.length > 0 ? 0 : c.no_new_rounds + 1;
}

/**
 * Counters as they stand after judging the current round. Record k started round k+2 and holds the
 * new-evidence voters of round k+1; `current` is the current round's.
 */
export function deriveCounters(history: readonly ReexploreRecord[], current: readonly string[]): Counters {
  const counters: Counters = {
    TIE: { iteration: 0, no_new_rounds: 0 },
    NULL: { iteration: 0, no_new_rounds: 0 },
  };
  let starter: ChainName | undefined;
  for (const record of history) {
    observe(counters, starter, record.new_evidence_agents);
    counters[record.chain].iteration += 1;
    starter = record.chain;
  }
  observe(counters, starter, current);
  return counters;
}

/** The chain that started the current round (undefined in round 1). */
export function currentStarter(history: readonly ReexploreRecord[]): ChainName | undefined {
  return history[history.length - 1]?.chain;
}

export function reexploreAllowed(c: ChainCounters, policy: ReExplorePolicy): boolean {
  return c.iteration < policy.max_tie_iterations && c.no_new_rounds <= policy.no_new_evidence_rounds;
}
