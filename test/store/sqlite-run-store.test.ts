// SQLite-specific behaviour of the run half of the store port: one connection per store serialized by a
// queue (per file and process), several connections and processes on one file, and the `now` overrides that
// let lease tests run without sleeping. The behaviour both stores share is the conformance suite's.
import { spawn } from "node:child_process";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WattswarmError } from "../../src/errors.js";
import { finishAttempt, leaseOf, submitRun } from "../../src/kernel/index.js";
import type { JsonObject, JsonValue, RunSpec } from "../../src/spec/types.js";
import { validateRunSpec } from "../../src/spec/validate.js";
import type { ClaimedStep, RunRecord } from "../../src/store/run-port.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import { CLI_PATH, cliIsBuilt } from "../support/cli.js";
import { useTempSqlite } from "../support/sqlite.js";

const tempPath = useTempSqlite();
const open: SqliteStore[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function store(path: string, clock?: () => number, busyWaitMs?: number): Promise<SqliteStore> {
  const s = new SqliteStore({
    path,
    env: {},
    ...(clock ? { clock } : {}),
    ...(busyWaitMs === undefined ? {} : { busyWaitMs }),
  });
  open.push(s);
  await s.migrate();
  return s;
}

function spec(runId: string, agents: number, extra: JsonObject = {}): RunSpec {
  const checked = validateRunSpec({
    run_id: runId,
    shared_inputs: { topic: "sqlite" },
    agents: Array.from({ length: agents }, (_, i) => ({
      agent_id: `a${i}`,
      prompt: `prompt ${i}`,
      executor: "sim",
    })),
    retry: { max_attempts: 2, backoff_ms: 1000 },
    ...extra,
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  return checked.spec;
}

const YES: ExecutionOutcome = {
  ok: true,
  response: { candidate_output: { decision: "YES", confidence: 0.8 } },
};
const RETRYABLE: ExecutionOutcome = { ok: false, code: "HTTP_5XX", retryable: true, error: "status 500" };

const at = (iso: string): Date => new Date(iso);
const plus = (d: Date, ms: number): Date => new Date(d.getTime() + ms);

function newRun(runId: string, now: string, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    run_id: runId,
    status: "CREATED",
    task_type: "t",
    spec: spec(runId, 1),
    shared_inputs: {},
    round: 1,
    event_seq: 0,
    active_steps: 0,
    reputation_applied: false,
    result: null,
    error_text: null,
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
    ...extra,
  };
}

describe("SQLite run store: several connections on one file", () => {
  it("two stores claiming and completing concurrently never hand out the same step", async () => {
    const path = tempPath();
    const [a, b] = [await store(path), await store(path)];
    for (let r = 0; r < 3; r++) await submitRun(a, spec(`multi-${r}`, 10), true);

    const claimedBy = new Map<string, string>();
    const duplicates: string[] = [];
    const loop = async (s: SqliteStore, name: string): Promise<void> => {
      for (;;) {
        const claimed = await s.claimSteps({ workerId: name, limit: 3, leaseMs: 60_000 });
        if (claimed.length === 0 && !(await s.hasPendingWork())) return;
        for (const c of claimed) {
          if (claimedBy.has(c.step.step_id)) duplicates.push(c.step.step_id);
          claimedBy.set(c.step.step_id, name);
        }
        // Completions (async transactions) interleave with the other store's claims.
        await Promise.all(claimed.map((c) => finishAttempt(s, leaseOf(c), YES)));
      }
    };
    const started = Date.now();
    await Promise.all([loop(a, "A"), loop(b, "B"), loop(a, "A2"), loop(b, "B2")]);
    // Two connections of one thread contending in SQLite itself would stall on busy_timeout (5 s) each time:
    // stores on one file share their process's queue instead.
    expect(Date.now() - started).toBeLessThan(4_000);

    expect(duplicates).toEqual([]);
    expect(claimedBy.size).toBe(30);
    for (let r = 0; r < 3; r++) {
      expect((await b.getRun(`multi-${r}`))?.status).toBe("FINALIZED");
      const attempts = await a.getAttempts(`multi-${r}`);
      expect(attempts).toHaveLength(10);
      expect(attempts.every((x) => x.attempt_seq === 1 && x.status === "SUCCEEDED")).toBe(true);
      const events = await b.listEvents(`multi-${r}`, { limit: 100 });
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    }
  });

  it("a concurrent identical submit on another connection is a no-op; a unique violation is RUN_EXISTS", async () => {
    const path = tempPath();
    const [a, b] = [await store(path), await store(path)];
    const s = spec("dup-1", 2);
    const outcomes = await Promise.all([submitRun(a, s, false), submitRun(b, s, false)]);
    expect(outcomes.map((o) => o.created).sort()).toEqual([false, true]);

    const err = await a
      .transaction(async (tx) => tx.insertRun(newRun("dup-1", new Date().toISOString())))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WattswarmError);
    expect((err as WattswarmError).code).toBe("RUN_EXISTS");
    expect((await b.getSteps("dup-1")).length).toBe(2);
  });

  it.skipIf(!cliIsBuilt())("two worker processes on one file run every step exactly once", async () => {
    const path = tempPath();
    const s = await store(path);
    const sim = { _sim: { latency_ms: 20 } };
    for (let r = 0; r < 3; r++) {
      const raw = spec(`proc-${r}`, 20);
      await submitRun(s, { ...raw, agents: raw.agents.map((ag) => ({ ...ag, inputs: sim })) }, true);
    }
    await s.close();
    const worker = (id: string) =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            CLI_PATH,
            "run",
            "worker",
            "--exit-when-idle",
            "--concurrency",
            "4",
            "--poll-ms",
            "20",
            "--worker-id",
            id,
          ],
          {
            env: { ...process.env, WATTSWARM_DB: path },
            stdio: ["ignore", "ignore", "ignore"],
          },
        );
        const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    expect(await Promise.all([worker("w1"), worker("w2")])).toEqual([0, 0]);

    const check = await store(path);
    for (let r = 0; r < 3; r++) {
      expect((await check.getRun(`proc-${r}`))?.status).toBe("FINALIZED");
      const attempts = await check.getAttempts(`proc-${r}`);
      expect(attempts.map((x) => [x.attempt_seq, x.status])).toEqual(
        Array.from({ length: 20 }, () => [1, "SUCCEEDED"]),
      );
    }
  });
});

describe("SQLite run store: one connection, many callers", () => {
  it("serializes concurrent transactions that await between statements", async () => {
    const s = await store(tempPath());
    await submitRun(s, spec("ser-1", 4), true);
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) =>
        s.transaction(async (tx) => {
          const run = await tx.lockRun("ser-1");
          await new Promise((r) => setTimeout(r, 1)); // a real turn of the event loop mid-transaction
          if (i % 5 === 4) throw new Error(`rolled back ${i}`);
          await tx.appendEvents("ser-1", [{ event_type: "TEST", payload: { run_id: "ser-1", i } }]);
          return run?.event_seq;
        }),
      ),
    );
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected.map((r) => String((r as PromiseRejectedResult).reason))).toEqual(
      [4, 9, 14, 19, 24].map((i) => `Error: rolled back ${i}`),
    );
    const events = await s.listEvents("ser-1", { limit: 100 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.event_type === "TEST")).toHaveLength(20);
    expect((await s.getRun("ser-1"))?.event_seq).toBe(events.length);
  });

  it("claims and heartbeats queue behind an open transaction instead of joining it", async () => {
    const s = await store(tempPath());
    await submitRun(s, spec("mix-1", 3), true);
    const [first] = await s.claimSteps({ workerId: "w", limit: 1, leaseMs: 10_000 });
    const order: string[] = [];
    const tx = s.transaction(async (t) => {
      order.push("tx-begin");
      await new Promise((r) => setTimeout(r, 20));
      await t.appendEvents("mix-1", [{ event_type: "TEST", payload: { run_id: "mix-1" } }]);
      order.push("tx-end");
      throw new Error("roll back");
    });
    const claim = s.claimSteps({ workerId: "w", limit: 5, leaseMs: 10_000 }).then((c) => {
      order.push("claim");
      return c;
    });
    const beat = s.heartbeat([leaseOf(first as ClaimedStep)], 10_000).then((ids) => {
      order.push("heartbeat");
      return ids;
    });
    await expect(tx).rejects.toThrow("roll back");
    expect((await claim).length).toBe(2);
    expect(await beat).toEqual([first?.step.step_id]);
    expect(order).toEqual(["tx-begin", "tx-end", "claim", "heartbeat"]);
    // The rolled-back transaction left nothing behind, and the claims after it are whole.
    expect((await s.listEvents("mix-1", { limit: 10 })).map((e) => e.event_type)).not.toContain("TEST");
    expect((await s.getAttempts("mix-1")).length).toBe(3);
  });

  it("refuses re-entrant use inside a transaction instead of waiting on itself", async () => {
    const path = tempPath();
    const [a, b] = [await store(path), await store(path)];
    await expect(a.transaction(async () => a.getRun("x"))).rejects.toThrow(/re-entrantly/);
    await expect(
      a.transaction(async () => b.claimSteps({ workerId: "w", limit: 1, leaseMs: 1 })),
    ).rejects.toThrow(/re-entrantly/);
    expect(await a.getRun("x")).toBeNull(); // the queue is free again
  });

  it("close waits for queued work and later calls reject", async () => {
    const s = new SqliteStore({ path: tempPath(), env: {} });
    await s.migrate();
    const pending = s.transaction(async (tx) => {
      await new Promise((r) => setTimeout(r, 10));
      await tx.insertRun(newRun("close-1", new Date().toISOString()));
      return "done";
    });
    const closing = s.close();
    expect(await pending).toBe("done");
    await closing;
    await expect(s.getRun("close-1")).rejects.toThrow(/closed/);
    const again = await store(s.path);
    expect((await again.getRun("close-1"))?.run_id).toBe("close-1");
  });
});

describe("SQLite run store: clocks and `now`", () => {
  it("claims, heartbeats and expiry honour `now` (no sleeping)", async () => {
    const t0 = at("2030-01-01T00:00:00.000Z");
    const s = await store(tempPath(), () => t0.getTime());
    await submitRun(s, spec("now-1", 2), true);
    expect(await s.claimSteps({ workerId: "w", limit: 5, leaseMs: 1000, now: plus(t0, -1) })).toEqual([]);

    const t1 = plus(t0, 5_000);
    const claimed = await s.claimSteps({ workerId: "w", limit: 5, leaseMs: 1000, now: t1 });
    expect(claimed.map((c) => c.step.agent_id)).toEqual(["a0", "a1"]);
    const [c0, c1] = claimed as [ClaimedStep, ClaimedStep];
    expect(c0.step.lease_until).toBe("2030-01-01T00:00:06.000Z");
    expect(c0.step.started_at).toBe(t1.toISOString());
    expect(c0.attempt).toMatchObject({
      started_at: t1.toISOString(),
      due_at: t0.toISOString(),
      status: "RUNNING",
    });
    expect(c0.step.lease_token).toMatch(/^[0-9a-f-]{36}$/);
    expect(c0.step.lease_token).not.toBe(c1.step.lease_token);
    expect(c0.task_type).toBe("swarm");
    const run = await s.getRun("now-1");
    expect(run).toMatchObject({
      status: "RUNNING",
      started_at: t1.toISOString(),
      updated_at: t1.toISOString(),
    });

    const t2 = plus(t1, 900);
    expect(await s.heartbeat([leaseOf(c0), { ...leaseOf(c1), lease_token: "wrong" }], 1000, t2)).toEqual([
      c0.step.step_id,
    ]);
    const steps = await s.getSteps("now-1");
    expect(steps.map((x) => x.lease_until)).toEqual(["2030-01-01T00:00:06.900Z", "2030-01-01T00:00:06.000Z"]);
    expect(await s.validLeases([leaseOf(c0), { ...leaseOf(c1), lease_token: "x" }])).toEqual([
      c0.step.step_id,
    ]);

    expect(await s.findExpiredLeaseRuns(at("2030-01-01T00:00:06.000Z"))).toEqual([]);
    expect(await s.findExpiredLeaseRuns(at("2030-01-01T00:00:06.001Z"))).toEqual(["now-1"]);
    expect(await s.findExpiredLeaseRuns()).toEqual([]); // the injected clock: t0
  });

  it("a RETRY_WAIT step is claimable only once `now` reaches next_run_at; transactions take `now`", async () => {
    const t0 = at("2030-01-01T00:00:00.000Z");
    const s = await store(tempPath(), () => t0.getTime());
    await submitRun(s, spec("retry-1", 1), true);
    const [c] = await s.claimSteps({ workerId: "w", limit: 1, leaseMs: 1000 });
    const t1 = plus(t0, 100);
    const finished = await finishAttempt(s, leaseOf(c as ClaimedStep), RETRYABLE, { now: t1 });
    expect(finished).toMatchObject({ applied: true, step_status: "RETRY_WAIT" });
    const [step] = await s.getSteps("retry-1");
    expect(step?.updated_at).toBe(t1.toISOString());
    const due = Date.parse(step?.next_run_at as string);
    expect(due).toBeGreaterThan(t1.getTime());

    expect(await s.claimSteps({ workerId: "w", limit: 1, leaseMs: 1000, now: new Date(due - 1) })).toEqual(
      [],
    );
    const [again] = await s.claimSteps({ workerId: "w", limit: 1, leaseMs: 1000, now: new Date(due) });
    expect(again?.step).toMatchObject({ attempt: 2, attempt_seq: 2, status: "LEASED" });
    expect(again?.attempt.due_at).toBe(new Date(due).toISOString());

    const events = await s.transaction(
      async (tx) => {
        expect(tx.now.toISOString()).toBe("2031-05-06T07:08:09.010Z");
        return tx.appendEvents("retry-1", [{ event_type: "TEST", payload: { run_id: "retry-1" } }]);
      },
      { now: at("2031-05-06T07:08:09.010Z") },
    );
    expect(events[0]?.created_at).toBe("2031-05-06T07:08:09.010Z");
  });

  it("stores JSON with __proto__ keys and booleans faithfully", async () => {
    const s = await store(tempPath());
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "n": 1.5, "s": "é…"}') as JsonValue;
    await s.transaction(async (tx) => {
      await tx.insertRun(newRun("json-1", "2030-01-01T00:00:00.000Z", { shared_inputs: proto }));
      await tx.updateRun("json-1", ["CREATED"], { reputation_applied: true, result: proto as JsonObject });
    });
    const run = (await s.getRun("json-1")) as RunRecord;
    expect(Object.hasOwn(run.shared_inputs as object, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(run.shared_inputs)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(run.result).toEqual(proto);
    expect(run.reputation_applied).toBe(true);
    expect(run.updated_at).not.toBe(run.created_at);
  });

  it("waitForNudge is a plain wait that an abort cuts short", async () => {
    const s = await store(tempPath());
    const started = Date.now();
    await s.waitForNudge(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    const controller = new AbortController();
    const waiting = s.waitForNudge(60_000, controller.signal);
    controller.abort();
    await waiting;
    controller.abort();
    await s.waitForNudge(60_000, controller.signal); // already aborted: resolves at once
  });
});

describe("SQLite run store: another connection holds the write lock", () => {
  const held: Database.Database[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const db of held.splice(0)) {
      if (db.inTransaction) db.exec("ROLLBACK");
      db.close();
    }
  });
  /** A second connection on the file in BEGIN IMMEDIATE, as another process's long write would be. */
  const lock = (path: string): Database.Database => {
    const db = new Database(path);
    held.push(db);
    db.exec("BEGIN IMMEDIATE");
    return db;
  };
  /** Lets pending callbacks run (setImmediate is not faked). */
  const turns = async (n = 5) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const track = <T>(promise: Promise<T>) => {
    const state: { settled: boolean; error?: unknown } = { settled: false };
    promise.then(
      () => {
        state.settled = true;
      },
      (error) => {
        state.settled = true;
        state.error = error;
      },
    );
    return state;
  };

  it("a transaction waits without blocking the event loop and proceeds once the lock is released", async () => {
    const path = tempPath();
    const s = await store(path, undefined, 1_000);
    const other = lock(path);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const submit = submitRun(s, spec("busy-1", 1), true);
    const state = track(submit);
    let fired = 0;
    setTimeout(() => {
      fired += 1;
    }, 100);
    await turns();
    expect(state.settled).toBe(false);
    // 900 ms of waiting, within the 1 s bound: other timers fire meanwhile, the transaction keeps waiting.
    await vi.advanceTimersByTimeAsync(900);
    expect(fired).toBe(1);
    expect(state).toEqual({ settled: false });
    other.exec("COMMIT");
    await vi.advanceTimersByTimeAsync(100);
    await submit;
    expect((await s.getRun("busy-1"))?.status).toBe("QUEUED");
  });

  it("gives up after the bound with DB_UNAVAILABLE naming the file and the wait", async () => {
    const path = tempPath();
    const s = await store(path, undefined, 300);
    lock(path);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const claim = s.claimSteps({ workerId: "w", limit: 1, leaseMs: 1_000 });
    const state = track(claim);
    await vi.advanceTimersByTimeAsync(299);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await turns();
    expect(state.error).toBeInstanceOf(WattswarmError);
    expect(state.error).toMatchObject({ code: "DB_UNAVAILABLE" });
    expect(String((state.error as Error).message)).toBe(
      `SQLite database at ${path} stayed locked by another connection for 300 ms ` +
        "(the limit, WATTSWARM_SQLITE_BUSY_MS); try again",
    );
    // The store is usable again as soon as the lock is gone.
    vi.useRealTimers();
    for (const db of held.splice(0)) {
      db.exec("ROLLBACK");
      db.close();
    }
    expect(await s.claimSteps({ workerId: "w", limit: 1, leaseMs: 1_000 })).toEqual([]);
  });
});
