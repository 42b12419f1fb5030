import { afterEach, describe, expect, it } from "vitest";
import { CAPABILITIES_TTL_MS, HttpExecutor, type HttpExecutorConfig } from "../../src/executors/http.js";
import { runAttempt } from "../../src/executors/run-attempt.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import {
  type Handler,
  startTestRuntime,
  type TestRuntime,
  type TestRuntimeOptions,
  unusedUrl,
} from "../support/http-runtime.js";
import { makeAttempt, nested, never } from "./helpers.js";

const runtimes: TestRuntime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.close()));
});

async function runtime(options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const rt = await startTestRuntime(options);
  runtimes.push(rt);
  return rt;
}

function executor(config: HttpExecutorConfig, warnings: string[] = [], now?: () => number): HttpExecutor {
  return new HttpExecutor("rt", config, { warn: (m) => warnings.push(m), ...(now ? { now } : {}) });
}

async function executeOnce(
  rt: TestRuntime,
  config: Partial<HttpExecutorConfig> = {},
): Promise<ExecutionOutcome> {
  const { request, ctx } = makeAttempt();
  return executor({ url: rt.url, ...config }).execute(request, ctx, never());
}

function failed(outcome: ExecutionOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}

describe("http executor: the request", () => {
  it("POSTs the ExecuteRequest with the protocol headers", async () => {
    const rt = await runtime();
    const { request, ctx } = makeAttempt({ attempt_id: "att-42" });
    const outcome = await executor({ url: `${rt.url}/`, headers: { "x-team": "blue" } }).execute(
      request,
      ctx,
      never(),
    );
    expect(outcome.ok).toBe(true);
    const [call] = rt.requestsTo("/execute");
    expect(call?.method).toBe("POST");
    expect(call?.body).toEqual(request);
    expect(call?.headers["content-type"]).toBe("application/json");
    expect(call?.headers["idempotency-key"]).toBe("att-42");
    expect(call?.headers["x-wattswarm-deadline-ms"]).toBe(String(ctx.deadline_ms));
    expect(call?.headers["x-team"]).toBe("blue");
    expect(call?.headers.authorization).toBeUndefined();
  });

  it("sends the bearer token read from the named env var at call time", async () => {
    const rt = await runtime();
    const ex = executor({ url: rt.url, bearer_env: "WS_TEST_RT_TOKEN" });
    const { request, ctx } = makeAttempt();
    process.env.WS_TEST_RT_TOKEN = "s3cret";
    try {
      expect((await ex.execute(request, ctx, never())).ok).toBe(true);
      expect(rt.requestsTo("/execute")[0]?.headers.authorization).toBe("Bearer s3cret");
      expect(rt.requestsTo("/capabilities")[0]?.headers.authorization).toBe("Bearer s3cret");
      delete process.env.WS_TEST_RT_TOKEN;
      const missing = failed(await ex.execute(request, ctx, never()));
      expect(missing).toMatchObject({ code: "EXECUTOR_INCOMPATIBLE", retryable: false });
      expect(missing.error).toContain("WS_TEST_RT_TOKEN");
      expect(missing.error).not.toContain("s3cret");
    } finally {
      delete process.env.WS_TEST_RT_TOKEN;
    }
  });
});

describe("http executor: the bearer token never reaches a stored error or output", () => {
  const TOKEN = "tok-echoed-3cr3t";
  const echo: Handler = (_body, req) => ({ status: 500, body: `denied for ${req.headers.authorization}` });
  const withToken = async <T>(names: Record<string, string>, fn: () => Promise<T>): Promise<T> => {
    Object.assign(process.env, names);
    try {
      return await fn();
    } finally {
      for (const name of Object.keys(names)) delete process.env[name];
    }
  };

  it("redacts it from /execute, /capabilities and /verify error bodies", async () => {
    await withToken({ WS_TEST_RT_TOKEN: TOKEN }, async () => {
      for (const [options, path] of [
        [{ execute: echo }, "/execute"],
        [{ capabilities: echo }, "/capabilities"],
        [{ verify: echo }, "/verify"],
      ] as const) {
        const rt = await runtime(options);
        const outcome = failed(await executeOnce(rt, { bearer_env: "WS_TEST_RT_TOKEN", verify: true }));
        expect(rt.requestsTo(path)[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
        expect(outcome).toMatchObject({ code: "HTTP_5XX", retryable: true });
        expect(outcome.error).toBe(`runtime ${path} status: 500 (${rt.url}): denied for Bearer ***`);
      }
    });
  });

  it("redacts it from a verify verdict's reason codes, in the error and the details", async () => {
    const rt = await runtime({
      verify: (_body, req) => ({
        body: { passed: false, reason_codes: [`bad ${req.headers.authorization}`] },
      }),
    });
    const outcome = await withToken({ WS_TEST_RT_TOKEN: TOKEN }, () =>
      executeOnce(rt, { bearer_env: "WS_TEST_RT_TOKEN", verify: true }),
    );
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
    expect(outcome).toMatchObject({
      code: "VERIFY_FAILED",
      error: "verify failed: bad Bearer ***",
      details: { reason_codes: ["bad Bearer ***"] },
    });
  });

  it("redacts it from a successful response, in every string of the candidate output and the envelope", async () => {
    const rt = await runtime({
      execute: (_body, req) => ({
        body: {
          candidate_output: { answer: `I was called with ${req.headers.authorization}`, list: [[TOKEN]] },
          evidence_refs: [TOKEN],
        },
      }),
    });
    const outcome = await withToken({ WS_TEST_RT_TOKEN: TOKEN }, () =>
      executeOnce(rt, { bearer_env: "WS_TEST_RT_TOKEN" }),
    );
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
    expect(outcome).toEqual({
      ok: true,
      response: {
        candidate_output: { answer: "I was called with Bearer ***", list: [["***"]] },
        evidence_refs: ["***"],
      },
    });
  });

  it("redacts it from check()", async () => {
    const rt = await runtime({ capabilities: echo });
    const checked = await withToken({ WS_TEST_RT_TOKEN: TOKEN }, () =>
      executor({ url: rt.url, bearer_env: "WS_TEST_RT_TOKEN" }).check(),
    );
    expect(checked).toMatchObject({ ok: false, health: "ok" });
    expect(checked.error).toBe(`runtime /capabilities status: 500 (${rt.url}): denied for Bearer ***`);
  });

  it("redacts the prober's token from a shared /capabilities failure another executor waits on", async () => {
    const rt = await runtime({ capabilities: async (body, req) => ({ ...echo(body, req), delayMs: 50 }) });
    const outcomes = await withToken({ WS_TEST_TOKEN_A: `${TOKEN}-a`, WS_TEST_TOKEN_B: `${TOKEN}-b` }, () =>
      Promise.all(
        ["WS_TEST_TOKEN_A", "WS_TEST_TOKEN_B"].map((bearer_env) => executeOnce(rt, { bearer_env })),
      ),
    );
    expect(rt.requestsTo("/capabilities")).toHaveLength(1);
    for (const outcome of outcomes) {
      expect(failed(outcome).error).toBe(
        `runtime /capabilities status: 500 (${rt.url}): denied for Bearer ***`,
      );
    }
  });
});

describe("http executor: responses", () => {
  it("accepts an ExecuteResponse and a bare output object", async () => {
    const wrapped = {
      candidate_output: { decision: "B", confidence: 0.7 },
      evidence_refs: [{ digest: "d1" }],
    };
    expect(await executeOnce(await runtime({ execute: { body: wrapped } }))).toEqual({
      ok: true,
      response: wrapped,
    });
    const bare = { decision: "A", answer: "A" };
    expect(await executeOnce(await runtime({ execute: { body: bare } }))).toEqual({
      ok: true,
      response: bare,
    });
  });

  it("maps statuses to codes, naming the endpoint", async () => {
    const rt500 = await runtime({ execute: { status: 500, body: "internal error" } });
    const e500 = failed(await executeOnce(rt500));
    expect(e500).toMatchObject({ code: "HTTP_5XX", retryable: true });
    expect(e500.error).toBe(`runtime /execute status: 500 (${rt500.url}): internal error`);
    expect(failed(await executeOnce(await runtime({ execute: { status: 404 } })))).toMatchObject({
      code: "HTTP_4XX",
      retryable: false,
    });
    expect(failed(await executeOnce(await runtime({ execute: { status: 408 } })))).toMatchObject({
      code: "HTTP_4XX",
      retryable: true,
    });
  });

  it("keeps Retry-After of a 429", async () => {
    const rt = await runtime({
      execute: { status: 429, headers: { "retry-after": "3" }, body: "slow down" },
    });
    expect(failed(await executeOnce(rt))).toMatchObject({
      code: "HTTP_4XX",
      retryable: true,
      retry_after_ms: 3000,
    });
  });

  it("cuts an error body at 512 bytes", async () => {
    const rt = await runtime({ execute: { status: 502, body: "é".repeat(2000) } });
    const error = failed(await executeOnce(rt)).error;
    const body = error.slice(error.indexOf("): ") + 3);
    expect(body.endsWith("…")).toBe(true);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(512);
    expect(Buffer.byteLength(body)).toBeGreaterThan(500);
  });

  it("rejects bodies that are not a JSON object", async () => {
    const notJson = failed(await executeOnce(await runtime({ execute: { body: "<html>oops</html>" } })));
    expect(notJson).toMatchObject({ code: "BAD_OUTPUT", retryable: true });
    expect(notJson.error).toMatch(/^not JSON: .*\(runtime \/execute, http/);
    const array = failed(await executeOnce(await runtime({ execute: { body: [1, 2] } })));
    expect(array).toMatchObject({ code: "BAD_OUTPUT", retryable: true });
    expect(array.error).toMatch(/^not an object/);
  });

  it("refuses a body over 1 MiB, with or without Content-Length", async () => {
    const big = Buffer.from(JSON.stringify({ decision: "A", pad: "x".repeat(2 * 1024 * 1024) }));
    const sized = failed(await executeOnce(await runtime({ execute: { body: big } })));
    expect(sized).toMatchObject({ code: "OUTPUT_TOO_LARGE", retryable: false });
    expect(sized.error).toMatch(/^OUTPUT_TOO_LARGE: 2\.0 MiB > 1 MiB \(runtime \/execute/);
    const streamed = failed(await executeOnce(await runtime({ execute: { body: big, stream: true } })));
    expect(streamed).toMatchObject({ code: "OUTPUT_TOO_LARGE", retryable: false });
    expect(streamed.error).toMatch(/^OUTPUT_TOO_LARGE: > 1 MiB/);
  });

  it("refuses more than 64 evidence digests", async () => {
    const evidence_refs = Array.from({ length: 65 }, (_, i) => ({ digest: `sha256:${i}` }));
    const rt = await runtime({ execute: { body: { candidate_output: { decision: "A" }, evidence_refs } } });
    const outcome = failed(await executeOnce(rt));
    expect(outcome).toMatchObject({ code: "BAD_OUTPUT", retryable: true });
    expect(outcome.error).toContain("> 64 per attempt");
  });

  it("refuses a candidate_output nested over 64 levels, not retried, before any /verify", async () => {
    const rt = await runtime({ execute: { body: { candidate_output: nested(3000) } } });
    const outcome = failed(await executeOnce(rt, { verify: true }));
    expect(outcome).toMatchObject({ code: "BAD_OUTPUT", retryable: false });
    expect(outcome.error).toMatch(
      /^BAD_OUTPUT: candidate_output nested more than 64 levels \(limit 64\) \(runtime \/execute/,
    );
    expect(rt.requestsTo("/verify")).toHaveLength(0);
  });

  it("reports a refused connection as TRANSPORT", async () => {
    const url = await unusedUrl();
    const { request, ctx } = makeAttempt();
    const outcome = failed(await executor({ url }).execute(request, ctx, never()));
    expect(outcome).toMatchObject({ code: "TRANSPORT", retryable: true });
    expect(outcome.error).toContain("ECONNREFUSED");
    expect(outcome.error).toContain(url);
  });
});

describe("http executor: capabilities", () => {
  it("fails a profile the runtime does not offer, without calling /execute", async () => {
    const rt = await runtime({ capabilities: { body: { task_types: ["*"], profiles: ["fast", "deep"] } } });
    const { request, ctx } = makeAttempt({ profile: "default" });
    const outcome = failed(await executor({ url: rt.url }).execute(request, ctx, never()));
    expect(outcome).toEqual({
      ok: false,
      code: "EXECUTOR_INCOMPATIBLE",
      retryable: false,
      error: `profile "default" is not offered by runtime ${rt.url} (profiles: fast, deep)`,
    });
    expect(rt.requestsTo("/execute")).toHaveLength(0);
    const fast = makeAttempt({ profile: "fast" });
    expect((await executor({ url: rt.url }).execute(fast.request, fast.ctx, never())).ok).toBe(true);
  });

  it("only warns (once) about an unlisted task type", async () => {
    const rt = await runtime({ capabilities: { body: { task_types: ["review"], profiles: [] } } });
    const warnings: string[] = [];
    const ex = executor({ url: rt.url }, warnings);
    for (let i = 0; i < 3; i++) {
      const { request, ctx } = makeAttempt({ task_type: "swarm" });
      expect((await ex.execute(request, ctx, never())).ok).toBe(true);
    }
    expect(warnings).toEqual([
      `task_type "swarm" is not listed by runtime ${rt.url} (task_types: review); executing anyway`,
    ]);
  });

  it("caches /capabilities for 60 s per runtime URL", async () => {
    const rt = await runtime();
    let now = 1_000_000;
    const ex = executor({ url: rt.url }, [], () => now);
    const other = executor({ url: rt.url }, [], () => now);
    for (const e of [ex, ex, other, ex]) {
      const { request, ctx } = makeAttempt();
      expect((await e.execute(request, ctx, never())).ok).toBe(true);
    }
    expect(rt.requestsTo("/capabilities")).toHaveLength(1);
    expect(rt.requestsTo("/execute")).toHaveLength(4);
    now += CAPABILITIES_TTL_MS;
    const { request, ctx } = makeAttempt();
    await ex.execute(request, ctx, never());
    expect(rt.requestsTo("/capabilities")).toHaveLength(2);
  });

  it("skips the check when the runtime has no /capabilities", async () => {
    const rt = await runtime({ capabilities: null });
    const { request, ctx } = makeAttempt({ profile: "anything" });
    expect((await executor({ url: rt.url }).execute(request, ctx, never())).ok).toBe(true);
    expect(rt.requestsTo("/capabilities")).toHaveLength(1);
  });

  it("check() probes /health and /capabilities and never throws", async () => {
    const rt = await runtime();
    expect(await executor({ url: rt.url }).check()).toEqual({
      ok: true,
      health: "ok",
      capabilities: { task_types: ["*"], profiles: ["*"], provider_family: "test", model_id: "test-runtime" },
    });
    const sick = await runtime({ health: { status: 503 } });
    expect(await executor({ url: sick.url }).check()).toMatchObject({ ok: false, health: "status 503" });
    const down = await executor({ url: await unusedUrl() }).check();
    expect(down).toMatchObject({ ok: false, health: "unreachable", capabilities: null });
    expect(down.error).toContain("ECONNREFUSED");
  });
});

describe("http executor: verify", () => {
  it("verifies the candidate when registered with verify", async () => {
    const body = { candidate_output: { decision: "A" }, evidence_refs: [{ digest: "d1" }] };
    const rt = await runtime({ execute: { body } });
    const { request, ctx } = makeAttempt({ attempt_id: "att-v" });
    expect(await executor({ url: rt.url, verify: true }).execute(request, ctx, never())).toEqual({
      ok: true,
      response: body,
    });
    const [call] = rt.requestsTo("/verify");
    expect(call?.body).toEqual({
      task_id: request.task_id,
      execution_id: "att-v",
      attempt_id: "att-v",
      task_contract: request.task_contract,
      candidate_output: { decision: "A" },
      evidence_refs: [{ digest: "d1" }],
    });
  });

  it("fails the attempt with the reason codes when verification does not pass", async () => {
    const rt = await runtime({ verify: { body: { passed: false, reason_codes: ["R1", "R2"] } } });
    expect(await executeOnce(rt, { verify: true })).toEqual({
      ok: false,
      code: "VERIFY_FAILED",
      retryable: true,
      error: "verify failed: R1, R2",
      details: { reason_codes: ["R1", "R2"] },
    });
  });

  it("does not call /verify unless asked", async () => {
    const rt = await runtime({ verify: { body: { passed: false } } });
    expect((await executeOnce(rt)).ok).toBe(true);
    expect(rt.requestsTo("/verify")).toHaveLength(0);
  });
});

describe("http executor under runAttempt", () => {
  it("times out a slow runtime and closes the connection", async () => {
    const rt = await runtime({ execute: { delayMs: 5000, body: { decision: "late" } } });
    const { request, ctx } = makeAttempt({ timeout_ms: 200 });
    const started = Date.now();
    const result = await runAttempt(executor({ url: rt.url }), request, ctx, never());
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result).toEqual({
      ok: false,
      code: "TIMEOUT",
      retryable: true,
      error: "TIMEOUT: no result within 200 ms",
    });
    await rt.waitFor((reqs) => reqs.some((r) => r.path === "/execute" && r.clientClosed));
  });

  it("returns cancelled when the caller cancels", async () => {
    const rt = await runtime({ execute: { delayMs: 5000 } });
    const { request, ctx } = makeAttempt({ timeout_ms: 5000 });
    const cancel = new AbortController();
    const pending = runAttempt(executor({ url: rt.url }), request, ctx, cancel.signal);
    await rt.waitFor((reqs) => reqs.some((r) => r.path === "/execute"));
    cancel.abort();
    expect(await pending).toEqual({ cancelled: true });
    await rt.waitFor((reqs) => reqs.some((r) => r.path === "/execute" && r.clientClosed));
  });

  it("applies the executor's own timeout_ms to each request", async () => {
    const rt = await runtime({ execute: { delayMs: 5000 } });
    const outcome = failed(await executeOnce(rt, { timeout_ms: 100 }));
    expect(outcome).toMatchObject({ code: "TIMEOUT", retryable: true });
    expect(outcome.error).toBe(
      `TIMEOUT: runtime gave no answer within 100 ms (executor timeout_ms, ${rt.url})`,
    );
  });

  it("an aborted signal makes execute() return promptly", async () => {
    const rt = await runtime({ execute: { delayMs: 5000 } });
    const { request, ctx } = makeAttempt();
    const outcome = await executor({ url: rt.url }).execute(request, ctx, AbortSignal.timeout(100));
    expect(outcome).toEqual({ ok: false, code: "TIMEOUT", retryable: true, error: "aborted" });
  });
});
