// Settling reads each step's result projected to aggregationKeys (RunTx.lockSteps): the decision must be the
// one the whole results give, whatever else the outputs carry (the stored result keeps no outputs).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregationKeys, decide } from "../../src/aggregation/index.js";
import type { AggregationInput, Decision } from "../../src/aggregation/types.js";
import type { JsonObject, JsonValue } from "../../src/spec/types.js";
import { panelArb, roundInput } from "./arbitraries.js";

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The reference of the stores' projection: only `keys` of the result and of its candidate_output object. */
function project(result: JsonValue | null, keys: readonly string[]): JsonValue | null {
  if (!isObject(result)) return result;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(result)) {
    if (!keys.includes(k)) continue;
    out[k] = k === "candidate_output" && isObject(v) ? (project(v, keys) as JsonObject) : v;
  }
  return out;
}

/** Extra keys an agent may return: bulk, and the evidence_refs aggregation reads. */
const extrasArb = fc.record(
  {
    detail: fc.string({ maxLength: 40 }),
    notes: fc.array(fc.string(), { maxLength: 3 }),
    evidence_refs: fc.array(fc.record({ digest: fc.constantFrom("r1", "r2", "d1") }), { maxLength: 2 }),
    score: fc.double({ noNaN: true }),
  },
  { requiredKeys: [] },
);

function withoutOutputs(d: Decision): unknown {
  return {
    ...d,
    result: { ...d.result, conclusions: d.result.conclusions.map((c) => ({ ...c, output: null })) },
  };
}

describe("aggregationKeys", () => {
  it("deciding on projected results gives the decision of the whole results", () => {
    fc.assert(
      fc.property(
        panelArb(),
        fc.array(fc.tuple(extrasArb, extrasArb), { minLength: 6, maxLength: 6 }),
        (p, extras) => {
          const full: AggregationInput = roundInput(p, 1);
          full.steps = full.steps.map((s, i) => {
            if (!isObject(s.response)) return s;
            const [outer, inner] = extras[i] as [JsonObject, JsonObject];
            const response: JsonObject = { ...outer, ...s.response };
            if (isObject(response.candidate_output))
              response.candidate_output = { ...inner, ...response.candidate_output };
            return { ...s, response };
          });
          const keys = aggregationKeys(p.spec.aggregation.tie_policy.confidence_weighted);
          const projected = {
            ...full,
            steps: full.steps.map((s) => ({ ...s, response: project(s.response, keys) })),
          };
          expect(withoutOutputs(decide(projected))).toEqual(withoutOutputs(decide(full)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
