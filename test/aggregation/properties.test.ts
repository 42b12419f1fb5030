// Property tests (fast-check): determinism, the STOCHASTIC pick, winner invariants (§5.2 a/b), result schema.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, stochasticPick } from "../../src/aggregation/index.js";
import type { Decision, TraceEntry } from "../../src/aggregation/types.js";
import { assertValidDecision, json, pickIndex, utf8Sorted } from "../support/aggregation.js";
import { eps, panelArb, refTally, refWeight, roundInput } from "./arbitraries.js";

const RUNS = { numRuns: 300 };

const traces = (d: Decision): TraceEntry[] => [
  ...d.result.aggregation.tie_policy.trace,
  ...d.result.aggregation.null_policy.trace,
];

describe("determinism", () => {
  it("the same input gives deep-equal output, and the input is not mutated", () => {
    fc.assert(
      fc.property(panelArb(), (p) => {
        const input = roundInput(p, 1);
        const before = json(input);
        const d1 = decide(input);
        expect(json(input)).toEqual(before);
        expect(decide(structuredClone(input))).toEqual(d1);
      }),
      RUNS,
    );
  });

  it("permuting the step array does not change the output", () => {
    fc.assert(
      fc.property(
        panelArb({ minAgents: 2 }).chain((p) =>
          fc.tuple(
            fc.constant(p),
            fc.shuffledSubarray([...p.spec.agents.keys()], { minLength: p.spec.agents.length }),
          ),
        ),
        ([p, order]) => {
          const input = roundInput(p, 1);
          const shuffled = { ...input, steps: order.map((i) => input.steps[i]!) };
          expect(decide(shuffled)).toEqual(decide(input));
        },
      ),
      RUNS,
    );
  });
});

describe("STOCHASTIC pick (§5.3)", () => {
  it("every STOCHASTIC entry recomputes from its seed: format, UTF-8 order, sha256 index, winner", () => {
    let seen = 0;
    fc.assert(
      fc.property(panelArb({ minAgents: 2, tieProne: true }), (p) => {
        const d = decide(roundInput(p, 1));
        const policy = p.spec.aggregation;
        for (const t of traces(d)) {
          if (t.resolver !== "STOCHASTIC") continue;
          seen++;
          expect(t.outcome).toBe("RESOLVED");
          const candidates = t.candidates!;
          expect(candidates.length).toBeGreaterThanOrEqual(2);
          expect(candidates).toEqual(utf8Sorted(candidates));
          expect(new Set(candidates).size).toBe(candidates.length);
          const salt = policy.tie_policy.stochastic.seed;
          const seed = `${salt === undefined ? "" : `${salt}:`}${p.spec.run_id}:${policy.vote_on}:${candidates.join("|")}`;
          expect(t.seed).toBe(seed);
          expect(t.index).toBe(pickIndex(seed, candidates.length));
          expect(t.winner).toBe(candidates[t.index!]);
          expect(d.result.final_decision).toBe(t.winner);
        }
      }),
      { numRuns: 1000 },
    );
    expect(seen).toBeGreaterThan(40);
  });

  it("stochasticPick agrees with the independent computation on arbitrary Unicode candidates", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 1, maxLength: 12 }),
        fc.constantFrom<"decision" | "answer">("decision", "answer"),
        fc.uniqueArray(fc.string({ unit: "binary", minLength: 1, maxLength: 6 }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.option(fc.string({ unit: "grapheme", minLength: 1, maxLength: 5 }), { nil: undefined }),
        (runId, bucket, candidates, salt) => {
          const pick =
            salt === undefined
              ? stochasticPick(runId, bucket, candidates)
              : stochasticPick(runId, bucket, candidates, salt);
          const sorted = utf8Sorted(candidates);
          const seed = `${salt === undefined ? "" : `${salt}:`}${runId}:${bucket}:${sorted.join("|")}`;
          const index = pickIndex(seed, sorted.length);
          expect(pick).toEqual({ winner: sorted[index], index, seed, candidates: sorted });
        },
      ),
      RUNS,
    );
  });
});

describe("winner invariants (§5.2)", () => {
  it("vote weights match the reference model (spec × 1, × confidence, × units/1000)", () => {
    fc.assert(
      fc.property(panelArb(), (p) => {
        const input = roundInput(p, 1);
        const r = decide(input).result;
        for (const [i, c] of r.conclusions.entries()) {
          const s = input.steps[i]!;
          expect(c.agent_id).toBe(s.agent_id);
          if (c.voted) expect(c.weight).toBeCloseTo(refWeight(p.spec, s, p.reputation_units), 12);
          else expect(c.weight).toBe(0);
        }
        const tally = refTally(input);
        expect(r.aggregation.tally.map((t) => t.value).sort()).toEqual([...tally.keys()].sort());
        for (const t of r.aggregation.tally) {
          expect(t.agents).toBe(tally.get(t.value)!.agents);
          expect(t.weight).toBeCloseTo(tally.get(t.value)!.weight, 12);
        }
      }),
      RUNS,
    );
  });

  it("a winner holds the maximum weight (within ε) among eligible values, or among all when waived", () => {
    fc.assert(
      fc.property(panelArb(), (p) => {
        const input = roundInput(p, 1);
        const d = decide(input);
        const fd = d.result.final_decision;
        if (fd === null) return;
        const tally = refTally(input);
        const win = tally.get(fd);
        expect(win).toBeDefined();
        const q = p.spec.aggregation.quorum;
        const waived = q !== null && win!.agents < q;
        const pool = [...tally.values()].filter((v) => waived || q === null || v.agents >= q);
        const max = Math.max(...pool.map((v) => v.weight));
        expect(win!.weight).toBeGreaterThanOrEqual(max - eps(max));
        if (d.outcome === "WINNER") {
          const rivals = pool.filter((v) => v !== win && v.weight >= max - eps(max));
          expect(rivals).toEqual([]);
        }
      }),
      RUNS,
    );
  });

  it("the quorum is never violated unless QUORUM_NULL is in tie enabled_on (then quorum_met is false)", () => {
    fc.assert(
      fc.property(panelArb(), (p) => {
        const input = roundInput(p, 1);
        const r = decide(input).result;
        const q = p.spec.aggregation.quorum;
        if (r.final_decision === null || q === null) return;
        const agents = refTally(input).get(r.final_decision)!.agents;
        if (agents >= q) {
          expect(r.confidence.quorum_met).toBe(true);
        } else {
          expect(p.spec.aggregation.tie_policy.enabled_on).toContain("QUORUM_NULL");
          expect(r.confidence.quorum_met).toBe(false);
          const entries = r.aggregation.tie_policy.trace;
          expect(entries.some((t) => t.outcome === "QUORUM_WAIVED" || t.outcome === "RESOLVED")).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it("a null final decision always carries a null resolution, a decision never does", () => {
    fc.assert(
      fc.property(panelArb(), (p) => {
        const d = decide(roundInput(p, 1));
        if (d.action !== "FINALIZE") return;
        expect(d.result.aggregation.null_resolution === null).toBe(d.result.final_decision !== null);
      }),
      RUNS,
    );
  });
});

describe("result schema (§6 + types.ts)", () => {
  it("every decision's result validates", () => {
    fc.assert(
      fc.property(panelArb(), (p) => {
        const d = decide(roundInput(p, 1));
        assertValidDecision(d);
        expect(d.result.conclusions).toHaveLength(p.spec.agents.length);
        expect(d.result.aggregation.vote_on).toBe(p.spec.aggregation.vote_on);
      }),
      { numRuns: 500 },
    );
  });
});
