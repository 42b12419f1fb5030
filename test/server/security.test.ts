// Regression tests of the security review (docs/operations.md, "Security model"), through the real server on
// both stores. Requests go through node:http so the path, Host and Origin are sent exactly as written.
import { request } from "node:http";
import { expect, it } from "vitest";
import { describeServer, simSpec } from "./helpers.js";

interface RawReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read bodies loosely and assert their shape
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/** One request with the path, headers and body exactly as given (no URL normalisation). */
function raw(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawReply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, path, method: init.method ?? "GET", headers: init.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => {
          chunks.push(c);
          // An SSE stream that was let through: enough to know it opened.
          if (String(res.headers["content-type"]).startsWith("text/event-stream")) res.destroy();
        });
        const done = () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        };
        res.on("end", done);
        res.on("close", done);
      },
    );
    req.on("error", reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

const JSON_HEADERS = { "content-type": "application/json" };
const TOKEN = "T0ken-for-tests";
const bearer = { authorization: `Bearer ${TOKEN}` };

describeServer("security", (suite) => {
  it("finding 1: encoded, double-encoded and mixed-case paths never skip the token", async () => {
    const s = await suite.start({ token: TOKEN });
    await s.call("/api/runs", { method: "POST", json: simSpec("sec-1"), token: TOKEN });
    const gets = [
      "/%61pi/runs",
      "/%61%70%69/runs",
      "/%2561pi/runs",
      "/%41PI/runs",
      "/API/runs",
      "/Api/Runs",
      "/api/%72uns",
      "/api/runs/%73ec-1",
      "/%61pi/runs/sec-1/result",
      "/%61pi/runs/sec-1/events",
      "/%61pi/runs/sec-1/stream",
      "/%61pi/executors",
      "/%61pi/reputation",
      "/%61pi/openapi.json",
      "/%61pi/run/watch/sec-1",
      "/%61pi/run/result/sec-1",
      "/%61pi/run/events/sec-1",
      "/api//runs",
      "/./api/runs",
      "/api/runs/",
      "/nope",
    ];
    for (const path of gets) {
      for (const method of ["GET", "HEAD"]) {
        const res = await raw(s.url, path, { method });
        expect({ path, method, status: res.status }).toEqual({ path, method, status: 401 });
      }
    }
    const posts = [
      ["/%61pi/executors", JSON.stringify({ name: "x", kind: "sim", config: {} })],
      ["/%61pi/runs?kickoff=true", JSON.stringify(simSpec("sec-2"))],
      ["/%61pi/runs/sec-1/kickoff", ""],
      ["/%61pi/runs/sec-1/cancel", ""],
      ["/%61pi/run/submit", JSON.stringify({ spec: simSpec("sec-3") })],
      ["/%61pi/run/cancel/sec-1", ""],
    ] as const;
    for (const [path, body] of posts) {
      const res = await raw(s.url, path, { method: "POST", headers: JSON_HEADERS, body });
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
    const del = await raw(s.url, "/%61pi/executors/sim", { method: "DELETE" });
    expect(del.status).toBe(401);
    // Nothing above changed the store.
    const runs = await s.call("/api/runs", { token: TOKEN });
    expect(runs.body.map((r: { run_id: string }) => r.run_id)).toEqual(["sec-1"]);
    expect(runs.body[0].status).toBe("CREATED");
    expect((await s.call("/api/executors/sim/check", { token: TOKEN })).status).toBe(200);
    // Only the documented public routes answer without a token (an encoded public path is still public).
    for (const path of ["/", "/api/health", "/metrics", "/%61pi/health"]) {
      expect({ path, status: (await raw(s.url, path)).status }).toEqual({ path, status: 200 });
    }
    expect((await raw(s.url, "/assets/none.js")).status).toBe(404);
    // With the token, the encoded path is the same route.
    expect((await raw(s.url, "/%61pi/runs", { headers: bearer })).status).toBe(200);
  });

  it("finding 2: the API refuses command executors unless serve allows them", async () => {
    const command = { name: "shell", kind: "command", config: { argv: ["sh", "-c", "id"] } };
    const s = await suite.start();
    const refused = await s.call("/api/executors", { method: "POST", json: command });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("FORBIDDEN");
    expect(refused.body.error.message).toMatch(/--allow-command-executors/);
    expect(await s.store.getExecutor("shell")).toBeNull();
    // Replacing an existing executor with a command one is the same thing.
    const replace = await s.call("/api/executors", { method: "POST", json: { ...command, name: "sim" } });
    expect(replace.status).toBe(403);
    expect((await s.store.getExecutor("sim"))?.kind).toBe("sim");

    const open = await suite.start({ allowCommandExecutors: true });
    expect((await open.call("/api/executors", { method: "POST", json: command })).status).toBe(201);

    const listed = await suite.start({ allowCommandExecutors: ["/usr/bin/true"] });
    const notListed = await listed.call("/api/executors", { method: "POST", json: command });
    expect(notListed.status).toBe(403);
    expect(notListed.body.error.message).toContain('"sh"');
    const ok = { name: "t", kind: "command", config: { argv: ["/usr/bin/true"] } };
    expect((await listed.call("/api/executors", { method: "POST", json: ok })).status).toBe(201);
  });

  it("finding 3: only JSON bodies are read; a foreign Host or Origin is refused", async () => {
    const s = await suite.start();
    const spec = JSON.stringify(simSpec("csrf-1"));
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await raw(s.url, "/api/runs?kickoff=true", {
        method: "POST",
        headers: { "content-type": type },
        body: spec,
      });
      expect({ type, status: res.status }).toEqual({ type, status: 415 });
      expect(res.body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    }
    const noType = await raw(s.url, "/api/executors", {
      method: "POST",
      body: JSON.stringify({ name: "x", kind: "sim", config: {} }),
    });
    expect(noType.status).toBe(415);
    expect(await s.store.getExecutor("x")).toBeNull();
    expect((await s.call("/api/runs")).body).toEqual([]);
    // application/json (with a charset) and +json types are read.
    const ok = await raw(s.url, "/api/runs", {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: spec,
    });
    expect(ok.status).toBe(201);
    // A bodyless action needs no content type (curl -X POST), and a browser cannot send one cross-site
    // without an Origin, which is checked below.
    expect((await raw(s.url, "/api/runs/csrf-1/kickoff", { method: "POST" })).status).toBe(200);

    const port = new URL(s.url).port;
    for (const host of [
      "evil.example",
      `evil.example:${port}`,
      "127.0.0.1.nip.io",
      "a b",
      "localhost@evil",
    ]) {
      const res = await raw(s.url, "/api/runs", { headers: { host } });
      expect({ host, status: res.status }).toEqual({ host, status: 403 });
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "LOCALHOST", "[::1]:1"]) {
      expect({ host, status: (await raw(s.url, "/api/runs", { headers: { host } })).status }).toEqual({
        host,
        status: 200,
      });
    }
    const foreign = await raw(s.url, "/api/runs/csrf-1/cancel", {
      method: "POST",
      headers: { origin: "http://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("FORBIDDEN");
    expect((await raw(s.url, "/api/runs", { headers: { origin: "null" } })).status).toBe(403);
    const same = await raw(s.url, "/api/runs/csrf-1/cancel", {
      method: "POST",
      headers: { origin: `http://127.0.0.1:${port}` },
    });
    expect(same.status).toBe(200);

    const named = await suite.start({ allowedHosts: ["swarm.internal"] });
    expect((await raw(named.url, "/api/runs", { headers: { host: "swarm.internal:7788" } })).status).toBe(
      200,
    );
    expect((await raw(named.url, "/api/runs", { headers: { host: "other.internal" } })).status).toBe(403);
  });

  it("finding 4: executors registered through the API read only allowed secrets, and never reach link-local addresses", async () => {
    const s = await suite.start({ secretEnv: ["MY_RUNTIME_TOKEN", "WATTSWARM_API_TOKEN"] });
    const http = (name: string, config: Record<string, unknown>) =>
      s.call("/api/executors", { method: "POST", json: { name, kind: "http", config } });
    const url = "http://127.0.0.1:9";
    const home = await http("a", { url, bearer_env: "HOME" });
    expect(home.status).toBe(400);
    expect(home.body.error.details).toEqual([{ path: "config.bearer_env", message: expect.any(String) }]);
    const apiToken = await http("b", { url, bearer_env: "WATTSWARM_API_TOKEN" });
    expect(apiToken.status).toBe(400);
    expect((await http("c", { url, bearer_env: "WATTSWARM_SECRET_RT" })).status).toBe(201);
    expect((await http("d", { url, bearer_env: "MY_RUNTIME_TOKEN" })).status).toBe(201);
    const openai = await s.call("/api/executors", {
      method: "POST",
      json: { name: "m", kind: "openai", config: { model: "x", base_url: "http://127.0.0.1:9/v1" } },
    });
    expect(openai.status).toBe(400);
    expect(openai.body.error.details[0].path).toBe("config.api_key_env");

    for (const target of [
      "http://169.254.169.254",
      "http://[fe80::1]:80",
      "http://metadata.google.internal",
      "http://[::ffff:169.254.169.254]",
    ]) {
      const res = await http("meta", { url: target });
      expect({ target, status: res.status }).toEqual({ target, status: 400 });
    }
    // An executor stored by the CLI with such a URL is not probed from the server either.
    await s.store.upsertExecutor({ name: "meta", kind: "http", config: { url: "http://169.254.169.254" } });
    const check = await s.call("/api/executors/meta/check");
    expect(check.status).toBe(400);
    expect(check.body.error.message).toMatch(/link-local/);
  });

  it("finding 5: event streams are capped (503) and end after their maximum lifetime", async () => {
    const s = await suite.start({ sse: { maxStreams: 2, maxStreamsPerClient: 2, maxStreamMs: 60_000 } });
    await s.call("/api/runs", { method: "POST", json: simSpec("sse-1") });
    const streams = [new AbortController(), new AbortController()];
    try {
      for (const c of streams) {
        const res = await fetch(`${s.url}/api/runs/sse-1/stream`, { signal: c.signal });
        expect(res.status).toBe(200);
      }
      const third = await s.call("/api/runs/sse-1/stream");
      expect(third.status).toBe(503);
      expect(third.body.error.code).toBe("TOO_MANY_STREAMS");
      expect(third.headers.get("retry-after")).toMatch(/^\d+$/);
    } finally {
      for (const c of streams) c.abort();
    }
    // Once the clients left, a new stream opens again.
    await expect
      .poll(async () => {
        const c = new AbortController();
        const res = await fetch(`${s.url}/api/runs/sse-1/stream`, { signal: c.signal });
        c.abort();
        return res.status;
      })
      .toBe(200);

    const short = await suite.start({ sse: { maxStreamMs: 200 } });
    await short.call("/api/runs", { method: "POST", json: simSpec("sse-2") });
    const text = await (await fetch(`${short.url}/api/runs/sse-2/stream`)).text();
    expect(text).toContain("retry:");
    expect(text).toMatch(/event: reconnect/);
  });

  it("low: health shows only the store's kind without the token; the console's page forbids framing and inline script", async () => {
    const s = await suite.start({ token: TOKEN });
    const open = await s.call("/api/health");
    expect(open.status).toBe(200);
    expect(open.body.store).toEqual({ kind: s.store.kind, reachable: true });
    const authed = await s.call("/api/health", { token: TOKEN });
    expect(authed.body.store.description).toBe(s.store.describe());
    const page = await s.call("/");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect((await s.call("/api/runs", { token: TOKEN })).headers.get("x-content-type-options")).toBe(
      "nosniff",
    );
  });
});
