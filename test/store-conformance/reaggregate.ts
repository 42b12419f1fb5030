// `run reaggregate` (SPEC §7): under the stored policy it reproduces the stored result, for every run of a
// seeded corpus of policies and outcomes played through the real kernel (ties, quorums, failures, retries,
// re-explore rounds, early stop); under another policy it replays the stored rounds and writes nothing.
import { expect, it } from "vitest";
import { finishAttempt, getRunResult, leaseOf, reaggregateRun, submitRun } from "../../src/kernel/index.js";
import type { JsonObject, JsonValue } from "../../src/spec/types.js";
import type { Store } from "../../src/store/port.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import {
  claim,
  clockOf,
  eventsOf,
  expectCode,
  failure,
  makeSpec,
  plusMs,
  runOf,
  type SuiteContext,
  vote,
} from "./harness.js";

/** mulberry32: a small seeded generator, so the corpus is the same on every store and every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const chance = (r: Rand, p: number) => r() < p;

function randomPolicy(r: Rand, agents: string[]): JsonObject {
  const reexplore = () => ({
    max_tie_iterations: pick(r, [0, 1, 2]),
    no_new_evidence_rounds: pick(r, [0, 1]),
    require_new_evidence: chance(r, 0.5),
  });
  const tieChain = ["REEXPLORE", "CONFIDENCE_WEIGHTED", "REPUTATION_WEIGHTED"].filter(() => chance(r, 0.5));
  if (chance(r, 0.5)) tieChain.reverse();
  if (chance(r, 0.5)) tieChain.push("STOCHASTIC");
  const policy: JsonObject = {
    mode: chance(r, 0.3) ? "early_stop" : "all_done",
    vote_weight: pick(r, ["spec", "spec", "confidence", "reputation"]),
    tie_policy: {
      enabled_on: pick(r, [["TIE"], ["TIE", "QUORUM_NULL"], []]),
      chain: tieChain,
      reexplore: reexplore(),
      ...(chance(r, 0.3)
        ? { reputation_weighted: { agent_reputation_units: { [agents[0] as string]: 700 } } }
        : {}),
    },
    null_policy: {
      chain: pick(r, [["REEXPLORE", "FINALIZE_NULL"], ["FINALIZE_NULL"], ["REEXPLORE"]]),
      reexplore: reexplore(),
    },
  };
  if (chance(r, 0.4)) policy.quorum = 1 + Math.floor(r() * agents.length);
  return policy;
}

function randomOutcome(r: Rand): ExecutionOutcome {
  if (chance(r, 0.15)) return failure(chance(r, 0.5));
  const decision: JsonValue = chance(r, 0.1) ? "" : pick(r, ["A", "B", "a", "C"]);
  const digests = ["d1", "d2", "d3", "d4"].filter(() => chance(r, 0.35));
  return vote(decision, { confidence: Math.round(r() * 100) / 100, evidence_digests: digests });
}

/** Plays one run to a terminal status: claim everything due, finish it in a random order, repeat. */
async function play(store: Store, runId: string, r: Rand): Promise<void> {
  const agents = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => `ag${i}`);
  const spec = makeSpec(runId, {
    agents: agents.map((a) => ({ agent_id: a, weight: pick(r, [1, 1, 2, 0.5]) })),
    retry: { max_attempts: pick(r, [1, 2]), backoff_ms: 0 },
    aggregation: randomPolicy(r, agents),
  });
  await submitRun(store, spec, true);
  let t = await clockOf(store);
  for (let guard = 0; guard < 40; guard++) {
    const run = await runOf(store, runId);
    if (run.status === "FINALIZED" || run.status === "FAILED") return;
    t = plusMs(t, 15 * 60_000); // past any backoff
    const claimed = await claim(store, { runId, now: t });
    claimed.sort(() => r() - 0.5);
    for (const c of claimed) await finishAttempt(store, leaseOf(c), randomOutcome(r));
  }
  throw new Error(`run ${runId} did not end`);
}

export function reaggregateTests(ctx: SuiteContext): void {
  it("under the stored policy, reaggregate reproduces the stored result for every run of a seeded corpus", async () => {
    const store = await ctx.fresh();
    const r = rng(20_260_106);
    const ids = Array.from({ length: 40 }, (_, i) => `corpus-${i}`);
    let multiRound = 0;
    for (const id of ids) {
      await play(store, id, r);
      const run = await runOf(store, id);
      if (run.round > 1) multiRound += 1;
      const replayed = await reaggregateRun(store, id);
      const stored = await getRunResult(store, id);
      expect({ id, ...replayed }).toEqual({ id, ...stored, would_reexplore: null });
    }
    expect(multiRound).toBeGreaterThan(0); // the corpus does exercise the round replay
  });

  it("another policy: replays stored rounds, stops at the first it finalizes, or reports would_reexplore", async () => {
    const store = await ctx.fresh();
    const spec = makeSpec("rg-1", {
      aggregation: { tie_policy: { chain: ["REEXPLORE", "STOCHASTIC"] } },
    });
    await submitRun(store, spec, true);
    for (const [a, b] of [
      ["X", "Y"],
      ["X", "X"],
    ] as const) {
      const claimed = await claim(store, { runId: "rg-1" });
      const lease = (agent: string) => {
        const c = claimed.find((x) => x.step.agent_id === agent);
        if (!c) throw new Error(`no claim for ${agent}`);
        return leaseOf(c);
      };
      await finishAttempt(store, lease("a"), vote(a, { evidence_digests: [`${a}1`] }));
      await finishAttempt(store, lease("b"), vote(b, { evidence_digests: [`${b}2`] }));
    }
    const run = await runOf(store, "rg-1");
    expect(run).toMatchObject({ status: "FINALIZED", round: 2, result: { final_decision: "X" } });
    const before = { run, events: await eventsOf(store, "rg-1") };

    const stochastic = await reaggregateRun(store, "rg-1", {
      policy: { tie_policy: { chain: ["STOCHASTIC"] } },
    });
    expect(stochastic).toMatchObject({ round: 1, would_reexplore: null });
    expect(["X", "Y"]).toContain(stochastic.final_decision);

    // Quorum 2: round 1 (X, Y) is QUORUM_NULL → the null chain re-explores; round 2 (X, X) meets it.
    const quorum = await reaggregateRun(store, "rg-1", {
      policy: { quorum: 2, null_policy: { reexplore: { require_new_evidence: false } } },
    });
    expect(quorum).toMatchObject({ round: 2, final_decision: "X", would_reexplore: null });
    expect(quorum).toMatchObject({ aggregation: { null_policy: { reexplore: { iteration: 1 } } } });
    // With require_new_evidence only b (new digest) counts in round 2: below quorum, the chain is exhausted.
    const strict = await reaggregateRun(store, "rg-1", { policy: { quorum: 2 } });
    expect(strict).toMatchObject({
      round: 2,
      final_decision: null,
      null_resolution: { primary_kind: "QUORUM_NULL" },
    });

    const split = makeSpec("rg-2", { aggregation: { tie_policy: { chain: ["STOCHASTIC"] } } });
    await submitRun(store, split, true);
    const claimed = await claim(store, { runId: "rg-2" });
    for (const c of claimed)
      await finishAttempt(store, leaseOf(c), vote(c.step.agent_id === "a" ? "X" : "Y"));
    const beyond = await reaggregateRun(store, "rg-2", { policy: { tie_policy: { chain: ["REEXPLORE"] } } });
    expect(beyond).toMatchObject({
      round: 1,
      final_decision: null,
      would_reexplore: {
        chain: "TIE",
        signal: { type: "NEED_MORE_EVIDENCE", path: "TIE_PATH", iteration: 1 },
      },
    });

    // Nothing was written.
    expect(await runOf(store, "rg-1")).toEqual(before.run);
    expect(await eventsOf(store, "rg-1")).toEqual(before.events);
  });

  it("refuses open runs (INVALID_STATE), unknown runs and invalid policies (with JSON paths)", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("rg-open"), true);
    await expectCode(reaggregateRun(store, "rg-open"), "INVALID_STATE");
    await expectCode(reaggregateRun(store, "rg-none"), "RUN_NOT_FOUND");
    const claimed = await claim(store, { runId: "rg-open" });
    for (const c of claimed) await finishAttempt(store, leaseOf(c), vote("X"));
    const bad = reaggregateRun(store, "rg-open", {
      policy: { quorum: 5, tie_policy: { chain: ["STOCASTIC"] } },
    });
    await expect(bad).rejects.toMatchObject({
      code: "SPEC_INVALID",
      details: [
        { path: "aggregation.quorum", message: expect.stringContaining("number of agents") },
        { path: "aggregation.tie_policy.chain[0]", message: expect.stringContaining("STOCHASTIC") },
      ],
    });
  });
}
