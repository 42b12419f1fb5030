// The port itself, below the kernel: each RunTx operation called directly on a store, as River's
// riverdrivertest exercises each driver method. Rows are written with insertRun/insertSteps and leased with
// claimSteps, so what a test sees is the adapter's SQL alone. Guards that match nothing must return false / 0
// and write nothing; a lease closed with a token it does not hold must not be written.
import { expect, it } from "vitest";
import type { Store } from "../../src/store/port.js";
import type { LeaseClose, RunRecord, StepRecord } from "../../src/store/run-port.js";
import type { StepStatus } from "../../src/vocab.js";
import { claim, clockOf, makeSpec, plusMs, runOf, type SuiteContext } from "./harness.js";

/** A run row as submit writes it (active_steps is counted by insertSteps). */
function runRow(runId: string, agents: readonly string[], now: Date): RunRecord {
  const spec = makeSpec(runId, { agents: [...agents] });
  const at = now.toISOString();
  return {
    run_id: runId,
    status: "QUEUED",
    task_type: spec.task_type,
    spec,
    shared_inputs: spec.shared_inputs,
    round: 1,
    event_seq: 0,
    active_steps: 0,
    reputation_applied: false,
    result: null,
    error_text: null,
    created_at: at,
    updated_at: at,
    started_at: null,
    finished_at: null,
  };
}

function stepRows(run: RunRecord, now: Date, status: StepStatus = "QUEUED"): StepRecord[] {
  const at = now.toISOString();
  return run.spec.agents.map((agent, ordinal) => ({
    step_id: `${run.run_id}/${ordinal}`,
    run_id: run.run_id,
    ordinal,
    agent_id: agent.agent_id,
    executor: agent.executor,
    profile: agent.profile,
    prompt: agent.prompt,
    inputs: { ordinal },
    weight: agent.weight,
    priority: agent.priority,
    timeout_ms: agent.timeout_ms,
    status,
    round: 1,
    attempt: 0,
    attempt_seq: 0,
    max_attempts: run.spec.retry.max_attempts,
    next_run_at: at,
    run_created_at: at,
    lease_token: null,
    lease_owner: null,
    lease_until: null,
    result: null,
    error_text: null,
    created_at: at,
    updated_at: at,
    started_at: null,
    finished_at: null,
  }));
}

/** Inserts a QUEUED run with one QUEUED step per agent, in one transaction at `now`. */
async function seed(
  store: Store,
  runId: string,
  agents: readonly string[],
  now: Date,
): Promise<{ run: RunRecord; steps: StepRecord[] }> {
  const run = runRow(runId, agents, now);
  const steps = stepRows(run, now);
  await store.transaction(
    async (tx) => {
      await tx.insertRun(run);
      await tx.insertSteps(steps);
    },
    { now },
  );
  return { run, steps };
}

function stepIds(steps: readonly StepRecord[]): string[] {
  return steps.map((s) => s.step_id);
}

export function portTests(ctx: SuiteContext): void {
  it("insertRun, insertSteps, lockRun, lockSteps: rows come back as written; insertSteps counts active_steps", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    const { run, steps } = await seed(store, "port-1", ["a", "b", "c"], t);
    const seen = await store.transaction(
      async (tx) => {
        expect(tx.now.toISOString()).toBe(t.toISOString());
        return {
          run: await tx.lockRun("port-1"),
          steps: await tx.lockSteps("port-1"),
          missingRun: await tx.lockRun("nope"),
          missingSteps: await tx.lockSteps("nope"),
        };
      },
      { now: t },
    );
    expect(seen.run).toEqual({ ...run, active_steps: 3 });
    expect(seen.steps).toEqual(steps);
    expect(seen.missingRun).toBeNull();
    expect(seen.missingSteps).toEqual([]);
  });

  it("lockRuns and lockStepsById: run rows in ascending run_id, steps by run then step order; missing ids absent", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    const b = await seed(store, "port-b", ["x", "y"], t);
    const a = await seed(store, "port-a", ["z"], t);
    const [b0, b1] = stepIds(b.steps);
    const [a0] = stepIds(a.steps);
    const seen = await store.transaction(async (tx) => ({
      runs: (await tx.lockRuns(["port-b", "nope", "port-a"])).map((r) => r.run_id),
      steps: (await tx.lockStepsById([b1 as string, "nope", b0 as string, a0 as string])).map(
        (s) => s.step_id,
      ),
      none: await tx.lockRuns([]),
    }));
    expect(seen.runs).toEqual(["port-a", "port-b"]);
    expect(seen.steps).toEqual([a0, b0, b1]);
    expect(seen.none).toEqual([]);
  });

  it("updateRun is guarded: a `from` that matches nothing returns false and writes nothing", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    await seed(store, "port-2", ["a"], t);
    const before = await runOf(store, "port-2");
    const later = plusMs(t, 1000);
    const missed = await store.transaction(
      async (tx) => [
        await tx.updateRun("port-2", ["CREATED", "RUNNING"], {
          status: "CANCELLED",
          error_text: "cancelled",
          finished_at: later.toISOString(),
        }),
        await tx.updateRun("nope", ["QUEUED"], { status: "RUNNING" }),
      ],
      { now: later },
    );
    expect(missed).toEqual([false, false]);
    expect(await runOf(store, "port-2")).toEqual(before);

    const hit = await store.transaction(
      (tx) => tx.updateRun("port-2", ["QUEUED"], { status: "RUNNING", started_at: later.toISOString() }),
      { now: later },
    );
    expect(hit).toBe(true);
    expect(await runOf(store, "port-2")).toMatchObject({
      status: "RUNNING",
      started_at: later.toISOString(),
    });
  });

  it("updateSteps, updateRunSteps, updateStepsWithInputs are guarded: a `from` that matches nothing returns 0 and writes nothing", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    const { steps } = await seed(store, "port-3", ["a", "b", "c"], t);
    const [s0, s1, s2] = stepIds(steps) as [string, string, string];
    const later = plusMs(t, 1000);
    const end = { status: "CANCELLED" as const, finished_at: later.toISOString() };

    const missed = await store.transaction(
      async (tx) => [
        await tx.updateSteps([s0, s1], ["LEASED", "RETRY_WAIT"], end),
        await tx.updateSteps(["nope"], ["QUEUED"], end),
        await tx.updateRunSteps("port-3", ["CREATED"], end),
        await tx.updateStepsWithInputs([{ step_id: s0, inputs: { changed: true } }], ["SUCCEEDED"], {
          round: 2,
        }),
      ],
      { now: later },
    );
    expect(missed).toEqual([0, 0, 0, 0]);
    expect(await store.getSteps("port-3")).toEqual(steps);
    expect((await runOf(store, "port-3")).active_steps).toBe(3);

    const hit = await store.transaction(
      async (tx) => [
        await tx.updateSteps([s0], ["QUEUED"], end),
        await tx.updateStepsWithInputs(
          [
            { step_id: s1, inputs: { mine: 1 } },
            { step_id: s2, inputs: { mine: 2 } },
          ],
          ["QUEUED"],
          { round: 2 },
        ),
      ],
      { now: later },
    );
    expect(hit).toEqual([1, 2]);
    const after = await store.getSteps("port-3");
    expect(after.map((s) => [s.status, s.round, s.inputs])).toEqual([
      ["CANCELLED", 1, { ordinal: 0 }],
      ["QUEUED", 2, { mine: 1 }],
      ["QUEUED", 2, { mine: 2 }],
    ]);
    expect((await runOf(store, "port-3")).active_steps).toBe(2);

    const rest = await store.transaction((tx) => tx.updateRunSteps("port-3", ["QUEUED"], end), {
      now: later,
    });
    expect(rest).toBe(2);
    expect((await store.getSteps("port-3")).map((s) => s.status)).toEqual([
      "CANCELLED",
      "CANCELLED",
      "CANCELLED",
    ]);
    expect((await runOf(store, "port-3")).active_steps).toBe(0);
  });

  it("attempts: getAttempt, findAttemptByToken, closeAttempts (returns what the claims recorded), updateAttempt", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    await seed(store, "port-4", ["a", "b"], t);
    const claimed = await claim(store, { runId: "port-4", now: plusMs(t, 10), workerId: "w-port" });
    expect(claimed).toHaveLength(2);
    const [c0, c1] = claimed as [(typeof claimed)[0], (typeof claimed)[0]];
    const done = plusMs(t, 500).toISOString();

    const read = await store.transaction(async (tx) => ({
      bySeq: await tx.getAttempt(c0.step.step_id, c0.attempt.attempt_seq),
      byToken: await tx.findAttemptByToken(c0.step.step_id, c0.attempt.lease_token),
      wrongToken: await tx.findAttemptByToken(c0.step.step_id, c1.attempt.lease_token),
      noSeq: await tx.getAttempt(c0.step.step_id, 99),
    }));
    expect(read.bySeq).toEqual(c0.attempt);
    expect(read.byToken).toEqual(c0.attempt);
    expect(read.wrongToken).toBeNull();
    expect(read.noSeq).toBeNull();

    const closed = await store.transaction((tx) =>
      tx.closeAttempts([
        {
          step_id: c0.step.step_id,
          attempt_seq: c0.attempt.attempt_seq,
          status: "SUCCEEDED",
          error_code: null,
          result: { candidate_output: { decision: "A" } },
          error_text: null,
          finished_at: done,
        },
        {
          step_id: "nope",
          attempt_seq: 1,
          status: "FAILED",
          error_code: "X",
          result: null,
          error_text: "x",
          finished_at: done,
        },
      ]),
    );
    expect(closed).toEqual([
      {
        step_id: c0.step.step_id,
        attempt_seq: c0.attempt.attempt_seq,
        worker_id: "w-port",
        due_at: c0.attempt.due_at,
        started_at: c0.attempt.started_at,
      },
    ]);
    const stale = await store.transaction(async (tx) => {
      await tx.updateAttempt(c0.step.step_id, c0.attempt.attempt_seq, {
        status: "STALE",
        closed_as: "SUCCEEDED",
        result: { late: true },
      });
      return tx.getAttempt(c0.step.step_id, c0.attempt.attempt_seq);
    });
    expect(stale).toMatchObject({
      status: "STALE",
      closed_as: "SUCCEEDED",
      result: { late: true },
      finished_at: done,
      worker_id: "w-port",
    });
    // The other attempt was not touched by either statement.
    expect((await store.getAttempts("port-4")).find((a) => a.step_id === c1.step.step_id)).toEqual(
      c1.attempt,
    );
  });

  it("closeLeases writes a step only while it holds the token: a wrong token writes nothing", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    await seed(store, "port-5", ["a", "b"], t);
    const claimed = await claim(store, { runId: "port-5", now: plusMs(t, 10) });
    const [c0, c1] = claimed as [(typeof claimed)[0], (typeof claimed)[0]];
    const leased = await store.getSteps("port-5");
    const later = plusMs(t, 1000);
    const close = (step_id: string, lease_token: string, status: StepStatus): LeaseClose => ({
      step_id,
      lease_token,
      status,
      result: status === "SUCCEEDED" ? { candidate_output: { decision: "A" } } : null,
      error_text: status === "SUCCEEDED" ? null : "lease expired",
      next_run_at: later.toISOString(),
      finished_at: status === "SUCCEEDED" ? later.toISOString() : null,
    });

    const missed = await store.transaction(
      (tx) =>
        tx.closeLeases([
          close(c0.step.step_id, "not-the-token", "RETRY_WAIT"),
          close(c1.step.step_id, c0.attempt.lease_token, "SUCCEEDED"),
          close("nope", c0.attempt.lease_token, "RETRY_WAIT"),
        ]),
      { now: later },
    );
    expect(missed).toBe(0);
    expect(await store.getSteps("port-5")).toEqual(leased);
    expect((await runOf(store, "port-5")).active_steps).toBe(2);

    const hit = await store.transaction(
      (tx) =>
        tx.closeLeases([
          close(c0.step.step_id, c0.attempt.lease_token, "RETRY_WAIT"),
          close(c1.step.step_id, c1.attempt.lease_token, "SUCCEEDED"),
        ]),
      { now: later },
    );
    expect(hit).toBe(2);
    const after = await store.getSteps("port-5");
    expect(after.map((s) => [s.status, s.lease_token, s.lease_owner, s.lease_until])).toEqual([
      ["RETRY_WAIT", null, null, null],
      ["SUCCEEDED", null, null, null],
    ]);
    expect(after[0]?.next_run_at).toBe(later.toISOString());
    expect(after[1]?.finished_at).toBe(later.toISOString());
    expect((await runOf(store, "port-5")).active_steps).toBe(1);
    // The tokens are spent: presenting one again writes nothing, and no lease is valid any more.
    const again = await store.transaction(
      (tx) => tx.closeLeases([close(c0.step.step_id, c0.attempt.lease_token, "FAILED")]),
      { now: later },
    );
    expect(again).toBe(0);
    expect(
      await store.validLeases(
        claimed.map((c) => ({ step_id: c.step.step_id, lease_token: c.attempt.lease_token })),
      ),
    ).toEqual([]);
  });

  it("listSucceededAttemptsBefore: SUCCEEDED attempts of earlier rounds only; resultKeys keeps only those keys (of the result and its candidate_output)", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    await seed(store, "port-6", ["a", "b"], t);
    const claimed = await claim(store, { runId: "port-6", now: plusMs(t, 10) });
    const [c0, c1] = claimed as [(typeof claimed)[0], (typeof claimed)[0]];
    const done = plusMs(t, 500).toISOString();
    const result = { candidate_output: { decision: "A", reasoning: "long" }, extra: 1 };
    await store.transaction((tx) =>
      tx.closeAttempts([
        {
          step_id: c0.step.step_id,
          attempt_seq: c0.attempt.attempt_seq,
          status: "SUCCEEDED",
          error_code: null,
          result,
          error_text: null,
          finished_at: done,
        },
        {
          step_id: c1.step.step_id,
          attempt_seq: c1.attempt.attempt_seq,
          status: "FAILED",
          error_code: "HTTP_5XX",
          result: null,
          error_text: "boom",
          finished_at: done,
        },
      ]),
    );
    const seen = await store.transaction(async (tx) => ({
      sameRound: await tx.listSucceededAttemptsBefore("port-6", 1),
      nextRound: await tx.listSucceededAttemptsBefore("port-6", 2),
      projected: await tx.listSucceededAttemptsBefore("port-6", 2, ["candidate_output", "decision"]),
    }));
    expect(seen.sameRound).toEqual([]);
    expect(seen.nextRound.map((a) => [a.step_id, a.status, a.result])).toEqual([
      [c0.step.step_id, "SUCCEEDED", result],
    ]);
    expect(seen.projected.map((a) => a.result)).toEqual([{ candidate_output: { decision: "A" } }]);
  });

  it("appendEvents and appendEventBatches take the runs' next seq values; listEventsOfTypes reads them in seq order", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    await seed(store, "port-ea", ["a"], t);
    await seed(store, "port-eb", ["b"], t);
    const earlier = plusMs(t, -5).toISOString();
    const appended = await store.transaction(
      async (tx) => {
        await tx.lockRuns(["port-ea", "port-eb"]);
        const first = await tx.appendEvents("port-ea", [
          { event_type: "X", payload: { n: 1 } },
          { event_type: "Y", payload: { n: 2 }, created_at: earlier },
        ]);
        await tx.appendEventBatches([
          { run_id: "port-ea", events: [{ event_type: "X", payload: { n: 3 } }] },
          { run_id: "port-eb", events: [{ event_type: "X", payload: { n: 4 } }] },
        ]);
        return {
          first,
          xs: await tx.listEventsOfTypes("port-ea", ["X"]),
          none: await tx.listEventsOfTypes("port-ea", ["Z"]),
        };
      },
      { now: t },
    );
    expect(appended.first.map((e) => [e.run_id, e.seq, e.event_type, e.payload, e.created_at])).toEqual([
      ["port-ea", 1, "X", { n: 1 }, t.toISOString()],
      ["port-ea", 2, "Y", { n: 2 }, earlier],
    ]);
    expect(appended.xs.map((e) => [e.seq, e.payload])).toEqual([
      [1, { n: 1 }],
      [3, { n: 3 }],
    ]);
    expect(appended.none).toEqual([]);
    expect((await runOf(store, "port-ea")).event_seq).toBe(3);
    expect((await runOf(store, "port-eb")).event_seq).toBe(1);
    expect((await store.listEvents("port-eb", { limit: 10 })).map((e) => [e.seq, e.payload])).toEqual([
      [1, { n: 4 }],
    ]);
  });

  it("feedback and reputation: putFeedback replaces; applyReputation adds deltas (negative too); getReputationUnits prefers the task_type row", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    await seed(store, "port-7", ["a"], t);
    const feedback = await store.transaction(async (tx) => {
      const none = await tx.getFeedback("port-7");
      await tx.putFeedback("port-7", "YES");
      await tx.putFeedback("port-7", "NO");
      return [none, await tx.getFeedback("port-7")];
    });
    expect(feedback).toEqual([null, "NO"]);

    const units = await store.transaction(async (tx) => {
      await tx.applyReputation([
        { agent_id: "b", task_type: "*", runs: 1, agreed: 0, correct: 0, wrong: 0 },
        { agent_id: "a", task_type: "t", runs: 1, agreed: 1, correct: 0, wrong: 0 },
        { agent_id: "a", task_type: "*", runs: 2, agreed: 0, correct: 0, wrong: 0 },
      ]);
      return { ...(await tx.getReputationUnits(["a", "b", "c"], "t")) };
    });
    // SPEC §9: round(1000 (agreed + 1) / (runs + 2)) without feedback.
    expect(units).toEqual({ a: 667, b: 333 });

    await store.transaction((tx) =>
      tx.applyReputation([{ agent_id: "a", task_type: "t", runs: -1, agreed: -1, correct: 1, wrong: 0 }]),
    );
    const rows = await store.listReputation({ agentId: "a" });
    expect(rows.map((r) => [r.task_type, r.runs, r.agreed, r.correct, r.wrong, r.units])).toEqual([
      ["*", 2, 0, 0, 0, 250],
      // With feedback: round(1000 (correct + 1) / (correct + wrong + 2)).
      ["t", 0, 0, 1, 0, 667],
    ]);
    const overall = await store.transaction(async (tx) => ({
      ...(await tx.getReputationUnits(["a"], "other")),
    }));
    expect(overall).toEqual({ a: 250 });
  });

  it("isolate rolls back only its own part on an error of its own; trySweepLock and notify within a transaction", async () => {
    const store = await ctx.fresh();
    const t = await clockOf(store);
    await seed(store, "port-8", ["a"], t);
    const later = plusMs(t, 1000);
    const outcome = await store.transaction(
      async (tx) => {
        const sweeping = await tx.trySweepLock();
        const bad = await tx.isolate(async () => {
          await tx.updateRun("port-8", ["QUEUED"], { status: "RUNNING", started_at: later.toISOString() });
          throw new Error("a reason of its own");
        });
        const good = await tx.isolate(() =>
          tx.updateRun("port-8", ["QUEUED"], { shared_inputs: { kept: true } }),
        );
        tx.notify("port-8", "work");
        tx.notify("port-8", "run");
        return { sweeping, bad, good };
      },
      { now: later },
    );
    expect(outcome.sweeping).toBe(true);
    expect(outcome.bad.ok).toBe(false);
    expect(outcome.bad.ok ? undefined : (outcome.bad.error as Error).message).toBe("a reason of its own");
    expect(outcome.good).toEqual({ ok: true, value: true });
    const run = await runOf(store, "port-8");
    expect(run).toMatchObject({ status: "QUEUED", started_at: null, shared_inputs: { kept: true } });
  });
}
