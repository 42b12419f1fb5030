// The openai executor against a local fake OpenAI-compatible server: JSON mode, tolerant parsing, the shared
// status rule (429 + Retry-After, 5xx), deadlines, and the API key read from the named env var.
import { afterEach, describe, expect, it } from "vitest";
import { OpenAIExecutor, type OpenAIExecutorConfig } from "../../src/executors/openai.js";
import { runAttempt } from "../../src/executors/run-attempt.js";
import type { JsonObject } from "../../src/spec/types.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import {
  type ChatScript,
  completion,
  type FakeOpenAI,
  startFakeOpenAI,
  USAGE,
} from "../support/fake-openai.js";
import { makeAttempt, nested, never } from "./helpers.js";

const servers: FakeOpenAI[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(script: ChatScript): Promise<FakeOpenAI> {
  const server = await startFakeOpenAI(script);
  servers.push(server);
  return server;
}

function executor(server: FakeOpenAI, config: Partial<OpenAIExecutorConfig> = {}): OpenAIExecutor {
  return new OpenAIExecutor("llm", { model: "fake-model", base_url: server.baseUrl, ...config });
}

async function once(server: FakeOpenAI, inputs?: JsonObject, config: Partial<OpenAIExecutorConfig> = {}) {
  const { request, ctx } = makeAttempt(inputs ? { inputs } : {});
  return executor(server, config).execute(request, ctx, never());
}

/** The JSON body of the i-th chat request. */
function sent(server: FakeOpenAI, i = 0): JsonObject {
  return (server.calls()[i]?.body ?? {}) as JsonObject;
}

function failed(outcome: ExecutionOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const ANSWER = { decision: "APPROVE", answer: "Looks fine", confidence: 0.8 };

describe("openai executor: request and JSON mode", () => {
  it("POSTs chat/completions in JSON mode and records the output and token usage", async () => {
    const server = await fake([completion(ANSWER)]);
    const outcome = await once(
      server,
      {
        topic: "budget",
        prompt: "Review the budget.",
        agent_id: "a",
        decision_options: ["APPROVE", "REJECT"],
      },
      { temperature: 0.2 },
    );
    expect(outcome).toEqual({
      ok: true,
      response: { candidate_output: ANSWER, usage: USAGE, model: "fake-model-001" },
    });
    const body = sent(server);
    expect(body).toMatchObject({
      model: "fake-model",
      temperature: 0.2,
      response_format: { type: "json_object" },
    });
    const messages = body.messages as { role: string; content: string }[];
    expect(messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(messages[1]?.content).toContain("Task: Review the budget.");
    expect(messages[1]?.content).toContain('"topic": "budget"');
    expect(messages[1]?.content).toContain('must be exactly one of: "APPROVE", "REJECT"');
    expect(server.calls()[0]?.headers.authorization).toBeUndefined();
  });

  it("puts the aggregation signal of a re-explore round in the prompt", async () => {
    const server = await fake([completion(ANSWER)]);
    const signal = { type: "NEED_DECISION", path: "TIE_PATH", iteration: 1, require_new_evidence: true };
    await once(server, { prompt: "p", _aggregation_signal: signal });
    const content = (sent(server).messages as { content: string }[])[1]?.content;
    expect(content).toContain("the panel was split (a tie)");
    expect(content).toContain('"type":"NEED_DECISION"');
    expect(content).toContain("Look for new evidence");
  });

  it("asks again without response_format when the server rejects JSON mode, and parses fenced JSON", async () => {
    const server = await fake([
      { status: 400, body: { error: { message: "Unrecognized request argument: response_format" } } },
      completion(`Sure! Here it is:\n\`\`\`json\n${JSON.stringify(ANSWER)}\n\`\`\``),
    ]);
    const outcome = await once(server, {}, { base_url: `${server.baseUrl}/` });
    expect(outcome).toMatchObject({ ok: true, response: { candidate_output: ANSWER } });
    expect(sent(server, 0).response_format).toEqual({ type: "json_object" });
    expect(sent(server, 1).response_format).toBeUndefined();
  });

  it("malformed content → BAD_OUTPUT (retryable), quoting the reply, usage kept in details", async () => {
    const server = await fake([completion("I would say approve, probably.")]);
    const outcome = failed(await once(server));
    expect(outcome).toMatchObject({ code: "BAD_OUTPUT", retryable: true, details: { usage: USAGE } });
    expect(outcome.error).toMatch(/no JSON object .*: I would say approve, probably\.$/);
  });

  it("a reply nested over 64 levels fails the attempt at the attempt boundary: BAD_OUTPUT, not retried", async () => {
    const server = await fake([completion(nested(3000))]);
    const { request, ctx } = makeAttempt();
    expect(await runAttempt(executor(server), request, ctx)).toMatchObject({
      ok: false,
      code: "BAD_OUTPUT",
      retryable: false,
      error: "BAD_OUTPUT: candidate_output nested more than 64 levels (limit 64) (executor llm)",
    });
  });

  it("a decision outside decision_options → BAD_OUTPUT; a different case is matched", async () => {
    const server = await fake([
      completion({ decision: "maybe" }),
      completion({ decision: "reject", confidence: 80 }),
    ]);
    const inputs = { decision_options: ["APPROVE", "REJECT"] };
    expect(failed(await once(server, inputs)).error).toMatch(
      /decision "maybe" is not one of APPROVE, REJECT/,
    );
    expect(await once(server, inputs)).toMatchObject({
      ok: true,
      response: { candidate_output: { decision: "REJECT", confidence: 0.8 } },
    });
  });
});

describe("openai executor: errors share the http rule", () => {
  it("429 with Retry-After → HTTP_4XX, retryable, retry_after_ms", async () => {
    const server = await fake([
      { status: 429, headers: { "retry-after": "7" }, body: { error: "slow down" } },
    ]);
    const outcome = failed(await once(server));
    expect(outcome).toMatchObject({ code: "HTTP_4XX", retryable: true, retry_after_ms: 7000 });
    expect(outcome.error).toMatch(
      /^chat\/completions status: 429 \(model fake-model, http:.*\/v1\): .*slow down/,
    );
  });

  it("500 then success: the first attempt is retryable, the next one answers", async () => {
    const server = await fake([{ status: 500, body: "overloaded" }, completion(ANSWER)]);
    expect(failed(await once(server))).toMatchObject({ code: "HTTP_5XX", retryable: true });
    expect(await once(server)).toMatchObject({ ok: true, response: { candidate_output: ANSWER } });
  });

  it("401 is not retryable", async () => {
    const server = await fake([{ status: 401, body: { error: "bad key" } }]);
    expect(failed(await once(server))).toMatchObject({ code: "HTTP_4XX", retryable: false });
  });

  it("aborts the request at the deadline", async () => {
    const server = await fake([{ ...completion(ANSWER), delayMs: 10_000 }]);
    const { request, ctx } = makeAttempt({ timeout_ms: 1000 });
    const started = Date.now();
    const outcome = await runAttempt(executor(server), request, ctx);
    expect(outcome).toMatchObject({ ok: false, code: "TIMEOUT", retryable: true });
    expect(Date.now() - started).toBeLessThan(3000);
    await server.server.waitFor((reqs) => reqs.some((r) => r.clientClosed), 2000);
  });

  it("a transport failure → TRANSPORT", async () => {
    const outcome = failed(
      await new OpenAIExecutor("llm", { model: "m", base_url: "http://127.0.0.1:1/v1" }).execute(
        makeAttempt().request,
        makeAttempt().ctx,
        never(),
      ),
    );
    expect(outcome.code).toBe("TRANSPORT");
  });
});

describe("openai executor: the API key", () => {
  it("is read from the named env var at call time and sent as a bearer token", async () => {
    const server = await fake([completion(ANSWER)]);
    process.env.WS_TEST_LLM_KEY = "sk-test-first";
    const ex = executor(server, { api_key_env: "WS_TEST_LLM_KEY" });
    try {
      process.env.WS_TEST_LLM_KEY = "sk-test-rotated";
      const { request, ctx } = makeAttempt();
      expect((await ex.execute(request, ctx, never())).ok).toBe(true);
      expect(server.calls()[0]?.headers.authorization).toBe("Bearer sk-test-rotated");
    } finally {
      delete process.env.WS_TEST_LLM_KEY;
    }
  });

  it("an unset named variable fails the attempt without calling the server", async () => {
    const server = await fake([completion(ANSWER)]);
    const outcome = failed(await once(server, {}, { api_key_env: "WS_TEST_NOT_SET" }));
    expect(outcome).toMatchObject({ code: "EXECUTOR_INCOMPATIBLE", retryable: false });
    expect(outcome.error).toMatch(/WS_TEST_NOT_SET .* is not set/);
    expect(server.calls()).toHaveLength(0);
  });

  it("is redacted from an error body that echoes it", async () => {
    const server = await fake([{ status: 401, body: "invalid key sk-echoed-secret-123" }]);
    process.env.WS_TEST_LLM_KEY = "sk-echoed-secret-123";
    try {
      const outcome = failed(await once(server, {}, { api_key_env: "WS_TEST_LLM_KEY" }));
      expect(outcome.error).not.toContain("sk-echoed-secret-123");
      expect(outcome.error).toContain("invalid key ***");
    } finally {
      delete process.env.WS_TEST_LLM_KEY;
    }
  });

  it("is redacted from every string of a successful reply, keys included", async () => {
    const key = "sk-quoted-secret-456";
    const reply = {
      decision: "APPROVE",
      answer: `the key is ${key}`,
      confidence: 0.5,
      extra: { [key]: [key, 1] },
    };
    const server = await fake([completion(reply)]);
    process.env.WS_TEST_LLM_KEY = key;
    try {
      const outcome = await once(server, {}, { api_key_env: "WS_TEST_LLM_KEY" });
      expect(outcome).toMatchObject({
        ok: true,
        response: { candidate_output: { answer: "the key is ***", extra: { "***": ["***", 1] } } },
      });
      expect(JSON.stringify(outcome)).not.toContain(key);
    } finally {
      delete process.env.WS_TEST_LLM_KEY;
    }
  });

  it("check() lists the models endpoint", async () => {
    const server = await fake([completion(ANSWER)]);
    expect(await executor(server).check()).toMatchObject({ ok: true, health: "ok" });
  });
});
