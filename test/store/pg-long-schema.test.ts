// Long --pg-schema names (issue 15, defect 6): the NOTIFY channel is derived from the schema, and PostgreSQL
// refuses a channel over 63 bytes, which rolled back every notifying transaction. A 60- and a 63-character
// schema (the identifier maximum) must work end to end, and a follower on another store must be woken.
import { afterEach, describe, expect, it } from "vitest";
import { finishAttempt, followRun, leaseOf, submitRun } from "../../src/kernel/index.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { notifyChannel } from "../../src/store/postgres/notifier.js";
import { makeSpec, vote } from "../store-conformance/harness.js";
import { describePg } from "../support/pg.js";

describe("notifyChannel", () => {
  it("fits in 63 bytes for every valid schema name, keeps short names readable, tells long ones apart", () => {
    expect(notifyChannel(undefined)).toBe("wattswarm_public");
    expect(notifyChannel("tenant_a")).toBe("wattswarm_tenant_a");
    const long = "s".repeat(63);
    const other = `${"s".repeat(62)}t`;
    for (const name of [long, other, "x".repeat(53), "x".repeat(54)]) {
      expect(Buffer.byteLength(notifyChannel(name))).toBeLessThanOrEqual(63);
      expect(notifyChannel(name)).toBe(notifyChannel(name));
    }
    expect(notifyChannel(long)).not.toBe(notifyChannel(other));
  });
});

describePg("long --pg-schema names", (pg) => {
  const opened: PostgresStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  for (const length of [60, 63]) {
    it(`a ${length}-character schema: init, submit, claim, complete, finalize; a follower is woken`, async () => {
      const schema = pg.newSchema(length);
      expect(schema).toHaveLength(length);
      const store = new PostgresStore({ url: pg.url, schema, env: {} });
      const follower = new PostgresStore({ url: pg.url, schema, env: {} });
      opened.push(store, follower);
      await store.migrate();
      await follower.migrate();
      const runId = `long-${length}`;
      await submitRun(store, makeSpec(runId, { agents: ["a", "b"] }), true);
      const claimed = await store.claimSteps({ workerId: "w", limit: 10, leaseMs: 30_000 });
      expect(claimed).toHaveLength(2);
      const [first, last] = claimed.map(leaseOf);
      if (!first || !last) throw new Error("not claimed");
      await finishAttempt(store, first, vote("YES"));
      // The first wait returns once the follower LISTENs (it wakes everyone then); after that, only a NOTIFY
      // wakes it: the follower polls once an hour.
      await follower.waitForNudge(3_600_000);
      let finishing: Promise<unknown> | undefined;
      const followed = await followRun(follower, runId, {
        pollMs: 3_600_000,
        // Called before each wait: the first view is RUNNING, and the last completion finalizes the run.
        onView: (view) => {
          if (view.status === "RUNNING") finishing ??= finishAttempt(store, last, vote("YES"));
        },
      });
      await expect(finishing).resolves.toEqual({ applied: true, step_status: "SUCCEEDED", run: "FINALIZED" });
      expect(followed).toMatchObject({ timedOut: false, view: { status: "FINALIZED" } });
    });
  }
});
