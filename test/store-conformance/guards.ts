// Guarded updates report a guard that matched nothing (DESIGN §4): the from-sets and target statuses come from
// the transition table, and inside a transaction that holds the rows' locks a mismatch means the code's view of
// the rows is wrong, so the transaction throws GuardMismatchError (naming the run or steps and the expected
// from-set) and writes nothing, instead of carrying on as if the update had happened.
import { expect, it } from "vitest";
import {
  cancelRun,
  finishAttempt,
  GuardMismatchError,
  kickoffRun,
  moveSteps,
  submitRun,
} from "../../src/kernel/index.js";
import type { Store } from "../../src/store/port.js";
import type { RunRecord, RunTx } from "../../src/store/run-port.js";
import {
  claimRun,
  eventTypes,
  FINALIZE_NULL,
  leaseFor,
  makeSpec,
  runOf,
  type SuiteContext,
  stepOf,
  vote,
} from "./harness.js";

/**
 * The store, but its transactions see every locked run row with `status` in place of the stored one: a kernel
 * whose view of the run is wrong (what a bug in the locking or the bookkeeping would produce).
 */
function seeingRunAs(store: Store, status: RunRecord["status"]): Store {
  const liar = Object.create(store) as Store;
  liar.transaction = (fn, opts) =>
    store.transaction(
      (tx) =>
        fn(
          new Proxy(tx, {
            get(target, key) {
              if (key === "lockRun")
                return async (runId: string) => {
                  const run = await target.lockRun(runId);
                  return run && { ...run, status };
                };
              const value = Reflect.get(target, key, target);
              return typeof value === "function" ? value.bind(target) : value;
            },
          }) as RunTx,
        ),
      opts,
    );
  return liar;
}

export function guardTests(ctx: SuiteContext): void {
  it("closeLeases writes a step only to the status of a lease-closing transition; others match nothing", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("grd-1", { agents: ["a"] }), true);
    const lease = leaseFor(await claimRun(store, "grd-1"), "a");
    const close = (status: "QUEUED" | "CANCELLED" | "LEASED" | "SUCCEEDED") =>
      store.transaction(async (tx) => {
        await tx.lockRun("grd-1");
        await tx.lockSteps("grd-1");
        return tx.closeLeases([
          {
            step_id: lease.step_id,
            lease_token: lease.lease_token,
            status,
            result: null,
            error_text: null,
            next_run_at: tx.now.toISOString(),
            finished_at: null,
          },
        ]);
      });
    // release (→ QUEUED) and cancel (→ CANCELLED) are guarded updates of their own, not lease closes.
    expect(await close("QUEUED")).toBe(0);
    expect(await close("CANCELLED")).toBe(0);
    expect(await close("LEASED")).toBe(0);
    const step = await stepOf(store, "grd-1", "a");
    expect([step.status, step.lease_token]).toEqual(["LEASED", lease.lease_token]);
    expect((await runOf(store, "grd-1")).active_steps).toBe(1);
    expect(await close("SUCCEEDED")).toBe(1);
    expect((await stepOf(store, "grd-1", "a")).status).toBe("SUCCEEDED");
  });

  it("a step update whose guard misses a locked step throws with the step and the from-set, and writes nothing", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("grd-2", { agents: ["a", "b"] }), true);
    await claimRun(store, "grd-2");
    const [a, b] = await store.getSteps("grd-2");
    const ids = [a?.step_id as string, b?.step_id as string];
    // retry moves FAILED and RETRY_WAIT steps; these are LEASED.
    const attempt = store.transaction(async (tx) => {
      await tx.lockRun("grd-2");
      await tx.lockSteps("grd-2");
      await moveSteps(tx, "grd-2", ids, "retry", { attempt: 0 });
    });
    await expect(attempt).rejects.toBeInstanceOf(GuardMismatchError);
    await expect(attempt).rejects.toThrow(
      `run grd-2: steps ${ids.join(", ")}: step retry guard matched 0 of 2 (expected status in [FAILED, RETRY_WAIT])`,
    );
    expect((await store.getSteps("grd-2")).map((s) => s.status)).toEqual(["LEASED", "LEASED"]);
  });

  it("a kickoff that sees a QUEUED run as CREATED fails instead of writing a second RUN_KICKOFF", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("grd-3", { agents: ["a", "b"] }), true);
    const before = await eventTypes(store, "grd-3");
    const kickoff = kickoffRun(seeingRunAs(store, "CREATED"), "grd-3");
    await expect(kickoff).rejects.toBeInstanceOf(GuardMismatchError);
    await expect(kickoff).rejects.toThrow(
      "run grd-3: run kickoff guard matched 0 of 1 (expected status in [CREATED])",
    );
    expect(await eventTypes(store, "grd-3")).toEqual(before);
    expect((await runOf(store, "grd-3")).status).toBe("QUEUED");
  });

  it("a cancel that sees a FINALIZED run as RUNNING fails instead of finalizing it a second time", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("grd-4", { agents: ["a"], aggregation: FINALIZE_NULL }), true);
    await finishAttempt(store, leaseFor(await claimRun(store, "grd-4"), "a"), vote("YES"));
    const finalized = await runOf(store, "grd-4");
    expect(finalized.status).toBe("FINALIZED");
    const before = await eventTypes(store, "grd-4");
    const cancel = cancelRun(seeingRunAs(store, "RUNNING"), "grd-4");
    await expect(cancel).rejects.toThrow(
      "run grd-4: run cancel guard matched 0 of 1 (expected status in [CREATED, QUEUED, RUNNING])",
    );
    expect(await eventTypes(store, "grd-4")).toEqual(before);
    expect(await runOf(store, "grd-4")).toEqual(finalized);
  });
}
