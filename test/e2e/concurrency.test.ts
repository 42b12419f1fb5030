// Four worker processes share one store: every run FINALIZED exactly once, no step executed twice, event
// counts consistent with the states. Runs are submitted through the library (one process), then the workers
// are spawned with --exit-when-idle. PostgreSQL: 300 runs × 5 sim agents; SQLite (one writer at a time): 60.
import { expect, it } from "vitest";
import { submitRun } from "../../src/kernel/index.js";
import { validateRunSpec } from "../../src/spec/validate.js";
import { describeStores, exitWithin, logMessages, startWorker } from "./helpers.js";

const AGENTS = 5;
const WORKERS = 4;

describeStores("four workers, many runs", (suite) => {
  const runs = suite.kind === "pg" ? 300 : 60;

  it(`finalizes ${runs} runs × ${AGENTS} agents exactly once`, async () => {
    const target = suite.fresh();
    const lib = target.open();
    await lib.migrate();
    const ids: string[] = [];
    for (let i = 0; i < runs; i++) {
      const runId = `bulk-${String(i).padStart(4, "0")}`;
      const checked = validateRunSpec(
        {
          run_id: runId,
          shared_inputs: { n: i, _sim: { accuracy: 0.8, seed: "e2e" } },
          agents: Array.from({ length: AGENTS }, (_, a) => ({
            agent_id: `agent-${a}`,
            prompt: `agent ${a}`,
            executor: "sim",
          })),
        },
        { knownExecutors: new Set(["sim"]) },
      );
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      await submitRun(lib, checked.spec, true);
      ids.push(runId);
    }

    const started = Date.now();
    const workers = Array.from({ length: WORKERS }, (_, w) =>
      startWorker(target, ["--exit-when-idle", "--concurrency", "16", "--worker-id", `w${w}`]),
    );
    const exits = await Promise.all(workers.map((w) => exitWithin(w, 60_000)));
    for (const exit of exits) expect(exit).toEqual({ code: 0, signal: null });
    for (const w of workers) {
      expect(w.stdout()).toBe("");
      expect(logMessages(w.stderr())).not.toContain("worker loop error; retrying");
      expect(logMessages(w.stderr())).not.toContain("step crashed");
    }
    const elapsed = Date.now() - started;

    // Every run FINALIZED, with exactly one RUN_FINALIZED as its last event and seq 1..n without gaps.
    const byWorker = new Map<string, number>();
    let attemptsTotal = 0;
    for (const runId of ids) {
      const run = await lib.getRun(runId);
      expect(run?.status, runId).toBe("FINALIZED");
      const events = await lib.listEvents(runId, { limit: 1000 });
      const types = events.map((e) => e.event_type);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(run?.event_seq).toBe(events.length);
      expect(
        types.filter((t) => t === "RUN_FINALIZED"),
        runId,
      ).toHaveLength(1);
      expect(types.at(-1)).toBe("RUN_FINALIZED");
      // RUN_CREATED, RUN_KICKOFF, then STEP_LEASED + STEP_COMPLETED per agent, then RUN_FINALIZED.
      expect(types.filter((t) => t === "STEP_LEASED")).toHaveLength(AGENTS);
      expect(types.filter((t) => t === "STEP_COMPLETED")).toHaveLength(AGENTS);
      expect(events).toHaveLength(3 + 2 * AGENTS);
      const finalized = events.at(-1)?.payload as { counts?: { succeeded?: number } };
      expect(finalized.counts?.succeeded).toBe(AGENTS);

      // No step executed twice: one attempt per step, attempt_seq 1, SUCCEEDED.
      const attempts = await lib.getAttempts(runId);
      expect(attempts).toHaveLength(AGENTS);
      for (const a of attempts) {
        expect([a.attempt_seq, a.attempt, a.status]).toEqual([1, 1, "SUCCEEDED"]);
        byWorker.set(a.worker_id, (byWorker.get(a.worker_id) ?? 0) + 1);
      }
      attemptsTotal += attempts.length;
      const steps = await lib.getSteps(runId);
      expect(steps.map((s) => s.status)).toEqual(Array(AGENTS).fill("SUCCEEDED"));
    }
    expect(attemptsTotal).toBe(runs * AGENTS);
    // Work was shared (best effort): more than one worker executed steps.
    expect(byWorker.size).toBeGreaterThan(1);
    expect([...byWorker.keys()].every((w) => /^w[0-3]$/.test(w))).toBe(true);

    if (suite.pg && target.schema) {
      // The same invariants straight from SQL.
      const q = (sql: string) => suite.pg!.query(sql.replaceAll("S.", `"${target.schema}".`));
      const [finals] = await q(
        "SELECT count(*)::int AS n, count(DISTINCT run_id)::int AS runs FROM S.run_events WHERE event_type = 'RUN_FINALIZED'",
      );
      expect(finals).toEqual({ n: runs, runs });
      const [dup] = await q(
        "SELECT count(*)::int AS n FROM S.run_step_attempts WHERE attempt_seq <> 1 OR status <> 'SUCCEEDED'",
      );
      expect(dup).toEqual({ n: 0 });
      const [left] = await q("SELECT count(*)::int AS n FROM S.run_steps WHERE status <> 'SUCCEEDED'");
      expect(left).toEqual({ n: 0 });
    }
    console.info(`[e2e] ${suite.kind}: ${runs} runs × ${AGENTS} agents, ${WORKERS} workers: ${elapsed} ms`);
  }, 90_000);
});
