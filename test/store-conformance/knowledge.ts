// The knowledge store (SPEC §9): reputation applied once per run in the finalizing transaction, feedback that
// replaces itself and corrects the counts, and REPUTATION_WEIGHTED reading the store by task type first.
import { expect, it } from "vitest";
import { finishAttempt, recordFeedback, retryRun, submitRun } from "../../src/kernel/index.js";
import { reputationUnits } from "../../src/kernel/reputation.js";
import type { JsonObject } from "../../src/spec/types.js";
import type { Store } from "../../src/store/port.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import {
  claimRun,
  expectCode,
  FINALIZE_NULL,
  failure,
  leaseFor,
  makeSpec,
  runOf,
  type SpecDraft,
  type SuiteContext,
  vote,
} from "./harness.js";

/** Submits a run of these agents and finishes each with its outcome (a string is a vote). */
async function playRun(
  store: Store,
  runId: string,
  outcomes: Record<string, string | ExecutionOutcome>,
  draft: SpecDraft & { task_type?: string } = {},
) {
  const spec = { ...makeSpec(runId, { agents: Object.keys(outcomes), ...draft }) };
  if (draft.task_type !== undefined) spec.task_type = draft.task_type;
  await submitRun(store, spec, true);
  const leases = await claimRun(store, runId);
  for (const [agent, outcome] of Object.entries(outcomes)) {
    await finishAttempt(
      store,
      leaseFor(leases, agent),
      typeof outcome === "string" ? vote(outcome) : outcome,
    );
  }
  return runOf(store, runId);
}

async function rows(store: Store, agentId?: string) {
  const all = await store.listReputation(agentId === undefined ? {} : { agentId });
  return all.map((r) => [r.agent_id, r.task_type, r.runs, r.agreed, r.correct, r.wrong, r.units]);
}

export function knowledgeTests(ctx: SuiteContext): void {
  it("a WINNER_PATH finalization counts runs/agreed once per voter, in the task_type row and the '*' row", async () => {
    const store = await ctx.fresh();
    const run = await playRun(
      store,
      "rep-1",
      { a: "YES", b: "yes ", c: "NO", d: failure(false) },
      {
        task_type: "triage",
      },
    );
    expect(run).toMatchObject({ status: "FINALIZED", reputation_applied: true });
    expect(await rows(store)).toEqual([
      ["a", "*", 1, 1, 0, 0, 667],
      ["a", "triage", 1, 1, 0, 0, 667],
      ["b", "*", 1, 1, 0, 0, 667],
      ["b", "triage", 1, 1, 0, 0, 667],
      ["c", "*", 1, 0, 0, 0, 333],
      ["c", "triage", 1, 0, 0, 0, 333],
    ]);
    // A run of another task type adds to '*' and to that type's row.
    await playRun(store, "rep-2", { a: "NO", c: "NO", e: "YES" }, { task_type: "other" });
    expect(await rows(store, "a")).toEqual([
      ["a", "*", 2, 2, 0, 0, reputationUnits({ runs: 2, agreed: 2, correct: 0, wrong: 0 })],
      ["a", "other", 1, 1, 0, 0, 667],
      ["a", "triage", 1, 1, 0, 0, 667],
    ]);
  });

  it("no reputation for a null decision, a STOCHASTIC tie-break or a FAILED run; a retried run counts once", async () => {
    const store = await ctx.fresh();
    await playRun(store, "rep-tie", { a: "X", b: "Y" }); // STOCHASTIC
    await playRun(store, "rep-null", { a: "X", b: "Y" }, { aggregation: { tie_policy: { chain: [] } } });
    const failed = await playRun(
      store,
      "rep-fail",
      { a: failure(false), b: failure(false) },
      {
        aggregation: FINALIZE_NULL,
      },
    );
    expect(failed.status).toBe("FAILED");
    expect(await rows(store)).toEqual([]);
    await retryRun(store, "rep-fail");
    const leases = await claimRun(store, "rep-fail");
    await finishAttempt(store, leaseFor(leases, "a"), vote("Z"));
    await finishAttempt(store, leaseFor(leases, "b"), vote("Z"));
    expect((await runOf(store, "rep-fail")).reputation_applied).toBe(true);
    expect(await rows(store)).toEqual([
      ["a", "*", 1, 1, 0, 0, 667],
      ["a", "swarm", 1, 1, 0, 0, 667],
      ["b", "*", 1, 1, 0, 0, 667],
      ["b", "swarm", 1, 1, 0, 0, 667],
    ]);
  });

  it("a tie resolved by CONFIDENCE_WEIGHTED counts; its trace names the resolver", async () => {
    const store = await ctx.fresh();
    const run = await playRun(
      store,
      "rep-cw",
      { a: vote("X", { confidence: 0.9 }) as ExecutionOutcome, b: vote("Y", { confidence: 0.2 }) },
      { aggregation: { tie_policy: { chain: ["CONFIDENCE_WEIGHTED"] } } },
    );
    expect(run.result).toMatchObject({ final_decision: "X" });
    expect(await rows(store, "b")).toEqual([
      ["b", "*", 1, 0, 0, 0, 333],
      ["b", "swarm", 1, 0, 0, 0, 333],
    ]);
  });

  it("feedback: FINALIZED runs only, normalized like a ballot, idempotent; another value replaces the first", async () => {
    const store = await ctx.fresh();
    await playRun(store, "fb-1", { a: "YES", b: "YES", c: "NO" });
    expect(await recordFeedback(store, "fb-1", " no ")).toEqual({
      ok: true,
      run_id: "fb-1",
      correct: "NO",
      previous: null,
      changed: true,
    });
    expect(await recordFeedback(store, "fb-1", "No")).toMatchObject({ changed: false, previous: "NO" });
    expect(await rows(store)).toEqual([
      ["a", "*", 1, 1, 0, 1, 333],
      ["a", "swarm", 1, 1, 0, 1, 333],
      ["b", "*", 1, 1, 0, 1, 333],
      ["b", "swarm", 1, 1, 0, 1, 333],
      ["c", "*", 1, 0, 1, 0, 667],
      ["c", "swarm", 1, 0, 1, 0, 667],
    ]);
    expect(await recordFeedback(store, "fb-1", "yes")).toMatchObject({ previous: "NO", correct: "YES" });
    expect((await rows(store)).filter((r) => r[1] === "*")).toEqual([
      ["a", "*", 1, 1, 1, 0, 667],
      ["b", "*", 1, 1, 1, 0, 667],
      ["c", "*", 1, 0, 0, 1, 333],
    ]);
    // A value nobody voted for: every voter was wrong.
    await recordFeedback(store, "fb-1", "MAYBE");
    expect((await rows(store)).filter((r) => r[1] === "*").map((r) => r.slice(4))).toEqual([
      [0, 1, 333],
      [0, 1, 333],
      [0, 1, 333],
    ]);
    await expectCode(recordFeedback(store, "nope", "YES"), "RUN_NOT_FOUND");
    await expectCode(recordFeedback(store, "fb-1", "  "), "USAGE");
    await submitRun(store, makeSpec("fb-open"), true);
    await expectCode(recordFeedback(store, "fb-open", "YES"), "INVALID_STATE");
  });

  it("REPUTATION_WEIGHTED without a spec map reads the store, task_type row first, and stores the units", async () => {
    const store = await ctx.fresh();
    // In t1, b agrees and a does not; in t2 the reverse. Overall ('*') they are equal.
    await playRun(store, "hist-1", { a: "NO", b: "YES", c: "YES" }, { task_type: "t1" });
    await playRun(store, "hist-2", { a: "YES", b: "NO", c: "YES" }, { task_type: "t2" });
    const policy: JsonObject = { tie_policy: { chain: ["REPUTATION_WEIGHTED"] } };
    const t1 = await playRun(store, "tie-t1", { a: "A", b: "B" }, { task_type: "t1", aggregation: policy });
    const t2 = await playRun(store, "tie-t2", { a: "A", b: "B" }, { task_type: "t2", aggregation: policy });
    const t3 = await playRun(store, "tie-t3", { a: "A", b: "B" }, { task_type: "t3", aggregation: policy });
    expect(t1.result).toMatchObject({
      final_decision: "B",
      aggregation: { reputation_units: { a: 333, b: 667 } },
    });
    expect(t2.result).toMatchObject({
      final_decision: "A",
      aggregation: { reputation_units: { a: 667, b: 333 } },
    });
    // No t3 rows: the '*' rows (equal) leave the tie unresolved.
    expect(t3.result).toMatchObject({
      final_decision: null,
      aggregation: { reputation_units: { a: 500, b: 500 } },
    });
  });

  it("vote_weight: reputation weighs each vote by units/1000 from the store", async () => {
    const store = await ctx.fresh();
    for (let i = 0; i < 3; i++) await playRun(store, `vw-h${i}`, { a: "YES", b: "NO", c: "NO", d: "NO" });
    // a: 200 units; b, c: 800. A lone b outweighs a … and so do b and c against a and a newcomer e (500).
    const run = await playRun(
      store,
      "vw-1",
      { a: "X", e: "X", b: "Y" },
      { aggregation: { vote_weight: "reputation" } },
    );
    expect(run.result).toMatchObject({
      final_decision: "Y",
      aggregation: { reputation_units: { a: 200, e: 500, b: 800 } },
    });
  });
}
