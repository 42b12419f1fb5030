// The worker's lease sweeper (issue 15, defect 7): at most one sweep per interval of its clock, min(L/4, 1 s),
// unless forced (the heartbeat's, which the recovery bound counts on), and never two at once from one worker.
// On a real SQLite store, with the sweep's first query counted and, for one test, held open.
import { afterEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/port.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { LeaseSweeper, sweepIntervalMs } from "../../src/worker/sweeper.js";
import { useTempSqlite } from "../support/sqlite.js";

const tempPath = useTempSqlite();
const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** A store whose findExpiredLeaseRuns (a sweep's first query) is counted and may be held by `gate`. */
async function countedStore(gate?: () => Promise<void>) {
  const real = new SqliteStore({ path: tempPath(), env: {} });
  opened.push(real);
  await real.migrate();
  const counted = { sweeps: 0 };
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === "findExpiredLeaseRuns") {
        return async (now?: Date) => {
          counted.sweeps += 1;
          await gate?.();
          return target.findExpiredLeaseRuns(now);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store, counted };
}

describe("lease sweeper", () => {
  it("the interval is a quarter of the lease, at most 1 s", () => {
    expect(sweepIntervalMs(20_000)).toBe(1_000);
    expect(sweepIntervalMs(4_000)).toBe(1_000);
    expect(sweepIntervalMs(2_000)).toBe(500);
    expect(sweepIntervalMs(100)).toBe(25);
  });

  it("sweeps at most once per interval of its clock; a forced sweep goes regardless and restarts it", async () => {
    const { store, counted } = await countedStore();
    let now = 50_000;
    const sweeper = new LeaseSweeper(store, 1_000, () => now);
    expect(await sweeper.sweep()).toBe(0);
    expect(counted.sweeps).toBe(1);
    now += 999;
    expect(await sweeper.sweep()).toBeNull();
    expect(counted.sweeps).toBe(1);
    now += 1;
    expect(await sweeper.sweep()).toBe(0);
    expect(counted.sweeps).toBe(2);
    now += 10;
    expect(await sweeper.sweep({ force: true })).toBe(0);
    expect(counted.sweeps).toBe(3);
    now += 995;
    expect(await sweeper.sweep()).toBeNull();
    now += 5;
    expect(await sweeper.sweep()).toBe(0);
    expect(counted.sweeps).toBe(4);
  });

  it("a sweep that failed counts too: the next unforced one waits for the interval", async () => {
    let fail = true;
    const { store, counted } = await countedStore(async () => {
      if (fail) throw new Error("injected: the sweep failed");
    });
    let now = 0;
    const sweeper = new LeaseSweeper(store, 1_000, () => now);
    await expect(sweeper.sweep()).rejects.toThrow("injected");
    fail = false;
    now += 500;
    expect(await sweeper.sweep()).toBeNull();
    // The heartbeat's retry is forced.
    expect(await sweeper.sweep({ force: true })).toBe(0);
    expect(counted.sweeps).toBe(2);
  });

  it("while one sweep runs, an unforced one skips instead of starting a second", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { store, counted } = await countedStore(() => held);
    let now = 0;
    const sweeper = new LeaseSweeper(store, 1_000, () => now);
    const first = sweeper.sweep();
    now += 5_000;
    expect(await sweeper.sweep()).toBeNull();
    release();
    expect(await first).toBe(0);
    expect(counted.sweeps).toBe(1);
  });
});
