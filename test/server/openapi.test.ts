// GET /api/openapi.json is valid OpenAPI 3.1 for two independent validators, and real answers of every route,
// successes and each error we can provoke, match what it declares (status, media type, body schema via Ajv).
import SwaggerParser from "@apidevtools/swagger-parser";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { expect, it } from "vitest";
import { startWorker } from "../../src/index.js";
import { describeServer, simSpec, type TestServer } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: the document is walked loosely
type Doc = any;

async function expectValid(doc: Doc): Promise<void> {
  // swagger-parser dereferences in place: give it a copy.
  await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
  const result = await new Validator().validate(structuredClone(doc));
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
}

/** Checks answers against the document; `covered` collects the operations answered with a 2xx. */
function conformance(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  const covered = new Set<string>();
  const statuses = new Set<string>();
  async function call(
    s: TestServer,
    method: string,
    template: string,
    path: string,
    init: Parameters<TestServer["call"]>[1] = {},
  ) {
    const res = await s.call(path, { method, ...init });
    const where = `${method} ${template} → ${res.status}`;
    const op = doc.paths[template]?.[method.toLowerCase()];
    expect(op, `${method} ${template} is documented`).toBeDefined();
    const declared = op.responses[String(res.status)];
    expect(declared, `${where} is declared`).toBeDefined();
    const type = (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    const key = Object.keys(declared.content ?? {}).find((k) => k.split(";")[0]?.trim() === type);
    expect(key, `${where}: ${type} is declared (${Object.keys(declared.content ?? {})})`).toBeDefined();
    if (type === "application/json") {
      const id = `${method} ${template} ${res.status}`;
      let validate = compiled.get(id);
      if (!validate) {
        validate = ajv.compile({ ...declared.content[key as string].schema, components: doc.components });
        compiled.set(id, validate);
      }
      expect(validate(res.body), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    if (res.status < 300) covered.add(`${method} ${template}`);
    statuses.add(String(res.status));
    return res;
  }
  return { call, covered, statuses };
}

const operations = (doc: Doc): string[] =>
  Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
  );

async function finish(s: TestServer, runId: string): Promise<void> {
  await startWorker(s.store, { runId, pollMs: 20, exitWhenIdle: true }).done;
}

describeServer("OpenAPI document", (suite) => {
  it("is valid for swagger-parser and openapi-schema-validator; security follows the token", async () => {
    const open = await suite.start();
    const plain = (await open.call("/api/openapi.json")).body;
    await expectValid(plain);
    expect(plain.servers).toEqual([{ url: "/" }]);
    expect(plain.security).toBeUndefined();
    expect(JSON.stringify(plain)).not.toContain("#/$defs/");
    // Shared schemas are components, hoisted once and referred to from every use.
    expect(Object.keys(plain.components.schemas)).toEqual(
      expect.arrayContaining(["RunSpec", "Error", "LegacyError", "RunView", "Event", "JsonValue"]),
    );
    expect(plain.paths["/api/runs"].get.responses["200"].content["application/json"].schema.items).toEqual({
      $ref: "#/components/schemas/RunView",
    });
    expect(plain.paths["/api/runs/{id}"].get.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/RunView",
    });
    for (const op of Object.values(plain.paths).flatMap((item) => Object.values(item as object))) {
      expect(op.security).toBeUndefined();
      expect(op.responses["401"]).toBeUndefined();
    }

    const locked = await suite.start({ token: "T" });
    const doc = (await locked.call("/api/openapi.json", { token: "T" })).body;
    await expectValid(doc);
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer" });
    expect(doc.paths["/api/health"].get.security).toEqual([]);
    expect(doc.paths["/api/runs"].get.responses["401"]).toBeDefined();
    expect(doc.paths["/api/health"].get.responses["401"]).toBeUndefined();
    // Every operation declares the hooks' errors; routes with bodies their limits.
    for (const op of operations(doc)) {
      const [method, path] = op.split(" ") as [string, string];
      const responses = doc.paths[path][method.toLowerCase()].responses;
      for (const code of ["400", "403", "500", "503"]) expect(responses[code], `${op} ${code}`).toBeDefined();
      if (method !== "GET")
        for (const code of ["413", "415"]) expect(responses[code], `${op} ${code}`).toBeDefined();
    }
  });

  it("real answers of every route, successes and errors, match the document", async () => {
    const s = await suite.start({ token: "T" });
    const doc = (await s.call("/api/openapi.json", { token: "T" })).body;
    const { call, covered, statuses } = conformance(doc);
    const T = { token: "T" };
    const post = (json?: unknown) => ({ ...T, ...(json === undefined ? {} : { json }) });

    // Runs.
    expect((await call(s, "POST", "/api/runs", "/api/runs", post(simSpec("r-1")))).status).toBe(201);
    expect((await call(s, "POST", "/api/runs", "/api/runs", post(simSpec("r-1")))).status).toBe(200);
    expect((await call(s, "POST", "/api/runs", "/api/runs", post(simSpec("r-1", 2)))).status).toBe(409);
    expect(
      (await call(s, "POST", "/api/runs", "/api/runs", post({ ...simSpec("x"), extra: 1 }))).status,
    ).toBe(400);
    expect((await call(s, "POST", "/api/runs", "/api/runs", post(simSpec("r-2")))).status).toBe(201);
    expect(
      (
        await call(s, "POST", "/api/runs", "/api/runs", {
          ...T,
          body: "x",
          headers: { "content-type": "text/plain" },
        })
      ).status,
    ).toBe(415);
    expect(
      (
        await call(s, "POST", "/api/runs", "/api/runs", {
          ...T,
          body: `"${"x".repeat(1024 * 1024 + 10)}"`,
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(413);
    expect((await call(s, "GET", "/api/runs", "/api/runs")).status).toBe(401);
    expect((await call(s, "GET", "/api/runs", "/api/runs", { token: "wrong" })).status).toBe(401);
    expect(
      (await call(s, "GET", "/api/runs", "/api/runs", { ...T, headers: { origin: "http://evil.example" } }))
        .status,
    ).toBe(403);
    expect((await call(s, "GET", "/api/runs", "/api/runs", T)).status).toBe(200);
    expect((await call(s, "GET", "/api/runs", "/api/runs?limit=0", T)).status).toBe(400);
    expect((await call(s, "GET", "/api/runs", "/api/runs?status=NOPE", T)).status).toBe(400);
    expect((await call(s, "GET", "/api/runs/{id}", "/api/runs/r-1", T)).status).toBe(200);
    expect((await call(s, "GET", "/api/runs/{id}", "/api/runs/nope", T)).status).toBe(404);
    expect((await call(s, "GET", "/api/runs/{id}", "/api/runs/bad!id", T)).status).toBe(400);
    const long = "a".repeat(1100);
    expect((await call(s, "GET", "/api/runs/{id}", `/api/runs/${long}`, T)).status).toBe(414);
    expect((await call(s, "GET", "/api/runs/{id}/result", "/api/runs/r-1/result", T)).status).toBe(200);
    expect((await call(s, "GET", "/api/runs/{id}/result", "/api/runs/nope/result", T)).status).toBe(404);
    expect((await call(s, "GET", "/api/runs/{id}/events", "/api/runs/r-1/events", T)).status).toBe(200);
    expect((await call(s, "GET", "/api/runs/{id}/events", "/api/runs/r-1/events?limit=abc", T)).status).toBe(
      400,
    );
    expect((await call(s, "GET", "/api/runs/{id}/events", "/api/runs/nope/events", T)).status).toBe(404);
    const reagg = "/api/runs/{id}/reaggregate";
    expect((await call(s, "POST", reagg, "/api/runs/r-1/reaggregate", post())).status).toBe(409);
    expect((await call(s, "POST", reagg, "/api/runs/nope/reaggregate", post())).status).toBe(404);
    const feedback = "/api/runs/{id}/feedback";
    expect((await call(s, "POST", feedback, "/api/runs/r-1/feedback", post({ correct: "A" }))).status).toBe(
      409,
    );
    for (const action of ["kickoff", "cancel", "retry"]) {
      expect(
        (await call(s, "POST", `/api/runs/{id}/${action}`, `/api/runs/nope/${action}`, post())).status,
      ).toBe(404);
    }
    const kickoff = "/api/runs/{id}/kickoff";
    expect((await call(s, "POST", kickoff, "/api/runs/r-1/kickoff", post())).status).toBe(200);
    await finish(s, "r-1");
    expect((await call(s, "POST", "/api/runs/{id}/cancel", "/api/runs/r-2/cancel", post())).status).toBe(200);
    expect((await call(s, "POST", kickoff, "/api/runs/r-2/kickoff", post())).status).toBe(409);
    expect((await call(s, "POST", "/api/runs/{id}/retry", "/api/runs/r-2/retry", post())).status).toBe(409);
    expect((await call(s, "POST", reagg, "/api/runs/r-1/reaggregate", post())).status).toBe(200);
    expect(
      (await call(s, "POST", reagg, "/api/runs/r-1/reaggregate", post({ policy: { method: "nope" } })))
        .status,
    ).toBe(400);
    expect((await call(s, "POST", feedback, "/api/runs/r-1/feedback", post({}))).status).toBe(400);
    expect((await call(s, "POST", feedback, "/api/runs/r-1/feedback", post({ correct: "A" }))).status).toBe(
      200,
    );
    const stream = "/api/runs/{id}/stream";
    expect((await call(s, "GET", stream, "/api/runs/r-1/stream", T)).status).toBe(200);
    expect((await call(s, "GET", stream, "/api/runs/r-1/stream?access_token=T")).status).toBe(200);
    expect((await call(s, "GET", stream, "/api/runs/nope/stream", T)).status).toBe(404);
    expect(
      (await call(s, "GET", stream, "/api/runs/r-1/stream", { ...T, headers: { "last-event-id": "x" } }))
        .status,
    ).toBe(400);

    // Executors and reputation.
    expect((await call(s, "GET", "/api/executors", "/api/executors", T)).status).toBe(200);
    const add = { name: "sim2", kind: "sim", config: {} };
    expect((await call(s, "POST", "/api/executors", "/api/executors", post(add))).status).toBe(201);
    expect((await call(s, "POST", "/api/executors", "/api/executors", post(add))).status).toBe(200);
    expect(
      (await call(s, "POST", "/api/executors", "/api/executors", post({ ...add, kind: "nope" }))).status,
    ).toBe(400);
    const command = { name: "c", kind: "command", config: { argv: ["true"] } };
    expect((await call(s, "POST", "/api/executors", "/api/executors", post(command))).status).toBe(403);
    const check = "/api/executors/{name}/check";
    expect((await call(s, "GET", check, "/api/executors/sim2/check", T)).status).toBe(200);
    expect((await call(s, "GET", check, "/api/executors/nope/check", T)).status).toBe(404);
    const del = "/api/executors/{name}";
    expect((await call(s, "DELETE", del, "/api/executors/sim2", T)).status).toBe(200);
    expect((await call(s, "DELETE", del, "/api/executors/sim2", T)).status).toBe(404);
    expect((await call(s, "GET", "/api/reputation", "/api/reputation", T)).status).toBe(200);
    const rep = "/api/reputation/{agent_id}";
    expect((await call(s, "GET", rep, "/api/reputation/agent-0", T)).status).toBe(200);
    expect((await call(s, "GET", rep, "/api/reputation/nobody", T)).status).toBe(404);

    // The original's routes: their own error envelope from the handler, the API's from the hooks.
    const submit = "/api/run/submit";
    expect((await call(s, "POST", submit, submit, post({ run_spec: simSpec("o-1") }))).status).toBe(200);
    expect((await call(s, "POST", submit, submit, post({ run_spec: { run_id: "bad id" } }))).status).toBe(
      400,
    );
    expect(
      (
        await call(s, "POST", submit, submit, {
          ...T,
          body: "{nope",
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(400);
    expect((await call(s, "POST", submit, submit, post({}))).status).toBe(400);
    for (const view of ["watch", "result", "events"]) {
      const template = `/api/run/${view}/{id}`;
      expect((await call(s, "GET", template, `/api/run/${view}/o-1`, T)).status).toBe(200);
      expect((await call(s, "GET", template, `/api/run/${view}/nope`, T)).status).toBe(400);
      expect((await call(s, "GET", template, `/api/run/${view}/${long}`, T)).status).toBe(414);
    }
    for (const action of ["kickoff", "cancel", "retry"]) {
      const template = `/api/run/${action}/{id}`;
      expect((await call(s, "POST", template, `/api/run/${action}/nope`, post())).status).toBe(400);
    }
    for (const action of ["kickoff", "cancel"]) {
      expect(
        (await call(s, "POST", `/api/run/${action}/{id}`, `/api/run/${action}/o-1`, post())).status,
      ).toBe(200);
    }
    expect((await call(s, "POST", "/api/run/kickoff/{id}", "/api/run/kickoff/o-1", post())).status).toBe(400);
    // A sim step with a bad option fails for good: a FAILED run to retry.
    const failing = { ...simSpec("o-2", 1), shared_inputs: { _sim: "bad" } };
    expect((await call(s, "POST", submit, submit, post({ run_spec: failing, kickoff: true }))).status).toBe(
      200,
    );
    await finish(s, "o-2");
    expect((await call(s, "POST", "/api/run/retry/{id}", "/api/run/retry/o-2", post())).status).toBe(200);
    expect((await call(s, "POST", "/api/run/retry/{id}", "/api/run/retry/o-1", post())).status).toBe(400);
    await finish(s, "o-2");
    expect((await call(s, "POST", "/api/runs/{id}/retry", "/api/runs/o-2/retry", post())).status).toBe(200);

    // System.
    expect((await call(s, "GET", "/api/openapi.json", "/api/openapi.json", T)).status).toBe(200);
    expect((await call(s, "GET", "/api/openapi.json", "/api/openapi.json")).status).toBe(401);
    expect((await call(s, "GET", "/metrics", "/metrics")).status).toBe(200);
    expect((await call(s, "GET", "/", "/")).status).toBe(200);
    expect((await call(s, "GET", "/api/health", "/api/health")).status).toBe(200);
    await s.store.close();
    expect((await call(s, "GET", "/api/health", "/api/health")).status).toBe(503);
    // A closed store is an unexpected failure (500) rather than an unreachable one; both are declared.
    expect([500, 503]).toContain((await call(s, "GET", "/api/runs", "/api/runs", T)).status);

    expect([...covered].sort()).toEqual(operations(doc).sort());
    expect([...statuses]).toEqual(
      expect.arrayContaining(["200", "201", "400", "401", "403", "404", "409", "413", "414", "415", "503"]),
    );
  });
});
