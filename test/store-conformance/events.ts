// Events (SPEC §3, §4): per-run seq 1..n without gaps, in order, with event_seq on the run row; paging with
// after/limit and tail; every payload carries run_id.
import { expect, it } from "vitest";
import { finishAttempt, listRunEvents, submitRun } from "../../src/kernel/index.js";
import type { Store } from "../../src/store/port.js";
import type { EventRecord } from "../../src/store/run-port.js";
import {
  claimRun,
  eventsOf,
  expectCode,
  failure,
  ISO_MS,
  leaseFor,
  makeSpec,
  runOf,
  type SuiteContext,
  vote,
} from "./harness.js";

/** Two interleaved runs with retries, so that their events share the table. */
async function busyRuns(store: Store): Promise<void> {
  const retry = { max_attempts: 2, backoff_ms: 0 };
  await submitRun(store, makeSpec("evt-1", { agents: ["a", "b", "c"], retry }), true);
  await submitRun(store, makeSpec("evt-2", { agents: ["a", "b"], retry }), true);
  const one = await claimRun(store, "evt-1");
  const two = await claimRun(store, "evt-2");
  await finishAttempt(store, leaseFor(one, "a"), vote("A"));
  await finishAttempt(store, leaseFor(two, "a"), vote("A"));
  await finishAttempt(store, leaseFor(one, "b"), failure(false));
  await finishAttempt(store, leaseFor(two, "b"), vote("B"));
  await finishAttempt(store, leaseFor(one, "c"), vote("A"));
}

function checkSequence(events: readonly EventRecord[], runId: string): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  for (const e of events) {
    expect(e.run_id).toBe(runId);
    expect(e.payload.run_id).toBe(runId);
    expect(e.created_at).toMatch(ISO_MS);
  }
  const ids = events.map((e) => e.id);
  expect([...ids].sort((x, y) => x - y)).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
}

export function eventTests(ctx: SuiteContext): void {
  it("each run's events are numbered 1..n without gaps, in order, and event_seq is n", async () => {
    const store = await ctx.fresh();
    await busyRuns(store);
    for (const runId of ["evt-1", "evt-2"]) {
      const events = await eventsOf(store, runId);
      checkSequence(events, runId);
      expect((await runOf(store, runId)).event_seq).toBe(events.length);
      expect(events[0]?.event_type).toBe("RUN_CREATED");
      expect(events.at(-1)?.event_type).toBe("RUN_FINALIZED");
    }
    expect((await eventsOf(store, "evt-1")).map((e) => e.event_type)).toEqual([
      "RUN_CREATED",
      "RUN_KICKOFF",
      "STEP_LEASED",
      "STEP_COMPLETED",
      "STEP_LEASED",
      "STEP_COMPLETED",
      "STEP_LEASED",
      "STEP_COMPLETED",
      "RUN_FINALIZED",
    ]);
    // Step events carry who and which attempt.
    for (const e of await eventsOf(store, "evt-1")) {
      if (!e.event_type.startsWith("STEP_")) continue;
      expect(Object.keys(e.payload)).toEqual(
        expect.arrayContaining(["run_id", "step_id", "agent_id", "round", "attempt", "attempt_seq"]),
      );
    }
  });

  it("listEvents pages with after/limit and returns the newest with tail, oldest first", async () => {
    const store = await ctx.fresh();
    await busyRuns(store);
    const all = await eventsOf(store, "evt-1");
    expect(all.length).toBe(9);
    const page = await store.listEvents("evt-1", { after: 2, limit: 3 });
    expect(page.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(page).toEqual(all.slice(2, 5));
    expect((await store.listEvents("evt-1", { after: 8, limit: 10 })).map((e) => e.seq)).toEqual([9]);
    expect(await store.listEvents("evt-1", { after: 9, limit: 10 })).toEqual([]);
    expect((await store.listEvents("evt-1", { limit: 2 })).map((e) => e.seq)).toEqual([1, 2]);
    expect((await store.listEvents("evt-1", { limit: 2, tail: true })).map((e) => e.seq)).toEqual([8, 9]);
    expect((await store.listEvents("evt-1", { limit: 50, tail: true })).map((e) => e.seq)).toEqual(
      all.map((e) => e.seq),
    );
    expect(await store.listEvents("no-such-run", { limit: 10 })).toEqual([]);

    // Paging through in small steps sees every event exactly once.
    const seen: number[] = [];
    for (let after = 0; ; ) {
      const chunk = await store.listEvents("evt-1", { after, limit: 4 });
      if (chunk.length === 0) break;
      seen.push(...chunk.map((e) => e.seq));
      after = chunk.at(-1)?.seq ?? after;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);

    // The kernel's read side over the same data.
    expect((await listRunEvents(store, "evt-1", { after: 7 })).map((e) => e.seq)).toEqual([8, 9]);
    expect((await listRunEvents(store, "evt-1", { tail: 1 })).map((e) => e.event_type)).toEqual([
      "RUN_FINALIZED",
    ]);
    await expectCode(listRunEvents(store, "no-such-run", {}), "RUN_NOT_FOUND");
  });
}
