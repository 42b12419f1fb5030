// createRuntime's guards, through a real server on a free port: bearer token, JSON content type, Host and
// Origin checks (DNS rebinding, cross-site requests) and the time allowed to receive a request.
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { clearCapabilitiesCache, HttpExecutor } from "../../src/executors/http.js";
import { createRuntime, type Runtime, type RuntimeOptions } from "../../src/runtime/server.js";
import type { ExecuteHandler } from "../../src/runtime/types.js";
import { makeAttempt, never } from "../executors/helpers.js";
import { type Answer, send } from "./helpers.js";

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.close(100)));
  clearCapabilitiesCache();
});

const answer: ExecuteHandler = () => ({ decision: "A", confidence: 0.9 });

async function serve(
  options: RuntimeOptions = {},
  host = "127.0.0.1",
  handler: ExecuteHandler = answer,
): Promise<{ url: string; port: number }> {
  const rt = createRuntime(handler, { log: () => {}, ...options });
  runtimes.push(rt);
  const url = await rt.listen(0, host);
  return { url, port: Number(new URL(url).port) };
}

const EXECUTE_BODY = JSON.stringify({ task_id: "t", task_type: "swarm", inputs: {}, attempt_id: "a1" });

function execute(port: number, headers: Record<string, string> = {}): Promise<Answer> {
  return send(port, "/execute", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: EXECUTE_BODY,
  });
}

describe("createRuntime: bearer token", () => {
  it("every route but GET /health needs Authorization: Bearer <token>; refusals are 401 with a challenge", async () => {
    const { port } = await serve({ token: "s3cret-token" });
    expect((await send(port, "/health")).status).toBe(200);
    for (const [path, method] of [
      ["/capabilities", "GET"],
      ["/execute", "POST"],
      ["/verify", "POST"],
      ["/nope", "GET"],
    ] as const) {
      const res = await send(port, path, { method, headers: { "content-type": "application/json" } });
      expect(res.status, path).toBe(401);
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="wattswarm-runtime"');
      expect(res.body).toEqual({ error: "this runtime needs a token: send Authorization: Bearer <token>" });
    }
    const wrong = await execute(port, { authorization: "Bearer s3cret-token-but-longer" });
    expect([wrong.status, wrong.body]).toEqual([401, { error: "the bearer token is not valid" }]);
    expect((await execute(port, { authorization: "Basic s3cret-token" })).status).toBe(401);

    const ok = await execute(port, { authorization: "Bearer s3cret-token" });
    expect([ok.status, ok.body]).toEqual([200, { candidate_output: { decision: "A", confidence: 0.9 } }]);
    const caps = await send(port, "/capabilities", { headers: { authorization: "bearer s3cret-token" } });
    expect(caps.status).toBe(200);
  });

  it("without a token (or an empty one) nothing needs Authorization", async () => {
    for (const options of [{}, { token: "" }]) {
      const { port } = await serve(options);
      expect((await execute(port)).status).toBe(200);
      expect((await send(port, "/capabilities")).status).toBe(200);
    }
  });

  it("the kernel's http executor with bearer_env passes; without it the attempt fails on 401", async () => {
    const { url } = await serve({ token: "rt-token-42" }, "127.0.0.1", () => ({ decision: "YES" }));
    const { request, ctx } = makeAttempt();
    const withoutToken = await new HttpExecutor("rt", { url, verify: true }, { warn: () => {} }).execute(
      request,
      ctx,
      never(),
    );
    expect(withoutToken).toMatchObject({ ok: false, code: "HTTP_4XX", retryable: false });
    expect(!withoutToken.ok && withoutToken.error).toMatch(/status: 401/);

    process.env.WS_TEST_RUNTIME_TOKEN = "rt-token-42";
    try {
      const withToken = new HttpExecutor(
        "rt",
        { url, verify: true, bearer_env: "WS_TEST_RUNTIME_TOKEN" },
        { warn: () => {} },
      );
      expect(await withToken.execute(request, ctx, never())).toEqual({
        ok: true,
        response: { candidate_output: { decision: "YES" } },
      });
      expect(await withToken.check()).toMatchObject({ ok: true, health: "ok" });
    } finally {
      delete process.env.WS_TEST_RUNTIME_TOKEN;
    }
  });
});

describe("createRuntime: JSON bodies only", () => {
  it("POST without a JSON content type is 415; application/json with parameters and +json pass", async () => {
    const { port } = await serve();
    for (const type of [
      undefined,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
    ]) {
      for (const path of ["/execute", "/verify"]) {
        const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
        const res = await send(port, path, { method: "POST", headers, body: EXECUTE_BODY });
        expect(res.status, `${path} ${type}`).toBe(415);
        expect(res.body.error).toMatch(/^the body must be JSON: send content-type: application\/json \(got /);
      }
    }
    for (const type of ["application/json; charset=utf-8", "application/vnd.wattswarm+json"]) {
      expect((await execute(port, { "content-type": type })).status, type).toBe(200);
    }
  });
});

describe("createRuntime: Host and Origin", () => {
  it("bound to loopback: a foreign Host is 403 (DNS rebinding); loopback names and allowed names pass", async () => {
    const { port } = await serve({ allowedHosts: ["agents.internal"] });
    const foreign = { host: "evil.example:8787" };
    for (const res of [await send(port, "/health", { headers: foreign }), await execute(port, foreign)]) {
      expect(res.status).toBe(403);
      expect(res.body.error).toMatch(/^Host "evil\.example" is not served here/);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "agents.internal:8787"]) {
      expect((await execute(port, { host })).status, host).toBe(200);
    }
  });

  it("bound to 0.0.0.0 without a list: any Host passes", async () => {
    const { port } = await serve({}, "0.0.0.0");
    expect((await execute(port, { host: "evil.example:8787" })).status).toBe(200);
    expect((await execute(port, { host: "runtime:8787" })).status).toBe(200);
  });

  it("a foreign Origin is 403; the runtime's own origin passes", async () => {
    const { port } = await serve();
    const foreign = await execute(port, { origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toMatch(/cross-site requests are refused/);
    expect((await send(port, "/capabilities", { headers: { origin: "null" } })).status).toBe(403);
    expect((await execute(port, { origin: `http://127.0.0.1:${port}` })).status).toBe(200);
  });
});

/** Opens a raw connection, writes `data`, resolves with everything received once the server closes it. */
function rawExchange(
  port: number,
  data: string,
  giveUpMs: number,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(data));
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, giveUpMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

describe("createRuntime: time to receive a request", () => {
  it("a handler slower than requestTimeoutMs still answers", async () => {
    const slow: ExecuteHandler = () =>
      new Promise((resolve) => setTimeout(() => resolve({ decision: "LATE" }), 400));
    const { port } = await serve({ requestTimeoutMs: 100 }, "127.0.0.1", slow);
    const res = await execute(port);
    expect([res.status, res.body]).toEqual([200, { candidate_output: { decision: "LATE" } }]);
  });

  it("a body that never completes gets 408 and the connection closed", async () => {
    const logs: string[] = [];
    const { port } = await serve({ requestTimeoutMs: 100, log: (line) => logs.push(line) });
    const head = `POST /execute HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n`;
    const started = Date.now();
    const { text, closed } = await rawExchange(port, `${head}{"task_id": "t`, 3000);
    expect(closed).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(logs).toEqual([]); // not a handler failure
  });

  it("headers that never complete: the connection is closed", async () => {
    const { port } = await serve({ requestTimeoutMs: 100 });
    const { closed } = await rawExchange(port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", 3000);
    expect(closed).toBe(true);
  });

  it("requestTimeoutMs must be a positive integer", () => {
    expect(() => createRuntime(answer, { requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/);
  });
});
