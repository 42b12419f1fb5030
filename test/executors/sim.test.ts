import { describe, expect, it } from "vitest";
import { resolveSimOptions, SimExecutor, simDraw } from "../../src/executors/sim.js";
import type { JsonObject } from "../../src/spec/types.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import { makeAttempt, never } from "./helpers.js";

function sim(config: JsonObject = {}): SimExecutor {
  return new SimExecutor("sim", config);
}

async function run(
  ex: SimExecutor,
  attempt: Parameters<typeof makeAttempt>[0] = {},
  signal = never(),
): Promise<ExecutionOutcome> {
  const { request, ctx } = makeAttempt(attempt);
  return ex.execute(request, ctx, signal);
}

describe("sim executor", () => {
  it("answers with decision, answer and confidence", async () => {
    const outcome = await run(sim({ accuracy: 1 }));
    expect(outcome).toEqual({ ok: true, response: { decision: "A", answer: "A", confidence: 1 } });
  });

  it("is deterministic for the same attempt identity and seed", async () => {
    const ex = sim({ accuracy: 0.5, options: ["A", "B", "C"], evidence: true });
    for (let i = 0; i < 20; i++) {
      const attempt = { agent_id: `agent-${i}`, attempt_seq: i % 3 };
      expect(await run(ex, attempt)).toEqual(await run(ex, attempt));
    }
    const draws = (seed: string) =>
      Array.from({ length: 50 }, (_, i) =>
        simDraw(
          { run_id: "r", agent_id: `a${i}`, round: 0, attempt_seq: 1 },
          resolveSimOptions({ seed }, {}),
        ),
      );
    expect(draws("x")).toEqual(draws("x"));
    expect(draws("x")).not.toEqual(draws("y"));
  });

  it("respects accuracy over 2,000 draws", () => {
    const options = resolveSimOptions({ accuracy: 0.8, options: ["A", "B", "C"] }, {});
    let correct = 0;
    const wrong = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const draw = simDraw({ run_id: "bench", agent_id: `agent-${i}`, round: 0, attempt_seq: 1 }, options);
      if (draw.failed) throw new Error("no failures expected");
      if (draw.value === "A") correct++;
      else wrong.set(draw.value, (wrong.get(draw.value) ?? 0) + 1);
    }
    expect(Math.abs(correct / 2000 - 0.8)).toBeLessThan(0.04);
    // Wrong answers spread over every other option.
    expect([...wrong.keys()].sort()).toEqual(["B", "C"]);
  });

  it("fails at fail_rate with a retryable HTTP_5XX", async () => {
    const ex = sim({ fail_rate: 0.3 });
    let failures = 0;
    for (let i = 0; i < 500; i++) {
      const outcome = await run(ex, { agent_id: `a${i}` });
      if (!outcome.ok) {
        failures++;
        expect(outcome).toEqual({
          ok: false,
          code: "HTTP_5XX",
          retryable: true,
          error: "sim: simulated failure",
        });
      }
    }
    expect(Math.abs(failures / 500 - 0.3)).toBeLessThan(0.07);
    expect((await run(sim({ fail_rate: 1 }))).ok).toBe(false);
  });

  it("reports one evidence digest per attempt, different for each attempt_seq", async () => {
    const ex = sim({ evidence: true });
    const digests = new Set<string>();
    for (let seq = 1; seq <= 5; seq++) {
      const outcome = await run(ex, { attempt_seq: seq });
      if (!outcome.ok) throw new Error("unexpected failure");
      const listed = outcome.response.evidence_digests as string[];
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatch(/^sim:[0-9a-f]{16}$/);
      digests.add(listed[0] as string);
    }
    expect(digests.size).toBe(5);
    const plain = await run(sim());
    expect(plain.ok && "evidence_digests" in plain.response).toBe(false);
  });

  it("lets inputs._sim override the registered config", async () => {
    const ex = sim({ accuracy: 0, truth: "A", options: ["A", "B"], confidence: 0.3 });
    expect(await run(ex)).toEqual({ ok: true, response: { decision: "B", answer: "B", confidence: 0.3 } });
    const inputs = { _sim: { accuracy: 1, truth: "YES", options: ["YES", "NO"] } };
    // confidence still comes from the registered config; the overridden keys win.
    expect(await run(ex, { inputs })).toEqual({
      ok: true,
      response: { decision: "YES", answer: "YES", confidence: 0.3 },
    });
    expect(await run(sim(), { inputs: { _sim: { accuracy: 0.6 } } })).toMatchObject({
      ok: true,
      response: { confidence: 0.6 },
    });
  });

  it("answers truth when there is no other option", async () => {
    expect(await run(sim({ accuracy: 0, options: ["A"] }))).toMatchObject({
      ok: true,
      response: { decision: "A" },
    });
  });

  it("fails non-retryably on an invalid option", async () => {
    expect(await run(sim(), { inputs: { _sim: { accuracy: 1.5 } } })).toEqual({
      ok: false,
      code: "BAD_OUTPUT",
      retryable: false,
      error: "sim: invalid option accuracy=1.5: must be a number from 0 to 1",
    });
    for (const bad of [
      { options: [] },
      { options: ["A", 2] },
      { latency_ms: -1 },
      { evidence: "yes" },
      { acc: 1 },
    ]) {
      expect(await run(sim(bad))).toMatchObject({ ok: false, code: "BAD_OUTPUT", retryable: false });
    }
    expect(await run(sim(), { inputs: { _sim: "fast" } })).toMatchObject({ ok: false, code: "BAD_OUTPUT" });
  });

  it("sleeps latency_ms but returns promptly when aborted", async () => {
    const started = Date.now();
    expect((await run(sim({ latency_ms: 50 }))).ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    const abortedAt = Date.now();
    const outcome = await run(sim({ latency_ms: 60_000 }), {}, AbortSignal.timeout(50));
    expect(Date.now() - abortedAt).toBeLessThan(1000);
    expect(outcome).toEqual({ ok: false, code: "TIMEOUT", retryable: true, error: "aborted" });
  });

  it("check() reports the sim capabilities", async () => {
    expect(await sim().check()).toEqual({
      ok: true,
      health: "ok",
      capabilities: { task_types: ["*"], profiles: ["*"], provider_family: "sim", model_id: "sim" },
    });
  });
});
