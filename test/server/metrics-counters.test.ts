// The /metrics counters are kept by the server and fed, scrape by scrape, with only the attempts closed since
// the previous scrape's window (issue 15, defect 9). They must equal a full recount, whatever commits late.
// Real stores, attempts written with exact finished_at values, an injected clock for the window.
import { afterEach, describe, expect, it } from "vitest";
import {
  type AttemptTotals,
  LATENCY_BUCKETS_MS,
  MetricsCollector,
  type MetricsSource,
} from "../../src/server/metrics.js";
import type { ClosedAttempt } from "../../src/store/metrics.js";
import type { Store } from "../../src/store/port.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import {
  type AttemptRow,
  pgRawAttempts,
  type RawAttempts,
  sqliteRawAttempts,
} from "../support/attempt-rows.js";
import { describePg } from "../support/pg.js";
import { useTempSqlite } from "../support/sqlite.js";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const LAG = 60_000;
const s = (seconds: number) => T0 + seconds * 1000;

interface Kit {
  store: Store;
  raw: RawAttempts;
}

/** `n` closed attempts finished at `from`, `from` + 1 s, …, with varied statuses, codes and latencies. */
function closed(prefix: string, n: number, fromMs: number): AttemptRow[] {
  const kinds = [
    { status: "SUCCEEDED", error_code: null },
    { status: "FAILED", error_code: "HTTP_5XX" },
    { status: "RETRYABLE_ERROR", error_code: "TIMEOUT" },
    { status: "LEASE_EXPIRED", error_code: "LEASE_EXPIRED" },
  ];
  return Array.from({ length: n }, (_, i) => {
    const finished = fromMs + i * 1000;
    const started = finished - [3, 40, 700, 12_000][i % 4]!;
    return {
      step_id: `${prefix}${i}`,
      ...kinds[i % kinds.length]!,
      due_ms: started - [0, 7, 90, 2_000, 400_000][i % 5]!,
      started_ms: started,
      finished_ms: finished,
    };
  });
}

function running(prefix: string, n: number): AttemptRow[] {
  return Array.from({ length: n }, (_, i) => ({
    step_id: `${prefix}${i}`,
    status: "RUNNING",
    due_ms: s(0),
    started_ms: s(0),
    finished_ms: null,
  }));
}

/** What the counters must say about `rows`, computed here independently of the server's code. */
function expected(rows: readonly AttemptRow[]): AttemptTotals {
  const byStatus: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  const hist = (values: number[]) => ({
    bounds_ms: [...LATENCY_BUCKETS_MS],
    counts: LATENCY_BUCKETS_MS.map((b) => values.filter((v) => v <= b).length),
    count: values.length,
    sum_ms: values.reduce((a, b) => a + b, 0),
  });
  for (const r of rows) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    if (r.error_code) byCode[r.error_code] = (byCode[r.error_code] ?? 0) + 1;
  }
  return {
    attempts_by_status: byStatus,
    errors_by_code: byCode,
    claim_latency: hist(rows.map((r) => Math.max(0, r.started_ms - r.due_ms))),
    step_latency: hist(rows.map((r) => Math.max(0, (r.finished_ms as number) - r.started_ms))),
  };
}

function totalsOf(m: AttemptTotals): AttemptTotals {
  const { attempts_by_status, errors_by_code, claim_latency, step_latency } = m;
  return { attempts_by_status, errors_by_code, claim_latency, step_latency };
}

function counterSuite(open: () => Promise<Kit>): void {
  let clock = T0;
  const now = async () => new Date(clock);
  /** Rows each read returned, in order. */
  let reads: number[] = [];

  const collector = (store: Store, lagMs = LAG) => {
    const source: MetricsSource = {
      readStatusCounts: () => store.readStatusCounts(),
      readClosedAttempts: async (since: Date): Promise<ClosedAttempt[]> => {
        const rows = await store.readClosedAttempts(since);
        reads.push(rows.length);
        return rows;
      },
      now: () => store.now(),
    };
    return new MetricsCollector(source, { since: new Date(T0), lagMs, now });
  };
  /** The full recount: a collector that has never scraped reads every attempt since serve start once. */
  const recount = async (store: Store) =>
    totalsOf(await new MetricsCollector(store, { since: new Date(T0), now }).scrape());

  afterEach(() => {
    clock = T0;
    reads = [];
  });

  it("scrapes with attempts closed in between equal a full recount; re-read attempts count once", async () => {
    const { store, raw } = await open();
    const before = closed("old", 50, s(-50)); // closed before serve started: never counted
    const a = closed("a", 20, s(1));
    await raw.insert([...before, ...a, ...running("r", 5)]);
    const c = collector(store);

    clock = s(30);
    expect(totalsOf(await c.scrape())).toEqual(expected(a));
    expect(c.counters.heldKeys).toBe(20); // the next read starts at serve start still: all may come again

    const b = closed("b", 10, s(100));
    await raw.insert(b);
    clock = s(200);
    // This read starts at serve start still (30 s − 60 s is earlier): `a` is read again, and not counted again.
    const second = totalsOf(await c.scrape());
    expect(second).toEqual(expected([...a, ...b]));
    expect(second).toEqual(await recount(store));

    clock = s(300);
    expect(totalsOf(await c.scrape())).toEqual(expected([...a, ...b]));
    expect(c.counters.readFrom.getTime()).toBe(s(240));
    expect(c.counters.heldKeys).toBe(0);

    const more = closed("c", 5, s(250));
    await raw.insert(more);
    clock = s(320);
    const fourth = totalsOf(await c.scrape());
    expect(fourth).toEqual(expected([...a, ...b, ...more]));
    expect(fourth).toEqual(await recount(store));
    // Each read returned the window and what was new, never the history: 20, 20 + 10, 0 (from 140 s), 5.
    expect(reads).toEqual([20, 30, 0, 5]);
    expect(c.counters.readFrom.getTime()).toBe(s(260));
    expect(c.counters.heldKeys).toBe(0); // 250–254 s is behind the next read's start
  });

  it("an attempt whose closing transaction commits after a scrape, with an older finished_at, counts once", async () => {
    const { store, raw } = await open();
    const early = closed("e", 4, s(80));
    await raw.insert([...early, ...running("late", 1)]);
    const c = collector(store);

    // The closing transaction started at 90 s (its finished_at) and has not committed when 100 s' scrape reads.
    const late = await raw.closeUncommitted("late0", "FAILED", s(90));
    clock = s(100);
    expect(totalsOf(await c.scrape())).toEqual(expected(early));
    await late.commit();

    const m = closed("m", 1, s(120));
    await raw.insert(m);
    const lateRow: AttemptRow = {
      step_id: "late0",
      status: "FAILED",
      due_ms: s(0),
      started_ms: s(0),
      finished_ms: s(90),
    };
    clock = s(130); // reads from 40 s: finds the late attempt (90 s) although the previous scrape was at 100 s
    expect(totalsOf(await c.scrape())).toEqual(expected([...early, lateRow, ...m]));
    clock = s(140); // reads from 70 s: everything again, nothing counted twice
    const third = totalsOf(await c.scrape());
    expect(third).toEqual(expected([...early, lateRow, ...m]));
    expect(third).toEqual(await recount(store));
    expect(reads).toEqual([4, 6, 6]);
  });

  it("the bound: a closing transaction that commits more than the lag after it started can be missed", async () => {
    const { store, raw } = await open();
    await raw.insert(running("slow", 1));
    const c = collector(store);
    const slow = await raw.closeUncommitted("slow0", "SUCCEEDED", s(10));
    clock = s(100); // more than 60 s after the transaction started, and before it commits
    await c.scrape();
    await slow.commit();
    clock = s(110); // reads from 40 s: the attempt stamped 10 s is behind the window
    const after = totalsOf(await c.scrape());
    expect(after.attempts_by_status).toEqual({});
    expect((await recount(store)).attempts_by_status).toEqual({ SUCCEEDED: 1 });
  });

  it("counters never decrease: an attempt that turns STALE stays counted under its first status", async () => {
    const { store, raw } = await open();
    const expired = closed("x", 4, s(10)).filter((r) => r.status === "LEASE_EXPIRED");
    await raw.insert(expired);
    const c = collector(store);
    clock = s(20);
    expect((await c.scrape()).attempts_by_status).toEqual({ LEASE_EXPIRED: 1 });
    await raw.markStale("x3"); // a late result arrives for the expired attempt
    clock = s(30); // read again inside the window, now STALE
    const again = await c.scrape();
    expect(again.attempts_by_status).toEqual({ LEASE_EXPIRED: 1 });
    expect(again.errors_by_code).toEqual({ LEASE_EXPIRED: 1 });
  });

  it("concurrent scrapes take turns and count each attempt once", async () => {
    const { store, raw } = await open();
    const rows = closed("k", 12, s(1));
    await raw.insert(rows);
    const c = collector(store);
    clock = s(20);
    const [x, y] = await Promise.all([c.scrape(), c.scrape()]);
    expect(totalsOf(x)).toEqual(expected(rows));
    expect(totalsOf(y)).toEqual(expected(rows));
  });

  it("the gauges are read on every scrape", async () => {
    const { store, raw } = await open();
    await raw.insert([...closed("g", 3, s(1)), ...running("q", 2)]);
    const c = collector(store);
    clock = s(5);
    const m = await c.scrape();
    expect(m.runs_by_status).toEqual({ RUNNING: 1 });
    expect(m.steps_by_status).toEqual({ SUCCEEDED: 5 });
  });
}

describePg("postgres: /metrics counters", (pg) => {
  const kits: Kit[] = [];
  afterEach(async () => {
    for (const k of kits.splice(0)) {
      await k.raw.end();
      await k.store.close();
    }
  });
  counterSuite(async () => {
    const schema = pg.newSchema();
    const store = new PostgresStore({ url: pg.url, schema });
    await store.migrate();
    const kit = { store, raw: pgRawAttempts(pg.url, schema) };
    kits.push(kit);
    return kit;
  });
});

describe("sqlite: /metrics counters", () => {
  const tempPath = useTempSqlite();
  const kits: Kit[] = [];
  afterEach(async () => {
    for (const k of kits.splice(0)) {
      await k.raw.end();
      await k.store.close();
    }
  });
  counterSuite(async () => {
    const path = tempPath();
    const store = new SqliteStore({ path });
    await store.migrate();
    const kit = { store, raw: sqliteRawAttempts(path) };
    kits.push(kit);
    return kit;
  });
});
