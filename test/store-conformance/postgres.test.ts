// The conformance suite on PostgreSQL: every fresh store gets its own schema (dropped after the file). Plus
// what only PostgreSQL can show: a claim never waits on a locked run or step row (SKIP LOCKED, SPEC §4).
import pgDriver from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { expireLeases, finishAttempt, leaseOf, submitRun } from "../../src/kernel/index.js";
import type { Store } from "../../src/store/port.js";
import { quoteIdent } from "../../src/store/postgres/database.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { SWEEP_LOCK_KEY } from "../../src/store/postgres/run-queries.js";
import { describePg } from "../support/pg.js";
import { claim, clockOf, eventTypes, makeSpec, plusMs, runOf, vote } from "./harness.js";
import { runConformanceSuite } from "./suite.js";

/** Rejects when `promise` takes longer than `ms`: a claim that waited on a lock. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describePg("postgres", (pg) => {
  const schemaOf = new WeakMap<Store, string>();
  const open = async (schema: string): Promise<PostgresStore> => {
    const store = new PostgresStore({ url: pg.url, schema, env: {} });
    schemaOf.set(store, schema);
    await store.migrate();
    return store;
  };
  runConformanceSuite("postgres", async (opts = {}) => {
    const schema = opts.sameAs ? schemaOf.get(opts.sameAs) : pg.newSchema();
    if (schema === undefined) throw new Error("sameAs: not a store of this factory");
    return open(schema);
  });

  describe("claims skip locked rows", () => {
    const opened: PostgresStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });
    const pair = async (): Promise<[PostgresStore, PostgresStore]> => {
      const schema = pg.newSchema();
      const a = await open(schema);
      const b = await open(schema);
      opened.push(a, b);
      return [a, b];
    };

    it("a claim never waits on a locked run row; the next transaction starts the run at the claim time", async () => {
      const [store, other] = await pair();
      await submitRun(store, makeSpec("lock-1", { agents: ["a", "b"] }), true);
      const claimed = await store.transaction(async (tx) => {
        await tx.lockRun("lock-1");
        return within(5_000, claim(other, { runId: "lock-1", limit: 1 }));
      });
      expect(claimed).toHaveLength(1);
      const [c] = claimed;
      if (!c) throw new Error("nothing claimed");
      // The run row was locked: it stays QUEUED until a transaction that locks it sees the claim.
      expect((await runOf(store, "lock-1")).status).toBe("QUEUED");
      await finishAttempt(store, leaseOf(c), vote("YES"));
      const run = await runOf(store, "lock-1");
      expect(run.status).toBe("RUNNING");
      expect(run.started_at).toBe(c.attempt.started_at);
    });

    // SPEC §4 lock order: run rows, then step rows. finishAttempts locks the steps of all its runs (ascending
    // run_id, then step order); a heartbeat updates the step rows of many runs in the order of its lease list.
    // This replays finishAttempts' lock sequence (lockRuns, then the steps of run A … of run B) around a
    // heartbeat listing B's step before A's.
    it("a heartbeat over several runs does not deadlock with a batched completion holding those runs", async () => {
      const [store, other] = await pair();
      // hb-b first: its step row comes first in the table, and in a heartbeat's scan.
      await submitRun(store, makeSpec("hb-b", { agents: ["b"] }), true);
      await submitRun(store, makeSpec("hb-a", { agents: ["a"] }), true);
      const claimed = await claim(store);
      const lease = (runId: string) => {
        const c = claimed.find((x) => x.step.run_id === runId);
        if (!c) throw new Error(`no claim in ${runId}`);
        return { step_id: c.step.step_id, lease_token: c.attempt.lease_token };
      };
      let heartbeat: Promise<string[]> | undefined;
      const batch = store.transaction(async (tx) => {
        await tx.lockRuns(["hb-a", "hb-b"]);
        await tx.lockStepsById([lease("hb-a").step_id]);
        // The heartbeat takes hb-b's step row, then waits for hb-a's.
        heartbeat = other.heartbeat([lease("hb-b"), lease("hb-a")], 30_000);
        heartbeat.catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 300));
        await tx.lockStepsById([lease("hb-b").step_id]);
        return "committed";
      });
      const [b, h] = await Promise.allSettled([
        batch,
        within(
          10_000,
          batch.then(() => heartbeat),
        ),
      ]);
      expect(b).toEqual({ status: "fulfilled", value: "committed" });
      expect(h.status === "fulfilled" ? [...(h.value ?? [])].sort() : h.reason).toEqual(
        [lease("hb-a").step_id, lease("hb-b").step_id].sort(),
      );
    });

    it("a claim skips steps locked by a transaction in progress instead of waiting", async () => {
      const [store, other] = await pair();
      await submitRun(store, makeSpec("lock-2", { agents: ["a", "b"] }), true);
      await submitRun(store, makeSpec("lock-3", { agents: ["c"] }), true);
      const claimed = await store.transaction(async (tx) => {
        await tx.lockRun("lock-2");
        await tx.lockSteps("lock-2");
        return within(5_000, claim(other));
      });
      expect(claimed.map((c) => c.step.agent_id)).toEqual(["c"]);
      expect((await claim(other)).map((c) => c.step.agent_id)).toEqual(["a", "b"]);
    });
  });

  // Issue 15, defect 7: one sweeper at a time. A sweep runs each run's expiry under a transaction-level
  // advisory lock of the schema, tried without waiting: while another sweeper holds it, a sweep stops.
  describe("one lease sweeper at a time", () => {
    const opened: PostgresStore[] = [];
    const clients: pgDriver.Client[] = [];
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.end()));
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });
    /** A plain connection on `schema`, as another process sweeping that schema would hold one. */
    const connect = async (schema: string): Promise<pgDriver.Client> => {
      const client = new pgDriver.Client({
        connectionString: pg.url,
        options: `-c search_path=${quoteIdent(schema)}`,
      });
      client.on("error", () => {});
      await client.connect();
      clients.push(client);
      return client;
    };
    /** A store on a fresh schema with run `runId` of three agents LEASED by a worker that is gone. */
    const staleRun = async (
      runId: string,
    ): Promise<{ store: PostgresStore; schema: string; later: Date }> => {
      const schema = pg.newSchema();
      const store = await open(schema);
      opened.push(store);
      await submitRun(store, makeSpec(runId, { agents: ["a", "b", "c"], retry: { max_attempts: 2 } }), true);
      const t = plusMs(await clockOf(store), 10);
      expect(await claim(store, { runId, leaseMs: 1000, now: t, workerId: "gone" })).toHaveLength(3);
      return { store, schema, later: plusMs(t, 5_000) };
    };

    it("a sweep skips (returns 0, writes nothing) while another holds the sweep lock; once free, it expires", async () => {
      const { store, schema, later } = await staleRun("one-1");
      const sweeper = await connect(schema);
      await sweeper.query("BEGIN");
      await sweeper.query(`SELECT pg_advisory_xact_lock(${SWEEP_LOCK_KEY})`);

      expect(await expireLeases(store, { now: later })).toBe(0);
      expect((await store.getSteps("one-1")).map((s) => s.status)).toEqual(["LEASED", "LEASED", "LEASED"]);
      expect(await eventTypes(store, "one-1")).not.toContain("STEP_LEASE_EXPIRED");

      await sweeper.query("COMMIT");
      expect(await expireLeases(store, { now: later })).toBe(3);
      expect((await store.getSteps("one-1")).map((s) => s.status)).toEqual([
        "RETRY_WAIT",
        "RETRY_WAIT",
        "RETRY_WAIT",
      ]);
    });

    it("the lock is the schema's: a sweeper of another schema does not hold this one back", async () => {
      const mine = await staleRun("one-2");
      const theirs = await staleRun("one-2");
      const sweeper = await connect(theirs.schema);
      await sweeper.query("BEGIN");
      await sweeper.query(`SELECT pg_advisory_xact_lock(${SWEEP_LOCK_KEY})`);
      expect(await expireLeases(theirs.store, { now: theirs.later })).toBe(0);
      expect(await expireLeases(mine.store, { now: mine.later })).toBe(3);
      await sweeper.query("COMMIT");
    });

    it("of two stores sweeping at once, the one that holds the sweep does the work and the other skips", async () => {
      const { store, schema, later } = await staleRun("one-3");
      const other = await open(schema);
      opened.push(other);
      // store's sweep is under way (it holds the lock in a run's expiry transaction): other's sweep skips.
      const skipped = await store.transaction(async (tx) => {
        expect(await tx.trySweepLock()).toBe(true);
        return expireLeases(other, { now: later });
      });
      expect(skipped).toBe(0);
      expect(await expireLeases(store, { now: later })).toBe(3);
      expect(await expireLeases(other, { now: later })).toBe(0);
    });
  });
});
