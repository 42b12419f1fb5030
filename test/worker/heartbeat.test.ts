// The worker's heartbeat judges only the leases it sent (issue 15, defect 1): a step claimed while a heartbeat's
// query is in flight is not in that heartbeat's answer and must not be aborted as "lease lost". Deterministic:
// the heartbeat tick is a fake interval, nudges come from the test, and the heartbeat's answer is held back
// until the claim loop has launched a second step.
import { afterEach, describe, expect, it, vi } from "vitest";
import { openStore, submitRun, validateRunSpec } from "../../src/index.js";
import type { Store } from "../../src/store/port.js";
import { silentLogger } from "../../src/util/log.js";
import { resolveWorkerOptions } from "../../src/worker/options.js";
import { Worker } from "../../src/worker/worker.js";
import { useTempSqlite } from "../support/sqlite.js";

const tempPath = useTempSqlite();

afterEach(() => {
  vi.useRealTimers();
});

/** Lets every pending callback run, timers excepted. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 10_000) throw new Error("condition never met");
    await tick();
  }
}

describe("worker heartbeat", () => {
  it("does not abort a step claimed while the heartbeat was in flight", async () => {
    const real = await openStore({ kind: "sqlite", path: tempPath(), source: "flag" });
    await real.migrate();
    const checked = validateRunSpec({
      run_id: "hb-fresh",
      shared_inputs: {},
      agents: ["a", "b"].map((agent_id) => ({
        agent_id,
        prompt: "",
        executor: "sim",
        // Never answers within the test: both calls stay in flight until the worker aborts them.
        inputs: { _sim: { latency_ms: 3_600_000 } },
      })),
    });
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    await submitRun(real, checked.spec, true);

    let worker: Worker | undefined;
    let claims = 0;
    let nudge = () => {};
    let heartbeats = 0;
    const sent: string[][] = [];
    const store = new Proxy(real, {
      get(target, prop) {
        if (prop === "claimSteps") {
          // The first claim takes one step, so that the second is claimed during the heartbeat.
          return (opts: Parameters<Store["claimSteps"]>[0]) =>
            target.claimSteps(claims++ === 0 ? { ...opts, limit: 1 } : opts);
        }
        if (prop === "waitForNudge") {
          return (_ms: number, signal: AbortSignal) =>
            new Promise<void>((resolve) => {
              nudge = resolve;
              signal.addEventListener("abort", () => resolve(), { once: true });
            });
        }
        if (prop === "heartbeat") {
          return async (...args: Parameters<Store["heartbeat"]>) => {
            sent.push(args[0].map((l) => l.step_id));
            const held = await target.heartbeat(...args);
            // While this answer is "in flight", the loop is nudged and claims the second step.
            nudge();
            await until(() => worker?.inFlightCount === 2);
            heartbeats += 1;
            return held;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });

    const lost: unknown[] = [];
    const logger = silentLogger();
    const info = logger.info.bind(logger);
    logger.info = ((obj: unknown, msg?: string) => {
      if (msg?.startsWith("lease lost")) lost.push(obj);
      return info(obj as object, msg);
    }) as typeof logger.info;

    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const options = resolveWorkerOptions({
      workerId: "hb",
      concurrency: 2,
      leaseMs: 60_000,
      heartbeatMs: 1_000,
      shutdownGraceMs: 0,
    });
    worker = new Worker(store, options, { logger });
    const w = worker;
    const running = w.run();
    try {
      await until(() => w.inFlightCount === 1);
      vi.advanceTimersByTime(1_000);
      await until(() => heartbeats === 1);
      await tick();
      expect(sent).toHaveLength(1);
      expect(sent[0]).toHaveLength(1);
      expect(lost).toEqual([]);
      expect(w.inFlightCount).toBe(2);
    } finally {
      w.stop();
      await running;
    }
    // Shutdown released both calls; an aborted one would have stayed LEASED until its lease expired.
    const steps = await real.getSteps("hb-fresh");
    expect(steps.map((s) => s.status)).toEqual(["QUEUED", "QUEUED"]);
    await real.close();
  });
});
