// Every `json aggregation-example` block of docs/aggregation.md is run through the engine here, so the
// documentation's worked examples are tests.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decide } from "../../src/aggregation/index.js";
import type { AggregationSignal, Decision, ReexploreRecord, StepState } from "../../src/aggregation/types.js";
import { validateRunSpec } from "../../src/spec/index.js";
import type { JsonObject, JsonValue } from "../../src/spec/types.js";

interface ExampleStep {
  agent: string;
  status?: "SUCCEEDED" | "FAILED";
  error?: string;
  decision?: JsonValue;
  answer?: JsonValue;
  confidence?: number;
  evidence?: string[];
}

interface Example {
  name: string;
  spec?: JsonObject & { agents?: JsonObject[] };
  rounds: { steps: ExampleStep[] }[];
  expect: {
    actions: ("FINALIZE" | "REEXPLORE")[];
    status?: string;
    error?: string;
    final_decision?: string | null;
    final_answer?: JsonValue;
    path?: string;
    confidence?: JsonObject;
    tie_trace?: JsonObject[];
    null_trace?: JsonObject[];
    null_resolution?: JsonObject | null;
    signals?: Partial<AggregationSignal>[];
    warnings?: string[];
    agents_without_new_evidence?: string[];
  };
}

function loadExamples(): Example[] {
  const doc = readFileSync(new URL("../../docs/aggregation.md", import.meta.url), "utf8");
  const blocks = [...doc.matchAll(/```json aggregation-example\n([\s\S]*?)```/g)];
  return blocks.map((m) => JSON.parse(m[1] as string) as Example);
}

function buildSpec(example: Example) {
  const firstRound = example.rounds[0]?.steps ?? [];
  const agents = (example.spec?.agents ?? firstRound.map((s) => ({ agent_id: s.agent }))).map((a) => ({
    prompt: "",
    executor: "sim",
    ...a,
  }));
  const raw = { run_id: "docs-example", shared_inputs: {}, ...example.spec, agents };
  const validated = validateRunSpec(raw);
  if (!validated.ok)
    throw new Error(`example "${example.name}" has an invalid spec: ${JSON.stringify(validated.issues)}`);
  return validated.spec;
}

function toStep(s: ExampleStep, ordinal: number, round: number): StepState {
  const status = s.status ?? "SUCCEEDED";
  const output: JsonObject = {};
  if (s.decision !== undefined) output.decision = s.decision;
  if (s.answer !== undefined) output.answer = s.answer;
  if (s.confidence !== undefined) output.confidence = s.confidence;
  if (s.evidence !== undefined) output.evidence_digests = s.evidence;
  return {
    ordinal,
    agent_id: s.agent,
    executor: "sim",
    profile: "default",
    status,
    round,
    attempt: 1,
    response: status === "SUCCEEDED" ? { candidate_output: output } : null,
    error: s.error ?? null,
  };
}

const examples = loadExamples();

describe("docs/aggregation.md worked examples", () => {
  it("has examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
  });

  for (const example of examples) {
    it(example.name, () => {
      const spec = buildSpec(example);
      const ordinals = new Map(spec.agents.map((a, i) => [a.agent_id, i]));
      const reexplores: ReexploreRecord[] = [];
      const prior: Record<string, string[]> = {};
      const actions: string[] = [];
      const signals: AggregationSignal[] = [];
      let decision: Decision | undefined;
      example.rounds.forEach((r, index) => {
        const round = index + 1;
        const steps = r.steps.map((s) => toStep(s, ordinals.get(s.agent) as number, round));
        decision = decide({
          spec,
          round,
          steps,
          prior_evidence: structuredClone(prior),
          reexplores: [...reexplores],
        });
        actions.push(decision.action);
        if (decision.action === "REEXPLORE") {
          signals.push(decision.reexplore.signal);
          reexplores.push({
            chain: decision.reexplore.chain,
            new_evidence_agents: decision.reexplore.new_evidence_agents,
          });
        }
        for (const c of decision.result.conclusions) {
          if (c.status === "SUCCEEDED")
            prior[c.agent_id] = [...(prior[c.agent_id] ?? []), ...c.evidence_digests];
        }
      });
      const want = example.expect;
      expect(actions).toEqual(want.actions);
      const result = (decision as Decision).result;
      const agg = result.aggregation;
      if (want.status !== undefined) expect(result.status).toBe(want.status);
      if (want.error !== undefined) expect(result.error).toBe(want.error);
      if (want.final_decision !== undefined) expect(result.final_decision).toBe(want.final_decision);
      if (want.final_answer !== undefined) expect(result.final_answer).toEqual(want.final_answer);
      if (want.path !== undefined) expect(agg.resolution_paths[agg.vote_on]).toBe(want.path);
      if (want.confidence) expect(result.confidence).toMatchObject(want.confidence);
      if (want.tie_trace) expect(agg.tie_policy.trace).toMatchObject(want.tie_trace);
      if (want.null_trace) expect(agg.null_policy.trace).toMatchObject(want.null_trace);
      if (want.null_resolution !== undefined) expect(agg.null_resolution).toEqual(want.null_resolution);
      if (want.signals) expect(signals).toMatchObject(want.signals);
      if (want.warnings) expect(result.warnings).toEqual(want.warnings);
      if (want.agents_without_new_evidence) {
        expect(agg.tie_policy.reexplore.agents_without_new_evidence).toEqual(
          want.agents_without_new_evidence,
        );
      }
    });
  }
});
