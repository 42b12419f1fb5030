// The claim loop in-process against both real stores: what one bad run or one database hiccup must not do to
// the rest. Each worker runs with exitWhenIdle and the built-in `sim` executor, so a test waits for nothing but
// the worker itself.
import { afterEach, describe, expect, it } from "vitest";
import { WattswarmError } from "../../src/errors.js";
import { finishAttempt, leaseOf, submitRun } from "../../src/kernel/index.js";
import type { JsonValue } from "../../src/spec/types.js";
import type { Store } from "../../src/store/port.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { resolveWorkerOptions, type WorkerOptionsInput } from "../../src/worker/options.js";
import { Worker } from "../../src/worker/worker.js";
import { claim, clockOf, makeSpec, vote } from "../store-conformance/harness.js";
import { describePg } from "../support/pg.js";
import { useTempSqlite } from "../support/sqlite.js";

type OpenStore = () => Promise<Store>;

/** `store` with some of its methods replaced; everything else goes to the store itself. */
function wrapped(store: Store, overrides: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof Store];
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function runWorker(store: Store, options: WorkerOptionsInput = {}): Promise<Worker> {
  const worker = new Worker(
    store,
    resolveWorkerOptions({ workerId: "w", exitWhenIdle: true, pollMs: 20, ...options }),
  );
  await worker.run();
  return worker;
}

/** A ballot nested 3,000 arrays deep: storable, far over SPEC §8.4's 64 levels. */
function deepBallot(): JsonValue {
  let value: JsonValue = "A";
  for (let i = 0; i < 3000; i++) value = [value];
  return value;
}

function workerTests(open: OpenStore): void {
  it("a run that cannot be settled is FAILED on its own; the worker claims on and finalizes the others", async () => {
    const store = await open();
    await submitRun(store, makeSpec("bad", { agents: ["a", "b"] }), true);
    // As if stored before executors refused such output, by a worker that is gone: b's lease ends at once.
    const at = await clockOf(store);
    const claimed = await claim(store, { runId: "bad", leaseMs: 1, now: at, workerId: "gone" });
    const a = claimed.find((c) => c.step.agent_id === "a");
    if (!a) throw new Error("a not claimed");
    await finishAttempt(store, leaseOf(a), vote(deepBallot()), { now: at });
    await submitRun(store, makeSpec("good", { agents: ["a", "b", "c"] }), true);

    await runWorker(store);
    expect(await store.getRun("good")).toMatchObject({ status: "FINALIZED" });
    expect(await store.getRun("bad")).toMatchObject({
      status: "FAILED",
      error_text: expect.stringMatching(/^SETTLE_FAILED: agent a: output nested more than 64 levels/),
    });
  });

  it("a lease sweep that keeps failing (the database reachable) does not stop claims", async () => {
    const real = await open();
    await submitRun(real, makeSpec("swept", { agents: ["a", "b"] }), true);
    const store = wrapped(real, {
      findExpiredLeaseRuns: async () => {
        throw new Error("injected: a sweep that always fails");
      },
    });
    await runWorker(store);
    expect(await real.getRun("swept")).toMatchObject({ status: "FINALIZED" });
  });

  // Issue 15, defect 7: the claim loop does not sweep before every claim, only once per sweep interval of the
  // worker's clock. The clock stands still here, so after the first sweep no interval ever passes; H = 30 s,
  // so no heartbeat sweeps either, however long the run takes.
  it("the claim loop sweeps for expired leases at most once per interval (injected clock)", async () => {
    const real = await open();
    const agents = Array.from({ length: 12 }, (_, i) => `a${i}`);
    await submitRun(real, makeSpec("paced", { agents }), true);
    let sweeps = 0;
    const store = wrapped(real, {
      findExpiredLeaseRuns: async (now?: Date) => {
        sweeps += 1;
        return real.findExpiredLeaseRuns(now);
      },
    });
    const options = { workerId: "w", exitWhenIdle: true, pollMs: 20, concurrency: 1, leaseMs: 60_000 };
    const worker = new Worker(store, resolveWorkerOptions(options), { clock: () => 1_000_000 });
    await worker.run();
    expect(await real.getRun("paced")).toMatchObject({ status: "FINALIZED" });
    // One claim per step (concurrency 1), one sweep in all.
    expect(worker.completed).toBe(12);
    expect(sweeps).toBe(1);
  });

  /** The store, whose getExecutor throws a lost-connection error on its first `failures` calls. */
  function flakyRegistry(real: Store, failures: number): { store: Store; calls: () => number } {
    let calls = 0;
    const store = wrapped(real, {
      getExecutor: async (name: string) => {
        calls += 1;
        if (calls <= failures) {
          throw new WattswarmError("DB_UNAVAILABLE", "lost the connection to PostgreSQL: connection lost");
        }
        return real.getExecutor(name);
      },
    });
    return { store, calls: () => calls };
  }

  it("a database error while loading the executor is retried, never charged to the agent", async () => {
    const real = await open();
    await submitRun(real, makeSpec("flaky", { agents: ["a", "b"] }), true);
    const { store, calls } = flakyRegistry(real, 1);
    await runWorker(store);
    expect(calls()).toBeGreaterThanOrEqual(2);
    expect(await real.getRun("flaky")).toMatchObject({ status: "FINALIZED" });
    const attempts = await real.getAttempts("flaky");
    expect(attempts.map((a) => [a.status, a.error_code])).toEqual([
      ["SUCCEEDED", null],
      ["SUCCEEDED", null],
    ]);
  });

  it("a registry that stays unreadable past the lease: the step is released, not counted, and runs later", async () => {
    const real = await open();
    await submitRun(real, makeSpec("down", { agents: ["a"] }), true);
    const { store } = flakyRegistry(real, 6);
    await runWorker(store, { leaseMs: 1000, concurrency: 1 });
    expect(await real.getRun("down")).toMatchObject({ status: "FINALIZED" });
    const attempts = await real.getAttempts("down");
    expect(attempts.at(-1)).toMatchObject({ status: "SUCCEEDED" });
    expect(attempts.length).toBeGreaterThan(1);
    for (const a of attempts.slice(0, -1)) expect(a).toMatchObject({ status: "RELEASED", error_code: null });
    expect((await real.getSteps("down"))[0]).toMatchObject({ status: "SUCCEEDED", attempt: 1 });
    const released = (await real.listEvents("down", { limit: 100 })).filter(
      (e) => e.event_type === "STEP_RELEASED",
    );
    expect(released.length).toBe(attempts.length - 1);
    for (const e of released) expect(e.payload).toMatchObject({ reason: "EXECUTOR_LOOKUP_FAILED" });
  });
}

const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

describe("worker on sqlite", () => {
  const tempPath = useTempSqlite();
  workerTests(async () => {
    const store = new SqliteStore({ path: tempPath(), env: {} });
    opened.push(store);
    await store.migrate();
    return store;
  });
});

describePg("worker on postgres", (pg) => {
  workerTests(async () => {
    const store = new PostgresStore({ url: pg.url, schema: pg.newSchema(), env: {} });
    opened.push(store);
    await store.migrate();
    return store;
  });
});
