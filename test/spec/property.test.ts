// Properties over generated inputs: validation never throws, whatever it is given, and a valid spec is a
// fixed point (validating the defaulted spec again gives the same spec, with no warnings).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRunSpecText, type RunSpec, validateRunSpec } from "../../src/spec/index.js";

const id = fc.stringMatching(/^[A-Za-z0-9._:-]{1,24}$/);
const json = fc.jsonValue({ maxDepth: 3 });

const reexplore = fc.record(
  {
    max_tie_iterations: fc.integer({ min: 0, max: 10 }),
    no_new_evidence_rounds: fc.integer({ min: 0, max: 10 }),
    require_new_evidence: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** A chain: some non-terminal resolvers in any order, optionally followed by the terminal one. */
const chain = <T extends string>(middle: T[], terminal: T) =>
  fc
    .tuple(fc.shuffledSubarray(middle), fc.boolean())
    .map(([head, withTerminal]) => (withTerminal ? [...head, terminal] : head));

const agent = fc.record(
  {
    agent_id: id,
    prompt: fc.string(),
    executor: fc.constantFrom("rt", "sim", "my-exec"),
    profile: fc.string({ minLength: 1, maxLength: 12 }),
    weight: fc.double({ min: 0.001, max: 1e6, noNaN: true, noDefaultInfinity: true }),
    priority: fc.integer({ min: -1000, max: 1000 }),
    timeout_ms: fc.integer({ min: 1000, max: 3_600_000 }),
    inputs: fc.dictionary(fc.string(), json),
  },
  { requiredKeys: ["agent_id", "prompt", "executor"] },
);

const validSpec = fc.record(
  {
    run_id: id,
    task_type: fc.string({ minLength: 1, maxLength: 64 }),
    shared_inputs: json,
    agents: fc.uniqueArray(agent, { selector: (a) => a.agent_id, minLength: 1, maxLength: 6 }),
    retry: fc.record(
      { max_attempts: fc.integer({ min: 1, max: 100 }), backoff_ms: fc.integer({ min: 0, max: 1e9 }) },
      { requiredKeys: [] },
    ),
    aggregation: fc.record(
      {
        mode: fc.constantFrom("all_done", "early_stop"),
        vote_on: fc.constantFrom("decision", "answer"),
        vote_weight: fc.constantFrom("spec", "confidence", "reputation"),
        quorum: fc.option(fc.integer({ min: 0, max: 1 })),
        tie_policy: fc.record(
          {
            enabled_on: fc.shuffledSubarray(["TIE", "QUORUM_NULL"]),
            chain: chain(["CONFIDENCE_WEIGHTED", "REPUTATION_WEIGHTED", "REEXPLORE"], "STOCHASTIC"),
            reexplore,
            confidence_weighted: fc.record(
              {
                decision_confidence_field: fc.string({ minLength: 1 }),
                default_confidence: fc.double({ min: 0, max: 1, noNaN: true }),
              },
              { requiredKeys: [] },
            ),
            reputation_weighted: fc.record(
              {
                agent_reputation_units: fc.dictionary(
                  id,
                  fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }),
                ),
                missing_reputation: fc.constantFrom("SKIP", "UNIFORM"),
              },
              { requiredKeys: [] },
            ),
            stochastic: fc.record({ seed: fc.string() }, { requiredKeys: [] }),
          },
          { requiredKeys: [] },
        ),
        null_policy: fc.record(
          {
            enabled_on: fc.shuffledSubarray(["EMPTY", "QUORUM_NULL"]),
            chain: chain(["REEXPLORE"], "FINALIZE_NULL"),
            reexplore,
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["run_id", "shared_inputs", "agents"] },
);

// Spec-shaped objects whose values are anything: they reach deep into the validator's cross-field checks.
const agentKeys = [
  "agent_id",
  "prompt",
  "executor",
  "profile",
  "weight",
  "priority",
  "timeout_ms",
  "inputs",
  "agentid",
];
const specShaped = fc.record(
  {
    run_id: fc.anything(),
    shared_inputs: fc.anything(),
    agents: fc.oneof(fc.array(fc.dictionary(fc.constantFrom(...agentKeys), fc.anything())), fc.anything()),
    retry: fc.anything(),
    aggregation: fc.oneof(
      fc.record({
        quorum: fc.anything(),
        tie_policy: fc.dictionary(
          fc.constantFrom("chain", "enabled_on", "reputation_weighted"),
          fc.anything(),
        ),
        null_policy: fc.record({ chain: fc.array(fc.constantFrom("REEXPLORE", "FINALIZE_NULL", "X", 3)) }),
      }),
      fc.anything(),
    ),
    feed_key: fc.anything(),
  },
  { requiredKeys: [] },
);

function expectWellFormed(r: ReturnType<typeof validateRunSpec>): void {
  expect(typeof r.ok).toBe("boolean");
  if (!r.ok) {
    expect(r.issues.length).toBeGreaterThan(0);
    for (const issue of r.issues) {
      expect(typeof issue.path).toBe("string");
      expect(typeof issue.message).toBe("string");
      expect(issue.message.length).toBeGreaterThan(0);
      // The catch-all exists for safety; reaching it would mean a bug was hidden.
      expect(issue.message).not.toMatch(/could not be (validated|read)/);
    }
  }
}

describe("validateRunSpec properties", () => {
  it("never throws on arbitrary values", () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withDate: true, withMap: true, withNullPrototype: true }),
        (v) => {
          expectWellFormed(validateRunSpec(v));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never throws on arbitrary JSON or spec-shaped objects", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), specShaped), (v) => {
        expectWellFormed(validateRunSpec(v, { knownExecutors: new Set(["rt"]) }));
      }),
      { numRuns: 600 },
    );
  });

  it("never throws on arbitrary text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: "binary" })), (text) => {
        expectWellFormed(parseRunSpecText(text, "gen.json"));
      }),
      { numRuns: 500 },
    );
  });

  it("accepts every generated valid spec, and validating the defaulted spec gives it back", () => {
    fc.assert(
      fc.property(validSpec, (input) => {
        const first = validateRunSpec(input);
        if (!first.ok) throw new Error(JSON.stringify(first.issues));
        const again = validateRunSpec(first.spec);
        if (!again.ok) throw new Error(JSON.stringify(again.issues));
        expect(again.spec).toStrictEqual(first.spec);
        // Through text as well: what `spec validate` prints is what `run submit` would store.
        const viaText = parseRunSpecText(JSON.stringify(first.spec), "roundtrip.json");
        expect(viaText.ok && viaText.spec).toStrictEqual(JSON.parse(JSON.stringify(first.spec)) as RunSpec);
        expect(again.warnings.filter((w) => w.startsWith("aggregation.quorum"))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
