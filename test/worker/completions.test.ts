// CompletionBatcher, the worker's group commit (src/worker/completions.ts), against a fake commit function
// whose calls the test settles by hand: a lone completion commits at once; completions submitted while a
// commit is in flight go together in the next one (at most maxBatch); each caller gets its own outcome; a
// failing batch is retried item by item — unless the database is unavailable — so one bad item fails alone.
import { describe, expect, it } from "vitest";
import { WattswarmError } from "../../src/errors.js";
import type { Completion, FinishOutcome } from "../../src/kernel/attempts.js";
import { CompletionBatcher } from "../../src/worker/completions.js";

function completion(name: string): Completion {
  return {
    lease: { run_id: "r1", step_id: name, attempt_seq: 1, lease_token: `token-${name}` },
    outcome: { ok: true, response: { candidate_output: { decision: name } } },
  };
}

/** A distinct outcome per completion, so that a caller's result can be checked by identity. */
function outcomeOf(c: Completion): FinishOutcome {
  return { applied: true, step_status: "SUCCEEDED", run: "ACTIVE", step: c.lease.step_id } as FinishOutcome;
}

interface Call {
  batch: Completion[];
  /** Settles this call: with the outcomes of its batch, or by throwing `err`. */
  resolve(): void;
  reject(err: unknown): void;
}

/** A commit function that records each call and waits until the test settles it. */
function fakeCommit() {
  const calls: Call[] = [];
  const commit = (completions: readonly Completion[]): Promise<FinishOutcome[]> =>
    new Promise((resolve, reject) => {
      const batch = [...completions];
      calls.push({ batch, resolve: () => resolve(batch.map(outcomeOf)), reject });
    });
  const names = () => calls.map((c) => c.batch.map((x) => x.lease.step_id));
  const call = (i: number): Call => {
    const c = calls[i];
    if (!c) throw new Error(`commit call ${i} not made (made: ${JSON.stringify(names())})`);
    return c;
  };
  return { calls, commit, names, call };
}

/** Lets pending promise callbacks run (the batcher's loop continues on microtasks only). */
async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

/** Captures how a promise ends without an unhandled rejection. */
function track<T>(promise: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => {
      state.done = true;
      state.value = value;
    },
    (error) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
}

describe("CompletionBatcher", () => {
  it("a lone completion commits at once, alone, and resolves with its outcome", async () => {
    const fake = fakeCommit();
    const batcher = new CompletionBatcher(fake.commit);
    const c = completion("a");
    const result = track(batcher.submit(c));
    // No delay: the commit is called synchronously by submit.
    expect(fake.names()).toEqual([["a"]]);
    fake.call(0).resolve();
    await settle();
    expect(result).toMatchObject({ done: true, value: outcomeOf(c) });
    expect(fake.calls).toHaveLength(1);
    // Idle again: the next lone completion also commits at once.
    const next = track(batcher.submit(completion("b")));
    expect(fake.names()).toEqual([["a"], ["b"]]);
    fake.call(1).resolve();
    await settle();
    expect(next.value).toMatchObject({ step: "b" });
  });

  it("completions submitted while a commit is in flight go together in the next commit; results map back", async () => {
    const fake = fakeCommit();
    const batcher = new CompletionBatcher(fake.commit);
    const items = ["a", "b", "c", "d"].map(completion);
    const results = items.map((c) => track(batcher.submit(c)));
    await settle();
    // a went alone; b, c, d wait for it.
    expect(fake.names()).toEqual([["a"]]);
    expect(results.map((r) => r.done)).toEqual([false, false, false, false]);
    fake.call(0).resolve();
    await settle();
    expect(results.map((r) => r.done)).toEqual([true, false, false, false]);
    expect(fake.names()).toEqual([["a"], ["b", "c", "d"]]);
    // More arrive during the second commit: they make the third.
    const late = ["e", "f"].map((n) => track(batcher.submit(completion(n))));
    await settle();
    expect(fake.calls).toHaveLength(2);
    fake.call(1).resolve();
    await settle();
    expect(fake.names()).toEqual([["a"], ["b", "c", "d"], ["e", "f"]]);
    fake.call(2).resolve();
    await settle();
    for (const [i, r] of results.entries()) {
      expect(r.error).toBeUndefined();
      expect(r.value).toEqual(outcomeOf(items[i] as Completion));
    }
    expect(late.map((r) => (r.value as { step?: string }).step)).toEqual(["e", "f"]);
    expect(fake.calls.map((c) => c.batch.length)).toEqual([1, 3, 2]);
  });

  it("each caller gets the outcome at its place in the batch, duplicates of one lease included", async () => {
    // The batcher hands outcome i to the caller of completion i (finishAttempts answers in input order).
    const fake = fakeCommit();
    const batcher = new CompletionBatcher(fake.commit);
    const head = track(batcher.submit(completion("x")));
    const same = completion("dup");
    const a = track(batcher.submit(same));
    const b = track(batcher.submit(same));
    fake.call(0).resolve();
    await settle();
    fake.call(1).resolve();
    await settle();
    expect(head.value).toMatchObject({ step: "x" });
    expect(fake.names()[1]).toEqual(["dup", "dup"]);
    expect(a.value).toMatchObject({ step: "dup" });
    expect(b.value).toMatchObject({ step: "dup" });
    expect(a.value).not.toBe(b.value);
  });

  it("a batch that fails is retried item by item: only the bad item rejects, with its own error", async () => {
    const fake = fakeCommit();
    const batcher = new CompletionBatcher(fake.commit);
    const head = track(batcher.submit(completion("head")));
    const items = ["a", "bad", "c"].map(completion);
    const results = items.map((c) => track(batcher.submit(c)));
    fake.call(0).resolve();
    await settle();
    expect(fake.names()[1]).toEqual(["a", "bad", "c"]);
    fake.call(1).reject(new Error("violates check constraint"));
    await settle();
    // Now one by one, in submission order.
    expect(fake.names().slice(2)).toEqual([["a"]]);
    fake.call(2).resolve();
    await settle();
    expect(fake.names().slice(2)).toEqual([["a"], ["bad"]]);
    const own = new WattswarmError("INTERNAL", "bad item");
    fake.call(3).reject(own);
    await settle();
    expect(fake.names().slice(2)).toEqual([["a"], ["bad"], ["c"]]);
    fake.call(4).resolve();
    await settle();
    expect(head.value).toMatchObject({ step: "head" });
    expect(results[0]).toMatchObject({ done: true, value: outcomeOf(items[0] as Completion) });
    expect(results[1]?.done).toBe(true);
    expect(results[1]?.value).toBeUndefined();
    expect(results[1]?.error).toBe(own);
    expect(results[2]).toMatchObject({ done: true, value: outcomeOf(items[2] as Completion) });
    expect(fake.calls.map((c) => c.batch.length)).toEqual([1, 3, 1, 1, 1]);
  });

  it("completions that arrive during the item-by-item retry wait for it, then go together", async () => {
    const fake = fakeCommit();
    const batcher = new CompletionBatcher(fake.commit);
    track(batcher.submit(completion("head")));
    const first = ["a", "b"].map((n) => track(batcher.submit(completion(n))));
    fake.call(0).resolve();
    await settle();
    fake.call(1).reject(new Error("boom"));
    await settle();
    const late = ["x", "y"].map((n) => track(batcher.submit(completion(n))));
    fake.call(2).resolve();
    await settle();
    fake.call(3).resolve();
    await settle();
    expect(fake.names()).toEqual([["head"], ["a", "b"], ["a"], ["b"], ["x", "y"]]);
    fake.call(4).resolve();
    await settle();
    expect([...first, ...late].map((r) => (r.value as { step?: string }).step)).toEqual(["a", "b", "x", "y"]);
  });

  it("DB_UNAVAILABLE fails the whole batch at once, without splitting it", async () => {
    const fake = fakeCommit();
    const batcher = new CompletionBatcher(fake.commit);
    const head = track(batcher.submit(completion("head")));
    const results = ["a", "b", "c"].map((n) => track(batcher.submit(completion(n))));
    fake.call(0).resolve();
    await settle();
    const down = new WattswarmError("DB_UNAVAILABLE", "database unreachable");
    fake.call(1).reject(down);
    await settle();
    expect(head.value).toMatchObject({ step: "head" });
    for (const r of results) expect(r).toMatchObject({ done: true, error: down });
    expect(fake.calls.map((c) => c.batch.length)).toEqual([1, 3]);
    // The batcher is idle again: the next completion commits at once.
    const next = track(batcher.submit(completion("d")));
    expect(fake.names().at(-1)).toEqual(["d"]);
    fake.call(2).resolve();
    await settle();
    expect(next.value).toMatchObject({ step: "d" });
  });

  it("a lone completion whose commit fails rejects (no retry) and the batcher goes on", async () => {
    const fake = fakeCommit();
    const batcher = new CompletionBatcher(fake.commit);
    const alone = track(batcher.submit(completion("a")));
    const err = new Error("constraint");
    fake.call(0).reject(err);
    await settle();
    expect(alone).toMatchObject({ done: true, error: err });
    expect(fake.calls).toHaveLength(1);
    const next = track(batcher.submit(completion("b")));
    expect(fake.names()).toEqual([["a"], ["b"]]);
    fake.call(1).resolve();
    await settle();
    expect(next.value).toMatchObject({ step: "b" });
  });

  it("maxBatch caps each commit; the rest follow in order", async () => {
    const fake = fakeCommit();
    const batcher = new CompletionBatcher(fake.commit, 2);
    const names = ["h", "a", "b", "c", "d", "e"];
    const results = names.map((n) => track(batcher.submit(completion(n))));
    for (let i = 0; i < 4; i++) {
      await settle();
      fake.call(i).resolve();
    }
    await settle();
    expect(fake.names()).toEqual([["h"], ["a", "b"], ["c", "d"], ["e"]]);
    expect(results.map((r) => (r.value as { step?: string }).step)).toEqual(names);
  });

  it("a commit that throws synchronously is handled like a rejected one", async () => {
    let calls = 0;
    const batcher = new CompletionBatcher((items) => {
      calls += 1;
      if (items.length > 1 || items[0]?.lease.step_id === "bad") throw new Error("sync");
      return Promise.resolve(items.map(outcomeOf));
    });
    const results = ["bad", "a"].map((n) => track(batcher.submit(completion(n))));
    await settle();
    await settle();
    expect(results[0]?.error).toEqual(new Error("sync"));
    expect(results[1]?.value).toMatchObject({ step: "a" });
    expect(calls).toBe(2);
  });
});
