// fast-check generators for the aggregation property tests, and a small independent reference model of the
// ballot (SPEC §5.1–§5.2) for the generated value set.
import fc from "fast-check";
import type { AggregationInput, ReexploreRecord, StepState } from "../../src/aggregation/types.js";
import type { JsonObject, JsonValue, NullResolver, RunSpec, TieResolver } from "../../src/spec/types.js";
import { makeSpec, type PolicyOverrides, RUN_ID } from "../support/aggregation.js";

export const AGENTS = ["a", "b", "c", "d", "e", "f"];

/** Ballot values: plain, case/space variants, unicode (NFC, UTF-8 vs UTF-16 order), numbers, no-votes. */
export const BALLOTS: JsonValue[] = [
  "A",
  "A",
  "B",
  "B",
  "C",
  " a ",
  "b",
  "1",
  1,
  "é",
  "e\u0301",
  "\uFF21",
  "😀",
  "",
  null,
];
export const ANSWERS: JsonValue[] = ["x", "X ", "y", "Y", "", null];

export interface Outcome {
  status: "SUCCEEDED" | "FAILED";
  decision: JsonValue;
  answer: JsonValue;
  confidence: number | null;
  digests: string[];
  wrap: boolean;
}

export const outcomeArb: fc.Arbitrary<Outcome> = fc.record({
  status: fc.constantFrom<Outcome["status"]>("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED"),
  decision: fc.constantFrom(...BALLOTS),
  answer: fc.constantFrom(...ANSWERS),
  confidence: fc.option(fc.constantFrom(0, 0.25, 0.5, 0.75, 1, 1.5), { nil: null }),
  digests: fc.subarray(["d1", "d2", "d3", "d4"]),
  wrap: fc.boolean(),
});

/** Fewer values and more no-votes: more ties, EMPTY and QUORUM_NULL rounds. */
const proneOutcomeArb: fc.Arbitrary<Outcome> = fc.record({
  status: fc.constantFrom<Outcome["status"]>("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED"),
  decision: fc.constantFrom<JsonValue>("A", "B", "b", "", null),
  answer: fc.constantFrom<JsonValue>("x", "y", "", null),
  confidence: fc.option(fc.constantFrom(0, 0.5, 1), { nil: null }),
  digests: fc.subarray(["d1", "d2", "d3"]),
  wrap: fc.boolean(),
});

const reexploreArb = fc.record({
  max_tie_iterations: fc.constantFrom(0, 1, 1, 2, 2, 3),
  no_new_evidence_rounds: fc.integer({ min: 0, max: 2 }),
  require_new_evidence: fc.boolean(),
});

const tieChainArb: fc.Arbitrary<TieResolver[]> = fc
  .tuple(
    fc.shuffledSubarray<TieResolver>(["CONFIDENCE_WEIGHTED", "REPUTATION_WEIGHTED", "REEXPLORE"]),
    fc.constantFrom(true, true, false),
  )
  .map(([rest, stochastic]) => (stochastic ? [...rest, "STOCHASTIC"] : rest));

const nullChainArb = fc.constantFrom<NullResolver[]>(
  [],
  ["REEXPLORE"],
  ["FINALIZE_NULL"],
  ["REEXPLORE", "FINALIZE_NULL"],
  ["REEXPLORE", "FINALIZE_NULL"],
);
const unitsArb = (agents: string[]) =>
  fc.dictionary(fc.constantFrom(...agents), fc.constantFrom(0, 250, 500, 1000), { maxKeys: agents.length });

export const policyArb = (agents: string[]): fc.Arbitrary<PolicyOverrides> =>
  fc.record({
    vote_on: fc.constantFrom<"decision" | "answer">("decision", "decision", "decision", "answer"),
    vote_weight: fc.constantFrom<"spec" | "confidence" | "reputation">(
      "spec",
      "spec",
      "confidence",
      "reputation",
    ),
    quorum: fc.option(fc.integer({ min: 1, max: agents.length }), { nil: null }),
    tie_policy: fc.record({
      enabled_on: fc.constantFrom<("TIE" | "QUORUM_NULL")[]>(
        ["TIE"],
        ["TIE"],
        ["TIE", "QUORUM_NULL"],
        ["QUORUM_NULL"],
        [],
      ),
      chain: tieChainArb,
      reexplore: reexploreArb,
      reputation_weighted: fc.oneof(
        fc.record({ missing_reputation: fc.constantFrom<"SKIP" | "UNIFORM">("SKIP", "UNIFORM") }),
        fc.record({
          agent_reputation_units: unitsArb(agents),
          missing_reputation: fc.constantFrom<"SKIP" | "UNIFORM">("SKIP", "UNIFORM"),
        }),
      ),
      stochastic: fc.oneof(fc.constant({}), fc.record({ seed: fc.constantFrom("s1", "salt", "ü") })),
    }),
    null_policy: fc.record({
      enabled_on: fc.subarray<"EMPTY" | "QUORUM_NULL">(["EMPTY", "QUORUM_NULL"]),
      chain: nullChainArb,
      reexplore: reexploreArb,
    }),
  });

export interface Panel {
  spec: RunSpec;
  /** One outcome per agent per round; rounds beyond the list reuse it cyclically. */
  rounds: Outcome[][];
  reputation_units: Record<string, number> | null;
}

export interface PanelOpts {
  minAgents?: number;
  maxAgents?: number;
  maxRounds?: number;
  /** Weights 1, vote_weight spec, TIE enabled and STOCHASTIC last: ties that STOCHASTIC resolves. */
  tieProne?: boolean;
  /** REEXPLORE in both chains and outcomes that rarely produce a clear winner. */
  reexploreProne?: boolean;
}

export const panelArb = (opts: PanelOpts = {}): fc.Arbitrary<Panel> =>
  fc.integer({ min: opts.minAgents ?? 1, max: opts.maxAgents ?? 5 }).chain((n) => {
    const agents = AGENTS.slice(0, n);
    return fc
      .record({
        weights: fc.array(fc.constantFrom(1, 1, 1, 2, 3, 0.5, 0.1, 0.2, 0.3), { minLength: n, maxLength: n }),
        policy: policyArb(agents),
        rounds: fc.array(
          fc.array(opts.reexploreProne ? proneOutcomeArb : outcomeArb, { minLength: n, maxLength: n }),
          { minLength: 1, maxLength: opts.maxRounds ?? 1 },
        ),
        reputation_units: fc.option(unitsArb(agents), { nil: null }),
      })
      .map(({ weights, policy, rounds, reputation_units }) => {
        if (opts.tieProne) {
          const tie = policy.tie_policy ?? {};
          const chain = (tie.chain ?? []).filter((r) => r !== "STOCHASTIC");
          policy.vote_weight = "spec";
          policy.tie_policy = {
            ...tie,
            enabled_on: ["TIE", ...(tie.enabled_on ?? []).filter((t) => t !== "TIE")],
            chain: [...chain, "STOCHASTIC"],
          };
        }
        if (opts.reexploreProne) {
          const tie = policy.tie_policy ?? {};
          const nul = policy.null_policy ?? {};
          const tieChain = tie.chain ?? [];
          const nullChain = nul.chain ?? [];
          if (!tieChain.includes("REEXPLORE"))
            policy.tie_policy = { ...tie, chain: ["REEXPLORE", ...tieChain] };
          if (!nullChain.includes("REEXPLORE"))
            policy.null_policy = { ...nul, chain: ["REEXPLORE", ...nullChain] };
        }
        return {
          spec: makeSpec({
            agents: agents.map((agent_id, i) => ({
              agent_id,
              weight: opts.tieProne ? 1 : (weights[i] ?? 1),
            })),
            aggregation: policy,
          }),
          rounds,
          reputation_units,
        };
      });
  });

export function toStep(spec: RunSpec, ordinal: number, round: number, o: Outcome): StepState {
  const agent = spec.agents[ordinal]!;
  const output: JsonObject = { decision: o.decision, answer: o.answer, evidence_digests: o.digests };
  if (o.confidence !== null) output.confidence = o.confidence;
  const ok = o.status === "SUCCEEDED";
  return {
    ordinal,
    agent_id: agent.agent_id,
    executor: agent.executor,
    profile: agent.profile,
    status: o.status,
    round,
    attempt: 1,
    response: ok ? (o.wrap ? { candidate_output: output } : output) : null,
    error: ok ? null : `error of ${agent.agent_id}`,
  };
}

export function roundInput(
  p: Panel,
  round: number,
  reexplores: ReexploreRecord[] = [],
  prior_evidence: Record<string, string[]> = {},
): AggregationInput {
  const outcomes = p.rounds[(round - 1) % p.rounds.length]!;
  return {
    spec: p.spec,
    round,
    steps: outcomes.map((o, i) => toStep(p.spec, i, round, o)),
    prior_evidence,
    reexplores,
    reputation_units: p.reputation_units,
  };
}

// ------------------------------------------------------------------------------------- reference model

/** §5.1 for the generated values (strings, numbers, null). */
export function refNormalize(v: JsonValue | undefined): string | null {
  if (v === null || v === undefined) return null;
  const s = typeof v === "string" ? v : JSON.stringify(v);
  const out = s.normalize("NFC").trim().replace(/\s+/g, " ").toUpperCase();
  return out === "" ? null : out;
}

export function refUnits(
  spec: RunSpec,
  agent: string,
  snapshot: Record<string, number> | null | undefined,
): number {
  const rw = spec.aggregation.tie_policy.reputation_weighted;
  if (rw.agent_reputation_units !== undefined) {
    return rw.agent_reputation_units[agent] ?? (rw.missing_reputation === "UNIFORM" ? 1 : 0);
  }
  return snapshot?.[agent] ?? 500;
}

export function refWeight(
  spec: RunSpec,
  s: StepState,
  snapshot: Record<string, number> | null | undefined,
): number {
  const agent = spec.agents[s.ordinal]!;
  const vw = spec.aggregation.vote_weight;
  if (vw === "spec") return agent.weight;
  if (vw === "reputation") return (agent.weight * refUnits(spec, agent.agent_id, snapshot)) / 1000;
  const out = s.response as JsonObject;
  const o = ("candidate_output" in out ? out.candidate_output : out) as JsonObject;
  const c = typeof o.confidence === "number" ? Math.min(1, Math.max(0, o.confidence)) : 0.5;
  return agent.weight * c;
}

export interface RefValue {
  agents: number;
  weight: number;
}

/** The round-1 ballot (no require_new_evidence filter): value → {agents, weight}, summed in step order. */
export function refTally(input: AggregationInput): Map<string, RefValue> {
  const tally = new Map<string, RefValue>();
  const steps = [...input.steps].sort((x, y) => x.ordinal - y.ordinal);
  for (const s of steps) {
    if (
      s.status !== "SUCCEEDED" ||
      s.response === null ||
      typeof s.response !== "object" ||
      Array.isArray(s.response)
    )
      continue;
    const out = "candidate_output" in s.response ? s.response.candidate_output : s.response;
    if (out === null || typeof out !== "object" || Array.isArray(out)) continue;
    const v = refNormalize(out[input.spec.aggregation.vote_on]);
    if (v === null) continue;
    const cur = tally.get(v) ?? { agents: 0, weight: 0 };
    tally.set(v, {
      agents: cur.agents + 1,
      weight: cur.weight + refWeight(input.spec, s, input.reputation_units),
    });
  }
  return tally;
}

export const eps = (x: number) => 1e-9 * Math.max(1, Math.abs(x));
export { RUN_ID };
