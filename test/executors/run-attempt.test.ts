import { describe, expect, it } from "vitest";
import { runAttempt } from "../../src/executors/run-attempt.js";
import { SimExecutor } from "../../src/executors/sim.js";
import type { Executor } from "../../src/executors/types.js";
import type { JsonObject } from "../../src/spec/types.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import { makeAttempt, nested } from "./helpers.js";

function fake(execute: Executor["execute"]): Executor {
  return {
    name: "fake",
    kind: "sim",
    execute,
    check: async () => ({ ok: true, health: "ok", capabilities: null }),
  };
}

describe("runAttempt", () => {
  it("passes an outcome through", async () => {
    const { request, ctx } = makeAttempt();
    expect(await runAttempt(new SimExecutor("sim", { accuracy: 1 }), request, ctx)).toEqual({
      ok: true,
      response: { decision: "A", answer: "A", confidence: 1 },
    });
  });

  it("times out an executor that ignores its signal", async () => {
    const { request, ctx } = makeAttempt({ timeout_ms: 100 });
    let seen: AbortSignal | undefined;
    const stuck = fake((_r, _c, signal) => {
      seen = signal;
      return new Promise<ExecutionOutcome>(() => {});
    });
    const started = Date.now();
    expect(await runAttempt(stuck, request, ctx)).toEqual({
      ok: false,
      code: "TIMEOUT",
      retryable: true,
      error: "TIMEOUT: no result within 100 ms",
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(seen?.aborted).toBe(true);
  });

  it("returns cancelled on cancel, and at once when already cancelled", async () => {
    const { request, ctx } = makeAttempt({ timeout_ms: 5000 });
    const cancel = new AbortController();
    const pending = runAttempt(new SimExecutor("sim", { latency_ms: 10_000 }), request, ctx, cancel.signal);
    setTimeout(() => cancel.abort(), 20);
    expect(await pending).toEqual({ cancelled: true });
    let called = false;
    const spy = fake(async () => {
      called = true;
      return { ok: true, response: {} };
    });
    expect(await runAttempt(spy, request, ctx, AbortSignal.abort())).toEqual({ cancelled: true });
    expect(called).toBe(false);
  });

  it("turns an unexpected throw into a retryable outcome", async () => {
    const { request, ctx } = makeAttempt();
    const asyncThrow = fake(async () => {
      throw new Error("boom");
    });
    const syncThrow = fake(() => {
      throw new TypeError("bad");
    });
    const expected = { ok: false, code: "BAD_OUTPUT", retryable: true };
    expect(await runAttempt(asyncThrow, request, ctx)).toEqual({
      ...expected,
      error: "executor error: boom",
    });
    expect(await runAttempt(syncThrow, request, ctx)).toEqual({ ...expected, error: "executor error: bad" });
  });

  it("holds every kind's output to SPEC §8.4: nesting (not retried), size, evidence", async () => {
    const { request, ctx } = makeAttempt();
    const returning = (response: JsonObject) => fake(async () => ({ ok: true, response }));
    // 64 levels (the root object is level 1) pass, bare or in an envelope; 65 do not.
    expect(await runAttempt(returning(nested(64)), request, ctx)).toEqual({ ok: true, response: nested(64) });
    const wrapped = { candidate_output: nested(64), evidence_refs: [{ digest: "d" }] };
    expect(await runAttempt(returning(wrapped), request, ctx)).toEqual({ ok: true, response: wrapped });
    for (const deep of [nested(65), { candidate_output: nested(65) }, nested(100_000)]) {
      expect(await runAttempt(returning(deep), request, ctx)).toEqual({
        ok: false,
        code: "BAD_OUTPUT",
        retryable: false,
        error: "BAD_OUTPUT: candidate_output nested more than 64 levels (limit 64) (executor fake)",
      });
    }
    const big = await runAttempt(returning({ decision: "A", pad: "x".repeat(1024 * 1024) }), request, ctx);
    expect(big).toMatchObject({ ok: false, code: "OUTPUT_TOO_LARGE", retryable: false });
    expect("error" in big && big.error).toMatch(/^OUTPUT_TOO_LARGE: \d+ bytes > 1 MiB \(executor fake\)$/);
    const digests = Array.from({ length: 65 }, (_, i) => `d${i}`);
    expect(
      await runAttempt(returning({ decision: "A", evidence_digests: digests }), request, ctx),
    ).toMatchObject({
      ok: false,
      code: "BAD_OUTPUT",
      retryable: true,
      error: expect.stringContaining("> 64"),
    });
  });

  it("cuts a huge error text to 8 KiB", async () => {
    const { request, ctx } = makeAttempt();
    const noisy = fake(async () => ({
      ok: false,
      code: "HTTP_5XX",
      retryable: true,
      error: "x".repeat(100_000),
    }));
    const result = await runAttempt(noisy, request, ctx);
    expect("ok" in result && !result.ok && Buffer.byteLength(result.error)).toBe(8192);
  });

  it("leaves no listener on a long-lived cancel signal", async () => {
    const cancel = new AbortController();
    let added = 0;
    let removed = 0;
    const signal = cancel.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      add(...args);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      removed++;
      remove(...args);
    }) as typeof signal.removeEventListener;
    for (let i = 0; i < 10; i++) {
      const { request, ctx } = makeAttempt({ attempt_seq: i });
      await runAttempt(new SimExecutor("sim"), request, ctx, signal);
    }
    expect(added).toBe(10);
    expect(removed).toBe(10);
  });
});
