// Property tests over multi-round runs: re-explore guards (§5.4), new-evidence bookkeeping, schema in every round.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide } from "../../src/aggregation/index.js";
import type { ChainName, Decision, ReexploreRecord } from "../../src/aggregation/types.js";
import type { ReExplorePolicy } from "../../src/spec/types.js";
import { assertValidDecision, makeSpec } from "../support/aggregation.js";
import { type Panel, panelArb, roundInput } from "./arbitraries.js";

/** Independent guard model: counters of `chain` for the current round (SPEC §5.4 + the decided reading). */
function refGuard(
  chain: ChainName,
  policy: ReExplorePolicy,
  records: ReexploreRecord[],
  currentNew: string[],
) {
  const iteration = records.filter((r) => r.chain === chain).length;
  const round = records.length + 1;
  let noNew = 0;
  for (let r = 2; r <= round; r++) {
    if (records[r - 2]!.chain !== chain) continue;
    const agents = r < round ? records[r - 1]!.new_evidence_agents : currentNew;
    noNew = agents.length === 0 ? noNew + 1 : 0;
  }
  return {
    iteration,
    noNew,
    allowed: iteration < policy.max_tie_iterations && noNew <= policy.no_new_evidence_rounds,
  };
}

interface RunLog {
  decisions: Decision[];
  records: ReexploreRecord[];
}

/** Plays a run: every REEXPLORE directive is fed back as a ReexploreRecord; checks each round on the way. */
function simulate(p: Panel, maxRounds: number): RunLog {
  const records: ReexploreRecord[] = [];
  const prior: Record<string, string[]> = {};
  const decisions: Decision[] = [];
  const policy = p.spec.aggregation;
  for (let round = 1; round <= maxRounds; round++) {
    const input = roundInput(p, round, [...records], structuredClone(prior));
    const d = decide(input);
    decisions.push(d);
    assertValidDecision(d);
    expect(d.result.conclusions.every((c) => c.round === round)).toBe(true);

    // Voters with new evidence, recomputed from the conclusions and the history.
    const voters = d.result.conclusions.filter((c) => c.status === "SUCCEEDED" && c[policy.vote_on] !== null);
    const withNew = voters
      .filter((c) => round === 1 || c.evidence_digests.some((g) => !(prior[c.agent_id] ?? []).includes(g)))
      .map((c) => c.agent_id);

    for (const [chain, block, chainPolicy] of [
      ["TIE", d.result.aggregation.tie_policy, policy.tie_policy.reexplore],
      ["NULL", d.result.aggregation.null_policy, policy.null_policy.reexplore],
    ] as const) {
      const guard = refGuard(chain, chainPolicy, records, withNew);
      expect(block.reexplore.iteration).toBe(guard.iteration);
      for (const t of block.trace) {
        if (t.resolver !== "REEXPLORE") continue;
        expect(t.outcome).toBe(guard.allowed ? "REEXPLORE_STARTED" : "EXHAUSTED");
      }
    }

    // The require_new_evidence filter of the chain that started this round.
    const starter = round === 1 ? null : records[round - 2]!.chain;
    const requireNew =
      starter === "TIE"
        ? policy.tie_policy.reexplore.require_new_evidence
        : starter === "NULL" && policy.null_policy.reexplore.require_new_evidence;
    const counted = d.result.conclusions.filter((c) => c.voted).map((c) => c.agent_id);
    const expectedCounted = requireNew && withNew.length > 0 ? withNew : voters.map((c) => c.agent_id);
    expect(counted).toEqual(expectedCounted);

    if (d.action === "FINALIZE") return { decisions, records };

    const x = d.reexplore;
    const chainPolicy = x.chain === "TIE" ? policy.tie_policy.reexplore : policy.null_policy.reexplore;
    const guard = refGuard(x.chain, chainPolicy, records, withNew);
    expect(guard.allowed).toBe(true);
    expect(x.iteration).toBe(guard.iteration + 1);
    expect(x.iteration).toBeLessThanOrEqual(chainPolicy.max_tie_iterations);
    expect(x.no_new_rounds).toBe(guard.noNew);
    expect(x.no_new_rounds).toBeLessThanOrEqual(chainPolicy.no_new_evidence_rounds);
    expect([...x.new_evidence_agents].sort()).toEqual([...withNew].sort());
    expect(x.signal).toMatchObject({
      path: x.chain === "TIE" ? "TIE_PATH" : "NULL_PATH",
      iteration: x.iteration,
      unresolved_buckets: [policy.vote_on],
      require_new_evidence: chainPolicy.require_new_evidence,
    });
    expect(d.result.final_decision).toBeNull();

    records.push({ chain: x.chain, new_evidence_agents: x.new_evidence_agents });
    for (const c of d.result.conclusions) {
      if (c.status !== "SUCCEEDED") continue;
      prior[c.agent_id] = [...new Set([...(prior[c.agent_id] ?? []), ...c.evidence_digests])];
    }
  }
  throw new Error(`run did not finalize within ${maxRounds} rounds: ${JSON.stringify(records)}`);
}

describe("re-explore guards over whole runs", () => {
  it("extra rounds ≤ tie.max + null.max, per chain ≤ its max; every round is judged per the guards", () => {
    let some = 0;
    let multi = 0;
    fc.assert(
      fc.property(
        fc.oneof(panelArb({ maxRounds: 4 }), panelArb({ maxRounds: 4, reexploreProne: true })),
        (p) => {
          const tieMax = p.spec.aggregation.tie_policy.reexplore.max_tie_iterations;
          const nullMax = p.spec.aggregation.null_policy.reexplore.max_tie_iterations;
          const { records } = simulate(p, tieMax + nullMax + 2);
          if (records.length >= 1) some++;
          if (records.length >= 2) multi++;
          expect(records.length).toBeLessThanOrEqual(tieMax + nullMax);
          expect(records.filter((r) => r.chain === "TIE").length).toBeLessThanOrEqual(tieMax);
          expect(records.filter((r) => r.chain === "NULL").length).toBeLessThanOrEqual(nullMax);
        },
      ),
      { numRuns: 500 },
    );
    expect(some).toBeGreaterThan(30);
    expect(multi).toBeGreaterThan(5);
  });

  it("a run whose every round is a tie re-explores exactly max_tie_iterations times when evidence keeps coming", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 }), (max, dry) => {
        const spec = panelSpec(max, dry);
        let round = 1;
        const records: ReexploreRecord[] = [];
        const prior: Record<string, string[]> = {};
        for (;;) {
          const digest = (a: string) => `${a}-r${round}`;
          const steps = ["a", "b"].map((agent, ordinal) => ({
            ordinal,
            agent_id: agent,
            executor: "sim",
            profile: "default",
            status: "SUCCEEDED" as const,
            round,
            attempt: 1,
            response: { decision: agent === "a" ? "X" : "Y", evidence_digests: [digest(agent)] },
            error: null,
          }));
          const d = decide({
            spec,
            round,
            steps,
            prior_evidence: structuredClone(prior),
            reexplores: [...records],
          });
          if (d.action === "FINALIZE") {
            expect(d.result.final_decision).toBe("Y");
            break;
          }
          expect(d.reexplore).toMatchObject({ chain: "TIE", iteration: round, no_new_rounds: 0 });
          records.push({ chain: "TIE", new_evidence_agents: d.reexplore.new_evidence_agents });
          for (const agent of ["a", "b"]) prior[agent] = [...(prior[agent] ?? []), digest(agent)];
          round++;
        }
        expect(records.length).toBe(max);
      }),
      { numRuns: 30 },
    );
  });
});

function panelSpec(max: number, dry: number) {
  return makeSpec({
    agents: ["a", "b"],
    aggregation: {
      tie_policy: {
        chain: ["REEXPLORE", "STOCHASTIC"],
        reexplore: { max_tie_iterations: max, no_new_evidence_rounds: dry, require_new_evidence: true },
      },
    },
  });
}
