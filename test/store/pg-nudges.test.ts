// NOTIFY payloads are read (issue 15, defect 10): a follower wakes only for its own run, a worker only for new
// work or revoked leases, not for every finalization of every run. Deterministic: an unfiltered waiter on the
// same LISTEN connection proves a notification was delivered before the filtered one is checked.
import { afterEach, expect, it } from "vitest";
import { PostgresStore } from "../../src/store/postgres/index.js";
import type { NudgeKind } from "../../src/store/run-port.js";
import { describePg } from "../support/pg.js";

/** A promise's state without waiting for it. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  return done;
}

describePg("NOTIFY payloads", (pg) => {
  const opened: PostgresStore[] = [];
  let stop = new AbortController();
  afterEach(async () => {
    stop.abort();
    stop = new AbortController();
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  async function stores(): Promise<{ writer: PostgresStore; reader: PostgresStore }> {
    const schema = pg.newSchema();
    const writer = new PostgresStore({ url: pg.url, schema, env: {} });
    const reader = new PostgresStore({ url: pg.url, schema, env: {} });
    opened.push(writer, reader);
    await writer.migrate();
    // The first wait returns once the reader LISTENs (it wakes everyone then).
    await reader.waitForNudge(3_600_000);
    return { writer, reader };
  }

  const nudge = (store: PostgresStore, ...nudges: [string, NudgeKind][]) =>
    store.transaction(async (tx) => {
      for (const [runId, kind] of nudges) tx.notify(runId, kind);
    });

  it("a follower of one run is not woken by another run's nudges", async () => {
    const { writer, reader } = await stores();
    const any = reader.waitForNudge(3_600_000, stop.signal);
    const mine = reader.waitForNudge(3_600_000, stop.signal, { runId: "run-a" });
    await nudge(writer, ["run-b", "run"], ["run-c", "work"]);
    await any;
    expect(await settled(mine)).toBe(false);
    await nudge(writer, ["run-b", "run"], ["run-a", "run"]);
    await mine;
  });

  it("a worker wakes for new work and revoked leases, not for a finalization", async () => {
    const { writer, reader } = await stores();
    const worker = { kinds: ["work", "revoke"] as const };
    let any = reader.waitForNudge(3_600_000, stop.signal);
    let work = reader.waitForNudge(3_600_000, stop.signal, worker);
    await nudge(writer, ["run-a", "run"]);
    await any;
    expect(await settled(work)).toBe(false);
    await nudge(writer, ["run-a", "revoke"]);
    await work;
    any = reader.waitForNudge(3_600_000, stop.signal);
    work = reader.waitForNudge(3_600_000, stop.signal, worker);
    await nudge(writer, ["run-b", "work"]);
    await Promise.all([any, work]);
  });

  it("every run a transaction nudges is in its one NOTIFY; a payload too long to list wakes everyone", async () => {
    const { writer, reader } = await stores();
    const last = reader.waitForNudge(3_600_000, stop.signal, { runId: "run-z" });
    await nudge(writer, ["run-x", "run"], ["run-y", "run"], ["run-z", "run"]);
    await last;
    // 100 run ids of 128 characters exceed the 8000-byte payload: the NOTIFY then names no run, and wakes all.
    const far = reader.waitForNudge(3_600_000, stop.signal, { runId: "not-in-the-list" });
    const many = Array.from({ length: 100 }, (_, i) => [
      `${"r".repeat(124)}${String(i).padStart(4, "0")}`,
      "run",
    ]);
    await nudge(writer, ...(many as [string, NudgeKind][]));
    await far;
  });
});

describePg("WATTSWARM_PG_LISTEN_URL", (pg) => {
  it("LISTEN uses the connection it names (a direct one beside a pooler); a bad value is a usage error", async () => {
    const schema = pg.newSchema();
    const tag = `ws_listen_${process.pid}`;
    const listenUrl = `${pg.url}${pg.url.includes("?") ? "&" : "?"}application_name=${tag}`;
    const writer = new PostgresStore({ url: pg.url, schema, env: {} });
    const reader = new PostgresStore({ url: pg.url, schema, env: { WATTSWARM_PG_LISTEN_URL: listenUrl } });
    try {
      await writer.migrate();
      // The first wait returns once the reader LISTENs.
      await reader.waitForNudge(3_600_000);
      const listeners = await pg.query<{ application_name: string; query: string }>(
        "SELECT application_name, query FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND application_name = ANY($1)",
        [[tag, "wattswarm-listen"]],
      );
      expect(listeners.map((l) => l.application_name)).toContain(tag);
      const woken = reader.waitForNudge(3_600_000, undefined, { runId: "run-l" });
      await writer.transaction(async (tx) => tx.notify("run-l", "run"));
      await woken;
    } finally {
      await writer.close();
      await reader.close();
    }
    expect(() => new PostgresStore({ url: pg.url, env: { WATTSWARM_PG_LISTEN_URL: "mysql://x" } })).toThrow(
      /WATTSWARM_PG_LISTEN_URL must be a postgres/,
    );
  });
});
