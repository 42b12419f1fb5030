// Batched completion (the worker's group commit): `finishAttempts` records many completions in one transaction,
// and per run the effect must be that of applying its completions one by one in step order (SPEC §4). Each
// scenario is played twice from the same state, on two fresh stores with the same injected times: once as ONE
// finishAttempts call with the completions shuffled, once with finishAttempt per completion; the runs, steps,
// attempts and events must read back the same once ids and tokens are masked and times are made relative.
import { expect, it } from "vitest";
import { type Completion, type FinishOutcome, finishAttempts } from "../../src/kernel/attempts.js";
import {
  type AttemptLease,
  cancelRun,
  expireLeases,
  finishAttempt,
  leaseOf,
  submitRun,
} from "../../src/kernel/index.js";
import type { JsonValue, RunSpec } from "../../src/spec/types.js";
import type { Store } from "../../src/store/port.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import {
  claim,
  clockOf,
  countOf,
  eventsOf,
  eventTypes,
  FINALIZE_NULL,
  failure,
  ISO_MS,
  makeSpec,
  plusMs,
  runOf,
  type SuiteContext,
  stepOf,
  vote,
} from "./harness.js";

// ---------------------------------------------------------------------------------------------- helpers

/** Leases keyed by "run_id/agent_id". */
type Leases = Map<string, AttemptLease>;

/** One completion of a scenario: the lease of this run's agent (from `leases`, or a literal lease). */
interface Item {
  run: string;
  agent: string;
  outcome: ExecutionOutcome;
  /** Another lease than the one claimed for run/agent (stale or unknown ones). */
  lease?: (store: Store, leases: Leases) => Promise<AttemptLease> | AttemptLease;
}

function key(run: string, agent: string): string {
  return `${run}/${agent}`;
}

function leaseOfKey(leases: Leases, run: string, agent: string): AttemptLease {
  const lease = leases.get(key(run, agent));
  if (!lease) throw new Error(`no lease for ${key(run, agent)}`);
  return lease;
}

/** Claims every due step of the store at `now`; leases keyed by run/agent. */
async function claimAll(store: Store, now: Date, leaseMs = 30_000): Promise<Leases> {
  const claimed = await claim(store, { now, leaseMs });
  return new Map(claimed.map((c) => [key(c.step.run_id, c.step.agent_id), leaseOf(c)]));
}

async function completionsOf(store: Store, leases: Leases, items: readonly Item[]): Promise<Completion[]> {
  const out: Completion[] = [];
  for (const item of items) {
    const lease = item.lease ? await item.lease(store, leases) : leaseOfKey(leases, item.run, item.agent);
    out.push({ lease, outcome: item.outcome });
  }
  return out;
}

/** A deterministic Fisher–Yates shuffle (LCG). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Everything stored about these runs, masked: step ids by order of appearance, lease tokens, event ids; a
 * time at or after `from` is written relative to `t` ("T+1000"), an earlier one (submission, kickoff, cancel:
 * the store's own clock) as "<time>".
 */
async function snapshot(
  store: Store,
  runIds: readonly string[],
  times: { from: Date; t: Date },
): Promise<JsonValue> {
  const raw: Record<string, unknown> = {};
  for (const id of runIds) {
    raw[id] = {
      run: await store.getRun(id),
      steps: await store.getSteps(id),
      attempts: await store.getAttempts(id),
      events: await eventsOf(store, id),
    };
  }
  const names = new Map<string, string>();
  const visit = (v: JsonValue, k?: string): JsonValue => {
    if (Array.isArray(v)) return v.map((x) => visit(x));
    if (v !== null && typeof v === "object") {
      const o: Record<string, JsonValue> = {};
      for (const [name, x] of Object.entries(v)) o[name] = visit(x, name);
      return o;
    }
    if (typeof v === "string") {
      if (ISO_MS.test(v)) {
        const ms = Date.parse(v);
        if (ms < times.from.getTime()) return "<time>";
        const d = ms - times.t.getTime();
        return `T${d < 0 ? "-" : "+"}${Math.abs(d)}`;
      }
      if (k === "lease_token") return "<token>";
      if (v.startsWith("st_")) {
        if (!names.has(v)) names.set(v, `<step ${names.size + 1}>`);
        return names.get(v) as string;
      }
    }
    if (k === "id" && typeof v === "number") return "<id>";
    return v;
  };
  return visit(JSON.parse(JSON.stringify(raw)) as JsonValue);
}

/** A finish outcome without the run's settle outcome (which one-by-one reports per completion). */
function withoutRun(outcome: FinishOutcome): object {
  if (!outcome.applied) return outcome;
  const { run: _run, ...rest } = outcome;
  return rest;
}

interface Played {
  store: Store;
  leases: Leases;
  results: FinishOutcome[];
}

interface Scenario {
  specs: RunSpec[];
  /** The completions in the order the one-by-one path applies them. */
  items: Item[];
  /** The order the batch gets them (indexes into `items`); default: a shuffle. */
  batchOrder?: number[];
  /** Store-clock work after the claim at `at` (cancel, expiry and reclaim at injected times). */
  prepare?: (store: Store, leases: Leases, at: Date) => Promise<void>;
  leaseMs?: number;
}

/**
 * Plays the scenario twice from the same state, with the same injected times: once as one finishAttempts call
 * (items in `batchOrder`), once one by one with finishAttempt (items in order). Results are in item order.
 */
async function playBoth(
  ctx: SuiteContext,
  scenario: Scenario,
): Promise<{ batch: Played; single: Played; at: Date; t: Date; order: number[] }> {
  const stores = [await ctx.fresh(), await ctx.fresh()] as const;
  for (const store of stores) for (const spec of scenario.specs) await submitRun(store, spec, true);
  const clock = Math.max(...(await Promise.all(stores.map(clockOf))).map((d) => d.getTime()));
  const at = new Date(clock + 5_000);
  const t = plusMs(at, 3_000);
  const order =
    scenario.batchOrder ??
    shuffled(
      scenario.items.map((_, i) => i),
      7,
    );
  const played: Played[] = [];
  for (const [n, store] of stores.entries()) {
    const leases = await claimAll(store, at, scenario.leaseMs);
    if (scenario.prepare) await scenario.prepare(store, leases, at);
    const completions = await completionsOf(store, leases, scenario.items);
    let results: FinishOutcome[];
    if (n === 0) {
      const out = await finishAttempts(
        store,
        order.map((i) => completions[i] as Completion),
        { now: t },
      );
      expect(out).toHaveLength(completions.length);
      results = new Array(completions.length);
      order.forEach((i, pos) => {
        results[i] = out[pos] as FinishOutcome;
      });
    } else {
      results = [];
      for (const c of completions) results.push(await finishAttempt(store, c.lease, c.outcome, { now: t }));
    }
    played.push({ store, leases, results });
  }
  return { batch: played[0] as Played, single: played[1] as Played, at, t, order };
}

/** The two stores read back the same, and every run's events are numbered 1..n without gaps. */
async function expectSameState(
  played: { batch: Played; single: Played; at: Date; t: Date },
  runIds: readonly string[],
): Promise<void> {
  const times = { from: played.at, t: played.t };
  const batch = await snapshot(played.batch.store, runIds, times);
  const single = await snapshot(played.single.store, runIds, times);
  expect(batch).toEqual(single);
  for (const id of runIds) {
    const seqs = (await eventsOf(played.batch.store, id)).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect((await runOf(played.batch.store, id)).event_seq).toBe(seqs.length);
  }
}

/** [event_type, agent_id, reason/status] of the run's events after RUN_CREATED and RUN_KICKOFF. */
async function eventTrail(store: Store, runId: string) {
  return (await eventsOf(store, runId))
    .slice(2)
    .map((e) => [e.event_type, e.payload.agent_id ?? null, e.payload.reason ?? e.payload.status ?? null]);
}

async function reputationRows(store: Store) {
  return (await store.listReputation()).map((r) => [
    r.agent_id,
    r.task_type,
    r.runs,
    r.agreed,
    r.correct,
    r.wrong,
    r.units,
  ]);
}

const applied = (step_status: string, run: string) => ({ applied: true, step_status, run });

// ---------------------------------------------------------------------------------------------- tests

export function batchTests(ctx: SuiteContext): void {
  it("one shuffled batch over 4 runs equals finishAttempt one by one in step order (statuses, results, rows, events)", async () => {
    const retry = { max_attempts: 2, backoff_ms: 1000 };
    const specs = [
      makeSpec("bx-1", { agents: ["a", "b", "c", "d"], retry }),
      makeSpec("bx-2", { agents: ["a", "b", "c", "d", "e"], retry }),
      makeSpec("bx-3", { agents: ["a", "b", "c"] }),
      makeSpec("bx-4", { agents: ["a", "b"], aggregation: FINALIZE_NULL }),
    ];
    const items: Item[] = [
      // bx-1: its last steps finalize it (YES 2 : NO 1, one failure).
      { run: "bx-1", agent: "a", outcome: vote("YES", { answer: "one" }) },
      { run: "bx-1", agent: "b", outcome: vote("yes ") },
      { run: "bx-1", agent: "c", outcome: vote("NO") },
      { run: "bx-1", agent: "d", outcome: failure(false) },
      // bx-2 stays active: two retryable failures with attempts left (backoff; Retry-After), e still LEASED.
      { run: "bx-2", agent: "a", outcome: vote("NO") },
      { run: "bx-2", agent: "b", outcome: failure(true) },
      { run: "bx-2", agent: "c", outcome: failure(false) },
      { run: "bx-2", agent: "d", outcome: failure(true, { retry_after_ms: 5000 }) },
      // bx-3: a retryable failure without attempts left fails the step; the run finalizes X.
      { run: "bx-3", agent: "a", outcome: failure(true) },
      { run: "bx-3", agent: "b", outcome: vote("X") },
      { run: "bx-3", agent: "c", outcome: vote("X") },
      // bx-4: every step fails: the run is FAILED.
      { run: "bx-4", agent: "a", outcome: failure(false) },
      { run: "bx-4", agent: "b", outcome: failure(true) },
    ];
    const played = await playBoth(ctx, { specs, items });
    // The batch really was out of order, across runs and within them.
    expect(played.order).not.toEqual(items.map((_, i) => i));

    expect(played.batch.results).toEqual([
      applied("SUCCEEDED", "FINALIZED"),
      applied("SUCCEEDED", "FINALIZED"),
      applied("SUCCEEDED", "FINALIZED"),
      applied("FAILED", "FINALIZED"),
      applied("SUCCEEDED", "ACTIVE"),
      applied("RETRY_WAIT", "ACTIVE"),
      applied("FAILED", "ACTIVE"),
      applied("RETRY_WAIT", "ACTIVE"),
      applied("FAILED", "FINALIZED"),
      applied("SUCCEEDED", "FINALIZED"),
      applied("SUCCEEDED", "FINALIZED"),
      applied("FAILED", "FAILED"),
      applied("FAILED", "FAILED"),
    ]);
    expect(played.batch.results.map(withoutRun)).toEqual(played.single.results.map(withoutRun));
    await expectSameState(played, ["bx-1", "bx-2", "bx-3", "bx-4"]);

    const store = played.batch.store;
    const { t } = played;
    expect((await runOf(store, "bx-1")).result).toMatchObject({
      status: "FINALIZED",
      final_decision: "YES",
      counts: { succeeded: 3, failed: 1 },
    });
    expect((await runOf(store, "bx-2")).status).toBe("RUNNING");
    expect(await stepOf(store, "bx-2", "b")).toMatchObject({
      status: "RETRY_WAIT",
      next_run_at: plusMs(t, 1000).toISOString(),
      attempt: 1,
    });
    expect((await stepOf(store, "bx-2", "d")).next_run_at).toBe(plusMs(t, 5000).toISOString());
    expect((await stepOf(store, "bx-2", "e")).status).toBe("LEASED");
    expect((await runOf(store, "bx-3")).result).toMatchObject({ status: "FINALIZED", final_decision: "X" });
    const bx4 = await runOf(store, "bx-4");
    expect(bx4).toMatchObject({ status: "FAILED", finished_at: t.toISOString() });
    expect(bx4.error_text).toMatch(/^all 2 steps failed/);
  });

  it("a batch writes each run's STEP_LEASED/outcome pairs in step order, RUN_FINALIZED last and once", async () => {
    const specs = [
      makeSpec("ev-1", { agents: ["a", "b", "c", "d"], retry: { max_attempts: 2, backoff_ms: 0 } }),
      makeSpec("ev-2", { agents: ["x", "y"] }),
    ];
    const items: Item[] = [
      { run: "ev-1", agent: "a", outcome: vote("P") },
      { run: "ev-1", agent: "b", outcome: failure(true) },
      { run: "ev-1", agent: "c", outcome: failure(false) },
      { run: "ev-1", agent: "d", outcome: vote("P") },
      { run: "ev-2", agent: "x", outcome: vote("Q") },
      { run: "ev-2", agent: "y", outcome: vote("Q") },
    ];
    // Reverse order: the last step of each run first.
    const played = await playBoth(ctx, { specs, items, batchOrder: [5, 4, 3, 2, 1, 0] });
    await expectSameState(played, ["ev-1", "ev-2"]);
    const store = played.batch.store;
    expect(await eventTrail(store, "ev-1")).toEqual([
      ["STEP_LEASED", "a", null],
      ["STEP_COMPLETED", "a", "SUCCEEDED"],
      ["STEP_LEASED", "b", null],
      ["STEP_RETRY_WAIT", "b", null],
      ["STEP_LEASED", "c", null],
      ["STEP_COMPLETED", "c", "FAILED"],
      ["STEP_LEASED", "d", null],
      ["STEP_COMPLETED", "d", "SUCCEEDED"],
    ]);
    expect(await eventTrail(store, "ev-2")).toEqual([
      ["STEP_LEASED", "x", null],
      ["STEP_COMPLETED", "x", "SUCCEEDED"],
      ["STEP_LEASED", "y", null],
      ["STEP_COMPLETED", "y", "SUCCEEDED"],
      ["RUN_FINALIZED", null, "FINALIZED"],
    ]);
    expect(countOf(await eventTypes(store, "ev-2"), "RUN_FINALIZED")).toBe(1);
    // STEP_LEASED carries the claim time, its outcome the transaction's time; event ids grow with seq.
    const events = (await eventsOf(store, "ev-1")).slice(2);
    expect(events.map((e) => e.created_at)).toEqual(
      events.map((e) => (e.event_type === "STEP_LEASED" ? played.at : played.t).toISOString()),
    );
    for (const id of ["ev-1", "ev-2"]) {
      const ids = (await eventsOf(store, id)).map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    // The step sequence of the retried step goes on: b is claimable again at once (backoff floor 200 ms).
    const [again] = await claim(store, { now: plusMs(played.t, 200), runId: "ev-1" });
    expect(again?.step).toMatchObject({ agent_id: "b", attempt: 2, attempt_seq: 2 });
  });

  it("valid, stale (expired and reclaimed; cancelled), duplicate and unknown leases in one batch: results in input order, nothing else changes", async () => {
    const specs = [
      makeSpec("sx-1", { agents: ["a", "b", "c", "d"], retry: { max_attempts: 2 } }),
      makeSpec("sx-2", { agents: ["x", "y"] }),
    ];
    /** The first-claim leases, before expiry and reclaim. */
    const first = new WeakMap<Store, Leases>();
    const prepare = async (store: Store, leases: Leases, at: Date) => {
      first.set(store, new Map(leases));
      // sx-2 is cancelled with its steps LEASED; sx-1's leases expire and its steps are claimed again.
      await cancelRun(store, "sx-2");
      expect(await expireLeases(store, { now: plusMs(at, 1_500) })).toBe(4);
      const again = await claimAll(store, plusMs(at, 1_500));
      expect([...again.keys()]).toEqual(["sx-1/a", "sx-1/b", "sx-1/c", "sx-1/d"]);
      for (const [k, v] of again) leases.set(k, v);
    };
    const old = (run: string, agent: string) => (store: Store) =>
      leaseOfKey(first.get(store) as Leases, run, agent);
    const items: Item[] = [
      /* 0 */ { run: "sx-1", agent: "a", outcome: vote("YES") },
      /* 1 */ { run: "sx-1", agent: "b", outcome: vote("YES"), lease: old("sx-1", "b") },
      /* 2 */ { run: "sx-1", agent: "a", outcome: vote("YES") },
      /* 3 */ { run: "sx-1", agent: "c", outcome: vote("NO") },
      /* 4 */ { run: "sx-1", agent: "c", outcome: failure(false) },
      /* 5 */ { run: "sx-2", agent: "x", outcome: vote("YES") },
      /* 6 */ { run: "sx-1", agent: "d", outcome: failure(true), lease: old("sx-1", "d") },
      /* 7 */
      {
        run: "none",
        agent: "?",
        outcome: vote("YES"),
        lease: () => ({ run_id: "no-such-run", step_id: "st_nope", attempt_seq: 1, lease_token: "t" }),
      },
      /* 8 */
      {
        run: "sx-1",
        agent: "?",
        outcome: vote("YES"),
        lease: (_, leases) => ({ ...leaseOfKey(leases, "sx-1", "a"), step_id: "st_nope" }),
      },
      /* 9: a step of sx-2 presented as one of sx-1 */
      {
        run: "sx-1",
        agent: "?",
        outcome: vote("YES"),
        lease: (store) => ({ ...old("sx-2", "y")(store), run_id: "sx-1" }),
      },
      /* 10: a token the step never had */
      {
        run: "sx-1",
        agent: "d",
        outcome: vote("YES"),
        lease: (_, leases) => ({ ...leaseOfKey(leases, "sx-1", "d"), lease_token: "not-a-token" }),
      },
    ];
    // The batch gets them in input order (duplicates after their first), the one-by-one path too.
    const played = await playBoth(ctx, {
      specs,
      items,
      batchOrder: items.map((_, i) => i),
      prepare,
      leaseMs: 1_000,
    });
    expect(played.batch.results).toEqual([
      applied("SUCCEEDED", "ACTIVE"),
      { applied: false, reason: "STALE", closed_as: "LEASE_EXPIRED" },
      { applied: false, reason: "IDEMPOTENT" },
      applied("SUCCEEDED", "ACTIVE"),
      { applied: false, reason: "STALE", closed_as: "SUCCEEDED" },
      { applied: false, reason: "STALE", closed_as: "CANCELLED" },
      { applied: false, reason: "STALE", closed_as: "LEASE_EXPIRED" },
      { applied: false, reason: "NOT_FOUND" },
      { applied: false, reason: "NOT_FOUND" },
      { applied: false, reason: "NOT_FOUND" },
      { applied: false, reason: "NOT_FOUND" },
    ]);
    expect(played.batch.results).toEqual(played.single.results);
    await expectSameState(played, ["sx-1", "sx-2"]);

    const store = played.batch.store;
    // Only a and c were applied: their pairs are the only new events; b and d keep their second lease.
    expect((await eventTrail(store, "sx-1")).slice(-4)).toEqual([
      ["STEP_LEASED", "a", null],
      ["STEP_COMPLETED", "a", "SUCCEEDED"],
      ["STEP_LEASED", "c", null],
      ["STEP_COMPLETED", "c", "SUCCEEDED"],
    ]);
    expect(countOf(await eventTypes(store, "sx-1"), "STEP_LEASE_EXPIRED")).toBe(4);
    for (const agent of ["b", "d"]) {
      const step = await stepOf(store, "sx-1", agent);
      expect(step).toMatchObject({
        status: "LEASED",
        attempt: 2,
        attempt_seq: 2,
        lease_token: leaseOfKey(played.batch.leases, "sx-1", agent).lease_token,
      });
    }
    expect(await stepOf(store, "sx-1", "c")).toMatchObject({
      status: "SUCCEEDED",
      result: { candidate_output: { decision: "NO", confidence: 0.8 } },
    });
    const attempts = (await store.getAttempts("sx-1")).map((a) => [
      a.step_id,
      a.attempt_seq,
      a.status,
      a.closed_as,
      a.error_code,
    ]);
    const id = async (agent: string) => (await stepOf(store, "sx-1", agent)).step_id;
    expect(attempts).toEqual([
      [await id("a"), 1, "LEASE_EXPIRED", null, "LEASE_EXPIRED"],
      [await id("a"), 2, "SUCCEEDED", null, null],
      [await id("b"), 1, "STALE", "LEASE_EXPIRED", "LEASE_EXPIRED"],
      [await id("b"), 2, "RUNNING", null, null],
      // The duplicate with another outcome is kept in the attempt row (SPEC §4 fencing), never applied.
      [await id("c"), 1, "LEASE_EXPIRED", null, "LEASE_EXPIRED"],
      [await id("c"), 2, "STALE", "SUCCEEDED", "HTTP_5XX"],
      [await id("d"), 1, "STALE", "LEASE_EXPIRED", "HTTP_5XX"],
      [await id("d"), 2, "RUNNING", null, null],
    ]);
    const [staleB] = (await store.getAttempts("sx-1")).filter(
      (a) => a.step_id === (attempts[2]?.[0] as string),
    );
    expect(staleB?.result).toEqual({ candidate_output: { decision: "YES", confidence: 0.8 } });
    // sx-2 stays CANCELLED with its events; x's attempt keeps the late result as STALE.
    expect((await runOf(store, "sx-2")).status).toBe("CANCELLED");
    expect(countOf(await eventTypes(store, "sx-2"), "RUN_FINALIZED")).toBe(1);
    expect((await eventTypes(store, "sx-2")).at(-1)).toBe("RUN_FINALIZED");
    const sx2 = (await store.getAttempts("sx-2")).map((a) => [a.status, a.closed_as]);
    expect(sx2).toEqual([
      ["STALE", "CANCELLED"],
      ["CANCELLED", null],
    ]);
  });

  it("a batch of only stale and unknown leases writes no event", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("so-1", { agents: ["a", "b"] }), true);
    const at = plusMs(await clockOf(store), 10);
    const leases = await claimAll(store, at);
    await cancelRun(store, "so-1");
    const before = await eventsOf(store, "so-1");
    const a = leaseOfKey(leases, "so-1", "a");
    const out = await finishAttempts(store, [
      { lease: a, outcome: vote("YES") },
      { lease: { ...a, run_id: "nope" }, outcome: vote("YES") },
      { lease: a, outcome: vote("YES") },
    ]);
    expect(out).toEqual([
      { applied: false, reason: "STALE", closed_as: "CANCELLED" },
      { applied: false, reason: "NOT_FOUND" },
      { applied: false, reason: "STALE", closed_as: "CANCELLED" },
    ]);
    expect(await eventsOf(store, "so-1")).toEqual(before);
    expect(await finishAttempts(store, [])).toEqual([]);
  });

  it("reputation: runs finalized in one batch each count once, the same as one by one", async () => {
    const specs = [
      makeSpec("rp-1", { agents: ["a", "b", "c"] }),
      makeSpec("rp-2", { agents: ["a", "b", "c"] }),
      { ...makeSpec("rp-3", { agents: ["a", "c"] }), task_type: "triage" },
    ];
    const items: Item[] = [
      { run: "rp-1", agent: "a", outcome: vote("YES") },
      { run: "rp-1", agent: "b", outcome: vote("YES") },
      { run: "rp-1", agent: "c", outcome: vote("NO") },
      { run: "rp-2", agent: "a", outcome: vote("X") },
      { run: "rp-2", agent: "b", outcome: vote("Y") },
      { run: "rp-2", agent: "c", outcome: vote("Y") },
      { run: "rp-3", agent: "a", outcome: vote("Z") },
      { run: "rp-3", agent: "c", outcome: vote("Z") },
    ];
    const played = await playBoth(ctx, { specs, items });
    expect(played.batch.results.every((r) => r.applied && r.run === "FINALIZED")).toBe(true);
    await expectSameState(played, ["rp-1", "rp-2", "rp-3"]);
    const rows = await reputationRows(played.batch.store);
    expect(rows).toEqual(await reputationRows(played.single.store));
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ["a", "*", 3, 2],
      ["a", "swarm", 2, 1],
      ["a", "triage", 1, 1],
      ["b", "*", 2, 2],
      ["b", "swarm", 2, 2],
      ["c", "*", 3, 2],
      ["c", "swarm", 2, 1],
      ["c", "triage", 1, 1],
    ]);
    for (const id of ["rp-1", "rp-2", "rp-3"])
      expect((await runOf(played.batch.store, id)).reputation_applied).toBe(true);

    // A second batch adds to the rows it finds.
    for (const p of [played.batch, played.single]) {
      await submitRun(p.store, makeSpec("rp-4", { agents: ["a", "b"] }), true);
      await submitRun(p.store, makeSpec("rp-5", { agents: ["a", "b"] }), true);
      const leases = await claimAll(p.store, plusMs(played.t, 10));
      const completions = ["rp-4", "rp-5"].flatMap((run) =>
        ["a", "b"].map((agent) => ({ lease: leaseOfKey(leases, run, agent), outcome: vote("OK") })),
      );
      if (p === played.batch) await finishAttempts(p.store, completions.reverse());
      else for (const c of completions) await finishAttempt(p.store, c.lease, c.outcome);
    }
    const after = await reputationRows(played.batch.store);
    expect(after).toEqual(await reputationRows(played.single.store));
    expect(after.filter((r) => r[1] === "*").map((r) => r.slice(0, 4))).toEqual([
      ["a", "*", 5, 4],
      ["b", "*", 4, 4],
      ["c", "*", 3, 2],
    ]);
  });

  it("early_stop: a batch with enough successes to decide cancels the rest (EARLY_STOP) before RUN_FINALIZED", async () => {
    const specs = [
      makeSpec("es-b1", { agents: ["a", "b", "c", "d", "e"], aggregation: { mode: "early_stop" } }),
    ];
    const items: Item[] = [
      { run: "es-b1", agent: "a", outcome: vote("YES") },
      { run: "es-b1", agent: "b", outcome: vote("YES") },
      { run: "es-b1", agent: "c", outcome: vote("YES") },
    ];
    const played = await playBoth(ctx, { specs, items, batchOrder: [2, 0, 1] });
    // All three applied; the last in step order (c) is the one whose success stops the run.
    expect(played.batch.results.map(withoutRun)).toEqual([
      { applied: true, step_status: "SUCCEEDED" },
      { applied: true, step_status: "SUCCEEDED" },
      { applied: true, step_status: "SUCCEEDED" },
    ]);
    expect(played.batch.results[2]).toEqual(applied("SUCCEEDED", "EARLY_STOPPED"));
    await expectSameState(played, ["es-b1"]);
    const store = played.batch.store;
    expect(await eventTrail(store, "es-b1")).toEqual([
      ["STEP_LEASED", "a", null],
      ["STEP_COMPLETED", "a", "SUCCEEDED"],
      ["STEP_LEASED", "b", null],
      ["STEP_COMPLETED", "b", "SUCCEEDED"],
      ["STEP_LEASED", "c", null],
      ["STEP_COMPLETED", "c", "SUCCEEDED"],
      ["STEP_LEASED", "d", null],
      ["STEP_CANCELLED", "d", "EARLY_STOP"],
      ["STEP_LEASED", "e", null],
      ["STEP_CANCELLED", "e", "EARLY_STOP"],
      ["RUN_FINALIZED", null, "FINALIZED"],
    ]);
    expect((await runOf(store, "es-b1")).result).toMatchObject({
      final_decision: "YES",
      aggregation: { early_stop: { stopped: true, steps_saved: 2, calls_aborted: 2 } },
      counts: { succeeded: 3, cancelled: 2 },
    });
    const d = leaseOfKey(played.batch.leases, "es-b1", "d");
    expect(await store.validLeases([{ step_id: d.step_id, lease_token: d.lease_token }])).toEqual([]);
    // A late result of a cancelled step is STALE, in a batch as alone.
    expect(await finishAttempts(store, [{ lease: d, outcome: vote("NO") }])).toEqual([
      { applied: false, reason: "STALE", closed_as: "CANCELLED" },
    ]);
  });

  // Per run, a batch must have the effect of its completions applied one by one in step order. In early_stop
  // mode the early-stop check runs after each success one by one, but once per run in a batch.
  it("early_stop: a batch with more successes than the stop needs equals one by one in step order", async () => {
    const specs = [
      makeSpec("es-b2", { agents: ["a", "b", "c", "d", "e"], aggregation: { mode: "early_stop" } }),
    ];
    const items: Item[] = ["a", "b", "c", "d"].map((agent) => ({
      run: "es-b2",
      agent,
      outcome: vote("YES"),
    }));
    const played = await playBoth(ctx, { specs, items, batchOrder: [3, 2, 1, 0] });
    // One by one, c's success stops the run: d is CANCELLED with e, and d's late result is STALE.
    expect(played.single.results.map((r) => (r.applied ? r.run : r.reason))).toEqual([
      "ACTIVE",
      "ACTIVE",
      "EARLY_STOPPED",
      "STALE",
    ]);
    expect(played.batch.results.map(withoutRun)).toEqual(played.single.results.map(withoutRun));
    await expectSameState(played, ["es-b2"]);
  });

  it("early_stop: a batch ending in a failure equals one by one in step order", async () => {
    const specs = [
      makeSpec("es-b3", { agents: ["a", "b", "c", "d", "e", "f"], aggregation: { mode: "early_stop" } }),
    ];
    const items: Item[] = [
      { run: "es-b3", agent: "a", outcome: vote("YES") },
      { run: "es-b3", agent: "b", outcome: vote("YES") },
      { run: "es-b3", agent: "c", outcome: vote("YES") },
      { run: "es-b3", agent: "d", outcome: failure(false) },
    ];
    const played = await playBoth(ctx, { specs, items, batchOrder: [3, 2, 1, 0] });
    // One by one: YES 3 against 3 active steps after c; d's failure leaves at most 2 votes and stops the run.
    expect(played.single.results.map((r) => (r.applied ? r.run : r.reason))).toEqual([
      "ACTIVE",
      "ACTIVE",
      "ACTIVE",
      "EARLY_STOPPED",
    ]);
    expect(played.batch.results.map(withoutRun)).toEqual(played.single.results.map(withoutRun));
    await expectSameState(played, ["es-b3"]);
  });

  // Across runs: one by one, a run finalized earlier has its reputation applied before the next run of the
  // batch aggregates (runs settle in ascending run_id order); in a batch the deltas are applied last.
  it("REPUTATION_WEIGHTED: a run settled after another in the batch sees its reputation, as one by one", async () => {
    const specs = [
      makeSpec("rw-1", { agents: ["a", "b", "c"] }),
      makeSpec("rw-2", {
        agents: ["a", "b"],
        aggregation: { tie_policy: { chain: ["REPUTATION_WEIGHTED"] } },
      }),
      // A second reputation reader: it sees what rw-1 and rw-2 wrote.
      makeSpec("rw-3", {
        agents: ["a", "b"],
        aggregation: { tie_policy: { chain: ["REPUTATION_WEIGHTED"] } },
      }),
    ];
    const items: Item[] = [
      { run: "rw-1", agent: "a", outcome: vote("YES") },
      { run: "rw-1", agent: "b", outcome: vote("NO") },
      { run: "rw-1", agent: "c", outcome: vote("NO") },
      { run: "rw-2", agent: "a", outcome: vote("A") },
      { run: "rw-2", agent: "b", outcome: vote("B") },
      { run: "rw-3", agent: "a", outcome: vote("A") },
      { run: "rw-3", agent: "b", outcome: vote("B") },
    ];
    const played = await playBoth(ctx, { specs, items });
    // One by one: rw-1 made b agree and a not, so rw-2's tie goes to b.
    expect((await runOf(played.single.store, "rw-2")).result).toMatchObject({
      final_decision: "B",
      aggregation: { reputation_units: { a: 333, b: 667 } },
    });
    expect((await runOf(played.single.store, "rw-3")).result).toMatchObject({ final_decision: "B" });
    await expectSameState(played, ["rw-1", "rw-2", "rw-3"]);
    expect(await reputationRows(played.batch.store)).toEqual(await reputationRows(played.single.store));
  });

  it("concurrent overlapping batches from several stores: each completion applied once, each run finalized once", async () => {
    const store = await ctx.fresh();
    const peers = [store, await ctx.peer(store), await ctx.peer(store)];
    const runIds = Array.from({ length: 8 }, (_, i) => `cb-${i}`);
    for (const id of runIds)
      await submitRun(store, makeSpec(id, { agents: ["a", "b", "c", "d", "e"] }), true);
    const at = plusMs(await clockOf(store), 10);
    const leases = [...(await claimAll(store, at)).values()];
    expect(leases).toHaveLength(40);
    const completions = leases.map((lease, i) => ({ lease, outcome: vote(i % 3 === 0 ? "NO" : "YES") }));
    // Six batches; every completion is in two of them (a retried commit), in different orders.
    const batches = Array.from({ length: 6 }, (_, b) =>
      shuffled(
        completions.filter((_, i) => i % 3 === b % 3),
        b + 1,
      ),
    );
    // (No heartbeat in this race: on PostgreSQL it can deadlock with a batch, see postgres.test.ts.)
    const outcomes = await Promise.all(
      batches.map((batch, b) => finishAttempts(peers[b % peers.length] as Store, batch)),
    );
    const byToken = new Map<string, FinishOutcome[]>();
    outcomes.forEach((results, b) => {
      expect(results).toHaveLength(batches[b]?.length ?? -1);
      results.forEach((r, i) => {
        const token = batches[b]?.[i]?.lease.lease_token as string;
        byToken.set(token, [...(byToken.get(token) ?? []), r]);
      });
    });
    expect(byToken.size).toBe(40);
    for (const results of byToken.values()) {
      expect(results.filter((r) => r.applied)).toHaveLength(1);
      expect(results.filter((r) => !r.applied)).toEqual([{ applied: false, reason: "IDEMPOTENT" }]);
    }
    for (const id of runIds) {
      expect((await runOf(store, id)).status).toBe("FINALIZED");
      const events = await eventsOf(store, id);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const types = events.map((e) => e.event_type);
      expect(countOf(types, "RUN_FINALIZED")).toBe(1);
      expect(countOf(types, "STEP_COMPLETED")).toBe(5);
      expect(types.at(-1)).toBe("RUN_FINALIZED");
    }
  });

  it("results, error texts and payloads round-trip through the batch statements exactly", async () => {
    const store = await ctx.fresh();
    await submitRun(store, makeSpec("rt-1", { agents: ["a", "b", "c", "d"] }), true);
    const at = plusMs(await clockOf(store), 10);
    const leases = await claimAll(store, at);
    const tricky = JSON.parse(
      '{"candidate_output":{"decision":"Ünïcödé ✓ \\"q\\" \\\\ {a,b} NULL","z":1,"a":[1.5,-0,1e300,null,true,{}],"__proto__":{"x":"y"}},"evidence_refs":[{"digest":"sha256:ab"}]}',
    );
    const long = `${"é".repeat(10_000)}"\\,{}`;
    const out = await finishAttempts(store, [
      { lease: leaseOfKey(leases, "rt-1", "a"), outcome: { ok: true, response: tricky } },
      {
        lease: leaseOfKey(leases, "rt-1", "b"),
        outcome: { ok: false, code: "BAD_OUTPUT", retryable: false, error: long, details: { raw: '"{}\\' } },
      },
      { lease: leaseOfKey(leases, "rt-1", "c"), outcome: { ok: true, response: "null" } },
      { lease: leaseOfKey(leases, "rt-1", "d"), outcome: { ok: true, response: ["NULL", null, '"'] } },
    ]);
    expect(out.every((r) => r.applied)).toBe(true);
    const a = await stepOf(store, "rt-1", "a");
    expect(JSON.stringify(a.result)).toBe(JSON.stringify(tricky));
    const attempts = await store.getAttempts("rt-1");
    expect(JSON.stringify(attempts.find((x) => x.step_id === a.step_id)?.result)).toBe(
      JSON.stringify(tricky),
    );
    const b = await stepOf(store, "rt-1", "b");
    expect(Buffer.byteLength(b.error_text ?? "", "utf8")).toBeLessThanOrEqual(8 * 1024);
    expect(b.error_text?.endsWith("…")).toBe(true);
    const bAttempt = attempts.find((x) => x.step_id === b.step_id);
    expect(bAttempt).toMatchObject({ error_text: b.error_text, result: { raw: '"{}\\' } });
    expect((await stepOf(store, "rt-1", "c")).result).toBe("null");
    expect((await stepOf(store, "rt-1", "d")).result).toEqual(["NULL", null, '"']);
    const events = await eventsOf(store, "rt-1");
    expect(
      events.find((e) => e.event_type === "STEP_COMPLETED" && e.payload.agent_id === "b")?.payload,
    ).toMatchObject({
      error: b.error_text,
    });
  });
}
