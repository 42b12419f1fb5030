// The worker's heartbeat under database errors (issue 9, recovery bound): a failed lease expiry is retried soon
// (150 ms, at most twice) instead of a full H later, heartbeats never overlap, and nothing runs after the
// worker stops. In-process, on SQLite, with the expiry's first query made to fail or hang on demand.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/port.js";
import { resolveWorkerOptions } from "../../src/worker/options.js";
import { Worker } from "../../src/worker/worker.js";

interface Call {
  at: number;
  ok: boolean;
}

/** The store, with findExpiredLeaseRuns (the expiry's first query) recorded and steered by `behave`. */
function instrumented(store: Store, behave: (n: number) => "ok" | "fail" | number) {
  const calls: Call[] = [];
  let running = 0;
  let maxRunning = 0;
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === "findExpiredLeaseRuns") {
        return async (now?: Date) => {
          const how = behave(calls.length);
          const call = { at: Date.now(), ok: how !== "fail" };
          calls.push(call);
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          try {
            if (typeof how === "number") await new Promise((resolve) => setTimeout(resolve, how));
            if (how === "fail") throw new Error("injected: connection terminated");
            return await target.findExpiredLeaseRuns(now);
          } finally {
            running -= 1;
          }
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: proxy, calls, maxRunning: () => maxRunning };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), "wattswarm-hb-"));
  const store = await openStore({ kind: "sqlite", path: join(dir, "hb.db"), source: "flag" });
  await store.migrate();
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

// H = 1 s; the claim loop polls only every 60 s, so after its first pass every expiry comes from the heartbeat.
const options = () =>
  resolveWorkerOptions({
    workerId: "hb",
    concurrency: 1,
    leaseMs: 10_000,
    heartbeatMs: 1_000,
    pollMs: 60_000,
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("worker heartbeat", () => {
  it("retries a failed expiry after ~150 ms, at most twice, then waits for the next tick", async () => {
    // Call 0 is the claim loop's; calls 1-3 (the first tick and its two retries) fail.
    const s = instrumented(await sqliteStore(), (n) => (n >= 1 && n <= 3 ? "fail" : "ok"));
    const worker = new Worker(s.store, options());
    const running = worker.run();
    await sleep(2_500);
    worker.stop();
    await running;
    const heartbeatCalls = s.calls.slice(1);
    expect(heartbeatCalls.map((c) => c.ok).slice(0, 4)).toEqual([false, false, false, true]);
    const [tick, retry1, retry2, nextTick] = heartbeatCalls.map((c) => c.at) as [
      number,
      number,
      number,
      number,
    ];
    expect(retry1 - tick).toBeGreaterThanOrEqual(140);
    expect(retry1 - tick).toBeLessThan(600);
    expect(retry2 - retry1).toBeGreaterThanOrEqual(140);
    expect(retry2 - retry1).toBeLessThan(600);
    // No third retry: the next attempt is the next tick, H after the first.
    expect(nextTick - tick).toBeGreaterThanOrEqual(900);
  }, 10_000);

  it("never overlaps a running heartbeat, and leaves nothing behind after stop", async () => {
    // The first tick's expiry (1 s) hangs until 3.3 s: the ticks at 2 s and 3 s are skipped, not stacked. The
    // tick at 4 s fails, so a retry is pending when the worker stops.
    const s = instrumented(await sqliteStore(), (n) => (n === 1 ? 2_300 : n === 2 ? "fail" : "ok"));
    const worker = new Worker(s.store, options());
    const running = worker.run();
    await sleep(3_600);
    expect(s.maxRunning()).toBe(1);
    expect(s.calls).toHaveLength(2);
    while (s.calls.length < 3) await sleep(10);
    await sleep(50);
    worker.stop();
    await running;
    await sleep(500);
    expect(s.calls).toHaveLength(3);
  }, 10_000);
});
