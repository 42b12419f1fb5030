// Retention (SPEC §7 `run prune`): terminal runs finished before the cut-off go with their steps, attempts,
// events and feedback, batch by batch, oldest first; active runs, newer runs and agent_reputation stay.
import { expect, it } from "vitest";
import { cancelRun, finishAttempt, recordFeedback, submitRun } from "../../src/kernel/index.js";
import { pruneRuns } from "../../src/kernel/prune.js";
import type { Store } from "../../src/store/port.js";
import type { RunStatus } from "../../src/vocab.js";
import {
  claimRun,
  clockOf,
  expectCode,
  FINALIZE_NULL,
  failure,
  leaseFor,
  makeSpec,
  plusMs,
  runOf,
  type SuiteContext,
  vote,
} from "./harness.js";

const HOUR = 3_600_000;

/** Plays a two-agent run to FINALIZED (votes) or FAILED (failures), claimed now and finished at `at`. */
async function finishedRun(store: Store, runId: string, at: Date, ok: boolean): Promise<void> {
  await submitRun(store, makeSpec(runId, ok ? {} : { aggregation: FINALIZE_NULL }), true);
  const leases = await claimRun(store, runId, { leaseMs: 10 * HOUR });
  for (const agent of ["a", "b"]) {
    await finishAttempt(store, leaseFor(leases, agent), ok ? vote("YES") : failure(false), { now: at });
  }
}

async function rowsOf(store: Store, runId: string) {
  const run = await store.getRun(runId);
  return {
    run: run?.status ?? null,
    steps: (await store.getSteps(runId)).length,
    attempts: (await store.getAttempts(runId)).length,
    events: (await store.listEvents(runId, { limit: 10_000 })).length,
  };
}

/**
 * Finished in this order: old-fin (FINALIZED, with feedback) at T, cancelled just after, old-fail (FAILED) at
 * T + 1 s, new-fin (FINALIZED) at T + 2 h; and a QUEUED run. Returns T.
 */
async function seed(store: Store) {
  const now = await clockOf(store);
  await finishedRun(store, "old-fin", now, true);
  await recordFeedback(store, "old-fin", "YES");
  await submitRun(store, makeSpec("cancelled"), true);
  await cancelRun(store, "cancelled");
  await finishedRun(store, "old-fail", plusMs(now, 1000), false);
  await finishedRun(store, "new-fin", plusMs(now, 2 * HOUR), true);
  await submitRun(store, makeSpec("queued"), true);
  return now;
}

export function pruneTests(ctx: SuiteContext): void {
  it("deletes matching terminal runs with their steps, attempts, events and feedback; keeps the rest and reputation", async () => {
    const store = await ctx.fresh();
    const now = await seed(store);
    const reputation = await store.listReputation();
    const kept = await rowsOf(store, "new-fin");
    const expected = await rowsOf(store, "old-fin");
    const failed = await rowsOf(store, "old-fail");
    expect(expected).toMatchObject({ run: "FINALIZED", steps: 2, attempts: 2 });
    expect(failed.run).toBe("FAILED");

    const query = { before: plusMs(now, HOUR), statuses: ["FINALIZED", "FAILED"] as RunStatus[] };
    const counts = {
      runs: 2,
      steps: expected.steps + failed.steps,
      attempts: expected.attempts + failed.attempts,
      events: expected.events + failed.events,
    };
    expect(await store.countPrunable(query)).toEqual(counts);
    expect(await store.pruneRuns(query, 100)).toEqual(counts);

    expect(await rowsOf(store, "old-fin")).toEqual({ run: null, steps: 0, attempts: 0, events: 0 });
    expect(await rowsOf(store, "old-fail")).toEqual({ run: null, steps: 0, attempts: 0, events: 0 });
    expect(await rowsOf(store, "new-fin")).toEqual(kept);
    expect((await runOf(store, "cancelled")).status).toBe("CANCELLED");
    expect((await runOf(store, "queued")).status).toBe("QUEUED");
    expect(await store.listReputation()).toEqual(reputation);
    // The feedback went with its run: feedback on a new run of that id starts afresh.
    await expectCode(recordFeedback(store, "old-fin", "YES"), "RUN_NOT_FOUND");
    expect(await store.pruneRuns(query, 100)).toEqual({ runs: 0, steps: 0, attempts: 0, events: 0 });
  });

  it("works in batches, oldest finished first; a dry run counts without deleting; statuses filter", async () => {
    const store = await ctx.fresh();
    const now = await seed(store);
    const before = plusMs(now, 3 * HOUR);
    expect((await store.countPrunable({ before, statuses: ["FAILED"] })).runs).toBe(1);

    const all = { before, statuses: ["CANCELLED", "FINALIZED", "FAILED"] as RunStatus[] };
    expect((await store.countPrunable(all)).runs).toBe(4);
    expect((await store.pruneRuns(all, 1)).runs).toBe(1);
    expect(await store.getRun("old-fin")).toBeNull();
    expect(await store.getRun("cancelled")).not.toBeNull();

    // Through the kernel (the cut-off from the store's clock): only the CANCELLED run has finished by now.
    const dry = await pruneRuns(store, { olderThanMs: 0, statuses: ["cancelled"], dryRun: true });
    expect(dry).toMatchObject({ ok: true, dry_run: true, runs: 1, attempts: 0 });
    expect((await store.countPrunable(all)).runs).toBe(3);
    const done = await pruneRuns(store, { olderThanMs: 0, statuses: ["CANCELLED"], batch: 1 });
    expect(done).toEqual({ ...dry, dry_run: false });

    expect(await store.pruneRuns(all, 2)).toMatchObject({ runs: 2, steps: 4, attempts: 4 });
    expect((await store.listRuns({ limit: 10 })).map((r) => r.run_id)).toEqual(["queued"]);
  });

  it("refuses a non-terminal status as a usage error", async () => {
    const store = await ctx.fresh();
    await expectCode(pruneRuns(store, { olderThanMs: 0, statuses: ["RUNNING"] }), "USAGE");
    await expectCode(pruneRuns(store, { olderThanMs: 0, batch: 0 }), "USAGE");
  });
}
