// early_stop through a real in-process worker (SPEC §4, §5.6): once the leader cannot be caught, the slow
// agent's step is cancelled and the worker aborts its in-flight executor call instead of waiting for it.
import { describe, expect, it } from "vitest";
import { getRunResult, openStore, startWorker, submitRun, validateRunSpec } from "../../src/index.js";
import { useTempSqlite } from "../support/sqlite.js";

const tempPath = useTempSqlite();

describe("early stop with a worker", () => {
  it("aborts the in-flight call of a cancelled step; the run finalizes long before the slow agent would answer", async () => {
    const store = await openStore({ kind: "sqlite", path: tempPath(), source: "flag" });
    await store.migrate();
    try {
      const sim = (latency: number) => ({ _sim: { accuracy: 1, truth: "A", latency_ms: latency } });
      const checked = validateRunSpec({
        run_id: "es-worker",
        shared_inputs: {},
        aggregation: { mode: "early_stop" },
        agents: [
          { agent_id: "a", prompt: "", executor: "sim", inputs: sim(0) },
          { agent_id: "b", prompt: "", executor: "sim", inputs: sim(0) },
          { agent_id: "slow", prompt: "", executor: "sim", inputs: sim(60_000) },
        ],
      });
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      await submitRun(store, checked.spec, true);
      const started = Date.now();
      const { done } = startWorker(store, { concurrency: 3, pollMs: 50, exitWhenIdle: true });
      await done;
      expect(Date.now() - started).toBeLessThan(10_000);
      const result = await getRunResult(store, "es-worker");
      expect(result).toMatchObject({
        final_decision: "A",
        aggregation: { early_stop: { stopped: true, steps_saved: 1, calls_aborted: 1 } },
      });
      const attempts = await store.getAttempts("es-worker");
      // The aborted call never reported: its attempt stays CANCELLED (not STALE).
      expect(attempts.map((a) => a.status).sort()).toEqual(["CANCELLED", "SUCCEEDED", "SUCCEEDED"]);
    } finally {
      await store.close();
    }
  }, 20_000);
});
