// createRuntime(handler) served on a real port and called by the kernel's own http executor (SPEC §8.2).
import { afterEach, describe, expect, it } from "vitest";
import { HttpExecutor } from "../../src/executors/http.js";
import { runAttempt } from "../../src/executors/run-attempt.js";
import { createRuntime, type Runtime } from "../../src/runtime/server.js";
import { type ExecuteHandler, RuntimeError, type RuntimeHandler } from "../../src/runtime/types.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import { makeAttempt, never } from "../executors/helpers.js";

const runtimes: Runtime[] = [];
const logs: string[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.close(100)));
  logs.length = 0;
});

async function serve(handler: ExecuteHandler | RuntimeHandler, maxBodyBytes?: number): Promise<string> {
  const rt = createRuntime(handler, { log: (l) => logs.push(l), ...(maxBodyBytes ? { maxBodyBytes } : {}) });
  runtimes.push(rt);
  return rt.listen(0);
}

async function call(url: string, verify = false): Promise<ExecutionOutcome> {
  const { request, ctx } = makeAttempt({ inputs: { topic: "roads", prompt: "p", agent_id: "a" } });
  return new HttpExecutor("rt", { url, verify }, { warn: () => {} }).execute(request, ctx, never());
}

function post(url: string, path: string, body: string): Promise<Response> {
  return fetch(`${url}${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });
}

describe("createRuntime with the http executor", () => {
  it("one async function is an agent: a bare output is wrapped in candidate_output", async () => {
    const url = await serve(async (request) => ({
      decision: "BUILD",
      answer: `topic ${request.inputs.topic}, attempt ${request.attempt_id.length > 0}`,
      confidence: 0.7,
    }));
    expect(await call(url)).toEqual({
      ok: true,
      response: {
        candidate_output: { decision: "BUILD", answer: "topic roads, attempt true", confidence: 0.7 },
      },
    });
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await (await fetch(`${url}/capabilities`)).json()).toEqual({
      task_types: ["*"],
      profiles: ["*"],
      provider_family: "custom",
      model_id: "handler",
    });
  });

  it("an ExecuteResponse is passed through; capabilities from the handler are served and checked", async () => {
    const response = { candidate_output: { decision: "A" }, evidence_refs: [{ digest: "sha256:1" }] };
    const url = await serve({
      execute: () => response,
      capabilities: { profiles: ["deep"], model_id: "m1" },
    });
    const { request, ctx } = makeAttempt({ profile: "deep" });
    const ex = new HttpExecutor("rt", { url }, { warn: () => {} });
    expect(await ex.execute(request, ctx, never())).toEqual({ ok: true, response });
    expect(await call(url)).toMatchObject({ ok: false, code: "EXECUTOR_INCOMPATIBLE" });
  });

  it("--verify: the handler's verify fails the attempt with its reason codes", async () => {
    const url = await serve({
      execute: () => ({ decision: "A", confidence: 0.4 }),
      verify: (req) => ({
        passed: false,
        reason_codes: [`LOW_CONFIDENCE_${(req.candidate_output as { confidence: number }).confidence}`],
      }),
    });
    expect(await call(url, true)).toMatchObject({
      ok: false,
      code: "VERIFY_FAILED",
      retryable: true,
      error: "verify failed: LOW_CONFIDENCE_0.4",
      details: { reason_codes: ["LOW_CONFIDENCE_0.4"] },
    });
  });

  it("without a verify function, /verify checks the output's shape", async () => {
    expect(await call(await serve(() => ({ decision: "A", confidence: 0.9 })), true)).toMatchObject({
      ok: true,
    });
    expect(await call(await serve(() => ({ confidence: 3 })), true)).toMatchObject({
      ok: false,
      code: "VERIFY_FAILED",
      details: { reason_codes: ["NO_DECISION_OR_ANSWER", "CONFIDENCE_OUT_OF_RANGE"] },
    });
  });

  it("RuntimeError sets the status and Retry-After; other throws are 500s", async () => {
    const limited = await serve(() => {
      throw new RuntimeError("busy", { status: 429, retryAfterMs: 3000 });
    });
    expect(await call(limited)).toMatchObject({ code: "HTTP_4XX", retryable: true, retry_after_ms: 3000 });
    const broken = await serve(() => {
      throw new Error("model crashed");
    });
    const outcome = await call(broken);
    expect(outcome).toMatchObject({ code: "HTTP_5XX", retryable: true });
    expect(!outcome.ok && outcome.error).toMatch(/handler failed: model crashed/);
    expect(logs.join("\n")).toMatch(/\/execute handler failed: model crashed/);
  });

  it("a handler returning a non-object is a 500 naming the problem", async () => {
    const outcome = await call(await serve(() => "A" as unknown as Record<string, never>));
    expect(!outcome.ok && outcome.error).toMatch(/the handler returned a string; expected an output object/);
  });

  it("the handler's signal aborts when the worker gives up (deadline)", async () => {
    let aborted: Promise<boolean> = Promise.resolve(false);
    const url = await serve(
      (_req, ctx) =>
        new Promise((resolve) => {
          aborted = new Promise((done) => ctx.signal.addEventListener("abort", () => done(true)));
          setTimeout(() => resolve({ decision: "late" }), 10_000);
        }),
    );
    const { request, ctx } = makeAttempt({ timeout_ms: 1000 });
    const outcome = await runAttempt(new HttpExecutor("rt", { url }, { warn: () => {} }), request, ctx);
    expect(outcome).toMatchObject({ ok: false, code: "TIMEOUT" });
    expect(await aborted).toBe(true);
  });
});

describe("createRuntime: request validation", () => {
  it("400 lists every problem with the body", async () => {
    const url = await serve(() => ({ decision: "A" }));
    const res = await post(url, "/execute", JSON.stringify({ task_id: 1, inputs: [] }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error:
        "invalid request: task_id: must be a non-empty string (got a number); task_type: must be a non-empty string (got missing); inputs: must be an object (got an array); attempt_id: required (or execution_id)",
      problems: [
        "task_id: must be a non-empty string (got a number)",
        "task_type: must be a non-empty string (got missing)",
        "inputs: must be an object (got an array)",
        "attempt_id: required (or execution_id)",
      ],
    });
    const notJson = await post(url, "/execute", "{oops");
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/^invalid request: body: not JSON/);
    const verify = await post(url, "/verify", JSON.stringify({ evidence_refs: {} }));
    expect(((await verify.json()) as { problems: string[] }).problems).toEqual([
      "candidate_output: required",
      "evidence_refs: must be an array (got an object)",
    ]);
  });

  it("413 for a body over the limit, 404 and 405 for wrong routes", async () => {
    const url = await serve(() => ({ decision: "A" }), 1024);
    const big = await post(url, "/execute", JSON.stringify({ pad: "x".repeat(2000) }));
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: "request body over the 1024 bytes limit" });
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    const wrong = await fetch(`${url}/execute`);
    expect([wrong.status, wrong.headers.get("allow")]).toEqual([405, "POST"]);
  });

  it("refuses a handler without execute", () => {
    expect(() => createRuntime({} as RuntimeHandler)).toThrow(/no execute function/);
  });
});
