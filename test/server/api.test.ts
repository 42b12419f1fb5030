// Every route of the HTTP API and every error status, against a real server on both stores.
import { expect, it } from "vitest";
import { startWorker } from "../../src/index.js";
import { describeServer, simSpec, type TestServer } from "./helpers.js";

async function finish(server: TestServer, runId: string): Promise<void> {
  await startWorker(server.store, { runId, pollMs: 20, exitWhenIdle: true }).done;
  const view = await server.call(`/api/runs/${runId}`);
  expect(view.body.status).toBe("FINALIZED");
}

describeServer("HTTP API", (suite) => {
  it("submits a bare spec (201), an identical resubmit (200), an envelope with kickoff, and a different spec (409)", async () => {
    const s = await suite.start();
    const first = await s.call("/api/runs", { method: "POST", json: simSpec("r-1") });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ ok: true, run_id: "r-1", kicked_off: false, created: true });
    const again = await s.call("/api/runs", { method: "POST", json: simSpec("r-1") });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, kicked_off: false });
    const env = await s.call("/api/runs", { method: "POST", json: { spec: simSpec("r-2"), kickoff: true } });
    expect(env.status).toBe(201);
    expect(env.body).toMatchObject({ run_id: "r-2", kicked_off: true });
    const legacyKey = await s.call("/api/runs", { method: "POST", json: { run_spec: simSpec("r-3") } });
    expect(legacyKey.status).toBe(201);
    const conflict = await s.call("/api/runs", { method: "POST", json: simSpec("r-1", 2) });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe("RUN_EXISTS");
    // A body that is not declared JSON (fetch's text/plain, curl -d's form type) is refused: a web page can
    // send those cross-site without a preflight (test/server/security.test.ts).
    const raw = await fetch(`${s.url}/api/runs?kickoff=true`, {
      method: "POST",
      body: JSON.stringify(simSpec("r-4")),
    });
    expect(raw.status).toBe(415);
    expect(await raw.json()).toMatchObject({ error: { code: "UNSUPPORTED_MEDIA_TYPE" } });
  });

  it("400 for an invalid spec lists every issue with its path; 400 for non-JSON and a bad envelope", async () => {
    const s = await suite.start();
    const bad = {
      ...simSpec("bad id!"),
      agents: [{ agent_id: "a", prompt: "", executor: "nope" }],
      extra: 1,
    };
    const res = await s.call("/api/runs", { method: "POST", json: bad });
    expect(res.status).toBe(400);
    expect(res.body.ok).toBe(false);
    expect(res.body.error.code).toBe("SPEC_INVALID");
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["run_id", "agents[0].executor", "extra"]));
    const notJson = await s.call("/api/runs", {
      method: "POST",
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe("BAD_REQUEST");
    const empty = await s.call("/api/runs", { method: "POST" });
    expect(empty.status).toBe(400);
    const envelope = await s.call("/api/runs", {
      method: "POST",
      json: { spec: simSpec("x"), kickoff: "yes" },
    });
    expect(envelope.status).toBe(400);
    expect(envelope.body.error.details[0].path).toBe("kickoff");
  });

  it("413 for a body over 1 MiB", async () => {
    const s = await suite.start();
    const big = JSON.stringify({ ...simSpec("big"), shared_inputs: { blob: "x".repeat(1024 * 1024) } });
    const res = await s.call("/api/runs", {
      method: "POST",
      body: big,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ ok: false, error: { code: "BODY_TOO_LARGE" } });
  });

  it("lists, views, results and events of runs; 404 for unknown runs and routes; 400 for bad queries", async () => {
    const s = await suite.start();
    for (const id of ["l-1", "l-2", "l-3"]) await s.call("/api/runs", { method: "POST", json: simSpec(id) });
    await s.call("/api/runs/l-2/kickoff", { method: "POST" });
    const list = await s.call("/api/runs?limit=2");
    expect(list.status).toBe(200);
    expect(list.body.map((v: { run_id: string }) => v.run_id)).toEqual(["l-3", "l-2"]);
    const next = await s.call("/api/runs?limit=2&before=l-2");
    expect(next.body.map((v: { run_id: string }) => v.run_id)).toEqual(["l-1"]);
    const queued = await s.call("/api/runs?status=QUEUED");
    expect(queued.body.map((v: { run_id: string }) => v.run_id)).toEqual(["l-2"]);
    expect((await s.call("/api/runs?status=NOPE")).status).toBe(400);
    expect((await s.call("/api/runs?limit=0")).status).toBe(400);

    const view = await s.call("/api/runs/l-1");
    expect(view.body).toMatchObject({ run_id: "l-1", status: "CREATED", counts: { created: 3 } });
    const result = await s.call("/api/runs/l-1/result");
    expect(result.body).toMatchObject({ run_id: "l-1", status: "CREATED", final_decision: null });
    const events = await s.call("/api/runs/l-2/events");
    expect(events.body.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    expect((await s.call("/api/runs/l-2/events?after=1")).body.map((e: { seq: number }) => e.seq)).toEqual([
      2,
    ]);
    expect((await s.call("/api/runs/l-2/events?tail=1")).body[0].event_type).toBe("RUN_KICKOFF");
    expect((await s.call("/api/runs/l-2/events?limit=1")).body).toHaveLength(1);

    for (const path of [
      "/api/runs/none",
      "/api/runs/none/result",
      "/api/runs/none/events",
      "/api/runs/none/stream",
    ]) {
      const res = await s.call(path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code, path).toBe("RUN_NOT_FOUND");
    }
    for (const action of ["kickoff", "cancel", "retry", "reaggregate", "feedback"]) {
      const json = action === "feedback" ? { correct: "A" } : {};
      const res = await s.call(`/api/runs/none/${action}`, { method: "POST", json });
      expect(res.status, action).toBe(404);
    }
    const route = await s.call("/api/nothing-here");
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe("NOT_FOUND");
  });

  it("kickoff, cancel and retry with their 409s; reaggregate and feedback after a worker finished the run", async () => {
    const s = await suite.start();
    await s.call("/api/runs", { method: "POST", json: simSpec("t-1") });
    const kicked = await s.call("/api/runs/t-1/kickoff", { method: "POST" });
    expect(kicked.body).toEqual({ ok: true, run_id: "t-1", status: "QUEUED", kicked_off: true });
    expect((await s.call("/api/runs/t-1/kickoff", { method: "POST" })).body.kicked_off).toBe(false);
    expect((await s.call("/api/runs/t-1/retry", { method: "POST" })).status).toBe(409);
    await finish(s, "t-1");
    const cancel = await s.call("/api/runs/t-1/cancel", { method: "POST" });
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.code).toBe("INVALID_STATE");
    expect((await s.call("/api/runs/t-1/kickoff", { method: "POST" })).status).toBe(409);
    expect((await s.call("/api/runs/t-1/result")).body).toMatchObject({
      status: "FINALIZED",
      final_decision: "A",
    });

    const replay = await s.call("/api/runs/t-1/reaggregate", { method: "POST" });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ final_decision: "A", would_reexplore: null });
    const policy = await s.call("/api/runs/t-1/reaggregate", {
      method: "POST",
      json: { policy: { quorum: 9 } },
    });
    expect(policy.status).toBe(400);
    expect(policy.body.error.details.length).toBeGreaterThan(0);
    const feedback = await s.call("/api/runs/t-1/feedback", { method: "POST", json: { correct: "a" } });
    expect(feedback.body).toMatchObject({ ok: true, run_id: "t-1", correct: "A", changed: true });
    expect((await s.call("/api/runs/t-1/feedback", { method: "POST", json: {} })).status).toBe(400);
    const reputation = await s.call("/api/reputation");
    expect(reputation.body.length).toBeGreaterThan(0);
    expect((await s.call("/api/reputation/agent-0")).body).toMatchObject({ agent_id: "agent-0" });
    expect((await s.call("/api/reputation/nobody")).status).toBe(404);

    await s.call("/api/runs", { method: "POST", json: simSpec("t-2") });
    const cancelled = await s.call("/api/runs/t-2/cancel", { method: "POST" });
    expect(cancelled.body).toEqual({ ok: true, run_id: "t-2", status: "CANCELLED" });
    expect((await s.call("/api/runs/t-2/cancel", { method: "POST" })).status).toBe(200);
    expect((await s.call("/api/runs/t-2/feedback", { method: "POST", json: { correct: "A" } })).status).toBe(
      409,
    );
  });

  it("registers, lists, checks and removes executors; 400 with paths for a bad config, 404 when missing", async () => {
    const s = await suite.start();
    const names = (await s.call("/api/executors")).body.map((e: { name: string }) => e.name);
    expect(names).toEqual(expect.arrayContaining(["rt", "sim"]));
    const add = await s.call("/api/executors", {
      method: "POST",
      json: { name: "sim2", kind: "sim", config: { accuracy: 0.9 } },
    });
    expect(add.status).toBe(201);
    expect(add.body).toMatchObject({ name: "sim2", kind: "sim", config: { accuracy: 0.9 } });
    const replace = await s.call("/api/executors", {
      method: "POST",
      json: { name: "sim2", kind: "sim", config: {} },
    });
    expect(replace.status).toBe(200);
    const check = await s.call("/api/executors/sim2/check");
    expect(check.body).toMatchObject({ name: "sim2", kind: "sim", ok: true });
    const bad = await s.call("/api/executors", {
      method: "POST",
      json: { name: "h", kind: "http", config: { url: "ftp://x" } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe("config.url");
    const badKind = await s.call("/api/executors", {
      method: "POST",
      json: { name: "h", kind: "nope", config: {} },
    });
    expect(badKind.status).toBe(400);
    expect(badKind.body.error.details[0].path).toBe("body.kind");
    expect((await s.call("/api/executors/sim2", { method: "DELETE" })).body).toEqual({
      ok: true,
      name: "sim2",
      removed: true,
    });
    expect((await s.call("/api/executors/sim2", { method: "DELETE" })).status).toBe(404);
    expect((await s.call("/api/executors/sim2/check")).status).toBe(404);
  });

  it("serves the original's /api/run/* routes with their envelopes", async () => {
    const s = await suite.start();
    const submit = await s.call("/api/run/submit", {
      method: "POST",
      json: { run_spec: simSpec("o-1"), kickoff: true },
    });
    expect(submit.status).toBe(200);
    expect(submit.body).toEqual({ ok: true, run_id: "o-1", kicked_off: true });
    const watch = await s.call("/api/run/watch/o-1");
    expect(watch.body).toMatchObject({ ok: true, watch: { run_id: "o-1", status: "QUEUED" } });
    const events = await s.call("/api/run/events/o-1");
    expect(events.body.ok).toBe(true);
    expect(events.body.events.map((e: { seq: number }) => e.seq)).toEqual([2, 1]);
    expect((await s.call("/api/run/result/o-1")).body).toMatchObject({ ok: true, result: { run_id: "o-1" } });
    expect((await s.call("/api/run/kickoff/o-1", { method: "POST" })).body).toMatchObject({
      ok: true,
      kicked_off: false,
    });
    expect((await s.call("/api/run/cancel/o-1", { method: "POST" })).body).toMatchObject({
      ok: true,
      status: "CANCELLED",
    });
    const retry = await s.call("/api/run/retry/o-1", { method: "POST" });
    expect(retry.status).toBe(400);
    expect(retry.body).toMatchObject({ ok: false, code: "INVALID_STATE" });
    expect(typeof retry.body.error).toBe("string");
    const missing = await s.call("/api/run/watch/none");
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ ok: false, error: 'run "none" not found' });
    const invalid = await s.call("/api/run/submit", { method: "POST", json: { spec: { run_id: "x" } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.details.length).toBeGreaterThan(0);
  });

  it("with a token: 401 without it or with a wrong one; health, metrics and / stay open", async () => {
    const s = await suite.start({ token: "s3cret-token" });
    const none = await s.call("/api/runs");
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ ok: false, error: { code: "UNAUTHORIZED" } });
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await s.call("/api/runs", { token: "wrong" })).status).toBe(401);
    expect((await s.call("/api/runs", { token: "s3cret-token-longer" })).status).toBe(401);
    expect((await s.call("/api/runs", { headers: { authorization: "Basic czNjcmV0" } })).status).toBe(401);
    expect((await s.call("/api/run/watch/x")).status).toBe(401);
    expect((await s.call("/api/openapi.json")).status).toBe(401);
    expect((await s.call("/api/runs", { token: "s3cret-token" })).status).toBe(200);
    expect((await s.call("/api/runs/x/stream?access_token=s3cret-token")).status).toBe(404);
    expect((await s.call("/api/runs/x/stream?access_token=nope")).status).toBe(401);
    expect((await s.call("/api/health")).status).toBe(200);
    expect((await s.call("/metrics")).status).toBe(200);
    expect((await s.call("/")).status).toBe(200);
  });

  it("without a token every route is open; / is the console's page (test/server/console.test.ts)", async () => {
    const s = await suite.start();
    expect((await s.call("/api/runs")).status).toBe(200);
    const page = await s.call("/");
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.body).toContain("WattSwarm");
  });

  it("health reports the store; 503 when it is unreachable", async () => {
    const s = await suite.start();
    const ok = await s.call("/api/health");
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      ok: true,
      store: { kind: s.store.kind, description: s.store.describe(), reachable: true },
    });
    await s.store.close();
    const down = await s.call("/api/health");
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ ok: false, store: { kind: s.store.kind, reachable: false } });
  });

  it("openapi.json documents every route with its parameters", async () => {
    const s = await suite.start();
    const doc = (await s.call("/api/openapi.json")).body;
    expect(doc.openapi).toBe("3.1.0");
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const expected = [
      "POST /api/runs",
      "GET /api/runs",
      "GET /api/runs/{id}",
      "GET /api/runs/{id}/result",
      "GET /api/runs/{id}/events",
      "GET /api/runs/{id}/stream",
      "POST /api/runs/{id}/kickoff",
      "POST /api/runs/{id}/cancel",
      "POST /api/runs/{id}/retry",
      "POST /api/runs/{id}/reaggregate",
      "POST /api/runs/{id}/feedback",
      "GET /api/executors",
      "POST /api/executors",
      "DELETE /api/executors/{name}",
      "GET /api/executors/{name}/check",
      "GET /api/reputation",
      "GET /api/reputation/{agent_id}",
      "GET /api/health",
      "GET /metrics",
      "GET /api/openapi.json",
      "GET /",
      "POST /api/run/submit",
      "GET /api/run/watch/{id}",
      "GET /api/run/result/{id}",
      "GET /api/run/events/{id}",
      "POST /api/run/kickoff/{id}",
      "POST /api/run/cancel/{id}",
      "POST /api/run/retry/{id}",
    ];
    expect(ops.sort()).toEqual(expected.sort());
    const list = doc.paths["/api/runs"].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(["status", "limit", "before"]);
    expect(doc.paths["/api/runs"].post.requestBody.content["application/json"].schema.oneOf[0].$ref).toBe(
      "#/components/schemas/RunSpec",
    );
    expect(doc.components.schemas.RunSpec.properties.agents).toBeDefined();
    // No token on this server: no security requirement (test/server/openapi.test.ts covers one with a token).
    expect(doc.security).toBeUndefined();
  });
});
