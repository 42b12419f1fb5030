// The conformance suite on PostgreSQL: every fresh store gets its own schema (dropped after the file). Plus
// what only PostgreSQL can show: a claim never waits on a locked run or step row (SKIP LOCKED, SPEC §4).
import { afterEach, describe, expect, it } from "vitest";
import { finishAttempt, leaseOf, submitRun } from "../../src/kernel/index.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { describePg } from "../support/pg.js";
import { claim, makeSpec, runOf, vote } from "./harness.js";
import type { ConformanceStore } from "./suite.js";
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
  const schemaOf = new WeakMap<ConformanceStore, string>();
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
});
