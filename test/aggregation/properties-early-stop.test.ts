// Property test: checkEarlyStop never stops while the active steps could still overturn or tie the leader
// (SPEC §5.6), verified by brute force over every way the active steps could still vote.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkEarlyStop, decide } from "../../src/aggregation/index.js";
import type { AggregationInput, StepState } from "../../src/aggregation/types.js";
import type { RunSpec } from "../../src/spec/types.js";
import { makeSpec } from "../support/aggregation.js";
import { AGENTS, refTally, refUnits } from "./arbitraries.js";

type Slot = { kind: "vote"; value: string; confidence: number } | { kind: "failed" } | { kind: "active" };

const slotArb: fc.Arbitrary<Slot> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("vote" as const),
      value: fc.constantFrom("A", "A", "B", "C"),
      confidence: fc.constantFrom(0.25, 0.5, 1),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "failed" as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: "active" as const }) },
);

const caseArb = fc.integer({ min: 2, max: 6 }).chain((n) =>
  fc.record({
    slots: fc
      .array(slotArb, { minLength: n, maxLength: n })
      .filter((s) => s.filter((x) => x.kind === "active").length <= 3),
    weights: fc.array(fc.constantFrom(1, 1, 2, 0.5, 0.1, 0.2, 0.3), { minLength: n, maxLength: n }),
    vote_weight: fc.constantFrom<"spec" | "confidence" | "reputation">("spec", "confidence", "reputation"),
    quorum: fc.option(fc.integer({ min: 1, max: n }), { nil: null }),
    units: fc.option(
      fc.dictionary(fc.constantFrom(...AGENTS.slice(0, n)), fc.constantFrom(0, 300, 1000, 1500)),
      { nil: null },
    ),
    specMap: fc.boolean(),
  }),
);

function stepOf(spec: RunSpec, ordinal: number, slot: Slot): StepState {
  const agent = spec.agents[ordinal]!;
  const base = {
    ordinal,
    agent_id: agent.agent_id,
    executor: "sim",
    profile: "default",
    round: 1,
    error: null,
  };
  if (slot.kind === "active") return { ...base, status: "QUEUED", attempt: 0, response: null };
  if (slot.kind === "failed") return { ...base, status: "FAILED", attempt: 1, response: null, error: "boom" };
  return {
    ...base,
    status: "SUCCEEDED",
    attempt: 1,
    response: { decision: slot.value, confidence: slot.confidence },
  };
}

/** Every way the active steps could end: fail, or vote for an existing or a new value (any confidence). */
function completions(confidences: number[]): Slot[] {
  const out: Slot[] = [{ kind: "failed" }];
  for (const value of ["A", "B", "C", "NEW"])
    for (const confidence of confidences) out.push({ kind: "vote", value, confidence });
  return out;
}

function* product<T>(lists: T[][]): Generator<T[]> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  for (const head of lists[0]!) for (const rest of product(lists.slice(1))) yield [head, ...rest];
}

describe("checkEarlyStop (brute force)", () => {
  it("stops only when no completion of the active steps could overturn or tie the leader", () => {
    let stops = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const agents = c.slots.map((_, i) => ({ agent_id: AGENTS[i]!, weight: c.weights[i] ?? 1 }));
        const rep = c.specMap && c.units !== null ? { agent_reputation_units: c.units } : {};
        const spec = makeSpec({
          agents,
          aggregation: {
            mode: "early_stop",
            vote_weight: c.vote_weight,
            quorum: c.quorum,
            tie_policy: { reputation_weighted: rep },
          },
        });
        const input: AggregationInput = {
          spec,
          round: 1,
          steps: c.slots.map((s, i) => stepOf(spec, i, s)),
          prior_evidence: {},
          reexplores: [],
          reputation_units: c.specMap ? null : c.units,
        };
        const check = checkEarlyStop(input);

        // Independent numbers: leader over all values, remaining = Σ largest weight the active steps could cast.
        const tally = refTally(input);
        const sorted = [...tally.entries()].sort((x, y) => y[1].weight - x[1].weight);
        const remaining = c.slots.reduce((sum, s, i) => {
          if (s.kind !== "active") return sum;
          const w = agents[i]!.weight;
          return (
            sum +
            (c.vote_weight === "reputation"
              ? (w * refUnits(spec, agents[i]!.agent_id, input.reputation_units)) / 1000
              : w)
          );
        }, 0);
        expect(check.remaining_weight).toBeCloseTo(remaining, 12);
        expect(check.leader_weight).toBeCloseTo(sorted[0]?.[1].weight ?? 0, 12);
        expect(check.runner_up_weight).toBeCloseTo(sorted[1]?.[1].weight ?? 0, 12);
        if (!check.stop) return;
        stops++;

        expect(c.slots.some((s) => s.kind === "active")).toBe(true);
        const leader = check.leader;
        expect(leader).not.toBeNull();
        if (c.quorum !== null) expect(tally.get(leader!)!.agents).toBeGreaterThanOrEqual(c.quorum);

        const allDone = { ...spec, aggregation: { ...spec.aggregation, mode: "all_done" as const } };
        const activeIdx = c.slots.flatMap((s, i) => (s.kind === "active" ? [i] : []));
        const options = completions(c.vote_weight === "confidence" ? [1, 0.5, 0] : [1]);
        for (const combo of product(activeIdx.map(() => options))) {
          const slots = [...c.slots];
          activeIdx.forEach((i, k) => {
            slots[i] = combo[k]!;
          });
          const done: AggregationInput = {
            ...input,
            spec: allDone,
            steps: slots.map((s, i) => stepOf(allDone, i, s)),
          };
          const d = decide(done);
          expect({ combo, outcome: d.outcome, final: d.result.final_decision }).toEqual({
            combo,
            outcome: "WINNER",
            final: leader,
          });
        }
      }),
      { numRuns: 400 },
    );
    expect(stops).toBeGreaterThan(20);
  });
});
